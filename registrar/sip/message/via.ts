/**
 * Via header values (RFC 3261 §20.42, §25.1; RFC 3581 rport; RFC 5118 IPv6):
 *
 *   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport     SLASH = SWS "/" SWS
 *   sent-by       = host [ COLON port ]                                       COLON = SWS ":" SWS
 *
 * LWS is allowed around '/', ':' and ';' (RFC 4475 §3.1.1.1 wsinv). Unknown transports are kept (§3.1.1.10).
 */
import type { Result, Via } from './types.ts';
import { isTokenChar, parseUint, skipWs, trimLws } from './lex.ts';
import { EMPTY_PARAMS, parseHeaderParams } from './params.ts';
import { validIpv6Reference } from './uri.ts';
import { splitListStrict } from './headers.ts';

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

function readToken(s: string, i: number): number {
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Parse one via-parm. `lenient` (used only to answer a malformed request, §8.2 error path) skips a broken
 * parameter section but still needs a good sent-protocol and sent-by.
 */
export function parseVia(input: string, lenient = false): Result<Via> {
  const s = trimLws(input);
  let i = 0;
  // sent-protocol
  let e = readToken(s, i);
  if (e === i) return fail('missing protocol name');
  const name = s.slice(i, e);
  i = skipWs(s, e);
  if (s.charCodeAt(i) !== 0x2f /* / */) return fail("expected '/' in sent-protocol");
  i = skipWs(s, i + 1);
  e = readToken(s, i);
  if (e === i) return fail('missing protocol version');
  const version = s.slice(i, e);
  i = skipWs(s, e);
  if (s.charCodeAt(i) !== 0x2f) return fail("expected '/' in sent-protocol");
  i = skipWs(s, i + 1);
  e = readToken(s, i);
  if (e === i) return fail('missing transport');
  const transport = s.slice(i, e).toUpperCase();
  i = skipWs(s, e);
  if (i === e) return fail('missing sent-by');
  // sent-by
  let host: string;
  if (s.charCodeAt(i) === 0x5b /* [ */) {
    const close = s.indexOf(']', i);
    if (close === -1) return fail('unterminated IPv6 reference');
    host = s.slice(i, close + 1);
    if (!validIpv6Reference(host)) return fail('invalid IPv6 reference in sent-by');
    i = close + 1;
  } else {
    const hs = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      const l = c | 0x20;
      if ((l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f) i++;
      else break;
    }
    if (i === hs) return fail('missing sent-by host');
    host = s.slice(hs, i);
  }
  host = host.toLowerCase();
  i = skipWs(s, i);
  let port: number | undefined;
  if (s.charCodeAt(i) === 0x3a /* : */) {
    i = skipWs(s, i + 1);
    const ps = i;
    while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
    const p = parseUint(s.slice(ps, i), 65535);
    // RFC 5118 §4.2: an unbracketed IPv6 address ('2001:db8::9:1') fails here.
    if (p < 0) return fail('invalid sent-by port');
    port = p;
  }
  let params = parseHeaderParams(s, i);
  if (!params.ok) {
    if (!lenient) return params;
    params = { ok: true, value: EMPTY_PARAMS };
  }
  const branchValue = params.value.get('branch');
  if (branchValue === null) return fail('branch parameter without a value');
  const via: Via = {
    protocol: name === 'SIP' && version === '2.0' ? 'SIP/2.0' : `${name.toUpperCase()}/${version}`,
    transport,
    host,
    port,
    params: params.value,
    branch: branchValue,
    raw: s,
  };
  return { ok: true, value: via };
}

/** All via-parms of one Via header line ('Via: a, b'); an empty element is an error (RFC 4475 badinv01). */
export function parseViaList(text: string): Result<Via[]> {
  const parts = splitListStrict(text);
  if (parts === null) return fail('unbalanced quotes');
  const out: Via[] = [];
  for (const p of parts) {
    if (p === '') return fail('empty Via element');
    const r = parseVia(p);
    if (!r.ok) return r;
    out.push(r.value);
  }
  return { ok: true, value: out };
}
