/**
 * RFC 3326 §2: the Reason header of a BYE or CANCEL.
 *
 *   Reason            =  "Reason" HCOLON reason-value *(COMMA reason-value)
 *   reason-value      =  protocol *(SEMI reason-params)
 *   protocol          =  "SIP" / "Q.850" / token
 *   reason-params     =  protocol-cause / reason-text / reason-extension
 *   protocol-cause    =  "cause" EQUAL cause
 *   reason-text       =  "text" EQUAL quoted-string
 *
 * Never throws: an unreadable value gives undefined.
 */

export interface ReasonValue {
  readonly protocol: string;
  readonly cause: number | undefined;
  readonly text: string | undefined;
}

export function parseReason(value: string | undefined): ReasonValue | undefined {
  if (!value) return undefined;
  // The first reason-value only (a comma inside the quoted text does not split it).
  const m = /^\s*([A-Za-z0-9.!%*_+`'~-]+)\s*((?:;\s*[A-Za-z0-9_-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,\s]+)\s*)*)/.exec(value);
  if (!m) return undefined;
  let cause: number | undefined;
  let text: string | undefined;
  for (const p of m[2]!.matchAll(/;\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]+)/g)) {
    const name = p[1]!.toLowerCase();
    const raw = p[2]!;
    const v = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    if (name === 'cause' && /^\d+$/.test(v)) cause = Number(v);
    else if (name === 'text') text = v;
  }
  return { protocol: m[1]!, cause, text };
}

/** The words for a person: the text, or "<protocol> cause N". */
export function describeReason(r: ReasonValue | undefined): string | undefined {
  if (!r) return undefined;
  if (r.text) return r.text;
  return r.cause !== undefined ? `${r.protocol} cause ${r.cause}` : undefined;
}
