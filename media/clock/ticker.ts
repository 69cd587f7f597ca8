/**
 * A steady periodic tick (the 20 ms mix clock) on the injected clock, without drift: tick k is due at
 * start + k × period, whatever the lateness of earlier timers, so the mix runs at exactly 50 frames/s on average.
 * If the process stalls, up to MAX_CATCH_UP ticks run back to back; beyond that the schedule restarts from now
 * (Deviation from "never skip": bursting seconds of audio after a stall would only fill the listeners' jitter
 * buffers with late frames they drop anyway).
 */
import type { Clock, TimerHandle } from '../../registrar/sip/clock.ts';

/** Default catch-up: 5 ticks (100 ms of 20 ms ticks). */
const MAX_CATCH_UP = 5;

export class Ticker {
  /** Index of the last tick run (1 for the first). */
  index = 0;
  /** Ticks skipped by a stall (see the Deviation above). */
  skipped = 0;
  private start = 0;
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly clock: Clock,
    readonly periodMs: number,
    private readonly onTick: (index: number, nowMs: number) => void,
    /**
     * Optional grid phase: ticks fall where (originMs + clock time) mod period = phaseMs, so that several tickers
     * sharing the machine (audio workers) can be spread over the period instead of all waking at once.
     */
    private readonly phase?: { readonly phaseMs: number; readonly originMs: number },
    /** Ticks run back to back after a stall before the schedule skips ahead (see above). */
    private readonly maxCatchUp: number = MAX_CATCH_UP,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  begin(): void {
    if (this.running) return;
    this.running = true;
    const now = this.clock.now();
    this.start = now - this.index * this.periodMs;
    if (this.phase) {
      // Move the grid forward (less than one period) onto the phase; the next tick is then at most a period away.
      const p = this.periodMs;
      const shift = (((this.phase.phaseMs - (this.phase.originMs + now)) % p) + p) % p;
      this.start += shift - p;
    }
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    const due = this.start + (this.index + 1) * this.periodMs;
    this.timer = this.clock.setTimer(Math.max(0, due - this.clock.now()), () => this.fire());
  }

  private fire(): void {
    this.timer = undefined;
    if (!this.running) return;
    const now = this.clock.now();
    let ran = 0;
    while (this.running && this.start + (this.index + 1) * this.periodMs <= now + 0.01) {
      if (ran === this.maxCatchUp) {
        const behind = Math.floor((now - this.start) / this.periodMs) - this.index;
        this.skipped += behind;
        this.index += behind;
        break;
      }
      this.index++;
      ran++;
      this.onTick(this.index, now);
    }
    if (this.running) this.schedule();
  }
}
