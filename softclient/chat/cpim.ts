/**
 * Chat as the client receives it from the focus.
 *
 * - `message/cpim` (RFC 3862): the relayed chat of another participant. §2: "message headers" (From, To,
 *   DateTime, …), a blank line, then the encapsulated MIME object (its own Content-Type, a blank line, the
 *   content). §3.1 `From: "Alice" <sip:alice@host>`; §3.5 `DateTime` is RFC 3339.
 * - `text/plain` from the focus itself: a notice (the `/who` answer, help text) — or, from a focus that does not
 *   honour our `Accept: message/cpim`, relayed chat in the plain form `[HH:MM:SS] Name <aor>: text`, which is
 *   recognised as chat too.
 */

export interface ChatLine {
  /** Sender's AOR. */
  readonly from: string;
  readonly name: string;
  /** RFC 3339 time the focus stamped. */
  readonly at: string;
  readonly text: string;
}

export type Incoming = { readonly kind: 'chat'; readonly chat: ChatLine } | { readonly kind: 'notice'; readonly text: string } | { readonly kind: 'unsupported'; readonly reason: string };

/** Split at the first empty line (CRLF or LF). */
function splitBlank(s: string): [string, string] | undefined {
  const m = /\r?\n\r?\n/.exec(s);
  if (!m) return undefined;
  return [s.slice(0, m.index), s.slice(m.index + m[0].length)];
}

function headers(block: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const c = line.indexOf(':');
    if (c > 0) out.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
  }
  return out;
}

/** `"Name" <uri>` or `Name <uri>` or `<uri>` (RFC 3862 §3.1 From). */
export function parseCpimAddress(v: string): { name: string | undefined; uri: string } {
  const m = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^<]*?))\s*<([^>]*)>\s*$/.exec(v);
  if (!m) return { name: undefined, uri: v.trim() };
  const name = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]?.trim() || undefined;
  return { name, uri: m[3]! };
}

export function parseCpim(body: string): ChatLine | undefined {
  const outer = splitBlank(body);
  if (!outer) return undefined;
  const msgHeaders = headers(outer[0]);
  const inner = splitBlank(outer[1]);
  if (!inner) return undefined;
  const mime = headers(inner[0]);
  const type = (mime.get('content-type') ?? 'text/plain').toLowerCase();
  if (!type.startsWith('text/plain')) return undefined;
  const from = parseCpimAddress(msgHeaders.get('from') ?? '');
  return {
    from: from.uri,
    name: from.name ?? from.uri,
    at: msgHeaders.get('datetime') ?? new Date().toISOString(),
    text: inner[1],
  };
}

const PLAIN_CHAT = /^\[(\d\d):(\d\d):(\d\d)\] (.*?) <([^>]+)>: ([\s\S]*)$/;

/** What a MESSAGE from the focus carries. `today` dates a plain `[HH:MM:SS]` stamp (UTC, as the focus writes it). */
export function parseIncoming(contentType: string | undefined, body: string, today: Date = new Date()): Incoming {
  const ct = (contentType ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  if (ct === 'message/cpim') {
    const chat = parseCpim(body);
    return chat ? { kind: 'chat', chat } : { kind: 'unsupported', reason: 'malformed or non-text message/cpim' };
  }
  if (ct === 'text/plain') {
    const m = PLAIN_CHAT.exec(body);
    if (m) {
      const at = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), +m[1]!, +m[2]!, +m[3]!));
      return { kind: 'chat', chat: { from: m[5]!, name: m[4]!, at: at.toISOString(), text: m[6]! } };
    }
    return { kind: 'notice', text: body };
  }
  return { kind: 'unsupported', reason: `content type ${ct}` };
}
