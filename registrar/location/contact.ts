/**
 * Contact header helpers for the registrar (RFC 3261 §10.2.1.2, §10.3 steps 7–8, §20.10; RFC 5626 §4.2).
 */
import type { NameAddr } from '../sip/message/types.ts';
import { parseUint } from '../sip/message/lex.ts';

/** RFC 3261 §25.1 delta-seconds ceiling: 2^32 - 1. */
export const MAX_DELTA_SECONDS = 0xffffffff;

/**
 * `delta-seconds` → number, or undefined when absent, non-numeric, or above 2^32-1. RFC 3261 §10.2.1.1 /
 * RFC 4475 §3.1.2.4 (scalar02): a malformed or out-of-range expiry is treated as if it were absent, so the
 * next source (Expires header, then the registrar default) applies.
 */
export function parseDeltaSeconds(text: string | null | undefined): number | undefined {
  if (text === undefined || text === null) return undefined;
  const n = parseUint(text.trim(), MAX_DELTA_SECONDS);
  return n < 0 ? undefined : n;
}

/**
 * q-value (RFC 3261 §25.1): `"0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ]` → 0..1; undefined when absent;
 * NaN when malformed.
 */
export function parseQ(text: string | null | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === null || !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(text)) return NaN;
  return Number(text);
}

/** `+sip.instance` without its quotes (RFC 5626 §4.2: `+sip.instance="<urn:uuid:…>"`). */
export function instanceIdOf(contact: NameAddr): string | undefined {
  const v = contact.params.get('+sip.instance');
  if (v === undefined || v === null) return undefined;
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** RFC 5626 `reg-id` (1..2^31-1), undefined when absent or malformed. */
export function regIdOf(contact: NameAddr): number | undefined {
  const v = contact.params.get('reg-id');
  if (v === undefined || v === null) return undefined;
  const n = parseUint(v, 0x7fffffff);
  return n > 0 ? n : undefined;
}

/**
 * The Contact as the registrar lists it in a 200 (§10.3 step 8), minus `expires`: always the name-addr form
 * `<uri>` so that header parameters of an addr-spec Contact stay header parameters (RFC 4475 §3.3.12 cparam01:
 * `sip:…;unknownparam` → `<sip:…>;unknownparam`) and URI parameters stay inside the brackets (§3.3.13 cparam02),
 * with the URI written exactly as received (escapes and `?headers` kept: §3.1.1.4 escnull, §3.3.14 regescrt).
 */
export function formatContact(contact: NameAddr): string {
  let out = '';
  if (contact.displayName !== undefined && contact.displayName !== '') {
    out += '"' + contact.displayName.replace(/["\\]/g, (c) => '\\' + c) + '" ';
  }
  out += '<' + contact.uri.raw + '>';
  for (const [k, v] of contact.params) {
    if (k === 'expires') continue;
    out += v === null ? ';' + k : ';' + k + '=' + v; // values are stored as written (quotes kept)
  }
  return out;
}
