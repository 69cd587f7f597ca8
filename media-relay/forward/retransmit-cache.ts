/**
 * The last packets of one publisher by sequence number, to answer receivers' Generic NACKs (RFC 4585 §6.2.1)
 * without a round trip to the publisher. Without RFC 4588 RTX negotiated, a retransmission is the original packet
 * again, rewritten for the receiver's leg.
 *
 * A fixed ring indexed by seq mod SIZE, slots reused (no allocation per packet once warm); a slot answers only for
 * the exact (ssrc, seq) it holds, so stale slots after a wrap or an SSRC change are never served.
 */

export const RETRANSMIT_CACHE_SIZE = 512; // ~500 packets: ~2 s of 2 Mbit/s video
const SLOT_BYTES = 1500;

interface Slot {
  ssrc: number;
  seq: number;
  length: number;
  valid: boolean;
  buf: Uint8Array;
}

export class RetransmitCache {
  private readonly slots: Array<Slot | undefined> = new Array(RETRANSMIT_CACHE_SIZE);
  stored = 0;
  hits = 0;
  misses = 0;

  /** Keep a copy of `packet` (a whole RTP packet as received). */
  store(ssrc: number, seq: number, packet: Uint8Array): void {
    const i = seq & (RETRANSMIT_CACHE_SIZE - 1);
    let s = this.slots[i];
    if (s === undefined) {
      s = { ssrc, seq, length: 0, valid: false, buf: new Uint8Array(Math.max(SLOT_BYTES, packet.length)) };
      this.slots[i] = s;
    } else if (s.buf.length < packet.length) {
      s.buf = new Uint8Array(packet.length);
    }
    s.buf.set(packet);
    s.length = packet.length;
    s.ssrc = ssrc;
    s.seq = seq;
    s.valid = true;
    this.stored++;
  }

  /** A fresh copy of the cached packet (the caller rewrites it), or undefined. */
  get(ssrc: number, seq: number): Buffer | undefined {
    const s = this.slots[seq & (RETRANSMIT_CACHE_SIZE - 1)];
    if (s === undefined || !s.valid || s.seq !== seq || s.ssrc !== ssrc) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return Buffer.from(s.buf.subarray(0, s.length));
  }

  clear(): void {
    for (const s of this.slots) if (s) s.valid = false;
  }
}
