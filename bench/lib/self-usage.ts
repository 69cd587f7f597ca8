/**
 * CPU of this process per thread (/proc/self/task/<tid>/stat), of another process (/proc/<pid>/stat), in clock
 * ticks (utime + stime). Node names all its threads "node", so a benchmark tells its threads apart by when they
 * appeared: the main thread's tid is the pid; threads that did not exist before a component started are its own.
 */
import { readdirSync, readFileSync } from 'node:fs';

function ticksOf(statText: string): number {
  const f = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime (14), stime (15)
}

/** tid → CPU ticks for every live thread of this process. */
export function threadTicks(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      out.set(Number(tid), ticksOf(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')));
    } catch {
      // thread gone
    }
  }
  return out;
}

/** CPU ticks of a whole process (all its threads, exited ones included), or NaN when it is gone. */
export function processTicks(pid: number | 'self'): number {
  try {
    return ticksOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return NaN;
  }
}

/** Time a process's threads waited runnable for a CPU (schedstat field 2), ms — starvation by other load. */
export function runqWaitMs(pid: number | 'self'): number {
  let total = 0;
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return NaN;
  }
  for (const tid of tids) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) || 0;
    } catch {
      // thread gone
    }
  }
  return total / 1e6;
}

/**
 * CPU the rest of the machine used over `sampleMs` (% of one core): /proc/stat busy time minus the given
 * processes' own. Waits (sampling again) while that is above `maxPct`, at most `maxWaitMs`; returns the last figure.
 * On a machine shared with other people's test runs this keeps a step from starting in the middle of their burst.
 */
export async function waitForQuiet(pids: readonly number[], maxPct: number, maxWaitMs: number, sampleMs = 1000): Promise<number> {
  const { CLK_TCK, machineBusyTicks } = await import('./procs.ts');
  const end = performance.now() + maxWaitMs;
  for (;;) {
    const m0 = machineBusyTicks();
    const p0 = pids.reduce((n, p) => n + (processTicks(p) || 0), 0);
    await new Promise((r) => setTimeout(r, sampleMs));
    const others = machineBusyTicks() - m0 - (pids.reduce((n, p) => n + (processTicks(p) || 0), 0) - p0);
    const pct = Math.max(0, (others / CLK_TCK / (sampleMs / 1000)) * 100);
    if (pct <= maxPct || performance.now() >= end) return pct;
  }
}
