/**
 * serialize: SipMessage → bytes (RFC 3261 §7).
 *
 *   start-line CRLF *( header-name ": " value CRLF ) "Content-Length: " N CRLF CRLF body
 *
 * Headers are written in order, one per line (folded input comes out unfolded, §7.3.1). Content-Length is always
 * written last and always equals the body's length (§18.3, §20.14 — mandatory on streams, harmless on UDP); any
 * Content-Length line in the header list is skipped.
 */
import type { SipHeader, SipMessage } from './types.ts';
import { wireName } from './headers.ts';

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

export function serialize(msg: SipMessage): Buffer {
  const head = serializeHead(msg);
  const body = msg.body;
  if (body.length === 0) return Buffer.from(head, 'utf8');
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + body.length);
  out.write(head, 0, 'utf8');
  body.copy(out, headLen);
  return out;
}
