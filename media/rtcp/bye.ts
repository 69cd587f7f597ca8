/**
 * Goodbye (BYE, PT 203): RFC 3550 §6.6.
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P|    SC   |   PT=BYE=203  |             length            |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                           SSRC/CSRC                           |  SC times
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |     length    |               reason for leaving            ...  optional
 */
import { RTCP_BYE, readU32, writeHeader, writeU32, type RtcpChunk } from './header.ts';

export interface Goodbye {
  readonly type: 'bye';
  readonly ssrcs: readonly number[];
  readonly reason?: string;
}

export function parseBye(c: RtcpChunk): Goodbye | undefined {
  const b = c.bytes;
  const end = 4 + c.count * 4;
  if (end > b.length) return undefined;
  const ssrcs: number[] = [];
  for (let o = 4; o < end; o += 4) ssrcs.push(readU32(b, o));
  if (end < b.length) {
    const len = b[end]!;
    if (len > 0 && end + 1 + len <= b.length) {
      return { type: 'bye', ssrcs, reason: Buffer.from(b.buffer, b.byteOffset + end + 1, len).toString('utf8') };
    }
  }
  return { type: 'bye', ssrcs };
}

export function writeBye(ssrcs: readonly number[], reason?: string): Buffer {
  const list = ssrcs.slice(0, 31);
  const text = reason === undefined ? undefined : Buffer.from(reason, 'utf8').subarray(0, 255);
  const raw = 4 + list.length * 4 + (text ? 1 + text.length : 0);
  const size = (raw + 3) & ~3;
  const buf = Buffer.alloc(size);
  writeHeader(buf, list.length, RTCP_BYE, size);
  list.forEach((s, i) => writeU32(buf, 4 + i * 4, s >>> 0));
  if (text) {
    buf[4 + list.length * 4] = text.length;
    buf.set(text, 5 + list.length * 4);
  }
  return buf;
}
