/**
 * Injected clock for protocol code (RFC 3261 §17 timers, registration expiry, nonce lifetime).
 *
 * Protocol code never calls `setTimeout` or `Date.now()` directly: it takes a `Clock`, so tests can
 * step time (`ManualClock.advance(500)`) and count retransmissions exactly.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds (arbitrary origin). */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch (for Date headers, createdAt fields). */
  wallNow(): number;
  /** Run `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

/** The real clock: performance.now() and Node timers (unref'd so they never keep a process alive alone). */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. `advance(ms)` fires every timer due within the step, in due order
 * (ties in creation order), with `now()` equal to each timer's due time while it runs.
 */
export class ManualClock implements Clock {
  private t: number;
  private readonly epoch: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(start = 0, epoch = Date.UTC(2026, 0, 1)) {
    this.t = start;
    this.epoch = epoch;
  }

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return this.epoch + this.t;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    if (!(ms >= 0)) throw new TypeError(`ManualClock.setTimer: bad delay ${ms}`);
    const timer: ManualTimer = { at: this.t + ms, seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  /** Number of timers still pending. */
  pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const x of this.timers) {
        if (x.cancelled || x.at > end) continue;
        if (!next || x.at < next.at || (x.at === next.at && x.seq < next.seq)) next = x;
      }
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next && !x.cancelled);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }
}
