/**
 * Header names and header-value splitting (RFC 3261 §7.3, §7.3.1, §7.3.3, §20).
 *
 * - Header names are case-insensitive (§7.3.1); we canonicalise to the lowercase LONG form, so 'v', 'V', 'VIA'
 *   all become 'via' (compact forms, §7.3.3 and the extension RFCs that define one-letter forms).
 * - Some headers carry comma-separated lists (§7.3.1: "Multiple header field rows with the same field-name MAY be
 *   present ... if and only if the entire field-value for that header field is defined as a comma-separated
 *   list"). `isListHeader` says which; `splitTopLevelCommas` splits without breaking quoted strings or <URIs>.
 */
import { flat, trimLws } from './lex.ts';

/** RFC 3261 §7.3.3 compact forms, plus those defined by later RFCs (3265, 3515, 3841, 3892, 4028, 4474). */
const COMPACT: Readonly<Record<string, string>> = {
  a: 'accept-contact', // RFC 3841
  b: 'referred-by', // RFC 3892
  c: 'content-type',
  d: 'request-disposition', // RFC 3841
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact', // RFC 3841
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info', // RFC 4474
  o: 'event', // RFC 3265
  r: 'refer-to', // RFC 3515
  s: 'subject',
  t: 'to',
  u: 'allow-events', // RFC 3265
  v: 'via',
  x: 'session-expires', // RFC 4028
  y: 'identity', // RFC 4474
};

/** Canonical (lowercase long-form) name for a header name as written: 'Call-ID' → 'call-id', 'i' → 'call-id'. */
export function canonicalName(name: string): string {
  // Memoised: the accessors (`get('contact')`, ...) call this with the same few constants on every message.
  const known = CANONICAL.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  const canonical = lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
  if (CANONICAL.size < CANONICAL_MAX) CANONICAL.set(flat(name), canonical); // flat: never pin a message's text
  return canonical;
}

/** canonicalName() results, bounded (names can come from the wire). */
const CANONICAL = new Map<string, string>();
const CANONICAL_MAX = 1024;

/** Headers whose value is defined as a comma-separated list (§7.3.1) — `getAll()` splits these. */
const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via',
  'contact',
  'route',
  'record-route',
  'path', // RFC 3327
  'service-route', // RFC 3608
  'allow',
  'allow-events',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-encoding',
  'content-language',
  'alert-info',
  'call-info',
  'error-info',
  'in-reply-to',
  'warning',
  'accept-contact',
  'reject-contact',
  'request-disposition',
  'security-client', // RFC 3329
  'security-server',
  'security-verify',
  'p-associated-uri', // RFC 7315
]);

/**
 * True for comma-list headers. NOT WWW-Authenticate/Authorization & co.: their commas separate auth-params
 * (§20.7, §20.44), and Date has a comma inside its value (§20.17).
 */
export function isListHeader(canonical: string): boolean {
  return LIST_HEADERS.has(canonical);
}

/** Headers that may appear at most once in a message (§20 "single-valued"; RFC 4475 §3.3.8). */
export const SINGLE_VALUED: ReadonlySet<string> = new Set([
  'to',
  'from',
  'call-id',
  'cseq',
  'max-forwards',
  'content-length',
]);

/** Canonical name → conventional spelling on the wire (used when we must write a name ourselves). */
const WIRE: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  rack: 'RAck',
  rseq: 'RSeq',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
};

/** Pretty name for a canonical name: 'call-id' → 'Call-ID', 'record-route' → 'Record-Route'. */
export function wireName(canonical: string): string {
  const known = WIRE[canonical];
  if (known !== undefined) return known;
  let out = '';
  let up = true;
  for (let i = 0; i < canonical.length; i++) {
    const ch = canonical[i]!;
    out += up ? ch.toUpperCase() : ch;
    up = ch === '-';
  }
  return out;
}

/**
 * Split a header value on commas that are not inside a quoted-string or <...>; trims each element and drops
 * empty ones (§7.3.1: "Header: a, b" ≡ two rows). Handles quoted-pairs inside quotes (§25.1).
 */
export function splitTopLevelCommas(value: string): string[] {
  if (value.indexOf(',') === -1) {
    const t = trimLws(value);
    return t === '' ? [] : [t];
  }
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c /* < */) inAngle = true;
    else if (c === 0x3e /* > */) inAngle = false;
    else if (c === 0x2c /* , */ && !inAngle) {
      const part = trimLws(value.slice(start, i));
      if (part !== '') out.push(part);
      start = i + 1;
    }
  }
  const last = trimLws(value.slice(start));
  if (last !== '') out.push(last);
  return out;
}

/**
 * Like splitTopLevelCommas but keeps empty elements (so a caller can reject 'a,,b' in a structured header).
 * Returns null when a quote or '<' is left open.
 */
export function splitListStrict(value: string): string[] | null {
  if (value.indexOf(',') === -1 && value.indexOf('"') === -1 && value.indexOf('<') === -1) return [trimLws(value)];
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === 0x2c && !inAngle) {
      out.push(trimLws(value.slice(start, i)));
      start = i + 1;
    }
  }
  if (inQuote || inAngle) return null;
  out.push(trimLws(value.slice(start)));
  return out;
}
