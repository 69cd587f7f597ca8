/**
 * A timer wheel on the injected clock: many one-shot expiries served by ONE clock timer.
 *
 * Used for RFC 3261 §17.2.2 Timer J of compacted non-INVITE server transactions (completed.ts): at 10,000
 * REGISTER/s over UDP, 64*T1 = 32 s of Completed transactions is 320,000 expiries in flight; a Node timer (plus
 * its closure) for each of them costs more than the compact record it expires.
 *
 * Items are grouped in buckets of `resolutionMs` by due time; a bucket's items expire together at the bucket's
 * end. Deviation (harmless for a "wait at least" timer such as Timer J): an item expires up to `resolutionMs`
 * after its due time, never before it. Items are not removed when they end early (a transport error, shutdown):
 * `onExpire` receives them anyway and must ignore what already ended.
 *
 *   add(item, ms) ──► bucket ⌈(now+ms)/res⌉ ──► [one clock timer, armed for the earliest bucket]
 *                                                   │ fires
 *                                                   ▼
 *                        onExpire(item) for every item of every bucket up to the armed one; re-arm
 */
import type { Clock, TimerHandle } from '../clock.ts';

export class TimerWheel<T> {
  /** Bucket index (due time / resolution, rounded up) → items, in insertion order. */
  private readonly buckets = new Map<number, T[]>();
  private timer: TimerHandle | undefined;
  /** The bucket the clock timer is armed for (Infinity when none). */
  private armedFor = Infinity;
  private count = 0;

  constructor(
    private readonly clock: Clock,
    readonly resolutionMs: number,
    private readonly onExpire: (item: T) => void,
  ) {
    if (!(resolutionMs > 0)) throw new RangeError(`TimerWheel: resolution must be > 0 ms, got ${resolutionMs}`);
  }

  /** Items waiting (including ones that ended early and are not yet swept). */
  get size(): number {
    return this.count;
  }

  /** Expire `item` no earlier than `delayMs` from now (and at most `resolutionMs` later). */
  add(item: T, delayMs: number): void {
    const index = Math.ceil((this.clock.now() + delayMs) / this.resolutionMs);
    const bucket = this.buckets.get(index);
    if (bucket === undefined) this.buckets.set(index, [item]);
    else bucket.push(item);
    this.count++;
    if (index < this.armedFor) this.arm(index);
  }

  /** Forget every item without expiring it, and stop the clock timer (shutdown). */
  clear(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.armedFor = Infinity;
    this.buckets.clear();
    this.count = 0;
  }

  private arm(index: number): void {
    this.timer?.cancel();
    this.armedFor = index;
    this.timer = this.clock.setTimer(Math.max(0, index * this.resolutionMs - this.clock.now()), () => this.fire());
  }

  private fire(): void {
    const upTo = this.armedFor;
    this.timer = undefined;
    this.armedFor = Infinity;
    // Buckets are mostly created in due order (one delay per wheel), but any order is handled.
    const due: number[] = [];
    for (const index of this.buckets.keys()) if (index <= upTo) due.push(index);
    if (due.length > 1) due.sort((a, b) => a - b);
    for (const index of due) {
      const items = this.buckets.get(index)!;
      this.buckets.delete(index);
      this.count -= items.length;
      for (let i = 0; i < items.length; i++) this.onExpire(items[i]!);
    }
    let next = Infinity;
    for (const index of this.buckets.keys()) if (index < next) next = index;
    if (next !== Infinity && next < this.armedFor) this.arm(next);
  }
}
