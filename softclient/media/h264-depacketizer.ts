/**
 * H.264 RTP depacketization (RFC 6184): RTP packets in, whole access units out as an Annex B byte stream
 * (ITU-T H.264 Annex B: every NAL unit after a 00 00 00 01 start code — what ffprobe/ffmpeg read as raw "h264").
 *
 * RFC 6184 §5.3 NAL unit header (first octet of every payload):
 *
 *      +---------------+
 *      |0|1|2|3|4|5|6|7|
 *      +-+-+-+-+-+-+-+-+
 *      |F|NRI|  Type   |
 *      +---------------+
 *
 * §5.4 payload structures by Type:
 *   1-23  single NAL unit packet (§5.6): the payload is the NAL unit.
 *   24    STAP-A (§5.7.1): [NAL header] then { 16-bit NALU size, NAL unit }*.
 *   28    FU-A (§5.8): FU indicator (F, NRI, Type 28), FU header |S|E|R|Type|, a fragment of one NAL unit;
 *         the NAL unit's header is rebuilt as (indicator & 0xe0) | (FU header & 0x1f).
 *   25 STAP-B, 26 MTAP16, 27 MTAP24, 29 FU-B: interleaved mode only (§6.4, packetization-mode=2) — not taken.
 *
 * §6.2 packetization-mode 0 allows single NAL unit packets only, §6.3 mode 1 adds STAP-A and FU-A.
 * Deviation: the depacketizer accepts all three non-interleaved structures whatever mode was negotiated (a
 * receiver that can read more than the mode promises loses nothing, and one codec object serves both modes).
 *
 * §5.1: "Marker bit (M): 1 bit. Set for the very last packet of the access unit indicated by the RTP timestamp";
 * all packets of an access unit share the timestamp. An access unit is emitted at the marker, or when a packet
 * with a new timestamp shows that the marker was missed.
 *
 * A missing packet (sequence gap) loses the access unit being assembled and every later one until an IDR picture
 * (NAL type 5; later pictures reference what was lost): the caller is told `needKeyframe` and sends PLI
 * (RFC 4585 §6.3.1). SPS/PPS given out of band (§8.1 `sprop-parameter-sets`) are put in front of an IDR access
 * unit that does not carry its own SPS, so that the byte stream decodes from its first frame. Never throws.
 */
import { parseFmtpParams } from '../../sdp/fmtp.ts';

export interface H264AccessUnit {
  /** Annex B: each NAL unit behind a 4-octet start code. */
  readonly data: Uint8Array;
  /** RTP timestamp (90 kHz). */
  readonly timestamp: number;
  /** Holds an IDR picture (NAL type 5). */
  readonly keyframe: boolean;
}

export interface H264DepacketizeResult {
  /** Access units completed by this packet (usually none or one; two when a missed marker closes one). */
  readonly units: readonly H264AccessUnit[];
  /** A loss broke the stream (or it started without an IDR picture): ask the sender for a key frame. */
  readonly needKeyframe?: boolean;
}

const START_CODE = Uint8Array.of(0, 0, 0, 1);
const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const STAP_A = 24;
const FU_A = 28;

/**
 * RFC 6184 §8.1 `sprop-parameter-sets`: "a comma-separated (',') list of parameter set NAL units …
 * base64 encoded". Returns the NAL units (without start codes); unreadable entries are skipped.
 */
export function parseSpropParameterSets(fmtp: string | undefined): Uint8Array[] {
  const value = parseFmtpParams(fmtp ?? '').get('sprop-parameter-sets');
  if (!value) return [];
  const out: Uint8Array[] = [];
  for (const item of value.split(',')) {
    const b64 = item.trim();
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
    const nal = Buffer.from(b64, 'base64');
    if (nal.length > 0 && (nal[0]! & 0x80) === 0) out.push(new Uint8Array(nal));
  }
  return out;
}

export class H264Depacketizer {
  private nals: Uint8Array[] = [];
  private unitTs: number | undefined;
  /** FU-A fragments of the NAL unit being reassembled (the first element is the rebuilt NAL header). */
  private fu: Uint8Array[] | undefined;
  private nextSeq: number | undefined;
  /** Waiting for an IDR picture after a loss (or at the start). */
  private broken = true;
  private readonly sprop: readonly Uint8Array[];
  /** SPS/PPS that came in an access unit of their own while waiting for an IDR picture. */
  private pendingParams: Uint8Array[] = [];
  /** After a loss: the rest of that access unit (same timestamp) is useless. */
  private skipTs: number | undefined;
  framesOut = 0;
  framesDropped = 0;
  malformed = 0;
  /** Packets of an interleaved-mode structure (STAP-B, MTAP, FU-B) or a reserved type. */
  unsupported = 0;

  constructor(opts: { readonly spropParameterSets?: readonly Uint8Array[] } = {}) {
    this.sprop = opts.spropParameterSets ?? [];
  }

