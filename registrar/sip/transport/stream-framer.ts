/**
 * Message framing on a stream transport (RFC 3261 §18.3) with RFC 5626 §3.5.1 CRLF keep-alives.
 *
 * RFC 3261 §18.3: "In the case of stream-oriented transports such as TCP, the Content-Length header field indicates
 * the size of the body. All stream-oriented transports MUST use Content-Length", so the message ends after exactly
 * that many body bytes; §7.5: "Implementations processing SIP messages over stream-oriented transports MUST ignore any CRLF
 * appearing before the start-line".
 * RFC 5626 §3.5.1 / §4.4.1: a double CRLF ("ping") between messages is answered with a single CRLF ("pong").
 *
 * The framer never copies in the common case (a chunk holding whole messages): frames are `subarray`s of the chunk.
 * Only a message split across chunks is reassembled. It never throws: a framing error is reported to the sink
 * and the stream must be closed (there is no way to find the next message boundary).
 */

export type FramingError = 'missing-content-length' | 'bad-content-length' | 'oversize';

export interface FrameSink {
  /** Exactly one message: start-line, headers, CRLFCRLF and Content-Length body bytes. */
  frame(message: Buffer): void;
  /** A CRLFCRLF keep-alive ping arrived between messages: answer CRLF. */
  ping(): void;
  /**
   * The stream cannot be framed any further. `head` is the message head (start-line + headers + CRLFCRLF) when it
   * was complete, so the caller may answer 400 (missing/bad Content-Length); undefined for an oversize header.
   */
  error(reason: FramingError, head: Buffer | undefined): void;
}

const CR = 0x0d;
const LF = 0x0a;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** Content-Length scan outcome: a length ≥ 0, or one of these. */
const CL_MISSING = -1;
const CL_BAD = -2;

export class StreamFramer {
  private pending: Buffer | undefined;
  /** Offset in `pending` from which the header-end search resumes (bytes before it hold no CRLFCRLF). */
  private scanFrom = 0;
  private failed = false;

  constructor(private readonly maxMessageSize: number) {}

  /** Bytes waiting for the rest of a message. */
  get buffered(): number {
    return this.pending?.length ?? 0;
  }

  /**
   * Feed one chunk. Returns false after a framing error (reported to `sink.error`); the framer then ignores
   * everything else.
   */
  push(chunk: Buffer, sink: FrameSink): boolean {
    if (this.failed) return false;
    let buf: Buffer;
    let scanFrom = 0;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      scanFrom = this.scanFrom;
      this.pending = undefined;
      this.scanFrom = 0;
    } else {
      buf = chunk;
    }
    const len = buf.length;
    let off = 0;
    while (off < len) {
      // RFC 3261 §7.5 / RFC 5626 §3.5.1: CRLFs before a start-line; CRLFCRLF is a ping.
      const c = buf[off]!;
      if (c === CR || c === LF) {
        if (c === LF) { off++; continue; } // Deviation: a bare LF between messages is skipped too (lenient).
        if (off + 1 >= len) break; // lone CR: wait for more
        if (buf[off + 1] !== LF) { off++; continue; } // bare CR: skip
        if (off + 3 < len && buf[off + 2] === CR && buf[off + 3] === LF) {
          off += 4;
          sink.ping();
          continue;
        }
        if (off + 2 < len && buf[off + 2] !== CR) { off += 2; continue; } // single CRLF (a pong or stray)
        break; // "\r\n" or "\r\n\r" at the end: could be half a ping, wait for more
      }

      const headerEnd = buf.indexOf(CRLFCRLF, Math.max(off, scanFrom));
      if (headerEnd < 0) {
        if (len - off > this.maxMessageSize) return this.fail(sink, 'oversize', undefined);
        break;
      }
      const headLen = headerEnd + 4 - off;
      const cl = contentLength(buf, off, headerEnd);
      if (cl === CL_MISSING) return this.fail(sink, 'missing-content-length', buf.subarray(off, headerEnd + 4));
      if (cl === CL_BAD) return this.fail(sink, 'bad-content-length', buf.subarray(off, headerEnd + 4));
      const total = headLen + cl;
      if (total > this.maxMessageSize) return this.fail(sink, 'oversize', undefined);
      if (len - off < total) {
        // Header complete, body not yet: keep from `off`; the next scan may start at the known header end.
        scanFrom = headerEnd;
        break;
      }
      sink.frame(buf.subarray(off, off + total));
      off += total;
      scanFrom = 0;
    }
    if (off < len) {
      // Copy only what is left, so a large chunk is not kept alive by a small remainder.
      this.pending = Buffer.from(buf.subarray(off));
      // Resume the CRLFCRLF search a few bytes before the old end (the pattern may straddle chunks).
      this.scanFrom = scanFrom > off ? scanFrom - off : Math.max(0, len - off - 3);
    }
    return true;
  }

  private fail(sink: FrameSink, reason: FramingError, head: Buffer | undefined): false {
    this.failed = true;
    this.pending = undefined;
    sink.error(reason, head);
    return false;
  }
}

/**
 * Find Content-Length (or its compact form `l`, §7.3.3) in the header block [start, headerEnd) without parsing the
 * rest. Returns the length, CL_MISSING, or CL_BAD (not a non-negative integer, or several differing values).
 * A value too large to be real is returned as is; the caller's size limit rejects it.
 */
function contentLength(buf: Buffer, start: number, headerEnd: number): number {
  let found = CL_MISSING;
  // Skip the start-line: header lines begin after each CRLF.
  let line = buf.indexOf(LF, start) + 1;
  while (line > 0 && line < headerEnd) {
    const v = headerValue(buf, line, headerEnd);
    if (v !== NOT_CL) {
      if (v === CL_BAD) return CL_BAD;
      if (found !== CL_MISSING && found !== v) return CL_BAD;
      found = v;
    }
    line = buf.indexOf(LF, line) + 1;
  }
  return found;
}

const NOT_CL = -3;
const CONTENT_LENGTH = 'content-length';

/** If the header line at `p` is Content-Length / l, its value (or CL_BAD); else NOT_CL. */
function headerValue(buf: Buffer, p: number, end: number): number {
  let i = p;
  const first = buf[i]! | 0x20;
  if (first === 0x6c /* l */ && i + 1 < end && (buf[i + 1] === 0x3a || buf[i + 1] === 0x20 || buf[i + 1] === 0x09)) {
    i += 1;
  } else if (first === 0x63 /* c */) {
    for (let k = 0; k < CONTENT_LENGTH.length; k++, i++) {
      if (i >= end || (buf[i]! | 0x20) !== CONTENT_LENGTH.charCodeAt(k)) return NOT_CL;
    }
  } else {
    return NOT_CL;
  }
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  if (buf[i] !== 0x3a /* : */) return NOT_CL;
  i++;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  let n = 0;
  let digits = 0;
  while (i < end) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    // Anything past 9 digits is far beyond any size limit; cap instead of losing precision.
    if (digits < 9) n = n * 10 + (c - 0x30);
    digits++;
    i++;
  }
  if (digits === 0) return CL_BAD;
  if (digits > 9) n = Number.MAX_SAFE_INTEGER;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  if (i < end && buf[i] !== CR && buf[i] !== LF) return CL_BAD;
  return n;
}
