/**
 * RTCP feedback messages: Generic NACK (RTPFB, RFC 4585 §6.2.1), Picture Loss Indication (PSFB, RFC 4585 §6.3.1)
 * and Full Intra Request (PSFB, RFC 5104 §4.3.1).
 *
 * Common packet format for feedback messages (RFC 4585 §6.1):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P|   FMT   |       PT      |          length               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                  SSRC of packet sender                        |  +4
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                  SSRC of media source                         |  +8
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    :            Feedback Control Information (FCI)                 :  +12
 *
 * Generic NACK FCI (RFC 4585 §6.2.1), one or more:   FIR FCI (RFC 5104 §4.3.1.1), one or more:
 *    |            PID                |             BLP               |    |                              SSRC                             |
 *                                                                        | Seq nr.       |    Reserved                                   |
 */
import { RTCP_PSFB, RTCP_RTPFB, readU32, writeHeader, writeU32, type RtcpChunk } from './header.ts';

export const FMT_NACK = 1; // RTPFB
export const FMT_PLI = 1; // PSFB
export const FMT_FIR = 4; // PSFB

const SENDER_OFFSET = 4;
const MEDIA_OFFSET = 8;
const FCI_OFFSET = 12;

export interface GenericNack {
  readonly type: 'nack';
  readonly senderSsrc: number;
  readonly mediaSsrc: number;
  /** Every sequence number reported lost (PID, plus each BLP bit i set → PID + i + 1). */
  readonly lost: readonly number[];
}

export interface PictureLossIndication {
  readonly type: 'pli';
  readonly senderSsrc: number;
  readonly mediaSsrc: number;
}

export interface FullIntraRequest {
  readonly type: 'fir';
  readonly senderSsrc: number;
  readonly entries: ReadonlyArray<{ readonly ssrc: number; readonly seqNr: number }>;
}

export function parseNack(c: RtcpChunk): GenericNack | undefined {
  const b = c.bytes;
  // RFC 4585 §6.2.1: "The FCI field MUST contain at least one and MAY contain more than one Generic NACK."
  if (b.length < FCI_OFFSET + 4) return undefined;
  const lost: number[] = [];
  for (let o = FCI_OFFSET; o + 4 <= b.length; o += 4) {
    const pid = (b[o]! << 8) | b[o + 1]!;
    const blp = (b[o + 2]! << 8) | b[o + 3]!;
    lost.push(pid);
    // "bit i of the BLP is set to 1 if the receiver has not received RTP packet number (PID+i+1)" (i from LSB).
    for (let i = 0; i < 16; i++) if (blp & (1 << i)) lost.push((pid + i + 1) & 0xffff);
  }
  return { type: 'nack', senderSsrc: readU32(b, SENDER_OFFSET), mediaSsrc: readU32(b, MEDIA_OFFSET), lost };
}

export function parsePli(c: RtcpChunk): PictureLossIndication | undefined {
  const b = c.bytes;
  // RFC 4585 §6.3.1: "PLI does not require parameters. Therefore, the length field MUST be 2".
  if (b.length < FCI_OFFSET) return undefined;
  return { type: 'pli', senderSsrc: readU32(b, SENDER_OFFSET), mediaSsrc: readU32(b, MEDIA_OFFSET) };
}

export function parseFir(c: RtcpChunk): FullIntraRequest | undefined {
  const b = c.bytes;
  if (b.length < FCI_OFFSET + 8) return undefined;
  const entries: Array<{ ssrc: number; seqNr: number }> = [];
  for (let o = FCI_OFFSET; o + 8 <= b.length; o += 8) entries.push({ ssrc: readU32(b, o), seqNr: b[o + 4]! });
  return { type: 'fir', senderSsrc: readU32(b, SENDER_OFFSET), entries };
}

function feedback(fmt: number, pt: number, senderSsrc: number, mediaSsrc: number, fciSize: number): Buffer {
  const size = FCI_OFFSET + fciSize;
  const buf = Buffer.alloc(size);
  writeHeader(buf, fmt, pt, size);
  writeU32(buf, SENDER_OFFSET, senderSsrc >>> 0);
  writeU32(buf, MEDIA_OFFSET, mediaSsrc >>> 0);
  return buf;
}

export function writePli(senderSsrc: number, mediaSsrc: number): Buffer {
  return feedback(FMT_PLI, RTCP_PSFB, senderSsrc, mediaSsrc, 0);
}

/** RFC 5104 §4.3.1.2: "the 'SSRC of media source' field SHALL be set to 0" for FIR. */
export function writeFir(senderSsrc: number, entries: ReadonlyArray<{ ssrc: number; seqNr: number }>): Buffer {
  const buf = feedback(FMT_FIR, RTCP_PSFB, senderSsrc, 0, entries.length * 8);
  entries.forEach((e, i) => {
    writeU32(buf, FCI_OFFSET + i * 8, e.ssrc >>> 0);
    buf[FCI_OFFSET + i * 8 + 4] = e.seqNr & 0xff;
  });
  return buf;
}

/** Pack lost sequence numbers into PID/BLP pairs (RFC 4585 §6.2.1), in the order given (callers sort). */
export function writeNack(senderSsrc: number, mediaSsrc: number, lost: readonly number[]): Buffer {
  const pairs: Array<{ pid: number; blp: number }> = [];
  for (const seq of lost) {
    const last = pairs[pairs.length - 1];
    const d = last === undefined ? -1 : (seq - last.pid) & 0xffff;
    if (last !== undefined && d >= 1 && d <= 16) last.blp |= 1 << (d - 1);
    else if (last === undefined || d !== 0) pairs.push({ pid: seq & 0xffff, blp: 0 });
  }
  const buf = feedback(FMT_NACK, RTCP_RTPFB, senderSsrc, mediaSsrc, pairs.length * 4);
  pairs.forEach((p, i) => {
    const o = FCI_OFFSET + i * 4;
    buf[o] = p.pid >>> 8;
    buf[o + 1] = p.pid & 0xff;
    buf[o + 2] = p.blp >>> 8;
    buf[o + 3] = p.blp & 0xff;
  });
  return buf;
}
