/**
 * One sub-band's ADPCM state of ITU-T G.722 and the blocks shared by encoder and decoder (§6.2): the scale factor
 * adaptation (LOGSCL/SCALEL, LOGSCH/SCALEH) and Block 4 (RECONS, PARREC, UPPOL2, UPPOL1, UPZERO, DELAYA, FILTEP,
 * FILTEZ, PREDIC), the pole-zero predictor that both sides run identically on the quantised difference.
 *
 * All arithmetic is the Recommendation's 16-bit fixed point: products are shifted by 15, sums saturate.
 */
import { ILB, RH2, RL42, WH, WL } from './g722-tables.ts';

export function saturate(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

export class G722Band {
  /** Predictor output s, its pole part sp and zero part sz. */
  s = 0;
  sp = 0;
  sz = 0;
  /** Reconstructed signal r, partial reconstruction p (index 0 = now, 1…2 = delayed). */
  readonly r = new Int32Array(3);
  readonly p = new Int32Array(3);
  /** Pole coefficients a1, a2 (index 1…2) and their updates ap. */
  readonly a = new Int32Array(3);
  readonly ap = new Int32Array(3);
  /** Quantised differences d (0 = now, 1…6 = delayed), zero coefficients b / bp (1…6). */
  readonly d = new Int32Array(7);
  readonly b = new Int32Array(7);
  readonly bp = new Int32Array(7);
  /** Log scale factor NBL/NBH and the linear scale factor DETL/DETH. */
  nb = 0;
  det: number;

  constructor(initialDet: number) {
    // §6.2.1 initial values: DETL = 32, DETH = 8; everything else 0.
    this.det = initialDet;
  }

  /** LOGSCL + SCALEL (low band): adapt the scale factor from the 4-bit code class `ril`. */
  scaleLow(ril: number): void {
    let nb = ((this.nb * 127) >> 7) + WL[RL42[ril]!]!;
    nb = nb < 0 ? 0 : nb > 18432 ? 18432 : nb;
    this.nb = nb;
    this.det = antilog(nb, 8);
  }

  /** LOGSCH + SCALEH (high band): adapt from the 2-bit code `ih`. */
  scaleHigh(ih: number): void {
    let nb = ((this.nb * 127) >> 7) + WH[RH2[ih]!]!;
    nb = nb < 0 ? 0 : nb > 22528 ? 22528 : nb;
    this.nb = nb;
    this.det = antilog(nb, 10);
  }

  /** Block 4: update the predictor with the quantised difference `dq` and compute the next estimate `s`. */
  adapt(dq: number): void {
    const { r, p, a, ap, d, b, bp } = this;
    // RECONS, PARREC
    d[0] = dq;
    r[0] = saturate(this.s + dq);
    p[0] = saturate(this.sz + dq);

    // UPPOL2: a2 update from the signs of p(0), p(1), p(2)
    const sg0 = p[0]! >> 15;
    const sg1 = p[1]! >> 15;
    const sg2 = p[2]! >> 15;
    let wd1 = saturate(a[1]! << 2);
    let wd2 = sg0 === sg1 ? -wd1 : wd1;
    if (wd2 > 32767) wd2 = 32767;
    let wd3 = (wd2 >> 7) + (sg0 === sg2 ? 128 : -128) + ((a[2]! * 32512) >> 15);
    ap[2] = wd3 > 12288 ? 12288 : wd3 < -12288 ? -12288 : wd3;

    // UPPOL1: a1 update, limited to ±(15360 − a2)
    wd1 = sg0 === sg1 ? 192 : -192;
    wd2 = (a[1]! * 32640) >> 15;
    let ap1 = saturate(wd1 + wd2);
    wd3 = saturate(15360 - ap[2]!);
    ap[1] = ap1 > wd3 ? wd3 : ap1 < -wd3 ? -wd3 : ap1;

    // UPZERO: sign-sign update of b1…b6
    wd1 = dq === 0 ? 0 : 128;
    const sgd = dq >> 15;
    for (let i = 1; i < 7; i++) {
      wd2 = d[i]! >> 15 === sgd ? wd1 : -wd1;
      bp[i] = saturate(wd2 + ((b[i]! * 32640) >> 15));
    }

    // DELAYA
    for (let i = 6; i > 0; i--) {
      d[i] = d[i - 1]!;
      b[i] = bp[i]!;
    }
    for (let i = 2; i > 0; i--) {
      r[i] = r[i - 1]!;
      p[i] = p[i - 1]!;
      a[i] = ap[i]!;
    }

    // FILTEP: pole section
    wd1 = (a[1]! * saturate(r[1]! + r[1]!)) >> 15;
    wd2 = (a[2]! * saturate(r[2]! + r[2]!)) >> 15;
    this.sp = saturate(wd1 + wd2);

    // FILTEZ: zero section
    let sz = 0;
    for (let i = 6; i > 0; i--) sz += (b[i]! * saturate(d[i]! + d[i]!)) >> 15;
    this.sz = saturate(sz);

    // PREDIC
    this.s = saturate(this.sp + this.sz);
  }
}

/** SCALEL/SCALEH: DET = 2^(nb / 2^11) via ILB, then ×4 (Q-format of the Recommendation). */
function antilog(nb: number, shiftBase: number): number {
  const frac = (nb >> 6) & 31;
  const shift = shiftBase - (nb >> 11);
  const v = shift < 0 ? ILB[frac]! << -shift : ILB[frac]! >> shift;
  return v << 2;
}
