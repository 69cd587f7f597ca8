/**
 * SIP and SIPS URIs (RFC 3261 §19.1, §25.1) with IPv6 references (RFC 5118); other schemes kept opaque.
 *
 *   SIP-URI  = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
 *   userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
 *   hostport = host [ ":" port ]          host = hostname / IPv4address / IPv6reference
 *   uri-parameters = *( ";" uri-parameter )    headers = "?" header *( "&" header )
 *
 * The user part may itself contain ';', '?', ',' and ':' unescaped (user-unreserved, RFC 4475 §3.1.1.2/§3.1.1.9),
 * so userinfo ends at the first '@'. Escapes are decoded once in user, password, parameter names/values and
 * header names/values (§19.1.4: "comparison ... of the unescaped form").
 */
import type { Params, Result, SipUri } from './types.ts';
import { escapeHeader, escapeParam, escapeUser, parseUint, unescape } from './lex.ts';
import { EMPTY_PARAMS, ParamList, addParam } from './params.ts';

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = [];

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )  (§25.1) */
function schemeEnd(text: string): number {
  const c0 = text.charCodeAt(0) | 0x20;
  if (!(c0 >= 0x61 && c0 <= 0x7a)) return -1;
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3a /* : */) return i;
    const l = c | 0x20;
    if ((l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) continue;
    return -1;
  }
  return -1;
}

/** hostname / IPv4address: alphanum, '-', '.', and (liberally) '_' seen in the wild. */
function validHostname(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const l = c | 0x20;
    if ((l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f) continue;
    return false;
  }
  return true;
}

/** RFC 5118: IPv6reference = "[" IPv6address "]": hex digits, ':' and an optional dotted IPv4 tail. */
export function validIpv6Reference(s: string): boolean {
  if (s.length < 4 || s.charCodeAt(0) !== 0x5b || s.charCodeAt(s.length - 1) !== 0x5d) return false;
  let colons = 0;
  for (let i = 1; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    const l = c | 0x20;
    if (c === 0x3a) colons++;
    else if (!((c >= 0x30 && c <= 0x39) || (l >= 0x61 && l <= 0x66) || c === 0x2e)) return false;
  }
  return colons >= 2 && colons <= 7;
}

/**
 * Parse `host [":" port]` from s[i..end) — shared by URIs and Via sent-by. IPv6 must be bracketed (RFC 5118
 * §4.2: `sip:2001:db8::10` is invalid, and `[2001:db8::10:5070]` is a host with no port, §4.3).
 */
export function parseHostPort(s: string): Result<{ host: string; port?: number }> {
  let host: string;
  let rest: string;
  if (s.charCodeAt(0) === 0x5b /* [ */) {
    const close = s.indexOf(']');
    if (close === -1) return fail('unterminated IPv6 reference');
    host = s.slice(0, close + 1);
    if (!validIpv6Reference(host)) return fail('invalid IPv6 reference');
    rest = s.slice(close + 1);
  } else {
    const colon = s.indexOf(':');
    host = colon === -1 ? s : s.slice(0, colon);
    rest = colon === -1 ? '' : s.slice(colon);
    if (!validHostname(host)) return fail('invalid host');
  }
  host = host.toLowerCase();
  if (rest === '') return { ok: true, value: { host } };
  if (rest.charCodeAt(0) !== 0x3a) return fail('invalid host');
  const port = parseUint(rest.slice(1), 65535);
  if (port < 0) return fail('invalid port');
  return { ok: true, value: { host, port } };
}

/** Parse a URI (no surrounding whitespace or angle brackets). Never throws. */
export function parseUri(text: string): Result<SipUri> {
  const colon = schemeEnd(text);
  if (colon <= 0) return fail('missing or invalid URI scheme');
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') {
    // absoluteURI (§25.1): opaque here; only reject what cannot be in a URI at all.
    if (colon + 1 >= text.length) return fail('empty URI');
    for (let i = colon + 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x3e || c === 0x22) return fail('invalid character in URI');
    }
    return { ok: true, value: { scheme, host: '', params: EMPTY_PARAMS, headers: NO_HEADERS, raw: text } };
  }
  return parseSipUri(text, scheme, colon + 1);
}

