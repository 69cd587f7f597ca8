/**
 * Locating and splitting the header section (RFC 3261 §7, §7.3.1, §7.5) — shared by parse.ts and framing.ts.
 *
 *   generic-message = start-line *message-header CRLF [ message-body ]
 *
 * §7.5: "implementations processing SIP messages over stream-oriented transports MUST ignore any CRLF appearing
 * before the start-line". Deviation: bare LF line ends are tolerated (RFC 3261 requires CRLF), as most stacks do.
 */

import { canonicalName, wireName } from './headers.ts';
import { flat, isToken, isWsp } from './lex.ts';
import { Header } from './message.ts';

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

/** Header names as written → canonical names (only valid tokens get in), bounded against hostile input. */
const NAME_CACHE = new Map<string, string>();
const NAME_CACHE_MAX = 512;

/**
 * Header names in their conventional spelling, recognised in place — no slice, and no hashing of a fresh string
 * for the NAME_CACHE lookup (perf on the registrar at 20k REGISTER/s: ~1.7 % of the CPU went to hashing header
 * names). `COMMON[length]` lists [as written, canonical] pairs; anything else goes through NAME_CACHE.
 */
const COMMON: Array<Array<readonly [string, string]>> = [];
for (const wire of [
  'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'Content-Length', 'Content-Type', 'Expires',
  'User-Agent', 'Allow', 'Supported', 'Require', 'Route', 'Record-Route', 'Path', 'Authorization', 'Event', 'Accept',
  'Date', 'Server', 'Allow-Events', 'Subscription-State', 'Session-Expires', 'Reason', 'Subject', 'Call-Id',
]) {
  (COMMON[wire.length] ??= []).push([wire, wire.toLowerCase()]);
}

/** [as written, canonical] when text[start, end) is a common header name spelled conventionally. */
function commonName(text: string, start: number, end: number): readonly [string, string] | undefined {
  const list = COMMON[end - start];
  if (list === undefined) return undefined;
  const c0 = text.charCodeAt(start);
  for (let k = 0; k < list.length; k++) {
    const entry = list[k]!;
    if (entry[0].charCodeAt(0) === c0 && text.startsWith(entry[0], start)) return entry;
  }
  return undefined;
}

/**
 * Scan the header lines of `text` from offset `pos` (the end of the start line) into `out`, unfolding
 * continuation lines (§7.3.1: "Header fields can be extended over multiple lines by preceding each extra line
 * with at least one SP or horizontal tab" — the fold becomes one SP). Names are canonicalised (compact forms,
 * §7.3.3); values lose their leading and trailing LWS. Works on offsets into `text`: one slice per name and value.
 * Returns the first problem found (the scan goes on, so the request can still be answered), or undefined.
 */
export function scanHeaderLines(text: string, pos: number, out: Header[]): string | undefined {
  let error: string | undefined;
  const len = text.length;
  let curName = '';
  let curWire = '';
  let curValue = '';
  let inHeader = false;
  while (pos < len) {
    let nl = text.indexOf('\n', pos);
    if (nl === -1) nl = len;
    let end = nl;
    if (end > pos && text.charCodeAt(end - 1) === 0x0d) end--;
    const lineStart = pos;
    pos = nl + 1;
    if (end === lineStart) continue; // the start line's own end, or the tail of an unterminated datagram
    if (isWsp(text.charCodeAt(lineStart))) {
      if (!inHeader) {
        error ??= 'Malformed header line';
        continue;
      }
      let a = lineStart;
      let b = end;
      while (a < b && isWsp(text.charCodeAt(a))) a++;
      while (b > a && isWsp(text.charCodeAt(b - 1))) b--;
      if (a < b) curValue = curValue === '' ? text.slice(a, b) : `${curValue} ${text.slice(a, b)}`;
      continue;
    }
    if (inHeader) out.push(new Header(curName, curValue, curWire));
    inHeader = false;
    const colon = text.indexOf(':', lineStart);
    if (colon === -1 || colon >= end || colon === lineStart) {
      error ??= 'Malformed header line';
      continue;
    }
    // header-name HCOLON, HCOLON = *( SP / HTAB ) ":" SWS (RFC 4475 §3.1.1.1 wsinv: 'TO :').
    let nameEnd = colon;
    while (nameEnd > lineStart && isWsp(text.charCodeAt(nameEnd - 1))) nameEnd--;
    const common = commonName(text, lineStart, nameEnd);
    if (common !== undefined) {
      curWire = common[0];
      curName = common[1];
    } else {
      const name = text.slice(lineStart, nameEnd);
      let canonical = NAME_CACHE.get(name);
      if (canonical === undefined) {
        if (!isToken(name)) {
          error ??= 'Malformed header name';
          continue;
        }
        canonical = canonicalName(name);
        if (NAME_CACHE.size < NAME_CACHE_MAX) NAME_CACHE.set(flat(name), canonical); // flat: never pin the text
      }
      curName = canonical;
      curWire = name.length === 1 ? wireName(canonical) : name;
    }
    let a = colon + 1;
    let b = end;
    while (a < b && isWsp(text.charCodeAt(a))) a++;
    while (b > a && isWsp(text.charCodeAt(b - 1))) b--;
    curValue = text.slice(a, b);
    inHeader = true;
  }
  if (inHeader) out.push(new Header(curName, curValue, curWire));
  return error;
}
