/**
 * Parsing of Authorization / Proxy-Authorization credentials (RFC 3261 §25.1, §20.7, §20.28; RFC 7616 §3.4).
 *
 *     credentials        = ("Digest" LWS digest-response) / other-response
 *     digest-response    = dig-resp *(COMMA dig-resp)
 *     dig-resp           = username / realm / nonce / digest-uri / dresponse / algorithm / cnonce / opaque
 *                          / message-qop / nonce-count / auth-param
 *     auth-param         = auth-param-name EQUAL ( token / quoted-string )
 *
 * Untrusted input: returns a result, never throws. Quoted strings may contain commas and quoted-pairs
 * (`\"`, `\\`), which are resolved. Parameter names are lowercased; a directive given twice is an error
 * (RFC 7616 §3.4: "each directive MUST NOT appear more than once").
 */
import type { Result } from '../message/types.ts';

export interface Credentials {
  /** The auth scheme as written (compare case-insensitively: RFC 3261 §25.1 `"Digest"` is a token). */
  readonly scheme: string;
  /** Directives, names lowercased, values with quotes removed and quoted-pairs resolved. */
  readonly params: ReadonlyMap<string, string>;
}

const TOKEN_CHAR = /[A-Za-z0-9\-.!%*_+`'~]/;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** The scheme of a credentials value (the first token), without parsing the rest. */
export function credentialsScheme(value: string): string {
  let i = 0;
  while (i < value.length && isWs(value.charCodeAt(i))) i++;
  let j = i;
  while (j < value.length && !isWs(value.charCodeAt(j)) && value[j] !== ',') j++;
  return value.slice(i, j);
}

/** Parse `Scheme name=value, name="quoted, value", ...`. */
export function parseCredentials(value: string): Result<Credentials> {
  const s = value;
  const n = s.length;
  let i = 0;
  const skipWs = (): void => {
    while (i < n && isWs(s.charCodeAt(i))) i++;
  };
  skipWs();
  const schemeStart = i;
  while (i < n && TOKEN_CHAR.test(s[i]!)) i++;
  const scheme = s.slice(schemeStart, i);
  if (scheme === '') return { ok: false, error: 'missing auth scheme' };
  if (i < n && !isWs(s.charCodeAt(i))) return { ok: false, error: `bad character after scheme at ${i}` };
  const params = new Map<string, string>();
  for (;;) {
    skipWs();
    if (i >= n) break;
    const nameStart = i;
    while (i < n && TOKEN_CHAR.test(s[i]!)) i++;
    if (i === nameStart) return { ok: false, error: `expected a parameter name at ${i}` };
    const name = s.slice(nameStart, i).toLowerCase();
    skipWs();
    if (s[i] !== '=') return { ok: false, error: `expected "=" after ${name}` };
    i++;
    skipWs();
    let val: string;
    if (s[i] === '"') {
      i++;
      let out = '';
      let closed = false;
      while (i < n) {
        const c = s[i]!;
        if (c === '\\') {
          if (i + 1 >= n) break;
          out += s[i + 1];
          i += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        out += c;
        i++;
      }
      if (!closed) return { ok: false, error: `unterminated quoted string for ${name}` };
      val = out;
    } else {
      const vStart = i;
      while (i < n && TOKEN_CHAR.test(s[i]!)) i++;
      if (i === vStart) return { ok: false, error: `empty value for ${name}` };
      val = s.slice(vStart, i);
    }
    if (params.has(name)) return { ok: false, error: `directive ${name} given twice` };
    params.set(name, val);
    skipWs();
    if (i >= n) break;
    if (s[i] !== ',') return { ok: false, error: `expected "," after ${name}` };
    i++;
  }
  return { ok: true, value: { scheme, params } };
}

/** Quote a value as a quoted-string (RFC 3261 §25.1: escape `"` and `\`). */
export function quote(value: string): string {
  return '"' + value.replace(/["\\]/g, (c) => '\\' + c) + '"';
}
