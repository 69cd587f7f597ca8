/**
 * RFC 8285 (which obsoletes RFC 5285) general mechanism for RTP header extensions: the elements inside the RFC 3550
 * §5.3.1 extension block, found by the local identifier negotiated with a=extmap.
 *
 * §4.2 one-byte header (profile 0xBEDE):
 *    0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |       0xBE    |    0xDE       |           length=N            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  ID   | L=0   |     data      |  ID   |  L=1  |   data...      ...
 *   element: 4-bit ID (1–14), 4-bit L = data length − 1; ID 0 is padding (one octet); "The local identifier value
 *   15 is reserved for a future extension and MUST NOT be used as an identifier. If the ID value 15 is encountered,
 *   its length field should be ignored, processing of the entire extension should terminate at that point".
 *
 * §4.3 two-byte header (profile 0x100 + 4-bit appbits): element = 8-bit ID (1–255), 8-bit length (0–255 octets of
 *   data); ID 0 is a single padding octet.
 *
 * Untrusted input: never throws; a malformed block yields undefined (the caller treats the element as absent).
 */

/** §4.2 "defined by profile" value of the one-byte form. */
export const ONE_BYTE_PROFILE = 0xbede;
/** §4.3: 0x100 in the top 12 bits, the low 4 bits ("appbits") are the application's. */
export const TWO_BYTE_PROFILE = 0x1000;

/**
 * The data octets of element `id` in an extension block (`profile` = the §5.3.1 16-bit field, `data` = what follows
 * the 4-octet header), or undefined when the block has no such element, is not an RFC 8285 block, or is malformed.
 * The result is a view into `data`.
 */
export function findExtensionElement(profile: number, data: Uint8Array, id: number): Uint8Array | undefined {
  if (profile === ONE_BYTE_PROFILE) return findOneByte(data, id);
  if ((profile & 0xfff0) === TWO_BYTE_PROFILE) return findTwoByte(data, id);
  return undefined;
}

function findOneByte(data: Uint8Array, id: number): Uint8Array | undefined {
  let i = 0;
  while (i < data.length) {
    const b = data[i]!;
    const elId = b >> 4;
    if (elId === 0) {
      i++; // §4.2 padding octet (its L is 0 too)
      continue;
    }
    if (elId === 15) return undefined; // §4.2: stop processing at the reserved ID
    const len = (b & 0x0f) + 1;
    if (i + 1 + len > data.length) return undefined; // truncated element
    if (elId === id) return data.subarray(i + 1, i + 1 + len);
    i += 1 + len;
  }
  return undefined;
}

function findTwoByte(data: Uint8Array, id: number): Uint8Array | undefined {
  let i = 0;
  while (i < data.length) {
    const elId = data[i]!;
    if (elId === 0) {
      i++; // §4.3 padding octet
      continue;
    }
    if (i + 1 >= data.length) return undefined;
    const len = data[i + 1]!;
    if (i + 2 + len > data.length) return undefined;
    if (elId === id) return data.subarray(i + 2, i + 2 + len);
    i += 2 + len;
  }
  return undefined;
}

/** One extension block to write with buildRtp(): `data` is padded to 32-bit words there. */
export interface RtpExtensionBlock {
  readonly profile: number;
  readonly data: Uint8Array;
}

/** A §4.2 one-byte block holding the given elements (id 1–14, 1–16 octets of data each). Throws on misuse. */
export function oneByteExtension(elements: ReadonlyArray<{ readonly id: number; readonly data: Uint8Array }>): RtpExtensionBlock {
  let size = 0;
  for (const e of elements) {
    if (!Number.isInteger(e.id) || e.id < 1 || e.id > 14) throw new RangeError(`one-byte extension id ${e.id} (1–14)`);
    if (e.data.length < 1 || e.data.length > 16) throw new RangeError(`one-byte extension data length ${e.data.length} (1–16)`);
    size += 1 + e.data.length;
  }
  const data = new Uint8Array(Math.ceil(size / 4) * 4); // zero fill = §4.2 padding
  let i = 0;
  for (const e of elements) {
    data[i] = (e.id << 4) | (e.data.length - 1);
    data.set(e.data, i + 1);
    i += 1 + e.data.length;
  }
  return { profile: ONE_BYTE_PROFILE, data };
}
