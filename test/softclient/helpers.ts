/**
 * Softclient test helpers: a real sipmeet server in-process on loopback (OS-chosen SIP/HTTP ports), and the real
 * CLI (`node registrar/cli/sipmeet.js …`) as a child process whose stdout lines (JSON events with --json) can be
 * awaited and whose stdin takes chat lines and commands. Waits are generous (20 s): a CLI's start (tsx compiling
 * the sources) takes ~1 s alone but much longer on a shared, loaded 2-core machine.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../registrar/log.ts';
import { resolveConfig } from '../../registrar/server/config.ts';
import { startServer, type RunningServer } from '../../registrar/server/server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'registrar/cli/sipmeet.js');

export interface TestServer {
  readonly server: RunningServer;
  readonly sipPort: number;
  readonly httpPort: number;
  /** `sip:<id>@127.0.0.1:<sipPort>` */
  uri(id: string): string;
  readonly hostPort: string;
  readonly api: string;
  close(): Promise<void>;
}

/** A server on 127.0.0.1 with its RTP range; `users` (`name:password` lines) turns on digest auth. */
export async function startTestServer(rtpPorts: string, users?: string, p2p: 'auto' | 'off' = 'off'): Promise<TestServer> {
  let usersFile: string | undefined;
  if (users !== undefined) {
    usersFile = join(mkdtempSync(join(tmpdir(), 'sipmeet-softclient-')), 'users');
    writeFileSync(usersFile, users);
  }
  const cfg = resolveConfig({
    host: '127.0.0.1',
    'sip-port': '0',
    'http-port': '0',
    'rtp-ports': rtpPorts,
    'log-level': 'silent',
    p2p,
    ...(usersFile ? { users: usersFile } : {}),
  });
  const server = await startServer(cfg, silentLogger());
  const hostPort = `127.0.0.1:${server.sipPort}`;
  return {
    server,
    sipPort: server.sipPort,
    httpPort: server.httpPort,
    hostPort,
    api: `http://127.0.0.1:${server.httpPort}`,
    uri: (id) => `sip:${id}@${hostPort}`,
    close: () => server.close(),
  };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sipmeet-softclient-'));
}

export interface CliEvent {
  readonly event: string;
  readonly [k: string]: unknown;
}

export interface CliExit {
  readonly code: number | null;
  readonly stdout: string[];
  readonly stderr: string;
}

/** The real `sipmeet` CLI as a child process. */
export class Cli {
  readonly lines: string[] = [];
  readonly exited: Promise<CliExit>;
  private stderr = '';
  private waiters: Array<() => void> = [];
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: 'pipe' });
    createInterface({ input: this.child.stdout }).on('line', (l) => {
      this.lines.push(l);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString('utf8');
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code) => {
        for (const w of this.waiters.splice(0)) w();
        resolve({ code, stdout: this.lines, stderr: this.stderr });
      });
    });
  }

  /** stdout lines parsed as JSON events (non-JSON lines skipped). */
  get events(): CliEvent[] {
    return this.lines.flatMap((l) => {
      try {
        const v = JSON.parse(l) as CliEvent;
        return typeof v === 'object' && v && typeof v.event === 'string' ? [v] : [];
      } catch {
        return [];
      }
    });
  }

  /** Wait until `pred` holds over the lines seen so far (rejects after `timeoutMs` or at exit). */
  async waitFor<T>(pred: (cli: Cli) => T | undefined | false, timeoutMs = 20_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const v = pred(this);
      if (v) return v;
      if (exited) throw new Error(`CLI exited before ${what}; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The first JSON event of that type (and matching `pred`). */
  waitEvent(event: string, pred: (e: CliEvent) => boolean = () => true, timeoutMs = 20_000): Promise<CliEvent> {
    return this.waitFor((c) => c.events.find((e) => e.event === event && pred(e)), timeoutMs, `event "${event}"`);
  }

  /** The exit, or a failure (and SIGKILL) if the process is still running after `timeoutMs`. */
  async waitExit(timeoutMs = 20_000): Promise<CliExit> {
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      t = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`CLI still running after ${timeoutMs} ms; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(t);
    }
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

/** Run the CLI to completion (killed and failed after `timeoutMs`). */
export function runCli(args: readonly string[], timeoutMs = 30_000): Promise<CliExit> {
  return new Cli(args).waitExit(timeoutMs);
}

/** The CLI exited with `code` and printed exactly one line on stderr, matching `pattern` (the error contract). */
export function oneLine(r: CliExit, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
}

/** A loopback TCP port with nothing listening (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
