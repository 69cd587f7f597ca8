/**
 * serialize: SipMessage → bytes (RFC 3261 §7).
 *
 *   start-line CRLF *( header-name ": " value CRLF ) "Content-Length: " N CRLF CRLF body
 *
 * Headers are written in order, one per line (folded input comes out unfolded, §7.3.1). Content-Length is always
 * written last and always equals the body's length (§18.3, §20.14 — mandatory on streams, harmless on UDP); any
 * Content-Length line in the header list is skipped.
 */
import type { SipHeader, SipMessage, SipResponse } from './types.ts';
import { parseMessage } from './parse.ts';
import { wireName } from './headers.ts';
import { MessageBase } from './message.ts';

function nameOf(h: SipHeader): string {
  const w = (h as { wire?: string }).wire;
  return w !== undefined ? w : wireName(h.name);
}

/** The start line and headers, up to and including the empty line. */
export function serializeHead(msg: SipMessage): string {
  let s =
    msg.kind === 'request'
      ? `${msg.method} ${msg.uri.raw} ${msg.version}\r\n`
      : `${msg.version} ${msg.status} ${msg.reason}\r\n`;
  const hs = msg.headers;
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i]!;
    if (h.name === 'content-length') continue;
    s += h.value === '' ? nameOf(h) + ':\r\n' : nameOf(h) + ': ' + h.value + '\r\n';
  }
  return s + 'Content-Length: ' + msg.body.length + '\r\n\r\n';
}

/**
 * The message's bytes. Messages are immutable, so the bytes are computed once and cached on the message: a
 * retransmitted response or request (Timers A/E/G, §17.2.2 request retransmissions) is not serialized again.
 * Callers must not write into the returned Buffer.
 */
export function serialize(msg: SipMessage): Buffer {
  const cached = msg instanceof MessageBase ? msg.wire : undefined;
  if (cached !== undefined) return cached;
  const head = serializeHead(msg);
  const body = msg.body;
  let out: Buffer;
  if (body.length === 0) out = Buffer.from(head, 'utf8');
  else {
    const headLen = Buffer.byteLength(head, 'utf8');
    out = Buffer.allocUnsafe(headLen + body.length);
    out.write(head, 0, 'utf8');
    body.copy(out, headLen);
  }
  if (msg instanceof MessageBase) msg.wire = out;
  return out;
}

/**
 * A response rebuilt from bytes this element sent earlier (a compacted transaction keeps only those, §17.2.2):
 * parsed again for the transport's routing (§18.2.2 needs the top Via), and serialized to exactly these bytes.
 * Returns undefined if the bytes do not parse as a response (never for bytes serialize() produced).
 */
export function responseFromWire(bytes: Buffer): SipResponse | undefined {
  const r = parseMessage(bytes);
  if (!r.ok || r.message.kind !== 'response') return undefined;
  (r.message as SipResponse & MessageBase).wire = bytes;
  return r.message;
}
