/**
 * A single-producer / single-consumer ring of received RTP packets in a SharedArrayBuffer: the relay thread writes
 * each accepted audio packet (header fields, arrival time, payload) into its worker's ring; the worker drains the
 * ring at the start of each 20 ms tick. No postMessage, no structured clone, no wake-up of the worker per packet —
 * the worker only needs a meeting's packets when it mixes, and the jitter buffer works from the arrival time
 * stamped here, not from when the worker reads it.
 *
 *   header (Int32Array over bytes 0..15): [0] write offset, [1] read offset, [2] packets dropped (ring full)
 *   data (bytes 16..): records, each 8-byte aligned:
 *      0 u32 record length (0 = wrap: continue at data offset 0)    4 u32 leg id
 *      8 u32 RTP timestamp     12 u32 SSRC     16 f64 arrival (absolute ms, performance.timeOrigin + now)
 *     24 u16 sequence number   26 u8 payload type   27 u8 marker   28 u16 payload length
 *     30 u8 RFC 6464 audio level + 1 (0: none)   31 (pad)   32 payload
 *
 * The producer publishes a record with Atomics.store of the write offset after writing it; the consumer releases
 * space with Atomics.store of the read offset (sequentially consistent: the bytes are visible before the offset).
 * One byte is always left free so that write = read means empty. A full ring drops the packet and counts it
 * (the worker is more than the ring's worth of audio behind: late audio is useless anyway).
 */
import type { RtpIn } from './types.ts';

const HEADER_BYTES = 16;
const REC_HEADER = 32;
const W = 0;
const R = 1;
const DROPPED = 2;

/** Default size per worker: ≈ 0.6 s of 500 Opus participants' packets. */
export const DEFAULT_RING_BYTES = 2 * 1024 * 1024;

export type RingPacketHandler = (legId: number, pkt: RtpIn, atMs: number) => void;

export class PacketRing {
  private readonly idx: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly cap: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    if (buffer.byteLength < HEADER_BYTES + 1024 || buffer.byteLength % 8 !== 0) throw new TypeError(`bad ring size ${buffer.byteLength}`);
    this.idx = new Int32Array(buffer, 0, 4);
    this.bytes = new Uint8Array(buffer, HEADER_BYTES);
    this.view = new DataView(buffer, HEADER_BYTES);
    this.cap = this.bytes.length;
  }

  static create(bytes: number = DEFAULT_RING_BYTES): PacketRing {
    return new PacketRing(new SharedArrayBuffer(HEADER_BYTES + Math.ceil(bytes / 8) * 8));
  }

  /** Packets the producer had to drop because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.idx, DROPPED);
  }

  /** Producer: append one packet. False (and counted) when the ring is full. */
  write(legId: number, pkt: RtpIn, atMs: number): boolean {
    const payload = pkt.payload;
    const len = (REC_HEADER + payload.length + 7) & ~7;
    let w = Atomics.load(this.idx, W);
    const r = Atomics.load(this.idx, R);
    if (w >= r) {
      // Room to the end (always keeping 8 bytes for a wrap record), else wrap to 0 if the start is free.
      if (w + len + 8 > this.cap) {
        if (len >= r) return this.full();
        this.view.setUint32(w, 0, true);
        w = 0;
      }
    } else if (w + len >= r) {
      return this.full();
    }
    const v = this.view;
    v.setUint32(w, len, true);
    v.setUint32(w + 4, legId, true);
    v.setUint32(w + 8, pkt.timestamp >>> 0, true);
    v.setUint32(w + 12, pkt.ssrc >>> 0, true);
    v.setFloat64(w + 16, atMs, true);
    v.setUint16(w + 24, pkt.sequenceNumber, true);
    v.setUint8(w + 26, pkt.payloadType);
    v.setUint8(w + 27, pkt.marker ? 1 : 0);
    v.setUint16(w + 28, payload.length, true);
    v.setUint8(w + 30, pkt.audioLevel === undefined ? 0 : (pkt.audioLevel & 0x7f) + 1);
    this.bytes.set(payload, w + REC_HEADER);
    Atomics.store(this.idx, W, w + len);
    return true;
  }

  /**
   * Consumer: hand every queued packet to `onPacket`, oldest first. The packet's payload is a view into the ring,
   * valid only during the call (copy it to keep it). `afterSnapshot` runs once the write offset was read and
   * before the first record is handed out. Returns how many packets were read.
   */
  drain(onPacket: RingPacketHandler, afterSnapshot?: () => void): number {
    const w = Atomics.load(this.idx, W);
    // Whatever the producer did before publishing these records (e.g. post the add-leg they belong to) is
    // now visible to the caller's hook.
    afterSnapshot?.();
    let r = Atomics.load(this.idx, R);
    let n = 0;
    const v = this.view;
    while (r !== w) {
      const len = v.getUint32(r, true);
      if (len === 0) {
        r = 0;
        continue;
      }
      const payloadLength = v.getUint16(r + 28, true);
      const level = v.getUint8(r + 30);
      const pkt: RtpIn = {
        payloadType: v.getUint8(r + 26),
        sequenceNumber: v.getUint16(r + 24, true),
        timestamp: v.getUint32(r + 8, true),
        ssrc: v.getUint32(r + 12, true),
        marker: v.getUint8(r + 27) === 1,
        payload: this.bytes.subarray(r + REC_HEADER, r + REC_HEADER + payloadLength),
        audioLevel: level === 0 ? undefined : level - 1,
      };
      onPacket(v.getUint32(r + 4, true), pkt, v.getFloat64(r + 16, true));
      r += len;
      n++;
    }
    Atomics.store(this.idx, R, r);
    return n;
  }

  private full(): false {
    Atomics.add(this.idx, DROPPED, 1);
    return false;
  }
}
