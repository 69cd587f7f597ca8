/**
 * RFC 3550 §6.4.1 / Appendix A.8 interarrival jitter estimate:
 *
 *   "int transit = arrival - r->ts;  int d = transit - s->transit;  s->transit = transit;
 *    if (d < 0) d = -d;  s->jitter += (1./16.) * ((double)d - s->jitter);"
 *
 * with arrival converted to RTP timestamp units. Kept in floating point (the RFC's integer variant exists only to
 * avoid floats). A transit change larger than `discontinuityTs` is a timestamp jump (new source, a sender that
 * restarted its clock), not network jitter: it re-bases instead of polluting the estimate.
 */
export class JitterEstimator {
  private transit: number | undefined;
  private jitterTs = 0;

  constructor(
    private readonly clockRate: number,
    private readonly discontinuityTs: number = clockRate * 3,
  ) {}

  /** A packet with (unwrapped) RTP timestamp `ts` arrived at monotonic `arrivalMs`. */
  update(ts: number, arrivalMs: number): void {
    const transit = (arrivalMs * this.clockRate) / 1000 - ts;
    if (this.transit !== undefined) {
      const d = Math.abs(transit - this.transit);
      if (d <= this.discontinuityTs) this.jitterTs += (d - this.jitterTs) / 16;
    }
    this.transit = transit;
  }

  /** The estimate in RTP timestamp units (what an RTCP RR reports). */
  get jitter(): number {
    return this.jitterTs;
  }

  get jitterMs(): number {
    return (this.jitterTs * 1000) / this.clockRate;
  }

  reset(): void {
    this.transit = undefined;
    this.jitterTs = 0;
  }
}
