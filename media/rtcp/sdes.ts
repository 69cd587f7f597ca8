/**
 * Source description (SDES, PT 202): RFC 3550 §6.5. We read and write CNAME (§6.5.1); other items are kept by type.
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P|    SC   |  PT=SDES=202  |             length            |
 *    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *    |                          SSRC/CSRC_1                          |  chunk 1 (starts on a 32-bit boundary)
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |    CNAME=1    |     length    | user and domain name        ...  items: type, length, text
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  END=0  | null padding to the next 32-bit boundary ...           end of the item list
 *    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *    |                          SSRC/CSRC_2  ...                     |  chunk 2
 */
import { RTCP_SDES, readU32, writeHeader, writeU32, type RtcpChunk } from './header.ts';

export const SDES_END = 0;
export const SDES_CNAME = 1;

export interface SdesChunk {
  readonly ssrc: number;
  readonly cname?: string;
  readonly items: ReadonlyArray<{ readonly type: number; readonly value: string }>;
}

export interface SourceDescription {
  readonly type: 'sdes';
  readonly chunks: readonly SdesChunk[];
}

/** Parse every well-formed chunk; stop at the first malformed one (§6.5). */
export function parseSdes(c: RtcpChunk): SourceDescription | undefined {
  const b = c.bytes;
  const chunks: SdesChunk[] = [];
  let o = 4;
  for (let i = 0; i < c.count; i++) {
    if (o + 4 > b.length) return chunks.length ? { type: 'sdes', chunks } : undefined;
    const ssrc = readU32(b, o);
    o += 4;
    const items: Array<{ type: number; value: string }> = [];
    let cname: string | undefined;
    let ended = false;
    while (o < b.length) {
      const type = b[o]!;
      if (type === SDES_END) {
        // §6.5: "The list of items in each chunk MUST be terminated by one or more null octets ... followed by
        // null padding to the next 32-bit boundary."
        o = (o + 4) & ~3;
        ended = true;
        break;
      }
      if (o + 2 > b.length) break;
      const len = b[o + 1]!;
      if (o + 2 + len > b.length) break;
      const value = Buffer.from(b.buffer, b.byteOffset + o + 2, len).toString('utf8');
      items.push({ type, value });
      if (type === SDES_CNAME && cname === undefined) cname = value;
      o += 2 + len;
    }
    if (!ended) return chunks.length ? { type: 'sdes', chunks } : undefined;
    chunks.push(cname === undefined ? { ssrc, items } : { ssrc, cname, items });
  }
  return { type: 'sdes', chunks };
}

/** An SDES packet with one chunk per source, each carrying its CNAME (§6.5.1, required in every compound). */
export function writeSdes(chunks: ReadonlyArray<{ readonly ssrc: number; readonly cname: string }>): Buffer {
  const encoded = chunks.slice(0, 31).map((c) => {
    const text = Buffer.from(c.cname, 'utf8').subarray(0, 255);
    const raw = 4 + 2 + text.length + 1; // SSRC, type+length, text, at least one END octet
    return { ssrc: c.ssrc, text, size: (raw + 3) & ~3 };
  });
  const size = 4 + encoded.reduce((n, c) => n + c.size, 0);
  const buf = Buffer.alloc(size); // zero-filled: END octet and padding
  writeHeader(buf, encoded.length, RTCP_SDES, size);
  let o = 4;
  for (const c of encoded) {
    writeU32(buf, o, c.ssrc >>> 0);
    buf[o + 4] = SDES_CNAME;
    buf[o + 5] = c.text.length;
    buf.set(c.text, o + 6);
    o += c.size;
  }
  return buf;
}
