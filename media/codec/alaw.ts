/**
 * ITU-T G.711 A-law (PCMA, RFC 3551 §4.5.14), on 16-bit linear PCM.
 *
 * Hand-written for the same reasons as µ-law (see mulaw.ts): a few lines, the hot path, table lookups.
 *
 * G.711 Table 1a (A-law): code word  P | S S S | Q Q Q Q, transmitted with the even bits inverted (XOR 0x55).
 * P = 1 for positive values. In 16-bit units segment 0 and 1 both have steps of 16; segment s ≥ 1 starts at
 * 256 << (s − 1) with steps of 16 << (s − 1). The decoder outputs the middle of a step (+8 / +half a step).
 */

/** Decode one code word (G.711 §3.2: undo the 0x55 inversion, then P/S/Q). */
function decodeSample(code: number): number {
  const a = code ^ 0x55;
  const segment = (a >> 4) & 0x07;
  const step = a & 0x0f;
  const magnitude = segment === 0 ? (step << 4) + 8 : ((step << 4) + 0x108) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

/** Encode one 16-bit sample. Negative values code one step "down" (−1 … −16 → code of magnitude 8), per G.711. */
function encodeSample(sample: number): number {
  let mask: number;
  let s: number;
  if (sample >= 0) {
    mask = 0xd5; // P = 1, even bits inverted
    s = sample;
  } else {
    mask = 0x55;
    s = -sample - 1;
  }
  s >>= 3; // 13-bit magnitude as in G.711
  let segment = 0;
  while (segment < 8 && s > (0x20 << segment) - 1) segment++; // decision ends 0x1F, 0x3F … 0xFFF
  if (segment >= 8) return 0x7f ^ mask; // beyond the last decision value: the largest code
  const step = segment < 2 ? (s >> 1) & 0x0f : (s >> segment) & 0x0f;
  return ((segment << 4) | step) ^ mask;
}

/** code word → linear sample. */
export const ALAW_DECODE: Int16Array = new Int16Array(256).map((_, i) => decodeSample(i));
/** (sample & 0xffff) → code word, for all 65536 16-bit samples. */
const ALAW_ENCODE: Uint8Array = new Uint8Array(65536).map((_, i) => encodeSample((i << 16) >> 16));

export function alawDecode(payload: Uint8Array, out: Int16Array = new Int16Array(payload.length)): Int16Array {
  for (let i = 0; i < payload.length; i++) out[i] = ALAW_DECODE[payload[i]!]!;
  return out;
}

export function alawEncode(pcm: Int16Array, out: Uint8Array = new Uint8Array(pcm.length)): Uint8Array {
  for (let i = 0; i < pcm.length; i++) out[i] = ALAW_ENCODE[pcm[i]! & 0xffff]!;
  return out;
}
