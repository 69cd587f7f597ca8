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

/**
 * A read-only parameter list (`Params`): names and values in one flat array, looked up by linear scan. SIP
 * headers carry a handful of parameters, so this beats a `Map` (hash table, ~5x the memory) on both counts, and
 * the parser builds several per message (Via, From, To, Contact, their URIs).
 */
export class ParamList implements ReadonlyMap<string, string | null> {
  /** [name0, value0, name1, value1, ...]: names lowercased, unique (the first occurrence wins). */
  private readonly items: Array<string | null>;

  constructor(items: Array<string | null> = []) {
    this.items = items;
  }

  get size(): number {
    return this.items.length >> 1;
  }

  get(name: string): string | null | undefined {
    const a = this.items;
    for (let i = 0; i < a.length; i += 2) if (a[i] === name) return a[i + 1]!;
    return undefined;
  }

  has(name: string): boolean {
    const a = this.items;
    for (let i = 0; i < a.length; i += 2) if (a[i] === name) return true;
    return false;
  }

  forEach(fn: (value: string | null, key: string, map: ReadonlyMap<string, string | null>) => void, thisArg?: unknown): void {
    const a = this.items;
    for (let i = 0; i < a.length; i += 2) fn.call(thisArg, a[i + 1]!, a[i] as string, this);
  }

  *entries(): MapIterator<[string, string | null]> {
    const a = this.items;
    for (let i = 0; i < a.length; i += 2) yield [a[i] as string, a[i + 1]!];
  }

  *keys(): MapIterator<string> {
    const a = this.items;
    for (let i = 0; i < a.length; i += 2) yield a[i] as string;
  }

  *values(): MapIterator<string | null> {
    const a = this.items;
    for (let i = 0; i < a.length; i += 2) yield a[i + 1]!;
  }

  [Symbol.iterator](): MapIterator<[string, string | null]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'ParamList';
  }
}

/** Append `name=value` unless `name` is already there (the first occurrence wins). For parsers only. */
export function addParam(items: Array<string | null>, name: string, value: string | null): void {
  for (let i = 0; i < items.length; i += 2) if (items[i] === name) return;
  items.push(name, value);
}

export const EMPTY_PARAMS: Params = new ParamList();

/** Parse `;a=b;c` from s[start..]; anything other than whitespace and parameters is an error. */
export function parseHeaderParams(s: string, start: number): Result<Params> {
  let i = skipWs(s, start);
  if (i >= s.length) return { ok: true, value: EMPTY_PARAMS };
  const params: Array<string | null> = [];
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
    addParam(params, name, value);
  }
  return { ok: true, value: new ParamList(params) };
}

/** Format parameters back to `;a=b;c` (values written as stored). */
export function formatHeaderParams(params: Params): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}
