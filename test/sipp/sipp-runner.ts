/**
 * sipp (Debian `sip-tester`, 3.6) driven by the sipp scenario tests: one process per scenario run, always
 * `-i 127.0.0.1 -mi 127.0.0.1 -nostdin -m 1 -timeout N -timeout_error`, its own SIP and media ports (free ports
 * checked now), `-trace_err` and `-trace_msg` into a private directory. A run is a `ScenePeer` of the interop
 * harness: on a failure the scene prints the server's SIP trace with sipp's port, and `tails()` adds sipp's output,
 * its unexpected-message log and the end of its message trace; whatever happens, `stop()` kills its process group.
 *
 * Exit codes (sipp(1)): 0 every call succeeded, 1 at least one failed, 97 stopped by a command, 99 no call
 * processed, 255 fatal error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePortBlock } from '../interop/ports.ts';
import type { ScenePeer } from '../interop/harness.ts';

/** The scenario files of this suite. */
export const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');

export interface SippOptions {
  /** A file under `scenarios/` (or an absolute path). */
  scenario: string;
  server: { host: string; port: number };
  /** `-s`: the user part of the Request-URI ([service]), e.g. a meeting id. */
  service?: string;
  /** `-key name value` for the scenario's own keywords. */
  keys?: Readonly<Record<string, string>>;
  /** `-au` / `-ap`: digest credentials for `[authentication]`. */
  auth?: { user: string; password: string };
  /** Global timeout in seconds (`-timeout`, with `-timeout_error`): default 15. */
  timeoutS?: number;
  /** `-d`: the length of the scenario's `<pause/>` steps, ms. */
  pauseMs?: number;
  /** Use this SIP port instead of a free one chosen now (e.g. one a REGISTER's Contact already names). */
  port?: number;
  label?: string;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

const live = new Set<Sipp>();
process.on('exit', () => {
  for (const s of live) killGroup(s.pid, 'SIGKILL');
});

export class Sipp implements ScenePeer {
  readonly label: string;
  readonly sipPort: number;
  readonly mediaPort: number;
  readonly dir: string;
  readonly pid: number;
  /** The exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private out = '';
  private done = false;
  readonly args: readonly string[];

  private constructor(o: SippOptions, sipPort: number, mediaPort: number) {
    this.label = o.label ?? `sipp ${o.scenario}`;
    this.sipPort = sipPort;
    this.mediaPort = mediaPort;
    this.dir = mkdtempSync(join(tmpdir(), 'sipmeet-sipp-'));
    const scenario = o.scenario.startsWith('/') ? o.scenario : join(SCENARIOS, o.scenario);
    const args = [
      '-sf', scenario,
      '-i', '127.0.0.1',
      '-mi', '127.0.0.1',
      '-p', String(sipPort),
      '-mp', String(mediaPort),
      '-nostdin',
      '-m', '1',
      '-timeout', `${o.timeoutS ?? 15}s`,
      '-timeout_error',
      '-trace_err', '-error_file', join(this.dir, 'errors.log'),
      '-trace_msg', '-message_file', join(this.dir, 'messages.log'),
      ...(o.service ? ['-s', o.service] : []),
      ...(o.pauseMs !== undefined ? ['-d', String(o.pauseMs)] : []),
      ...(o.auth ? ['-au', o.auth.user, '-ap', o.auth.password] : []),
      ...Object.entries(o.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
      `${o.server.host}:${o.server.port}`,
    ];
    this.args = args;
    this.child = spawn('sipp', args, { cwd: this.dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TERM: 'dumb' } });
    this.pid = this.child.pid ?? -1;
    const keep = (c: Buffer) => {
      this.out += c.toString('utf8');
      if (this.out.length > 256 * 1024) this.out = this.out.slice(-128 * 1024);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.out += `\n[spawn error: ${err.message}]\n`;
        this.done = true;
        resolve(-1);
      });
      this.child.on('close', (code) => {
        this.done = true;
        live.delete(this);
        resolve(code);
      });
    });
    live.add(this);
  }

  /** Start sipp on free ports (SIP, and 4 media ports: RTP/RTCP for audio and video as sipp uses them). */
  static async start(o: SippOptions): Promise<Sipp> {
    const sipPort = o.port ?? (await freePortBlock(1));
    const mediaPort = await freePortBlock(4);
    return new Sipp(o, sipPort, mediaPort);
  }

  /** Start a run and wait for it to end; returns it (check `code`). */
  static async run(o: SippOptions, onSpawn?: (s: Sipp) => void): Promise<Sipp & { code: number | null }> {
    const s = await Sipp.start(o);
    onSpawn?.(s);
    const code = await s.exited;
    return Object.assign(s, { code });
  }

  /**
   * `p`, unless sipp ends first with a non-zero code (a scenario error, an unexpected message): then fail at once
   * with its error log rather than wait for `p` to time out.
   */
  async whileRunning<T>(p: Promise<T>): Promise<T> {
    const failed = this.exited.then((code) => {
      if (code !== 0) throw new Error(`${this.label} ended with exit code ${code} first; its error log:\n${this.errors()}`);
      return p;
    });
    return Promise.race([p, failed]);
  }

  get running(): boolean {
    return !this.done;
  }

  /** sipp's screen output is a full-screen report; its last lines say how the calls ended. */
  private screen(lines: number): string {
    return this.out
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      .split('\n')
      .filter((l) => l.trim() !== '' && !/^[-+= ]+$/.test(l))
      .slice(-lines)
      .join('\n');
  }

  private file(name: string, maxChars: number): string {
    const p = join(this.dir, name);
    if (!existsSync(p)) return `(no ${name})`;
    const t = readFileSync(p, 'utf8');
    return t.length > maxChars ? `…${t.slice(-maxChars)}` : t || `(${name} is empty)`;
  }

  /** Unexpected messages sipp saw (`-trace_err`). */
  errors(): string {
    return this.file('errors.log', 6000);
  }

  tails(): string {
    return (
      `--- ${this.label}: sipp ${this.args.join(' ')}\n--- output (tail) ---\n${this.screen(40)}\n` +
      `--- error log (-trace_err) ---\n${this.errors()}\n--- message trace (-trace_msg, tail) ---\n${this.file('messages.log', 4000)}`
    );
  }

  /** Kill the process group if it still runs; remove the directory unless `keep`. */
  async stop(keep = false): Promise<void> {
    if (!this.done && this.pid > 0) {
      killGroup(this.pid, 'SIGTERM');
      const t = setTimeout(() => killGroup(this.pid, 'SIGKILL'), 1000);
      await this.exited;
      clearTimeout(t);
    }
    if (this.pid > 0) killGroup(this.pid, 'SIGKILL');
    live.delete(this);
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}
