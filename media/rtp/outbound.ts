/**
 * One RTP stream the relay sends on a leg, under its own SSRC (RFC 3550 §5.1, §8.1: "the SSRC identifier ... chosen
 * randomly"). Keeps what an SR's sender info needs (§6.4.1: packet count, octet count — payload octets only — and an
 * RTP timestamp that corresponds to the SR's NTP time).
 *
 * For a mixed audio stream (§7.3: the mixer is the new synchronisation source) it also numbers packets: sequence
 * numbers +1 per packet and timestamps advancing with the media clock, both starting at random values (§5.1: "The
 * initial value of the sequence number SHOULD be random"; "The initial value of the timestamp SHOULD be random").
 * For a forwarded video stream the rewriter numbers packets and this only counts them.
 */
import { randomInt } from 'node:crypto';

/** A random non-zero 32-bit SSRC (§8.1). Collisions inside one relay are avoided by the caller's set. */
export function randomSsrc(taken?: ReadonlySet<number>): number {
  for (;;) {
    const s = randomInt(1, 0xffffffff) >>> 0;
    if (!taken?.has(s)) return s;
  }
}

export class OutboundStream {
  /** Next sequence number to use (mixer numbering). */
  nextSeq: number;
  /** Timestamp of the next frame (mixer numbering). */
  nextTimestamp: number;
  packets = 0;
  octets = 0;
  /** RTP timestamp and monotonic time of the last packet sent, for the SR's timestamp extrapolation. */
  lastTimestamp = 0;
  lastSentMs: number | undefined;

  constructor(readonly ssrc: number, public clockRate: number) {
    this.nextSeq = randomInt(0, 0x10000);
    this.nextTimestamp = randomInt(0, 0xffffffff) >>> 0;
  }

  /** Mixer numbering: take the next (seq, ts) for a frame spanning `samples` and advance. */
  takeFrame(samples: number): { seq: number; timestamp: number } {
    const seq = this.nextSeq;
    const timestamp = this.nextTimestamp;
    this.nextSeq = (seq + 1) & 0xffff;
    this.nextTimestamp = (timestamp + samples) >>> 0;
    return { seq, timestamp };
  }

  /** Keep the timestamp running through a frame that was not sent (§5.1: the timestamp reflects sampling time). */
  skipSamples(samples: number): void {
    this.nextTimestamp = (this.nextTimestamp + samples) >>> 0;
  }

  /** Account a packet sent with `payloadOctets` payload and RTP timestamp `timestamp` at monotonic `nowMs`. */
  sent(payloadOctets: number, timestamp: number, nowMs: number): void {
    this.packets++;
    this.octets += payloadOctets;
    this.lastTimestamp = timestamp;
    this.lastSentMs = nowMs;
  }

  /** §6.4.1 SR "RTP timestamp: ... corresponds to the same time as the NTP timestamp". */
  timestampAt(nowMs: number): number {
    if (this.lastSentMs === undefined) return this.nextTimestamp;
    return (this.lastTimestamp + Math.round(((nowMs - this.lastSentMs) * this.clockRate) / 1000)) >>> 0;
  }
}
