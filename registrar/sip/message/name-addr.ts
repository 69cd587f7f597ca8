/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §20.20, §20.39, §25.1):
 *
 *   (name-addr / addr-spec) *( SEMI param )
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 *
 * §20: "when the header field value contains a display name, the URI including all URI parameters is enclosed in
 * "<" and ">". If no "<" and ">" are present, all parameters after the URI are header parameters, not URI
 * parameters" (RFC 4475 §3.3.12 cparam01 vs §3.3.13 cparam02). "Even if the display-name is empty, the name-addr
 * form MUST be used if the addr-spec contains a comma, semicolon, or question mark" — so an unbracketed URI ends at
 * the first ';' and may not carry '?headers' (RFC 4475 §3.1.2.13 regbadct is rejected).
 */
import type { NameAddr, Result } from './types.ts';
import { isTokenChar, readQuoted, skipWs, trimLws } from './lex.ts';
import { EMPTY_PARAMS, parseHeaderParams } from './params.ts';
import { parseUri } from './uri.ts';
import { splitListStrict } from './headers.ts';

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

/** display-name = *(token LWS): tokens and whitespace; non-ASCII (UTF-8 names sent unquoted) tolerated. */
function validTokenDisplayName(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c >= 0x80 || isTokenChar(c)) continue;
    return false;
  }
  return true;
}

export function parseNameAddr(input: string): Result<NameAddr> {
  const s = trimLws(input);
  if (s.length === 0) return fail('empty address');
  let displayName: string | undefined;
  let lt = -1;
  if (s.charCodeAt(0) === 0x22 /* " */) {
    const q = readQuoted(s, 0);
    if (q === null) return fail('unterminated quoted display name');
    displayName = q.text;
    lt = skipWs(s, q.end);
    if (s.charCodeAt(lt) !== 0x3c /* < */) return fail("expected '<' after display name");
  } else {
    // Whichever comes first: '<' (name-addr), or ';' / '"' / end (addr-spec).
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x3c) {
        lt = i;
        break;
      }
      if (c === 0x3b || c === 0x22) break;
    }
    if (lt > 0) {
      // RFC 4475 §3.1.1.6 lwsdisp: 'caller<sip:…>' — no LWS needed before '<'.
      const dn = trimLws(s.slice(0, lt));
      if (!validTokenDisplayName(dn)) return fail('invalid display name (quote it)');
      if (dn !== '') displayName = dn;
    }
  }
  if (lt >= 0) {
    const gt = s.indexOf('>', lt + 1);
    if (gt === -1) return fail("missing '>'");
    // Deviation: whitespace just inside '<' '>' is ignored (RFC 4475 §3.1.2.14 badaspec allows this liberal
    // reading; the URI itself still may not contain whitespace).
    const uri = parseUri(trimLws(s.slice(lt + 1, gt)));
    if (!uri.ok) return uri;
    const params = parseHeaderParams(s, gt + 1);
    if (!params.ok) return params;
    return { ok: true, value: { displayName, uri: uri.value, params: params.value, raw: s } };
  }
  // addr-spec: the URI ends at the first ';' (or at whitespace before it, RFC 4475 wsinv 'uri ;tag=').
  let end = s.indexOf(';');
  if (end === -1) end = s.length;
  const uriText = trimLws(s.slice(0, end));
  if (uriText.indexOf('?') !== -1) return fail("a URI with '?' must be enclosed in '<' '>'");
  const uri = parseUri(uriText);
  if (!uri.ok) return uri;
  const params = end === s.length ? { ok: true as const, value: EMPTY_PARAMS } : parseHeaderParams(s, end);
  if (!params.ok) return params;
  return { ok: true, value: { displayName: undefined, uri: uri.value, params: params.value, raw: s } };
}

/** A comma-separated list of name-addrs (Contact, Route, Record-Route, Path, ...; §7.3.1). */
export function parseNameAddrList(text: string): Result<NameAddr[]> {
  const parts = splitListStrict(text);
  if (parts === null) return fail('unbalanced quotes or angle brackets');
  const out: NameAddr[] = [];
  for (const p of parts) {
    if (p === '') return fail('empty list element');
    const r = parseNameAddr(p);
    if (!r.ok) return r;
    out.push(r.value);
  }
  return { ok: true, value: out };
}
