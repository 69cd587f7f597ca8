/**
 * The RTCP common header (RFC 3550 §6.4.1) and splitting a compound packet by its length fields (§6.1).
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P|  RC/FMT |      PT       |             length            |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * §6.4.1 "length: 16 bits. The length of this RTCP packet in 32-bit words minus one, including the header and any
 * padding."
 *
 * Every sub-packet is cut out by ITS length field BEFORE any type-specific parser sees it, and each parser gets a
 * view bounded to its own packet (shared/field-notes.md: werift hands the rest of the compound to sub-parsers, so a
 * NACK followed by a PLI parses wrong).
 */

export const RTCP_HEADER_LENGTH = 4;
const VERSION_SHIFT = 6;
const PADDING_MASK = 0x20;
const COUNT_MASK = 0x1f;
const PT_OFFSET = 1;
const LENGTH_OFFSET = 2;

/** RTCP packet types: RFC 3550 §12.1, RFC 4585 §6.1 (RTPFB, PSFB). */
export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;
export const RTCP_RTPFB = 205;
export const RTCP_PSFB = 206;

/** One sub-packet of a compound, bounded by its length field. */
export interface RtcpChunk {
  /** PT (200 SR, 201 RR, …). */
  readonly packetType: number;
  /** RC / SC / FMT: the 5-bit field after P. */
  readonly count: number;
  /** The whole sub-packet, header included, padding removed. */
  readonly bytes: Uint8Array;
}

export type SplitError = 'too-short' | 'bad-version' | 'bad-length' | 'bad-padding';

export interface SplitResult {
  readonly chunks: RtcpChunk[];
  /** Set when framing stopped early; the chunks before it are still good. */
  readonly error?: SplitError;
}

/**
 * Split a compound RTCP packet (RFC 3550 §6.1) into its sub-packets using each length field. Never throws.
 * Deviation: RFC 3550 A.2 treats the whole compound as invalid when framing fails; we keep the sub-packets framed
 * before the fault (a truncated trailer loses nothing else) and report the fault. We also accept a compound that
 * does not start with SR/RR (RFC 5506 reduced-size RTCP: a lone PLI or NACK).
 */
export function splitCompound(buf: Uint8Array): SplitResult {
  const chunks: RtcpChunk[] = [];
  let offset = 0;
  if (buf.length < RTCP_HEADER_LENGTH) return { chunks, error: 'too-short' };
  while (offset < buf.length) {
    if (buf.length - offset < RTCP_HEADER_LENGTH) return { chunks, error: 'too-short' };
    const b0 = buf[offset]!;
    if (b0 >> VERSION_SHIFT !== 2) return { chunks, error: 'bad-version' };
    const words = (buf[offset + LENGTH_OFFSET]! << 8) | buf[offset + LENGTH_OFFSET + 1]!;
    const size = (words + 1) * 4;
    if (offset + size > buf.length) return { chunks, error: 'bad-length' };
    let end = offset + size;
    if (b0 & PADDING_MASK) {
      // §6.4.1 "padding (P): ... The last octet of the padding is a count of how many padding octets should be
      // ignored, including itself (it will be a multiple of four)."
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > size - RTCP_HEADER_LENGTH) return { chunks, error: 'bad-padding' };
      end -= pad;
    }
    chunks.push({ packetType: buf[offset + PT_OFFSET]!, count: b0 & COUNT_MASK, bytes: buf.subarray(offset, end) });
    offset += size;
  }
  return { chunks };
}

/** Write a common header into `buf` at 0 for a packet of `size` octets (a multiple of 4). */
export function writeHeader(buf: Uint8Array, count: number, packetType: number, size: number): void {
  const words = size / 4 - 1;
  buf[0] = (2 << VERSION_SHIFT) | (count & COUNT_MASK);
  buf[PT_OFFSET] = packetType;
  buf[LENGTH_OFFSET] = (words >>> 8) & 0xff;
  buf[LENGTH_OFFSET + 1] = words & 0xff;
}

export function readU32(buf: Uint8Array, o: number): number {
  return ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
}

export function writeU32(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v >>> 24;
  buf[o + 1] = (v >>> 16) & 0xff;
  buf[o + 2] = (v >>> 8) & 0xff;
  buf[o + 3] = v & 0xff;
}

/**
 * RFC 5761 §4 (RTP and RTCP on one port): "if the second octet is in the range 192..223 (payload types 64–95 with
 * the marker bit set, which RTP must not use), the packet is RTCP".
 */
export function isRtcp(buf: Uint8Array): boolean {
  const b1 = buf[1];
  return b1 !== undefined && b1 >= 192 && b1 <= 223;
}
