/**
 * VP8 RTP depacketization (RFC 7741): RTP packets in, whole VP8 frames out.
 *
 * §4.2 payload descriptor (first octets of every payload), then VP8 data:
 *
 *          0 1 2 3 4 5 6 7
 *         +-+-+-+-+-+-+-+-+
 *         |X|R|N|S|R| PID | (REQUIRED)      S: start of a partition; PID: partition index
 *         +-+-+-+-+-+-+-+-+
 *    X:   |I|L|T|K| RSV   | (OPTIONAL)
 *    I:   |M| PictureID   | (OPTIONAL, a second octet when M)
 *    L:   |   TL0PICIDX   | (OPTIONAL)
 *    T/K: |TID|Y| KEYIDX  | (OPTIONAL)
 *
 * §4.1: "the marker bit ... MUST be set for the last packet of a frame"; all packets of a frame share the RTP
 * timestamp. A frame starts at a packet with S = 1 and PID = 0. §4.3: in the first octet of the frame
 * "P: Inverse key frame flag. When set to 0, the current frame is a key frame"; a key frame's header (RFC 6386
 * §9.1) then has the start code 9d 01 2a and 14-bit width and height.
 *
 * A missing packet (sequence gap) loses the frame being assembled, and every later frame until a key frame (they
 * would reference what was lost): the caller is told `needKeyframe` and sends PLI (RFC 4585 §6.3.1). Never throws.
 */

export interface Vp8Frame {
  readonly data: Uint8Array;
  /** RTP timestamp (90 kHz). */
  readonly timestamp: number;
  readonly keyframe: boolean;
  /** From a key frame's header; undefined otherwise. */
  readonly width?: number;
  readonly height?: number;
}

export interface DepacketizeResult {
  readonly frame?: Vp8Frame;
  /** A loss broke the stream (or it started mid-frame): ask the sender for a key frame. */
  readonly needKeyframe?: boolean;
}

/** Length of the §4.2 descriptor at the start of `p`, or -1 if malformed. */
export function vp8DescriptorLength(p: Uint8Array): number {
  if (p.length < 1) return -1;
  let o = 1;
  if (p[0]! & 0x80) {
    if (p.length < 2) return -1;
    const x = p[1]!;
    o = 2;
    if (x & 0x80) o += o < p.length && p[o]! & 0x80 ? 2 : 1; // I: PictureID, 15 bits when M
    if (x & 0x40) o += 1; // L: TL0PICIDX
    if (x & 0x30) o += 1; // T or K: TID/Y/KEYIDX
  }
  return o <= p.length ? o : -1;
}

export class Vp8Depacketizer {
  private parts: Uint8Array[] = [];
  private frameTs: number | undefined;
  private nextSeq: number | undefined;
  /** Waiting for a key frame after a loss (or at the start). */
  private broken = true;
  framesOut = 0;
  framesDropped = 0;
  malformed = 0;

  push(seq: number, timestamp: number, marker: boolean, payload: Uint8Array): DepacketizeResult {
    const gap = this.nextSeq !== undefined && seq !== this.nextSeq;
    this.nextSeq = (seq + 1) & 0xffff;
    const d = vp8DescriptorLength(payload);
    if (d < 0) {
      this.malformed++;
      return this.lose();
    }
    const start = (payload[0]! & 0x10) !== 0 && (payload[0]! & 0x07) === 0;
    if (gap && !start) return this.lose();
    if (gap) this.broken = true; // whole frames may be gone: only a key frame repairs that
    if (start) {
      if (this.parts.length > 0) this.framesDropped++; // the previous frame never got its marker
      this.parts = [];
      this.frameTs = timestamp;
    } else if (this.frameTs !== timestamp || this.parts.length === 0) {
      return this.lose();
    }
    this.parts.push(payload.subarray(d));
    if (!marker) return {};
    const data = concat(this.parts);
    this.parts = [];
    this.frameTs = undefined;
    if (data.length < 3) {
      this.malformed++;
      return this.lose();
    }
    const keyframe = (data[0]! & 0x01) === 0;
    if (this.broken && !keyframe) {
      this.framesDropped++;
      return { needKeyframe: true };
    }
    this.broken = false;
    this.framesOut++;
    if (keyframe && data.length >= 10 && data[3] === 0x9d && data[4] === 0x01 && data[5] === 0x2a) {
      return { frame: { data, timestamp, keyframe, width: (data[6]! | (data[7]! << 8)) & 0x3fff, height: (data[8]! | (data[9]! << 8)) & 0x3fff } };
    }
    return { frame: { data, timestamp, keyframe } };
  }

  private lose(): DepacketizeResult {
    if (this.parts.length > 0) this.framesDropped++;
    this.parts = [];
    this.frameTs = undefined;
    this.broken = true;
    return { needKeyframe: true };
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!.slice();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
