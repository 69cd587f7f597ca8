/**
 * Child-process plumbing for the benchmarks: every process is spawned in its own process group and
 * remembered, so that one call (or the process exit / Ctrl-C / an uncaught error) kills the whole group —
 * Kamailio's forked workers, sipmeet's launcher, sipp and its bash wrapper included.
 *
 * Also: CPU time of a process tree from /proc/<pid>/stat (utime + stime, in clock ticks), a free UDP port
 * from the OS, and a PATH lookup for the external tools.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Keeps the last `max` characters written to it (a child's stdout/stderr). */
export class TailBuffer {
  private text = '';
  constructor(private readonly max = 64 * 1024) {}
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.max) this.text = this.text.slice(this.text.length - this.max);
  }
  toString(): string {
    return this.text;
  }
  /** The last `n` lines. */
  lines(n: number): string {
    return this.text.split('\n').slice(-n - 1).join('\n').trimEnd();
  }
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Managed {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly stdout: TailBuffer;
  readonly stderr: TailBuffer;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when the leader has exited. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

const live = new Set<Managed>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Group already gone (ESRCH) — nothing to do.
  }
}

/** Spawn `cmd args` detached in a new process group, tracked for cleanup. */
export function spawnManaged(
  name: string,
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Managed {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = new TailBuffer();
  const stderr = new TailBuffer();
  child.stdout?.on('data', (c: Buffer) => stdout.push(c));
  child.stderr?.on('data', (c: Buffer) => stderr.push(c));
  let done = false;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.on('error', (err) => {
      stderr.push(`spawn error: ${err.message}\n`);
      done = true;
      resolve({ code: -1, signal: null });
    });
    // 'close' (not 'exit'): fires once the stdio pipes are drained, so the output is complete.
    child.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  if (child.pid === undefined) {
    // spawn failed synchronously (ENOENT is reported through 'error').
    const m: Managed = {
      name, pid: -1, child, stdout, stderr, exited,
      hasExited: () => true,
      stop: () => exited,
    };
    return m;
  }
  const pid = child.pid;
  const m: Managed = {
    name, pid, child, stdout, stderr, exited,
    hasExited: () => done,
    async stop(graceMs = 2000) {
      if (!done) killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      const info = await exited;
      clearTimeout(timer);
      // The leader is gone; make sure no forked worker of the group survives it.
      killGroup(pid, 'SIGKILL');
      live.delete(m);
      return info;
    },
  };
  live.add(m);
  void exited.then(() => {
    if (live.has(m)) killGroup(pid, 'SIGKILL');
    live.delete(m);
  });
  return m;
}

/** Kill every tracked process group now (synchronous; safe inside an 'exit' handler). */
export function killAllNow(): void {
  for (const m of live) killGroup(m.pid, 'SIGKILL');
  live.clear();
}

let cleanupInstalled = false;
/**
 * Kill all tracked children when this process exits. With `signals`, Ctrl-C / SIGTERM / uncaught errors
 * also kill them and then exit (130 / 143 / 1) — for the CLI, not for test runners that own the signals.
 */
export function installCleanup(signals: boolean): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAllNow);
  if (!signals) return;
  process.on('SIGINT', () => {
    process.stderr.write('\ninterrupted: killing child processes\n');
    killAllNow();
    process.exit(130);
  });
  process.on('SIGTERM', () => {
    killAllNow();
    process.exit(143);
  });
  process.on('uncaughtException', (err) => {
    process.stderr.write(`fatal: ${err.stack ?? String(err)}\n`);
    killAllNow();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
    killAllNow();
    process.exit(1);
  });
}

/** Clock ticks per second for /proc/<pid>/stat times. */
export const CLK_TCK: number = (() => {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(v) && v > 0 ? v : 100;
  } catch {
    return 100;
  }
})();

interface StatLine {
  pid: number;
  ppid: number;
  ticks: number;
}

/** Fields of /proc/<pid>/stat after the `(comm)` field: state ppid … utime(14) stime(15). */
function readStat(pid: number): StatLine | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  // f[0] = state (field 3), f[1] = ppid (4), f[11] = utime (14), f[12] = stime (15).
  return { pid, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

export interface TreeUsage {
  /** utime + stime of the processes, clock ticks (all their threads, exited threads included). */
  cpuTicks: number;
  /** Time their live threads spent runnable but waiting for a CPU (schedstat field 2), nanoseconds. */
  runqWaitNs: number;
}

function runqWaitNs(pid: number): number {
  let total = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tids) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ');
      total += Number(f[1]) || 0;
    } catch {
      // thread gone
    }
  }
  return total;
}

/**
 * CPU used by `pid` and all its live descendants (Kamailio forks its workers) and the time they waited for
 * a CPU — the latter says whether a server was starved by other load on the machine. Exited descendants
 * are not counted.
 */
export function treeUsage(pid: number): TreeUsage {
  const all: StatLine[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) all.push(s);
  }
  const children = new Map<number, StatLine[]>();
  for (const s of all) {
    const list = children.get(s.ppid) ?? [];
    list.push(s);
    children.set(s.ppid, list);
  }
  const root = all.find((s) => s.pid === pid);
  const usage: TreeUsage = { cpuTicks: 0, runqWaitNs: 0 };
  if (!root) return usage;
  const stack = [root];
  while (stack.length > 0) {
    const s = stack.pop()!;
    usage.cpuTicks += s.ticks;
    usage.runqWaitNs += runqWaitNs(s.pid);
    for (const c of children.get(s.pid) ?? []) stack.push(c);
  }
  return usage;
}

/** Busy CPU time of the whole machine, all cores (/proc/stat `cpu` line minus idle and iowait), ticks. */
export function machineBusyTicks(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
    return (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * The kernel's UDP `RcvbufErrors` counter (/proc/net/snmp): datagrams dropped because a socket's receive
 * buffer was full — system-wide, so a step's delta covers the server's and sipp's sockets together.
 */
export function udpRcvbufErrors(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const i = names.indexOf('RcvbufErrors');
    return i > 0 ? Number(values[i]) : undefined;
  } catch {
    return undefined;
  }
}

/** A UDP port on 127.0.0.1 that the OS reports free right now (bind port 0, read it, close). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Absolute path of an executable found on PATH (plus the sbin directories), or undefined. */
export function findExecutable(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin', '/usr/local/sbin']);
  for (const dir of dirs) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
