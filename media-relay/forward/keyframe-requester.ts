/**
 * Keyframe requests toward one publisher: PLI (RFC 4585 §6.3.1) or FIR (RFC 5104 §4.3.1), throttled and repeated.
 *
 * - Throttle: at most one request per REQUEST_INTERVAL_MS (1 s) per publisher, however many receivers join or
 *   switch (shared/field-notes.md: mediasoup 2 s, Asterisk video_update_discard 2000 ms; the issue asks ≤ 1/s).
 * - Repeat: while a keyframe is wanted and none has arrived, ask again every REQUEST_INTERVAL_MS (LiveKit), at most
 *   MAX_REPEATS times per want (a publisher that never answers is not asked forever).
 * - FIR numbering (RFC 5104 §4.3.1.2): "the sequence number ... SHALL be increased by 1 for each new command";
 *   a repetition of the same request keeps it — `send(repeat)` tells the sender which.
 *
 *            request()                     keyframeArrived()
 *   idle ─────────────▶ wanted (send now or at last+1 s; repeat each 1 s) ─────────────▶ idle
 */
import type { Clock, TimerHandle } from '../../registrar/sip/clock.ts';

export const REQUEST_INTERVAL_MS = 1000;
export const MAX_REPEATS = 10;

export class KeyframeRequester {
  sent = 0;
  private wanted = false;
  private repeats = 0;
  private lastSentMs: number | undefined;
  private timer: TimerHandle | undefined;
  private closed = false;

  /**
   * @param send sends one request; returns false when it could not (publisher's SSRC unknown yet) — the want stays
   *   and `poke()` retries once the publisher is heard.
   */
  constructor(private readonly clock: Clock, private readonly send: (repeat: boolean) => boolean) {}

  get pending(): boolean {
    return this.wanted;
  }

  /** A receiver needs a keyframe of this publisher. */
  request(): void {
    if (this.closed) return;
    const fresh = !this.wanted;
    this.wanted = true;
    if (fresh) this.repeats = 0;
    if (this.timer !== undefined) return; // a send is already scheduled
    const now = this.clock.now();
    if (this.lastSentMs === undefined || now - this.lastSentMs >= REQUEST_INTERVAL_MS) this.fire(false);
    else this.schedule(this.lastSentMs + REQUEST_INTERVAL_MS - now);
  }

  /** The publisher became reachable (first packet): retry a want that could not be sent. */
  poke(): void {
    if (this.wanted && this.timer === undefined) this.request();
  }

  /** A keyframe arrived: the want is met. */
  keyframeArrived(): void {
    this.wanted = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  close(): void {
    this.closed = true;
    this.keyframeArrived();
  }

  private fire(repeat: boolean): void {
    if (!this.send(repeat)) return;
    this.sent++;
    this.lastSentMs = this.clock.now();
    if (this.repeats++ < MAX_REPEATS) this.schedule(REQUEST_INTERVAL_MS);
    else this.wanted = false;
  }

  private schedule(ms: number): void {
    this.timer = this.clock.setTimer(ms, () => {
      this.timer = undefined;
      if (this.wanted && !this.closed) this.fire(this.repeats > 0);
    });
  }
}
