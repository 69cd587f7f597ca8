/**
 * ITU-T G.711 µ-law (PCMU, RFC 3551 §4.5.14), on 16-bit linear PCM.
 *
 * Hand-written rather than a dependency: the whole law is a few lines, it runs for every sample of every PCMU
 * leg (the hot path), and two lookup tables built once at load make it one array read per sample. The npm
 * packages for it (g711, alawmulaw) allocate per call and add nothing.
 *
 * G.711 Table 2a (µ-law): an 8-bit code word is  P | S S S | Q Q Q Q  (polarity, segment, quantisation step),
 * transmitted with all bits inverted. In 16-bit units a segment s spans [(132 << s) − 132, (132 << (s+1)) − 132)
 * with 16 steps of (8 << s), and the decoder outputs the middle of a step ("bias" 0x84 = 132).
 */

const BIAS = 0x84;
/** Largest magnitude that still codes (segment 7, last step): 32635 + 132 < 2^15. */
const CLIP = 32635;

/** Decode one code word (G.711 §3.2: invert, then P/S/Q). */
function decodeSample(code: number): number {
  const u = ~code & 0xff;
  const segment = (u >> 4) & 0x07;
  const step = u & 0x0f;
  const magnitude = (((step << 3) + BIAS) << segment) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

/** Encode one 16-bit sample (truncating to the step, as G.711's decision values do). */
function encodeSample(sample: number): number {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0x00;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  // Segment = position of the highest set bit above bit 7 (s ≥ 132, so bit 7 or higher is set).
  let segment = 7;
  for (let mask = 0x4000; (s & mask) === 0 && segment > 0; mask >>= 1) segment--;
  const step = (s >> (segment + 3)) & 0x0f;
  return ~(sign | (segment << 4) | step) & 0xff;
}

/** code word → linear sample. */
export const MULAW_DECODE: Int16Array = new Int16Array(256).map((_, i) => decodeSample(i));
/** (sample & 0xffff) → code word, for all 65536 16-bit samples. */
const MULAW_ENCODE: Uint8Array = new Uint8Array(65536).map((_, i) => encodeSample((i << 16) >> 16));

export function mulawDecode(payload: Uint8Array, out: Int16Array = new Int16Array(payload.length)): Int16Array {
  for (let i = 0; i < payload.length; i++) out[i] = MULAW_DECODE[payload[i]!]!;
  return out;
}

export function mulawEncode(pcm: Int16Array, out: Uint8Array = new Uint8Array(pcm.length)): Uint8Array {
  for (let i = 0; i < pcm.length; i++) out[i] = MULAW_ENCODE[pcm[i]! & 0xffff]!;
  return out;
}
