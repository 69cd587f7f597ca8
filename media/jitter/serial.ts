/**
 * Serial-number arithmetic for RTP sequence numbers (16 bit) and timestamps (32 bit) — the ONE place where
 * wrap-around is handled.
 *
 * RFC 1982 §3.2: "s1 is said to be less than s2 if ... (i1 < i2 and i2 - i1 < 2^(SERIAL_BITS - 1)) or
 * (i1 > i2 and i1 - i2 > 2^(SERIAL_BITS - 1))". RFC 3550 Appendix A.1 extends the 16-bit sequence number with a
 * count of wraps ("cycles") so that later code can compare plain integers; `Unwrapper` does the same for any width.
 */

const SEQ_MOD = 0x1_0000;
const TS_MOD = 0x1_0000_0000;

/** Signed distance b − a of two 16-bit sequence numbers, in [-32768, 32767] (RFC 1982 §3.2). */
export function seqDiff(a: number, b: number): number {
  const d = (b - a) & 0xffff;
  return d >= 0x8000 ? d - SEQ_MOD : d;
}

/** RFC 1982: is sequence number a before b (mod 2^16)? */
export function seqBefore(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

/** Signed distance b − a of two 32-bit RTP timestamps, in [-2^31, 2^31). */
export function tsDiff(a: number, b: number): number {
  const d = (b - a) >>> 0;
  return d >= 0x8000_0000 ? d - TS_MOD : d;
}

/**
 * Extends wrapping serial numbers to monotonic-ish integers (RFC 3550 A.1 "cycles"): each value is placed at the
 * extended position nearest to the previous one, so reordering across a wrap (65535 → 0 → 65534) lands correctly.
 * Extended values stay exact in a double for 2^53 / 2^32 ≈ 2 million wraps of a 32-bit counter.
 */
export class Unwrapper {
  private last: number | undefined;
  private readonly mod: number;
  private readonly half: number;

  constructor(bits: 16 | 32) {
    this.mod = bits === 16 ? SEQ_MOD : TS_MOD;
    this.half = this.mod / 2;
  }

  /** The extended value of `v` (0 ≤ v < 2^bits). */
  unwrap(v: number): number {
    if (this.last === undefined) {
      // Start one cycle up, so a reordered packet from just before the first one never goes negative.
      this.last = v + this.mod;
      return this.last;
    }
    const lastLow = this.last % this.mod;
    let d = v - lastLow;
    if (d > this.half) d -= this.mod;
    else if (d < -this.half) d += this.mod;
    const ext = this.last + d;
    if (ext > this.last) this.last = ext;
    return ext;
  }

  reset(): void {
    this.last = undefined;
  }
}
