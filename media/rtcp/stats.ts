/**
 * Receiver statistics for one RTP source: RFC 3550 §6.4.1 report-block fields, computed as Appendix A says.
 *
 * - A.1 sequence number validity and the extended highest sequence number (cycles × 2^16 + max_seq),
 * - A.3 cumulative number of packets lost and the fraction lost since the previous report,
 * - A.8 interarrival jitter, J(i) = J(i-1) + (|D(i-1,i)| - J(i-1)) / 16,
 * - §6.4.1 LSR / DLSR from the last SR received from this source.
 * Pure: times come in as arguments (the caller reads the injected clock).
 */
import type { ReportBlock } from './report-block.ts';

const RTP_SEQ_MOD = 0x10000;
// A.1 constants, verbatim.
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const MIN_SEQUENTIAL = 2;

export class ReceiverStats {
  private maxSeq = 0;
  private cycles = 0;
  private baseSeq = 0;
  private badSeq = RTP_SEQ_MOD + 1;
  private probation = MIN_SEQUENTIAL;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transit = 0;
  private haveTransit = false;
  /** A.8 jitter in timestamp units (kept as a float; reported truncated). */
  private jitterUnits = 0;
  /** §6.4.1 LSR: middle 32 bits of the last SR's NTP time, and when (monotonic ms) it arrived. */
  private lastSr = 0;
  private lastSrAtMs = 0;
  /** Every packet seen, valid or not (for the relay's own counters). */
  packetsSeen = 0;

  constructor(readonly ssrc: number, readonly clockRate: number, firstSeq: number) {
    // A.1: "When a new source is heard for the first time ... init_seq(s, seq); s->max_seq = seq - 1;
    // s->probation = MIN_SEQUENTIAL;"
    this.initSeq(firstSeq);
    this.maxSeq = (firstSeq - 1) & 0xffff;
    this.probation = MIN_SEQUENTIAL;
  }

  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = RTP_SEQ_MOD + 1; // so seq == bad_seq is false
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /** A.1 update_seq(): returns whether the packet counts as valid. */
  private updateSeq(seq: number): boolean {
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (this.probation) {
      // packet is in sequence
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSeq(seq);
          this.received++;
          return true;
        }
      } else {
        this.probation = MIN_SEQUENTIAL - 1;
        this.maxSeq = seq;
      }
      return false;
    } else if (udelta < MAX_DROPOUT) {
      // in order, with permissible gap
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD; // sequence number wrapped: count another 64K cycle
      this.maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // the sequence number made a very large jump
      if (seq === this.badSeq) {
        // Two sequential packets -- assume that the other side restarted without telling us so just re-sync.
        this.initSeq(seq);
      } else {
        this.badSeq = (seq + 1) & (RTP_SEQ_MOD - 1);
        return false;
      }
    } else {
      // duplicate or reordered packet
    }
    this.received++;
    return true;
  }

  /** One RTP packet of this source arrived at monotonic `arrivalMs`. */
  onPacket(seq: number, rtpTimestamp: number, arrivalMs: number): void {
    this.packetsSeen++;
    if (!this.updateSeq(seq)) return;
    // A.8: "int transit = arrival - r->ts; int d = transit - s->transit; s->transit = transit; if (d < 0) d = -d;
    // s->jitter += (1./16.) * ((double)d - s->jitter);"  arrival is in the same units as the RTP timestamp.
    const arrival = Math.floor((arrivalMs * this.clockRate) / 1000);
    const transit = (arrival - rtpTimestamp) | 0;
    if (this.haveTransit) {
      const d = Math.abs((transit - this.transit) | 0);
      this.jitterUnits += (d - this.jitterUnits) / 16;
    }
    this.transit = transit;
    this.haveTransit = true;
  }

  /** An SR from this source arrived (§6.4.1 LSR is its NTP middle 32 bits). */
  onSenderReport(ntpMiddle32: number, arrivalMs: number): void {
    this.lastSr = ntpMiddle32;
    this.lastSrAtMs = arrivalMs;
  }

  /** A.3 extended highest sequence number received. */
  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  /** A.3 cumulative number of packets lost (expected − received), clamped to 24 signed bits. */
  get cumulativeLost(): number {
    if (this.probation) return 0;
    const expected = this.extendedMax - this.baseSeq + 1;
    return Math.max(-0x800000, Math.min(0x7fffff, expected - this.received));
  }

  get jitterMs(): number {
    return (this.jitterUnits * 1000) / this.clockRate;
  }

  get validPackets(): number {
    return this.received;
  }

  /**
   * A report block for an SR/RR sent at monotonic `nowMs`. Advances the A.3 interval (fraction lost is "since the
   * previous SR or RR packet was sent"), so call it once per report actually sent.
   */
  reportBlock(nowMs: number): ReportBlock {
    const extendedMax = this.extendedMax;
    const expected = this.probation ? 0 : extendedMax - this.baseSeq + 1;
    const expectedInterval = expected - this.expectedPrior;
    this.expectedPrior = expected;
    const receivedInterval = this.received - this.receivedPrior;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    // A.3: "if (expected_interval == 0 || lost_interval <= 0) fraction = 0; else fraction = (lost_interval << 8) / expected_interval;"
    const fraction = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    // §6.4.1 DLSR: "expressed in units of 1/65536 seconds ... If no SR packet has been received yet ... zero".
    const dlsr = this.lastSr === 0 ? 0 : Math.floor(((nowMs - this.lastSrAtMs) / 1000) * 65536);
    return {
      ssrc: this.ssrc,
      fractionLost: Math.min(255, fraction),
      cumulativeLost: this.cumulativeLost,
      highestSeq: extendedMax >>> 0,
      jitter: Math.floor(this.jitterUnits) >>> 0,
      lastSr: this.lastSr,
      delaySinceLastSr: dlsr >>> 0,
    };
  }
}
