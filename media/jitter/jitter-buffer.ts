/**
 * An adaptive, capped jitter buffer for one audio input (one RTP stream), played out by sequence number.
 *
 * The consumer (the mixer's 20 ms tick) calls pop() whenever it needs the next packet's audio:
 *   - the packet                 → decode it
 *   - 'missing'                  → conceal one frame (the packet is lost, or late: see "stretch" below)
 *   - 'empty'                    → the stream is not playing (not started, or stopped: end of a talk spurt / DTX)
 *
 *            push (enough buffered: depth ≥ target)             underrun lasting MAX_STALLS pops
 *   BUFFERING ─────────────────────────────────────▶ PLAYING ─────────────────────────────────────▶ BUFFERING
 *
 * Adaptation without time-stretching DSP:
 *   - stretch: when the next packet has not arrived (buffer empty), pop() says 'missing' WITHOUT giving up on it;
 *     if it then arrives it is played next — a merely late packet costs one concealed frame and adds one frame of
 *     delay, never a gap, and nothing is lost.
 *   - reordering / loss: when later packets are there but the next one is not, pop() waits for it (conceals)
 *     while no more than the target delay is queued behind the hole; beyond that the packet is declared lost.
 *   - shrink: when more than target + 2 frames are buffered (shrink: 'depth', the default), or — shrink: 'wait' —
 *     when the packet BEHIND the head has already waited target + SHRINK_HYSTERESIS_MS since its arrival (so the
 *     buffer holds over a frame more than the target), one packet is dropped (at most every SHRINK_EVERY pops), so
 *     delay added by a jitter spike, or by a start on an early packet, drains away. 'wait' measures what a listener
 *     hears (time held) where 'depth' counts packets, which with a consumer ticking at its own phase is only known to
 *     within a frame, hence its 2-frame margin.
 *   - target = clamp(minDelayMs, frame − slackMs + 3 × jitter (RFC 3550 A.8) + boost, maxDelayMs), boost grows by a
 *     frame per late packet and decays 1 ms per second. slackMs (default 0): a consumer that pops on a fixed tick
 *     adds its own wait (0 to one frame, half on average) to every packet's, so a target of one frame less slack
 *     still plays each packet once it has waited one tick period on average.
 *   - cap: never more than maxDelayMs of audio held; the oldest is dropped (BigBlueButton's lesson: latency must not
 *     grow without bound).
 * Packets older than what was already played are late: counted and dropped. Duplicates are counted and dropped.
 * Sequence numbers and timestamps wrap (RFC 3550 A.1): they are unwrapped in serial.ts. A sequence jump of more than
 * MAX_SEQ_JUMP, or an SSRC change, is a new stream: the buffer restarts.
 */
import type { RtpIn } from '../types.ts';
import { Unwrapper } from './serial.ts';
import { JitterEstimator } from './jitter-estimator.ts';

export interface JitterBufferOptions {
  /** RTP clock rate of the stream (48000 for Opus, 8000 for PCMU/PCMA/G.722). */
  readonly clockRate: number;
  /** Smallest target delay, ms. Default 20. */
  readonly minDelayMs?: number;
  /** Cap on buffered audio and on the target delay, ms. Default 200. */
  readonly maxDelayMs?: number;
  /** Nominal packet duration until timestamps tell otherwise, ms. Default 20. */
  readonly frameMs?: number;
  /** Taken off the jitter-driven target (see the doc comment). Default 0. */
  readonly slackMs?: number;
  /** Shrink rule (see the doc comment). Default 'depth'. */
  readonly shrink?: 'depth' | 'wait';
}

export type JitterPop = RtpIn | 'missing' | 'empty';

export interface JitterBufferStats {
  readonly late: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly overflow: number;
  readonly shrunk: number;
  readonly underruns: number;
  readonly resets: number;
  readonly jitterMs: number;
  readonly targetMs: number;
  readonly depthMs: number;
}

type State = 'buffering' | 'playing';

interface Slot {
  readonly seq: number; // extended
  readonly ts: number; // extended (learns the packet duration)
  readonly pkt: RtpIn;
  readonly at: number; // arrival, ms
}