function parseSipUri(text: string, scheme: string, start: number): Result<SipUri> {
  let i = start;
  let user: string | undefined;
  let password: string | undefined;
  const at = text.indexOf('@', i);
  if (at !== -1) {
    // One scan validates the userinfo (user / password chars: unreserved, user-unreserved, '%' escapes, §25.1)
    // and tells whether it needs the general path (a password, escapes).
    let plain = true;
    for (let k = i; k < at; k++) {
      const c = text.charCodeAt(k);
      if (c <= 0x20 || c >= 0x7f || c === 0x40 || c === 0x3c || c === 0x3e || c === 0x22 || c === 0x5b || c === 0x5d) {
        return fail('invalid character in URI user part');
      }
      if (c === 0x3a /* : */ || c === 0x25 /* % */) plain = false;
    }
    if (plain) {
      if (at === i) return fail('invalid URI user part');
      user = text.slice(i, at);
    } else {
      const userinfo = text.slice(i, at);
      const pc = userinfo.indexOf(':');
      const u = unescape(pc === -1 ? userinfo : userinfo.slice(0, pc));
      if (u === null || u === '') return fail('invalid URI user part');
      user = u;
      if (pc !== -1) {
        const p = unescape(userinfo.slice(pc + 1));
        if (p === null) return fail('invalid URI password');
        password = p;
      }
    }
    i = at + 1;
  }
  // hostport ends at the first ';' or '?' (neither can be in a host or port).
  let end = i;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c === 0x3b || c === 0x3f) break;
    end++;
  }
  let host: string;
  let port: number | undefined;
  if (text.charCodeAt(i) === 0x5b /* [ */) {
    const hp = parseHostPort(text.slice(i, end));
    if (!hp.ok) return hp;
    host = hp.value.host;
    port = hp.value.port;
  } else {
    // hostname / IPv4address [":" port], scanned in place (what parseHostPort does, without its strings).
    let k = i;
    let upper = false;
    for (; k < end; k++) {
      const c = text.charCodeAt(k);
      if (c === 0x3a) break;
      if (c >= 0x41 && c <= 0x5a) upper = true;
      else if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f)) {
        return fail('invalid host');
      }
    }
    if (k === i) return fail('invalid host');
    host = upper ? text.slice(i, k).toLowerCase() : text.slice(i, k);
    if (k < end) {
      // ":" port = 1*DIGIT, at most 65535
      let n = 0;
      if (k + 1 === end) return fail('invalid port');
      for (let d = k + 1; d < end; d++) {
        const c = text.charCodeAt(d);
        if (c < 0x30 || c > 0x39) return fail('invalid port');
        n = n * 10 + (c - 0x30);
        if (n > 65535) return fail('invalid port');
      }
      port = n;
    }
  }
  let params: Params = EMPTY_PARAMS;
  let headers: ReadonlyArray<readonly [string, string]> = NO_HEADERS;
  i = end;
  if (i < text.length && text.charCodeAt(i) === 0x3b) {
    // uri-parameter = transport-param / ... / other-param;  other-param = pname [ "=" pvalue ]
    const list: Array<string | null> = [];
    while (i < text.length && text.charCodeAt(i) === 0x3b) {
      let j = i + 1;
      while (j < text.length) {
        const c = text.charCodeAt(j);
        if (c === 0x3b || c === 0x3f) break;
        if (c <= 0x20 || c >= 0x7f || c === 0x3c || c === 0x3e || c === 0x22 || c === 0x2c || c === 0x40)
          return fail('invalid character in URI parameter');
        j++;
      }
      const seg = text.slice(i + 1, j);
      const eq = seg.indexOf('=');
      const name = unescape(eq === -1 ? seg : seg.slice(0, eq));
      const value = eq === -1 ? null : unescape(seg.slice(eq + 1));
      if (name === null || name === '' || (eq !== -1 && value === null)) return fail('invalid URI parameter');
      const key = name.toLowerCase();
      addParam(list, key, value);
      i = j;
    }
    params = new ParamList(list);
  }
  if (i < text.length && text.charCodeAt(i) === 0x3f) {
    // headers = "?" header *( "&" header );  header = hname "=" hvalue
    const list: Array<readonly [string, string]> = [];
    for (const part of text.slice(i + 1).split('&')) {
      const eq = part.indexOf('=');
      if (eq <= 0) return fail('invalid URI header');
      for (let k = 0; k < part.length; k++) {
        const c = part.charCodeAt(k);
        if (c <= 0x20 || c >= 0x7f || c === 0x3c || c === 0x3e || c === 0x22) return fail('invalid URI header');
      }
      const hn = unescape(part.slice(0, eq));
      const hv = unescape(part.slice(eq + 1));
      if (hn === null || hv === null || hn === '') return fail('invalid URI header');
      list.push([hn, hv]);
    }
    headers = list;
    i = text.length;
  }
  if (i !== text.length) return fail('trailing characters in URI');
  // One object literal with every field (absent ones undefined): one hidden class for all parsed URIs.
  const uri: SipUri = { scheme, user, password, host, port, params, headers, raw: text };
  return { ok: true, value: uri };
}

