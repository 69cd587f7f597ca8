/**
 * ITU-T G.722 sub-band ADPCM encoder, 64 kbit/s (mode 1): 16 kHz PCM → one octet per two samples.
 *
 *   x(n) ─▶ transmit QMF ─┬─ xL (0–4 kHz) ─▶ SUBTRA ─▶ QUANTL (6 bit) ─┬─▶ IL ─┐
 *                         │                  ▲  sL               INVQAL, LOGSCL/SCALEL, Block 4L
 *                         └─ xH (4–8 kHz) ─▶ SUBTRA ─▶ QUANTH (2 bit) ─┴─▶ IH ─┴─▶ octet IH·2^6 + IL
 *
 * Deviation: the Recommendation codes 14-bit input; like every software G.722 we feed 16-bit PCM and let the
 * QMF's output shift absorb the extra two bits (the output shift in the decoder restores the level).
 */
import { G722Band, saturate } from './g722-band.ts';
import { IHN, IHP, ILN, ILP, Q6, QM2, QM4, QMF_COEFFS } from './g722-tables.ts';

export class G722Encoder {
  private readonly low = new G722Band(32);
  private readonly high = new G722Band(8);
  /** Transmit QMF delay line (24 taps). */
  private readonly x = new Int32Array(24);

  /** Encode an even number of 16 kHz samples (an odd trailing sample is ignored). */
  encode(pcm: Int16Array): Uint8Array {
    const out = new Uint8Array(pcm.length >> 1);
    const x = this.x;
    for (let j = 0, k = 0; k < out.length; k++) {
      // Transmit QMF (§6.1): shift in two samples, split into the low and high band at 8 kHz.
      x.copyWithin(0, 2);
      x[22] = pcm[j++]!;
      x[23] = pcm[j++]!;
      let sumOdd = 0;
      let sumEven = 0;
      for (let i = 0; i < 12; i++) {
        sumOdd += x[2 * i]! * QMF_COEFFS[i]!;
        sumEven += x[2 * i + 1]! * QMF_COEFFS[11 - i]!;
      }
      const xLow = (sumEven + sumOdd) >> 14;
      const xHigh = (sumEven - sumOdd) >> 14;
      out[k] = (this.encodeHigh(xHigh) << 6) | this.encodeLow(xLow);
    }
    return out;
  }

  /** Blocks 1L (SUBTRA, QUANTL), 2L (INVQAL), 3L (LOGSCL, SCALEL), 4L. */
  private encodeLow(xLow: number): number {
    const band = this.low;
    const el = saturate(xLow - band.s);
    const wd = el >= 0 ? el : -(el + 1);
    let i = 1;
    while (i < 30 && wd >= (Q6[i]! * band.det) >> 12) i++;
    const il = el < 0 ? ILN[i]! : ILP[i]!;
    // The predictor adapts on the 4-bit (embedded) code so that 48/56 kbit/s decoders stay in step.
    const ril = il >> 2;
    const dq = (band.det * QM4[ril]!) >> 15;
    band.scaleLow(ril);
    band.adapt(dq);
    return il;
  }

  /** Blocks 1H (SUBTRA, QUANTH), 2H (INVQAH), 3H (LOGSCH, SCALEH), 4H. */
  private encodeHigh(xHigh: number): number {
    const band = this.high;
    const eh = saturate(xHigh - band.s);
    const wd = eh >= 0 ? eh : -(eh + 1);
    const mih = wd >= (564 * band.det) >> 12 ? 2 : 1;
    const ih = eh < 0 ? IHN[mih]! : IHP[mih]!;
    const dq = (band.det * QM2[ih]!) >> 15;
    band.scaleHigh(ih);
    band.adapt(dq);
    return ih;
  }
}