const MAX_STALLS = 5; // 100 ms of underrun: the talk spurt ended (or the sender stopped)
const SHRINK_EVERY = 5; // pops between two shrink drops (≤ one frame per 100 ms)
const MAX_SEQ_JUMP = 1000;
const MAX_PACKETS = 512;
/** shrink: 'wait' — margin over the target before a packet is dropped to shrink (arrival-time noise). */
const SHRINK_HYSTERESIS_MS = 3;

export class JitterBuffer {
  private state: State = 'buffering';
  private readonly slots: Slot[] = [];
  private seqs = new Unwrapper(16);
  private stamps = new Unwrapper(32);
  private estimator: JitterEstimator;
  private ssrc: number | undefined;
  private highestSeq = -1;
  /** Next sequence number to play; once anything played (`played`), older packets are late. */
  private nextSeq = 0;
  private played = false;
  private stalls = 0;
  private sinceShrink = 0;
  private frameTs: number;
  private boostMs = 0;
  private clockRate: number;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly slackMs: number;
  private readonly shrinkByWait: boolean;
  private readonly counters = { late: 0, duplicates: 0, lost: 0, overflow: 0, shrunk: 0, underruns: 0, resets: 0 };

  constructor(opts: JitterBufferOptions) {
    this.clockRate = opts.clockRate;
    this.minDelayMs = opts.minDelayMs ?? 20;
    this.maxDelayMs = Math.max(this.minDelayMs, opts.maxDelayMs ?? 200);
    this.slackMs = Math.max(0, opts.slackMs ?? 0);
    this.shrinkByWait = opts.shrink === 'wait';
    this.frameTs = ((opts.frameMs ?? 20) * this.clockRate) / 1000;
    this.estimator = new JitterEstimator(this.clockRate);
  }

  push(pkt: RtpIn, nowMs: number): void {
    if (this.ssrc !== undefined && pkt.ssrc !== this.ssrc) this.restart();
    this.ssrc = pkt.ssrc;
    let seq = this.seqs.unwrap(pkt.sequenceNumber);
    if (this.highestSeq >= 0 && Math.abs(seq - this.highestSeq) > MAX_SEQ_JUMP) {
      this.restart();
      this.ssrc = pkt.ssrc;
      seq = this.seqs.unwrap(pkt.sequenceNumber);
    }
    const ts = this.stamps.unwrap(pkt.timestamp);
    this.estimator.update(ts, nowMs);

    if (this.played && seq < this.nextSeq) {
      this.counters.late++;
      this.boostMs = Math.min(this.maxDelayMs, this.boostMs + this.frameMs());
      return;
    }
    // Sorted insert, searching from the end (packets mostly arrive in order).
    let i = this.slots.length;
    while (i > 0 && this.slots[i - 1]!.seq > seq) i--;
    if (i > 0 && this.slots[i - 1]!.seq === seq) {
      this.counters.duplicates++;
      return;
    }
    const prev = this.slots[i - 1];
    if (prev && seq - prev.seq === 1 && ts > prev.ts && ts - prev.ts <= this.clockRate * 0.12) {
      this.frameTs = ts - prev.ts; // learn the packet duration (≤ 120 ms, RFC 6716's longest)
    }
    // The payload is a view into the relay's receive buffer: keep a copy.
    const kept: RtpIn = {
      payloadType: pkt.payloadType,
      sequenceNumber: pkt.sequenceNumber,
      timestamp: pkt.timestamp,
      ssrc: pkt.ssrc,
      marker: pkt.marker,
      payload: pkt.payload.slice(),
      audioLevel: pkt.audioLevel,
    };
    const slot: Slot = { seq, ts, pkt: kept, at: nowMs };
    if (i === this.slots.length) this.slots.push(slot);
    else this.slots.splice(i, 0, slot);
    if (seq > this.highestSeq) this.highestSeq = seq;
    this.enforceCap();
  }

