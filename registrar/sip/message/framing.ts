/**
 * Stream framing (RFC 3261 §18.3): "In the case of stream-oriented transports such as TCP, the Content-Length
 * header field indicates the size of the body. All stream-oriented transports MUST use Content-Length."
 *
 * `frameLength(buf)` tells a TCP/TLS reader how many bytes of `buf` make the next message (leading CRLFs that
 * §7.5 says to ignore are counted in, `parseMessage` skips them), 'need-more' when it cannot tell yet, or an
 * error after which the connection should be closed (RFC 4475 §3.1.2.3 ncl, §3.3.9 mcl01).
 * `keepaliveLength(buf)` recognises the RFC 5626 §3.5.1 double-CRLF "ping" (answer it with a single CRLF "pong").
 */
import { canonicalName } from './headers.ts';
import { readHead, skipLeadingCrlf, splitLines } from './head.ts';
import { parseUint, trimLws } from './lex.ts';

export type FrameResult = number | 'need-more' | { error: string };

/** Largest header section accepted on a stream before giving up. */
export const MAX_HEAD_BYTES = 65536;
/** Largest body accepted on a stream. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** 4 when buf starts with a CRLFCRLF keep-alive ping (RFC 5626 §3.5.1), 0 otherwise. */
export function keepaliveLength(buf: Buffer): number {
  return buf.length >= 4 && buf[0] === 0x0d && buf[1] === 0x0a && buf[2] === 0x0d && buf[3] === 0x0a ? 4 : 0;
}

export function frameLength(buf: Buffer): FrameResult {
  const start = skipLeadingCrlf(buf);
  if (start >= buf.length) return 'need-more';
  // latin1: one char per byte, so header text offsets stay byte offsets; names/digits are ASCII anyway.
  const head = readHead(buf, start, 'latin1');
  if (head === null) return buf.length - start > MAX_HEAD_BYTES ? { error: 'Header section too large' } : 'need-more';
  if (head.bodyStart - start > MAX_HEAD_BYTES) return { error: 'Header section too large' };
  let length = -1;
  const lines = splitLines(head.text);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = canonicalName(trimLws(line.slice(0, colon)));
    if (name !== 'content-length') continue;
    // Folding of Content-Length across lines is not supported here (nobody does it); the value is 1*DIGIT.
    const n = parseUint(trimLws(line.slice(colon + 1)), MAX_BODY_BYTES);
    if (n < 0) return { error: 'Invalid Content-Length' };
    if (length !== -1 && length !== n) return { error: 'Conflicting Content-Length headers' };
    length = n;
  }
  // Deviation: a missing Content-Length on a stream is read as 0 (the RFC says it MUST be present).
  if (length === -1) length = 0;
  const total = head.bodyStart + length;
  return buf.length < total ? 'need-more' : total;
}