  push(seq: number, timestamp: number, marker: boolean, payload: Uint8Array): H264DepacketizeResult {
    const units: H264AccessUnit[] = [];
    let needKeyframe = false;
    const gap = this.nextSeq !== undefined && seq !== this.nextSeq;
    this.nextSeq = (seq + 1) & 0xffff;
    if (gap) {
      this.drop();
      this.broken = true;
      this.skipTs = timestamp;
      return { units, needKeyframe: true };
    }
    if (this.skipTs !== undefined) {
      if (timestamp === this.skipTs) return { units };
      this.skipTs = undefined;
    }
    // A new timestamp closes the previous access unit even without its marker (§5.1).
    if (this.unitTs !== undefined && timestamp !== this.unitTs) needKeyframe = this.finish(units) || needKeyframe;
    if (!this.take(payload)) {
      this.malformed++;
      this.drop();
      this.broken = true;
      return { units, needKeyframe: true };
    }
    this.unitTs = timestamp;
    if (marker) needKeyframe = this.finish(units) || needKeyframe;
    return needKeyframe ? { units, needKeyframe } : { units };
  }

  /** Adds the NAL units of one payload to the access unit; false when the payload is malformed or unsupported. */
  private take(p: Uint8Array): boolean {
    if (p.length < 1 || (p[0]! & 0x80) !== 0) return false; // §5.3: F = 1 means a syntax violation
    const type = p[0]! & 0x1f;
    if (type >= 1 && type <= 23) {
      if (this.fu) return false; // §5.8: an FU-A NAL unit may not be interrupted
      this.nals.push(p.slice());
      return true;
    }
    if (type === STAP_A) {
      if (this.fu) return false;
      // §5.7.1: 16-bit NALU size in network byte order, then the NAL unit; no NAL unit may be empty.
      const found: Uint8Array[] = [];
      let o = 1;
      while (o < p.length) {
        if (o + 2 > p.length) return false;
        const size = (p[o]! << 8) | p[o + 1]!;
        o += 2;
        if (size === 0 || o + size > p.length) return false;
        found.push(p.slice(o, o + size));
        o += size;
      }
      if (found.length === 0) return false;
      this.nals.push(...found);
      return true;
    }
    if (type === FU_A) {
      if (p.length < 3) return false; // §5.8: a fragment carries at least one octet
      const h = p[1]!;
      const start = (h & 0x80) !== 0;
      const end = (h & 0x40) !== 0;
      // §5.8: "a Start bit and an End bit MUST NOT both be set to one in the same FU header".
      if (start && end) return false;
      if (start) {
        if (this.fu) return false;
        this.fu = [Uint8Array.of((p[0]! & 0xe0) | (h & 0x1f)), p.slice(2)];
      } else {
        if (!this.fu) return false; // a middle or last fragment without its start
        this.fu.push(p.slice(2));
      }
      if (end) {
        this.nals.push(concat(this.fu));
        this.fu = undefined;
      }
      return true;
    }
    this.unsupported++;
    return false;
  }

  /** Emits the assembled access unit, if any; true when it had to be dropped for want of an IDR picture. */
  private finish(units: H264AccessUnit[]): boolean {
    const nals = this.nals;
    const ts = this.unitTs;
    const cut = this.fu !== undefined;
    this.nals = [];
    this.fu = undefined;
    this.unitTs = undefined;
    if (ts === undefined || nals.length === 0) return false;
    if (cut) {
      // The marker came while a NAL unit was still fragmented: the unit is incomplete.
      this.malformed++;
      this.framesDropped++;
      this.broken = true;
      return true;
    }
    const types = nals.map((n) => n[0]! & 0x1f);
    const keyframe = types.includes(NAL_IDR);
    if (this.broken && !keyframe) {
      // Parameter sets alone (SPS/PPS sent ahead of the IDR picture in their own access unit) are kept for it.
      if (types.every((t) => t === NAL_SPS || t === NAL_PPS)) {
        this.pendingParams = nals;
        return false;
      }
      this.framesDropped++;
      return true;
    }
    this.broken = false;
    let all = nals;
    if (keyframe && !types.includes(NAL_SPS)) all = [...(this.pendingParams.length > 0 ? this.pendingParams : this.sprop), ...nals];
    this.pendingParams = [];
    this.framesOut++;
    units.push({ data: annexB(all), timestamp: ts, keyframe });
    return false;
  }

  private drop(): void {
    if (this.nals.length > 0 || this.fu) this.framesDropped++;
    this.nals = [];
    this.fu = undefined;
    this.unitTs = undefined;
  }
}

/** ITU-T H.264 Annex B byte stream: a start code before every NAL unit. */
export function annexB(nals: readonly Uint8Array[]): Uint8Array {
  return concat(nals.flatMap((n) => [START_CODE, n]));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