  pop(nowMs: number): JitterPop {
    this.boostMs = Math.max(0, this.boostMs - 0.02); // 1 ms per second at one pop per 20 ms
    if (this.state === 'buffering') {
      const first = this.slots[0];
      if (!first) return 'empty';
      // Start once the first packet has waited the target delay, or target delay worth of audio queues behind it.
      const target = this.targetMs();
      if (nowMs - first.at < target && this.depthMs() < target + this.frameMs()) return 'empty';
      this.state = 'playing';
      this.nextSeq = first.seq;
      this.stalls = 0;
    }
    for (;;) {
      const head = this.slots[0];
      if (head && head.seq === this.nextSeq) {
        if (++this.sinceShrink >= SHRINK_EVERY && this.holdsTooMuch(nowMs)) {
          // Shrink: drop this packet, play the next one in its slot.
          this.sinceShrink = 0;
          this.counters.shrunk++;
          this.slots.shift();
          this.nextSeq++;
          continue;
        }
        return this.take();
      }
      if (head) {
        // A hole at nextSeq. Wait for it (reordering) while less than the target delay is queued behind it;
        // beyond that it is lost.
        if (this.depthMs() <= this.targetMs()) {
          this.stalls++;
          return 'missing';
        }
        this.counters.lost++;
        this.nextSeq++;
        if (this.stalls > 0) {
          // Its slot was already concealed while we waited: go straight on to what follows.
          this.stalls = 0;
          continue;
        }
        return 'missing';
      }
      // Underrun: nothing buffered. Stretch (conceal, keep waiting for nextSeq) up to MAX_STALLS, then stop.
      this.counters.underruns++;
      if (++this.stalls > MAX_STALLS) {
        this.state = 'buffering';
        this.stalls = 0;
        return 'empty';
      }
      return 'missing';
    }
  }

  /** Forget everything (e.g. the stream's codec and clock changed). */
  reset(clockRate: number = this.clockRate): void {
    this.clockRate = clockRate;
    this.frameTs = (20 * clockRate) / 1000;
    this.restart();
  }

  get jitterMs(): number {
    return this.estimator.jitterMs;
  }

  stats(): JitterBufferStats {
    return { ...this.counters, jitterMs: this.estimator.jitterMs, targetMs: this.targetMs(), depthMs: this.depthMs() };
  }

  /** Current target delay, ms. */
  targetMs(): number {
    const want = this.frameMs() - this.slackMs + 3 * this.estimator.jitterMs + this.boostMs;
    return Math.min(this.maxDelayMs, Math.max(this.minDelayMs, want));
  }

  /**
   * Buffered audio, ms: from the next packet to play to the end of the newest one, counted in packets × packet
   * duration. Deliberately not from timestamps: a sender doing silence suppression (RFC 3551 §4.1) jumps its
   * timestamp over the silence while the sequence number goes on by one, and that gap holds no audio to play.
   */
  depthMs(): number {
    const first = this.slots[0];
    const last = this.slots[this.slots.length - 1];
    if (!first || !last) return 0;
    const startSeq = this.state === 'playing' ? this.nextSeq : first.seq;
    return (last.seq + 1 - startSeq) * this.frameMs();
  }

  /** Shrink test at a pop whose head is the packet due (see the doc comment). */
  private holdsTooMuch(nowMs: number): boolean {
    if (!this.shrinkByWait) return this.depthMs() > this.targetMs() + 2 * this.frameMs();
    const next = this.slots[1];
    return next !== undefined && next.seq === this.nextSeq + 1 && nowMs - next.at >= this.targetMs() + SHRINK_HYSTERESIS_MS;
  }

  private take(): RtpIn {
    const slot = this.slots.shift()!;
    this.nextSeq = slot.seq + 1;
    this.played = true;
    this.stalls = 0;
    return slot.pkt;
  }

  private frameMs(): number {
    return (this.frameTs * 1000) / this.clockRate;
  }

  private enforceCap(): void {
    while (this.slots.length > 1 && (this.depthMs() > this.maxDelayMs || this.slots.length > MAX_PACKETS)) {
      const dropped = this.slots.shift()!;
      this.counters.overflow++;
      if (this.state === 'playing') this.nextSeq = dropped.seq + 1;
    }
  }

  private restart(): void {
    if (this.ssrc !== undefined) this.counters.resets++;
    this.slots.length = 0;
    this.seqs = new Unwrapper(16);
    this.stamps = new Unwrapper(32);
    this.estimator = new JitterEstimator(this.clockRate);
    this.state = 'buffering';
    this.ssrc = undefined;
    this.highestSeq = -1;
    this.nextSeq = 0;
    this.played = false;
    this.stalls = 0;
    this.boostMs = 0;
  }
}