/** Write a URI from its components (escaping as needed). Non-SIP URIs are written as their raw text. */
export function formatUri(uri: Omit<SipUri, 'raw'> & { raw?: string }): string {
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips') return uri.raw ?? `${uri.scheme}:`;
  let out = uri.scheme + ':';
  if (uri.user !== undefined) {
    out += escapeUser(uri.user);
    if (uri.password !== undefined) out += ':' + escapeUser(uri.password);
    out += '@';
  }
  out += uri.host;
  if (uri.port !== undefined) out += ':' + uri.port;
  for (const [k, v] of uri.params) out += ';' + escapeParam(k) + (v === null ? '' : '=' + escapeParam(v));
  if (uri.headers.length > 0) {
    out += '?' + uri.headers.map(([k, v]) => escapeHeader(k) + '=' + escapeHeader(v)).join('&');
  }
  return out;
}

/** Parameter values compare case-insensitively (§19.1.4); null (flag) only equals null. */
function eqv(x: string | null | undefined, y: string | null | undefined): boolean {
  return x === y || (typeof x === 'string' && typeof y === 'string' && x.toLowerCase() === y.toLowerCase());
}

/** Parameters that must match when present in either URI (§19.1.4). */
const MUST_MATCH = ['user', 'ttl', 'method', 'maddr', 'transport'];

/**
 * RFC 3261 §19.1.4 URI comparison: scheme; user and password case-sensitive (unescaped); host case-insensitive;
 * port must both be absent or equal (an explicit 5060 ≠ absent); user/ttl/method/maddr/transport parameters must
 * match if present in either; other parameters compared only when present in both; headers must all match.
 */
export function uriEquals(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  if (a.scheme !== 'sip' && a.scheme !== 'sips') return a.raw === b.raw;
  if (a.user !== b.user || a.password !== b.password) return false;
  if (a.host !== b.host || a.port !== b.port) return false;
  for (const name of MUST_MATCH) {
    if (!eqv(a.params.get(name), b.params.get(name))) return false;
  }
  for (const [k, v] of a.params) {
    if (b.params.has(k) && !eqv(v, b.params.get(k))) return false;
  }
  if (a.headers.length !== b.headers.length) return false;
  const hb = new Map(b.headers.map(([k, v]) => [k.toLowerCase(), v] as const));
  for (const [k, v] of a.headers) {
    if (hb.get(k.toLowerCase()) !== v) return false;
  }
  return true;
}
