/**
 * Writing a name-addr back as text (RFC 3261 §20.10, §25.1): `"Display Name" <uri>;param=value`.
 * Used to rebuild From/To without their tag for in-dialog requests.
 */
import type { NameAddr } from '../message/types.ts';

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export function formatNameAddr(na: NameAddr, omitParams: readonly string[] = []): string {
  const named = na.displayName !== undefined && na.displayName !== '';
  let out = named ? `${quote(na.displayName!)} <${na.uri.raw}>` : `<${na.uri.raw}>`;
  for (const [k, v] of na.params) {
    if (omitParams.includes(k)) continue;
    out += v === null ? `;${k}` : `;${k}=${v}`;
  }
  return out;
}
