/**
 * RTCP reception report block (RFC 3550 §6.4.1), carried in SR and RR packets.
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *    |                 SSRC_1 (SSRC of first source)                 |  +0
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    | fraction lost |       cumulative number of packets lost       |  +4  (signed 24 bits)
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |           extended highest sequence number received           |  +8
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                      interarrival jitter                      |  +12
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                         last SR (LSR)                         |  +16
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                   delay since last SR (DLSR)                  |  +20
 *    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 */
import { readU32, writeU32 } from './header.ts';

export const REPORT_BLOCK_LENGTH = 24;
export const MAX_REPORT_BLOCKS = 31;

export interface ReportBlock {
  readonly ssrc: number;
  /** Fraction lost since the previous report, as the 8-bit fixed-point value (lost/expected × 256). */
  readonly fractionLost: number;
  /** Cumulative number of packets lost (signed: duplicates can make it negative). */
  readonly cumulativeLost: number;
  readonly highestSeq: number;
  /** Interarrival jitter in timestamp units. */
  readonly jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received from this source, 0 if none. */
  readonly lastSr: number;
  /** Delay since that SR in units of 1/65536 s. */
  readonly delaySinceLastSr: number;
}

export function readReportBlock(buf: Uint8Array, o: number): ReportBlock {
  let lost = (buf[o + 5]! << 16) | (buf[o + 6]! << 8) | buf[o + 7]!;
  if (lost & 0x800000) lost -= 0x1000000; // sign-extend 24 bits
  return {
    ssrc: readU32(buf, o),
    fractionLost: buf[o + 4]!,
    cumulativeLost: lost,
    highestSeq: readU32(buf, o + 8),
    jitter: readU32(buf, o + 12),
    lastSr: readU32(buf, o + 16),
    delaySinceLastSr: readU32(buf, o + 20),
  };
}

export function writeReportBlock(buf: Uint8Array, o: number, b: ReportBlock): void {
  writeU32(buf, o, b.ssrc);
  // §6.4.1 cumulative lost is clamped to what 24 signed bits hold (A.3: 0x7fffff / -0x800000).
  const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(b.cumulativeLost))) & 0xffffff;
  buf[o + 4] = b.fractionLost & 0xff;
  buf[o + 5] = lost >>> 16;
  buf[o + 6] = (lost >>> 8) & 0xff;
  buf[o + 7] = lost & 0xff;
  writeU32(buf, o + 8, b.highestSeq >>> 0);
  writeU32(buf, o + 12, b.jitter >>> 0);
  writeU32(buf, o + 16, b.lastSr >>> 0);
  writeU32(buf, o + 20, b.delaySinceLastSr >>> 0);
}
