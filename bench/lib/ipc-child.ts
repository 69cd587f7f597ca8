/**
 * A benchmark helper process forked with tsx and driven over the IPC channel: one reply per command, plus event
 * messages (`{ event: … }`) delivered to a handler. Killed (SIGKILL) when this process exits, on Ctrl-C / SIGTERM,
 * and by `stop()`.
 */
import { fork, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const c of live) c.kill('SIGKILL');
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

export class IpcChild {
  private waiting: Array<(m: unknown) => void> = [];
  private onEvent: (ev: { event: string }) => void = () => {};

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: unknown) => {
      if (m && typeof m === 'object' && 'event' in m) this.onEvent(m as { event: string });
      else this.waiting.shift()?.(m);
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Fork `file` (a .ts path) and wait for its first message (its "ready"). */
  static async start<R = unknown>(file: string, args: string[] = []): Promise<{ child: IpcChild; ready: R }> {
    hookExit();
    const cp = fork(file, args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    live.add(cp);
    cp.once('exit', () => live.delete(cp));
    const c = new IpcChild(cp);
    const ready = await new Promise<R>((resolve, reject) => {
      c.waiting.push((m) => resolve(m as R));
      cp.once('exit', (code) => reject(new Error(`${file} exited (${code}) before it was ready`)));
    });
    return { child: c, ready };
  }

  events(handler: (ev: { event: string }) => void): void {
    this.onEvent = handler;
  }

  ask<T>(msg: object): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`child exited (${code}) during ${JSON.stringify(msg).slice(0, 60)}`));
      this.child.once('exit', onExit);
      this.waiting.push((m) => {
        this.child.off('exit', onExit);
        resolve(m as T);
      });
      this.child.send(msg);
    });
  }

  /** Ask it to exit, SIGKILL after `graceMs`. */
  async stop(exitMsg: object = { cmd: 'exit' }, graceMs = 1000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    try {
      this.child.send(exitMsg);
    } catch {
      // channel already closed
    }
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
    live.delete(this.child);
  }
}
