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
