/**
 * Locating and splitting the header section (RFC 3261 §7, §7.3.1, §7.5) — shared by parse.ts and framing.ts.
 *
 *   generic-message = start-line *message-header CRLF [ message-body ]
 *
 * §7.5: "implementations processing SIP messages over stream-oriented transports MUST ignore any CRLF appearing
 * before the start-line". Deviation: bare LF line ends are tolerated (RFC 3261 requires CRLF), as most stacks do.
 */

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Index of the first byte that is not CR or LF. */
export function skipLeadingCrlf(buf: Buffer): number {
  let i = 0;
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  return i;
}

export interface Head {
  /** The header section (start line + headers) decoded as UTF-8, without the empty line. */
  readonly text: string;
  /** Byte offset where the body starts (after the empty line). */
  readonly bodyStart: number;
}

/** First bare-LF empty line ('\n\n' or '\n\r\n') in buf[start, end): its offset and length, or null. */
function findBareLfEnd(buf: Buffer, start: number, end: number): { at: number; len: number } | null {
  for (let i = buf.indexOf(0x0a, start); i !== -1 && i < end; i = buf.indexOf(0x0a, i + 1)) {
    if (buf[i + 1] === 0x0a) return { at: i, len: 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { at: i, len: 3 };
  }
  return null;
}

/**
 * Find the empty line ending the header section, searching from `start`, and decode the header text once.
 * Returns null when there is none. CRLFCRLF is the normal case (one native search, one decode); bare-LF forms
 * are looked for only before it (a body may hold anything: RFC 4475 §3.1.1.11 mpart01 has bare LFs in its
 * binary part).
 */
export function readHead(buf: Buffer, start: number, encoding: 'utf8' | 'latin1' = 'utf8'): Head | null {
  const crlf = buf.indexOf(CRLFCRLF, start);
  if (crlf !== -1) {
    const text = buf.toString(encoding, start, crlf);
    if (text.indexOf('\n\n') === -1 && text.indexOf('\n\r\n') === -1 && text.charCodeAt(text.length - 1) !== 0x0a) {
      return { text, bodyStart: crlf + 4 };
    }
  }
  const bare = findBareLfEnd(buf, start, crlf === -1 ? buf.length : crlf);
  if (bare === null) return null;
  return { text: buf.toString(encoding, start, bare.at), bodyStart: bare.at + bare.len };
}

/** Split header text into lines on LF, dropping a CR before it. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.length > 0 && l.charCodeAt(l.length - 1) === 0x0d) lines[i] = l.slice(0, -1);
  }
  return lines;
}
