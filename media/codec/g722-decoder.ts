/**
 * ITU-T G.722 sub-band ADPCM decoder, 64 kbit/s (mode 1): one octet → two 16 kHz samples.
 *
 *   octet ─┬─ IL (6 bit) ─▶ INVQBL (QM6) ─▶ RECONS + LIMIT ─ rL ─┐
 *          │               INVQAL (QM4) ─▶ LOGSCL/SCALEL, Block 4L│
 *          └─ IH (2 bit) ─▶ INVQAH (QM2) ─▶ RECONS + LIMIT ─ rH ─┴─▶ receive QMF ─▶ two samples
 */
import { G722Band } from './g722-band.ts';
import { QM2, QM4, QM6, QMF_COEFFS } from './g722-tables.ts';

export class G722Decoder {
  private readonly low = new G722Band(32);
  private readonly high = new G722Band(8);
  /** Receive QMF delay line (24 taps). */
  private readonly x = new Int32Array(24);

  decode(payload: Uint8Array): Int16Array {
    const out = new Int16Array(payload.length * 2);
    const x = this.x;
    const low = this.low;
    const high = this.high;
    let o = 0;
    for (let j = 0; j < payload.length; j++) {
      const code = payload[j]!;
      const il = code & 0x3f;
      const ih = (code >> 6) & 0x03;

      // Block 5L: INVQBL with the full 6-bit code, RECONS, LIMIT to 15 bits.
      let rLow = low.s + ((low.det * QM6[il]!) >> 15);
      rLow = rLow > 16383 ? 16383 : rLow < -16384 ? -16384 : rLow;
      // Blocks 2L–4L: adaptation uses the 4-bit code, exactly as the encoder did.
      const ril = il >> 2;
      const dLow = (low.det * QM4[ril]!) >> 15;
      low.scaleLow(ril);
      low.adapt(dLow);

      // Blocks 2H–5H.
      const dHigh = (high.det * QM2[ih]!) >> 15;
      let rHigh = high.s + dHigh;
      rHigh = rHigh > 16383 ? 16383 : rHigh < -16384 ? -16384 : rHigh;
      high.scaleHigh(ih);
      high.adapt(dHigh);

      // Receive QMF (§6.3): recombine the bands into two 16 kHz samples.
      x.copyWithin(0, 2);
      x[22] = rLow + rHigh;
      x[23] = rLow - rHigh;
      let xout1 = 0;
      let xout2 = 0;
      for (let i = 0; i < 12; i++) {
        xout2 += x[2 * i]! * QMF_COEFFS[i]!;
        xout1 += x[2 * i + 1]! * QMF_COEFFS[11 - i]!;
      }
      out[o++] = clamp16(xout1 >> 11);
      out[o++] = clamp16(xout2 >> 11);
    }
    return out;
  }
}

function clamp16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
