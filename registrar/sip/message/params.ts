/**
 * Header parameters: `*( SEMI generic-param )` after a name-addr, addr-spec or Via sent-by (RFC 3261 §25.1):
 *
 *   generic-param = token [ EQUAL gen-value ]
 *   gen-value     = token / host / quoted-string
 *   SEMI = SWS ";" SWS      EQUAL = SWS "=" SWS
 *
 * Names are lowercased; a quoted value keeps its quotes (so it can be echoed verbatim, e.g. Linphone's
 * `+sip.instance="<urn:uuid:…>"`); a flag parameter maps to null. The first occurrence of a name wins.
 */
import type { Params, Result } from './types.ts';
import { isTokenChar, readQuoted, skipWs } from './lex.ts';

export const EMPTY_PARAMS: Params = new Map();

/** Parse `;a=b;c` from s[start..]; anything other than whitespace and parameters is an error. */
export function parseHeaderParams(s: string, start: number): Result<Params> {
  let i = skipWs(s, start);
  if (i >= s.length) return { ok: true, value: EMPTY_PARAMS };
  const params = new Map<string, string | null>();
  while (i < s.length) {
    if (s.charCodeAt(i) !== 0x3b /* ; */) return { ok: false, error: `unexpected '${s[i]}' in parameters` };
    i = skipWs(s, i + 1);
    const nameStart = i;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    if (i === nameStart) return { ok: false, error: 'empty parameter' };
    const name = s.slice(nameStart, i).toLowerCase();
    i = skipWs(s, i);
    let value: string | null = null;
    if (i < s.length && s.charCodeAt(i) === 0x3d /* = */) {
      i = skipWs(s, i + 1);
      if (i < s.length && s.charCodeAt(i) === 0x22 /* " */) {
        const q = readQuoted(s, i);
        if (q === null) return { ok: false, error: 'unterminated quoted parameter value' };
        value = s.slice(i, q.end);
        i = q.end;
      } else {
        // token / host: host may be an IPv6 reference, or (RFC 5118 §4.5) a bare IPv6 address in received=.
        const vStart = i;
        while (i < s.length) {
          const c = s.charCodeAt(i);
          if (c === 0x3b || c === 0x20 || c === 0x09 || c === 0x2c || c === 0x22) break;
          i++;
        }
        if (i === vStart) return { ok: false, error: `empty value for parameter ${name}` };
        value = s.slice(vStart, i);
      }
      i = skipWs(s, i);
    }
    if (!params.has(name)) params.set(name, value);
  }
  return { ok: true, value: params };
}

/** Format parameters back to `;a=b;c` (values written as stored). */
export function formatHeaderParams(params: Params): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}
