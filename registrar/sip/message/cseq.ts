/**
 * CSeq (RFC 3261 §20.16, §8.1.1.5): `CSeq = "CSeq" HCOLON 1*DIGIT LWS Method`.
 * The sequence number "MUST be expressible as a 32-bit unsigned integer" (RFC 4475 §3.1.2.4 scalar02 sends 2^65).
 */
import type { CSeq, Result } from './types.ts';
import { isToken, parseUint, trimLws } from './lex.ts';

export const MAX_CSEQ = 0xffffffff;

export function parseCSeq(text: string): Result<CSeq> {
  const s = trimLws(text);
  let i = 0;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  if (i === 0) return { ok: false, error: 'CSeq number missing' };
  const seq = parseUint(s.slice(0, i), MAX_CSEQ);
  if (seq < 0) return { ok: false, error: 'CSeq number out of range' };
  const method = trimLws(s.slice(i));
  if (method.length === s.length - i) return { ok: false, error: 'CSeq method missing' };
  if (!isToken(method)) return { ok: false, error: 'CSeq method invalid' };
  return { ok: true, value: { seq, method } };
}
