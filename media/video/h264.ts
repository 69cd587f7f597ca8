/**
 * H.264 keyframe detection from the RTP payload (RFC 6184), without decoding.
 *
 * NAL unit header (RFC 6184 §1.3 / §5.3):        FU header (§5.8), after the FU indicator:
 *     +---------------+                               +---------------+
 *     |0|1|2|3|4|5|6|7|                               |0|1|2|3|4|5|6|7|
 *     +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
 *     |F|NRI|  Type   |                               |S|E|R|  Type   |
 *     +---------------+                               +---------------+
 *
 * Type 1–23: a single NAL unit packet (§5.6); 24: STAP-A (§5.7.1: 16-bit NAL size, NAL unit, repeated);
 * 28: FU-A (§5.8, "S: ... the Start bit ... indicates the start of a fragmented NAL unit").
 * A key frame starts with an IDR slice (NAL type 5) or the sequence parameter set sent ahead of it (type 7).
 * Interleaved-mode packets (STAP-B, MTAP, FU-B) are not looked into (packetization-mode 2 is not negotiated).
 */

const TYPE_MASK = 0x1f;
const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_STAP_A = 24;
const NAL_FU_A = 28;
const FU_START = 0x80;

function isKeyNal(type: number): boolean {
  return type === NAL_IDR || type === NAL_SPS;
}

/** Does this H.264 RTP payload start a key frame (IDR or SPS)? */
export function h264IsKeyframeStart(buf: Uint8Array, offset: number, length: number): boolean {
  if (length < 1) return false;
  const end = offset + length;
  const type = buf[offset]! & TYPE_MASK;
  if (type >= 1 && type <= 23) return isKeyNal(type);
  if (type === NAL_STAP_A) {
    // §5.7.1: STAP-A NAL HDR, then (NALU size: 16 bits, NAL unit) repeated.
    let o = offset + 1;
    while (o + 2 < end) {
      const size = (buf[o]! << 8) | buf[o + 1]!;
      if (size === 0 || o + 2 + size > end) return false;
      if (isKeyNal(buf[o + 2]! & TYPE_MASK)) return true;
      o += 2 + size;
    }
    return false;
  }
  if (type === NAL_FU_A) {
    if (length < 2) return false;
    const fu = buf[offset + 1]!;
    return (fu & FU_START) !== 0 && isKeyNal(fu & TYPE_MASK);
  }
  return false;
}
