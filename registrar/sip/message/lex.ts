/**
 * Lexical helpers shared by the message parsers (RFC 3261 §25.1 basic rules).
 * Pure functions over strings; none of them throws.
 */

/** RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
const TOKEN = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;
for (const ch of "-.!%*_+`'~") TOKEN[ch.charCodeAt(0)] = 1;

export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] !== 1) return false;
  }
  return true;
}

/** SP or HTAB (§25.1 WSP). */
export function isWsp(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

export function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09) break;
    i++;
  }
  return i;
}

/**
 * Strip SP / HTAB (and stray CR/LF) at both ends. Not String.prototype.trim(): that also strips Unicode spaces
 * such as U+FEFF and U+00A0, which are data in a UTF-8 header value (RFC 4475 §3.1.1.2 intmeth).
 */
export function trimLws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b) {
    const c = s.charCodeAt(a);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
    a++;
  }
  while (b > a) {
    const c = s.charCodeAt(b - 1);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
    b--;
  }
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** True when s is 1*DIGIT. */
export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * 1*DIGIT → number, or -1 when not digits or above `max`. Leading zeros are fine ('0068' = 68, RFC 4475 wsinv).
 * Works digit by digit so 2^65 or 10^100 never becomes a lossy float that passes a range check.
 */
export function parseUint(s: string, max: number): number {
  if (s.length === 0) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
    if (n > max) return -1;
  }
  return n;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * RFC 3261 §19.1.2 / §25.1 `escaped = "%" HEXDIG HEXDIG`: decode once. Decoded octets are read as UTF-8 (as the
 * RFC 3986 successors intend); null when a '%' is not followed by two hex digits.
 */
export function unescape(s: string): string | null {
  const pct = s.indexOf('%');
  if (pct === -1) return s;
  const bytes: number[] = [];
  let ascii = true;
  const out = s.slice(0, pct);
  for (let i = pct; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= s.length) return null;
      const h = hexVal(s.charCodeAt(i + 1));
      const l = hexVal(s.charCodeAt(i + 2));
      if (h < 0 || l < 0) return null;
      const b = h * 16 + l;
      if (b >= 0x80) ascii = false;
      bytes.push(b);
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      // A raw non-ASCII character: keep its UTF-8 octets.
      ascii = false;
      // Surrogate pairs: encode both halves together.
      const wide = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length;
      for (const b of Buffer.from(s.slice(i, wide ? i + 2 : i + 1), 'utf8')) bytes.push(b);
      if (wide) i++;
    }
  }
  return out + Buffer.from(bytes).toString(ascii ? 'latin1' : 'utf8');
}

/** Characters that may stand unescaped in a SIP URI user part (§25.1 unreserved / user-unreserved). */
const USER_OK = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) USER_OK[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) USER_OK[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) USER_OK[c] = 1;
for (const ch of "-_.!~*'()&=+$,;?/") USER_OK[ch.charCodeAt(0)] = 1;

/** Characters that may stand unescaped in a uri-parameter name/value (§25.1 paramchar). */
const PARAM_OK = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) PARAM_OK[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) PARAM_OK[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) PARAM_OK[c] = 1;
for (const ch of "-_.!~*'()[]/:&+$") PARAM_OK[ch.charCodeAt(0)] = 1;

/** Characters that may stand unescaped in a URI header name/value (§25.1 hnv-unreserved / unreserved). */
const HNV_OK = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) HNV_OK[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) HNV_OK[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) HNV_OK[c] = 1;
for (const ch of "-_.!~*'()[]/?:+$") HNV_OK[ch.charCodeAt(0)] = 1;

function escapeWith(s: string, ok: Uint8Array): string {
  let clean = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || ok[c] !== 1) {
      clean = false;
      break;
    }
  }
  if (clean) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b < 128 && ok[b] === 1) out += String.fromCharCode(b);
    else out += '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
  }
  return out;
}

export const escapeUser = (s: string): string => escapeWith(s, USER_OK);
export const escapeParam = (s: string): string => escapeWith(s, PARAM_OK);
export const escapeHeader = (s: string): string => escapeWith(s, HNV_OK);

/**
 * Read a quoted-string starting at s[i] === '"' (§25.1: quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE).
 * Returns the index just after the closing quote and the unquoted text (quoted-pairs resolved), or null when the
 * quote never closes (RFC 4475 §3.1.2.6 quotbal).
 */
export function readQuoted(s: string, i: number): { end: number; text: string } | null {
  let text = '';
  let j = i + 1;
  let runStart = j;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === 0x5c /* \ */) {
      // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
      if (j + 1 >= s.length) return null;
      text += s.slice(runStart, j) + s[j + 1];
      j += 2;
      runStart = j;
    } else if (c === 0x22) {
      text += s.slice(runStart, j);
      return { end: j + 1, text };
    } else j++;
  }
  return null;
}

/**
 * A copy of `s` that shares no memory with any larger string. V8 represents a substring of 13+ characters as
 * a view into its parent (a "sliced string") and a concatenation as a pair of references (a "cons string"): a
 * short value kept from a parsed message would keep the whole message text alive. Long-lived values (location
 * bindings, transaction keys) are stored through this. Re-concatenating the string and reading one character
 * makes V8 flatten the pair in place into a new sequential string holding only these characters — which is also
 * the fastest form to hash and compare (a sliced string compares ~5x slower; measured on Node 20).
 */
export function flat(s: string): string {
  if (s.length < 13) return s; // V8 copies substrings this short; no concatenation makes a pair
  const c = s.charAt(0) + s.slice(1);
  flattened ^= c.charCodeAt(1); // flattens `c` in place (kept observable so no compiler drops the read)
  return c;
}
let flattened = 0;
