/**
 * A real peer program (linphonec, baresip) run headless for a test: its own process group, commands written to its
 * stdin through a FIFO (opened read-write, so neither side ever sees EOF or blocks on open), stdout+stderr and a
 * log file collected as text that a test can wait on. Every process started here is killed (SIGTERM, then SIGKILL
 * to the whole group) by `stop()`, and in any case when the test process exits.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, writeSync, fstatSync } from 'node:fs';

/** Text that grows (a program's output, a log file) and can be waited on. */
export class TextLog {
  private buf = '';
  private dropped = 0;
  private waiters = new Set<() => void>();

  /** Keeps at most `max` characters (the oldest are dropped; offsets stay absolute). */
  constructor(private readonly max = 8 * 1024 * 1024) {}

  append(chunk: string): void {
    if (!chunk) return;
    this.buf += chunk;
    if (this.buf.length > this.max) {
      const cut = this.buf.length - this.max;
      this.buf = this.buf.slice(cut);
      this.dropped += cut;
    }
    for (const w of [...this.waiters]) w();
  }

  /** Absolute offset of the end of the text so far (pass it as `from` to wait only for what comes next). */
  mark(): number {
    return this.dropped + this.buf.length;
  }

  /** The text from absolute offset `from` (default: all that is kept). */
  text(from = 0): string {
    return this.buf.slice(Math.max(0, from - this.dropped));
  }

  /** The last `n` lines. */
  tail(n = 40): string {
    return this.buf.split('\n').slice(-n).join('\n');
  }

  /** First match of `re` in the text after `from`, or undefined. */
  find(re: RegExp, from = 0): RegExpExecArray | undefined {
    const flags = re.flags.replace('g', '').replace('y', '');
    return new RegExp(re.source, flags).exec(this.text(from)) ?? undefined;
  }

  /** All matches of `re` after `from`. */
  findAll(re: RegExp, from = 0): RegExpExecArray[] {
    const flags = re.flags.includes('g') ? re.flags : `${re.flags}g`;
    return [...this.text(from).matchAll(new RegExp(re.source, flags))];
  }

  /** Resolve with the first match of `re` after `from` (now or later); reject after `ms` naming `what`. */
  waitFor(re: RegExp, opts: { from?: number; ms?: number; what?: string } = {}): Promise<RegExpExecArray> {
    const from = opts.from ?? 0;
    const ms = opts.ms ?? 5000;
    const now = this.find(re, from);
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.find(re, from);
        if (!m) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(m);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${ms} ms waiting for ${opts.what ?? String(re)}`));
      }, ms);
      this.waiters.add(check);
    });
  }
}

/** Follows a file that another process writes (polling), appending what it reads to a TextLog. */
export class FileFollower {
  readonly log = new TextLog();
  private fd: number | undefined;
  private offset = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly path: string, intervalMs = 100) {
    this.timer = setInterval(() => this.poll(), intervalMs);
    this.timer.unref();
  }

  /** Read whatever is new now. */
  poll(): void {
    try {
      this.fd ??= openSync(this.path, 'r');
    } catch {
      return; // not created yet
    }
    const size = fstatSync(this.fd).size;
    if (size <= this.offset) return;
    const chunk = Buffer.alloc(Math.min(size - this.offset, 4 * 1024 * 1024));
    const n = readSync(this.fd, chunk, 0, chunk.length, this.offset);
    this.offset += n;
    this.log.append(chunk.subarray(0, n).toString('utf8'));
  }

  close(): void {
    clearInterval(this.timer);
    this.poll();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<PeerProcess>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export class PeerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout and stderr, interleaved as they arrive. */
  readonly out = new TextLog();
  readonly exited: Promise<ExitInfo>;
  private done = false;
  private stdinFd: number | undefined;

  private constructor(name: string, cmd: string, args: readonly string[], opts: { env: NodeJS.ProcessEnv; cwd: string; fifo: string }) {
    this.name = name;
    execFileSync('mkfifo', [opts.fifo]);
    // O_RDWR on a FIFO never blocks on Linux and keeps a writer open, so the program never reads EOF.
    this.stdinFd = openSync(opts.fifo, 'r+');
    this.child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: [this.stdinFd, 'pipe', 'pipe'] });
    this.pid = this.child.pid ?? -1;
    this.child.stdout?.on('data', (c: Buffer) => this.out.append(c.toString('utf8')));
    this.child.stderr?.on('data', (c: Buffer) => this.out.append(c.toString('utf8')));
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.out.append(`\n[spawn error: ${err.message}]\n`);
        this.done = true;
        resolve({ code: -1, signal: null });
      });
      this.child.on('close', (code, signal) => {
        this.done = true;
        this.out.append(`\n[${name} exited: code ${code} signal ${signal}]\n`);
        resolve({ code, signal });
      });
    });
    live.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const p of live) if (p.pid > 0) killGroup(p.pid, 'SIGKILL');
      });
    }
  }

  /** Start `cmd args` with its stdin on a new FIFO at `fifo`. */
  static start(name: string, cmd: string, args: readonly string[], opts: { env: NodeJS.ProcessEnv; cwd: string; fifo: string }): PeerProcess {
    return new PeerProcess(name, cmd, args, opts);
  }

  get running(): boolean {
    return !this.done;
  }

  /** Write one command line to the program's stdin. */
  send(line: string): void {
    if (this.stdinFd === undefined || this.done) throw new Error(`${this.name}: not running, cannot send "${line}"`);
    writeSync(this.stdinFd, `${line}\n`);
  }

  /** Wait up to `graceMs` for it to exit by itself (after a quit command), then SIGTERM, then SIGKILL the group. */
  async stop(graceMs = 2000): Promise<ExitInfo> {
    if (!this.done && this.pid > 0) {
      const soft = await Promise.race([this.exited, new Promise<undefined>((r) => setTimeout(r, graceMs))]);
      if (!soft) {
        killGroup(this.pid, 'SIGTERM');
        const t = setTimeout(() => killGroup(this.pid, 'SIGKILL'), 1500);
        await this.exited;
        clearTimeout(t);
      }
    }
    const info = await this.exited;
    if (this.pid > 0) killGroup(this.pid, 'SIGKILL'); // any forked helper of the group
    live.delete(this);
    if (this.stdinFd !== undefined) closeSync(this.stdinFd);
    this.stdinFd = undefined;
    return info;
  }
}
