/**
 * The SILK layer's voice-activity flag of an Opus packet, read without decoding it (RFC 6716).
 *
 * RFC 6716 §4.2.3: "The LP layer begins with two to eight header bits ... Each [SILK] frame has a VAD flag, coded
 * with a uniform probability (bit) ... whether or not the corresponding SILK frame contains activity". It is the
 * FIRST symbol the range decoder yields for a SILK-only or hybrid packet (§4.2.3, then the LBRR flag), so reading
 * it costs the range decoder's initialisation (§4.1.1) and one `ec_dec_bit_logp(1)` (§4.1.3.1) — a few dozen
 * operations against ≈ 20 µs for a full decode. CELT-only packets have no such flag (undefined).
 *
 * Only the simplest framing is read: TOC code 0 (one frame, §3.2.2) of 10 or 20 ms (one SILK frame). Anything else
 * — several frames, 40/60 ms, CELT-only, an empty or malformed packet — gives undefined, and the caller decodes.
 */

/** §3.1: configurations 0–11 are SILK-only, 12–15 hybrid, 16–31 CELT-only. */
const CELT_FIRST_CONFIG = 16;

/** true = the encoder flagged activity, false = no activity, undefined = cannot tell without decoding. */
export function opusVoiceActivity(packet: Uint8Array): boolean | undefined {
  if (packet.length < 2) return undefined;
  const toc = packet[0]!;
  const config = toc >> 3;
  if (config >= CELT_FIRST_CONFIG) return undefined;
  if ((toc & 0x03) !== 0) return undefined; // §3.2: code 1–3 carry several frames
  // §3.1 Table 2: SILK-only configs cycle 10/20/40/60 ms; hybrid 12–15 cycle 10/20 ms. 40/60 ms = 2–3 SILK frames.
  if (config < 12 && (config & 3) >= 2) return undefined;
  return firstBit(packet, 1);
}

// §4.1 range decoder constants (libopus entcode.h): 8-bit symbols, 32-bit state, 7 extra bits of precision.
const SYM_BITS = 8;
const CODE_EXTRA = 7;
const CODE_TOP = 2 ** 31;
const CODE_BOT = 2 ** 23;

/** §4.1.1 init over packet[offset…], then §4.1.3.1 ec_dec_bit_logp(logp = 1): the first coded bit. */
function firstBit(buf: Uint8Array, offset: number): boolean {
  let pos = offset;
  const byte = (): number => (pos < buf.length ? buf[pos++]! : 0); // §4.1.1: reading past the end yields zeros
  let rng = 1 << CODE_EXTRA;
  let rem = byte();
  let val = rng - 1 - (rem >> (SYM_BITS - CODE_EXTRA));
  // §4.1.2 normalisation: while rng ≤ 2^23, shift in another octet.
  while (rng <= CODE_BOT) {
    rng *= 256;
    const prev = rem;
    rem = byte();
    const sym = ((prev << SYM_BITS) | rem) >> (SYM_BITS - CODE_EXTRA);
    val = ((val * 256) + (255 & ~sym)) % CODE_TOP;
  }
  // ec_dec_bit_logp: s = rng >> logp; the bit is 1 when val < s.
  const s = Math.floor(rng / 2);
  return val < s;
}
