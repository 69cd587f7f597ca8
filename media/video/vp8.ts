/**
 * VP8 keyframe detection from the RTP payload (RFC 7741), without decoding.
 *
 * Payload descriptor (RFC 7741 §4.2):              VP8 payload header (§4.3), first packet of a frame only:
 *
 *          0 1 2 3 4 5 6 7                                 0 1 2 3 4 5 6 7
 *         +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
 *         |X|R|N|S|R| PID | (REQUIRED)                    |Size0|H| VER |P|
 *         +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
 *    X:   |I|L|T|K| RSV   | (OPTIONAL)
 *         +-+-+-+-+-+-+-+-+                    §4.3 "P: Inverse key frame flag. When set to 0, the current frame
 *    I:   |M| PictureID   | (OPTIONAL)          is a key frame."  §4.2 "S: Start of VP8 partition ... PID:
 *         +-+-+-+-+-+-+-+-+                     Partition index"; the payload header is present "only in the
 *         |   PictureID   | (if M: 15 bits)     first packet of a partition 0" (S = 1, PID = 0).
 *         +-+-+-+-+-+-+-+-+
 *    L:   |   TL0PICIDX   | (OPTIONAL)
 *         +-+-+-+-+-+-+-+-+
 *    T/K: |TID|Y| KEYIDX  | (OPTIONAL)
 *         +-+-+-+-+-+-+-+-+
 */

const X_BIT = 0x80;
const S_BIT = 0x10;
const PID_MASK = 0x07;
const I_BIT = 0x80;
const L_BIT = 0x40;
const T_BIT = 0x20;
const K_BIT = 0x10;
const M_BIT = 0x80;
const P_BIT = 0x01;

/** Does this VP8 RTP payload start a key frame? (`buf[offset .. offset+length)` is the RTP payload.) */
export function vp8IsKeyframeStart(buf: Uint8Array, offset: number, length: number): boolean {
  if (length < 1) return false;
  const end = offset + length;
  const b0 = buf[offset]!;
  if ((b0 & S_BIT) === 0 || (b0 & PID_MASK) !== 0) return false;
  let o = offset + 1;
  if (b0 & X_BIT) {
    if (o >= end) return false;
    const x = buf[o++]!;
    if (x & I_BIT) {
      if (o >= end) return false;
      o += buf[o]! & M_BIT ? 2 : 1;
    }
    if (x & L_BIT) o++;
    if (x & (T_BIT | K_BIT)) o++;
  }
  if (o >= end) return false;
  return (buf[o]! & P_BIT) === 0;
}
