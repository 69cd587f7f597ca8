/**
 * parseMessage: bytes → SipRequest / SipResponse, or a reason (RFC 3261 §7, §8.1.1, §8.2, §18.3, §20).
 *
 * Never throws on input: every problem is a result. One top-level guard turns an unexpected throw (a bug) into
 * `{ok:false}` and counts it in `parserStats.unexpectedThrows`.
 *
 * A request that is broken but still answerable (method known, top Via usable) comes back as
 * `{ok:false, error, status, request}` so the UAS can send `status error` (§8.2: 400 for a malformed request,
 * §21.5.26: 505 for an unsupported SIP-Version). The `error` text is the reason phrase to send.
 *
 * Eager work: start line, header lines (unfolded), Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Length,
 * and (requests) Contact. Everything else is parsed lazily by the message class.
 */
import type { CSeq, NameAddr, ParseResult, Result, SipUri, Via } from './types.ts';
import { readHead, scanHeaderLines, skipLeadingCrlf } from './head.ts';
import { isToken, parseUint } from './lex.ts';
import { Header, placeholderNameAddr, placeholderUri, Request, Response } from './message.ts';
import { parseNameAddr } from './name-addr.ts';
import { parseUri } from './uri.ts';
import { parseVia, parseViaList } from './via.ts';
import { splitTopLevelCommas } from './headers.ts';
import { parseCSeq } from './cseq.ts';

export { parseUri } from './uri.ts';
export { parseNameAddr, parseNameAddrList } from './name-addr.ts';
export { parseVia, parseViaList } from './via.ts';

/** Counters a transport can export. */
export const parserStats = { unexpectedThrows: 0 };

export interface ParseOptions {
  /** true: the buffer is one message already framed from a stream (TCP/TLS) by Content-Length. */
  stream?: boolean;
}

/** RFC 3261 §17.1.1.3: the magic cookie that starts an RFC 3261 branch. */
const MAGIC_COOKIE = 'z9hG4bK';
/** Largest Content-Length we even consider (larger is "larger than body" anyway). */
const MAX_CONTENT_LENGTH = 0x7fffffff;
/** §21.4.1: every parser-detected problem is a 400 whose reason phrase names it. */
const BAD = 'Bad Request - ';

export function parseMessage(buf: Buffer, opts?: ParseOptions): ParseResult {
  try {
    return parse(buf, opts?.stream === true);
  } catch {
    // A throw here is a parser bug, never an input problem; the caller drops and counts.
    parserStats.unexpectedThrows++;
    return { ok: false, error: 'Internal parser error' };
  }
}

function drop(error: string): ParseResult {
  return { ok: false, error };
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (§25.1; literal strings are case-insensitive in ABNF). */
function isSipVersion(s: string): boolean {
  if (s.length < 7 || (s.charCodeAt(0) | 0x20) !== 0x73 || (s.charCodeAt(1) | 0x20) !== 0x69) return false;
  if ((s.charCodeAt(2) | 0x20) !== 0x70 || s.charCodeAt(3) !== 0x2f) return false;
  const dot = s.indexOf('.', 4);
  return dot > 4 && parseUint(s.slice(4, dot), 1e9) >= 0 && parseUint(s.slice(dot + 1), 1e9) >= 0;
}

function isSip20(s: string): boolean {
  return s === 'SIP/2.0' || s.toUpperCase() === 'SIP/2.0';
}

function parse(buf: Buffer, stream: boolean): ParseResult {
  const start = skipLeadingCrlf(buf);
  if (start >= buf.length) return drop('Empty message');
  let head = readHead(buf, start);
  if (head === null) {
    // Deviation: a datagram whose header section is not closed by an empty line is read to its end (the RFC
    // 4475 archive copy of baddn ends so); on a stream the framer never hands us such a message.
    if (stream) return drop('Header section not terminated');
    head = { text: buf.toString('utf8', start), bodyStart: buf.length };
  }
  const text = head.text;
  let firstLineEnd = text.indexOf('\n');
  if (firstLineEnd === -1) firstLineEnd = text.length;
  const crBeforeLf = firstLineEnd > 0 && text.charCodeAt(firstLineEnd - 1) === 0x0d;
  const startLine = text.slice(0, crBeforeLf ? firstLineEnd - 1 : firstLineEnd);
  // The first problem found becomes the reason phrase (`error ??=`; no closure: this is the hot path).
  let error: string | undefined;
  let status = 400;

  // ---- Start line (§7.1 Request-Line, §7.2 Status-Line) ----
  let isRequest: boolean;
  let method = '';
  let uri: SipUri | undefined;
  let version = 'SIP/2.0';
  let statusCode = 0;
  let reason = '';
  if (startLine.length > 4 && startLine.charCodeAt(3) === 0x2f && startLine.slice(0, 4).toUpperCase() === 'SIP/') {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
    isRequest = false;
    const sp1 = startLine.indexOf(' ');
    if (sp1 === -1) return drop('Malformed Status-Line');
    version = startLine.slice(0, sp1);
    if (!isSipVersion(version) || !isSip20(version)) return drop('Unsupported SIP version in response');
    const sp2 = startLine.indexOf(' ', sp1 + 1);
    const code = sp2 === -1 ? startLine.slice(sp1 + 1) : startLine.slice(sp1 + 1, sp2);
    // Status-Code = 3DIGIT, 100..699 (§7.2, §21; RFC 4475 §3.1.2.19 bigcode sends 4294967301).
    statusCode = code.length === 3 ? parseUint(code, 699) : -1;
    if (statusCode < 100) return drop('Invalid status code');
    // Reason-Phrase may be empty (RFC 4475 §3.1.1.13 noreason); UTF-8 allowed (§3.1.1.12 unreason).
    reason = sp2 === -1 ? '' : startLine.slice(sp2 + 1);
  } else {
    // Request-Line = Method SP Request-URI SP SIP-Version CRLF
    isRequest = true;
    // Deviation: runs of SP and trailing SP are tolerated (RFC 4475 §3.1.2.9 lwsstart, §3.1.2.10 trws allow
    // it); they are never forwarded since we rebuild the line.
    const parts = splitSp(startLine);
    method = parts[0] ?? '';
    // §7.1 / §25.1: Method = INVITEm / ACKm / ... / extension-method (token); case-sensitive.
    if (!isToken(method)) return drop('Malformed Request-Line');
    if (parts.length !== 3) {
      // e.g. RFC 4475 §3.1.2.8 lwsruri: LWS inside the Request-URI.
      error ??= BAD + 'Malformed Request-Line';
      uri = placeholderUri(parts.slice(1).join(' '));
      const last = parts[parts.length - 1]!;
      if (parts.length > 3 && isSipVersion(last)) version = last;
    } else {
      version = parts[2]!;
      const ruri = parts[1]!;
      const r = ruri.charCodeAt(0) === 0x3c ? null : parseUri(ruri);
      if (r === null || !r.ok) {
        // RFC 4475 §3.1.2.7 ltgtruri: '<uri>' as Request-URI is rejected.
        error ??= BAD + 'Malformed Request-URI';
        uri = placeholderUri(ruri);
      } else {
        uri = r.value;
        // §19.1.1 table 1: the headers component is not allowed in a Request-URI (RFC 4475 §3.1.2.11 escruri).
        if (uri.headers.length > 0) error ??= BAD + 'Request-URI must not contain headers';
      }
    }
    if (!isSipVersion(version)) error ??= BAD + 'Malformed SIP-Version';
    else if (!isSip20(version)) {
      // §8.2 / §21.5.26: 505 Version Not Supported (RFC 4475 §3.1.2.16 badvers). Takes precedence.
      error = 'Version Not Supported';
      status = 505;
    }
  }

  // ---- Header lines: unfold (§7.3.1), canonical names, compact forms (§7.3.3) ----
  const headers: Header[] = [];
  const lineError = scanHeaderLines(head.text, firstLineEnd, headers);
  if (lineError !== undefined) error ??= BAD + lineError;

  // ---- Mandatory headers (§8.1.1) and single-valued duplicates (RFC 4475 §3.3.8 multi01) ----
  let viaH: Header[] | undefined;
  let fromH: Header | undefined;
  let toH: Header | undefined;
  let callIdH: Header | undefined;
  let cseqH: Header | undefined;
  let mfH: Header | undefined;
  let clH: Header | undefined;
  let hasContact = false;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    switch (h.name) {
      case 'via':
        (viaH ??= []).push(h);
        break;
      case 'from':
        if (fromH !== undefined) error ??= BAD + 'Duplicate From header';
        else fromH = h;
        break;
      case 'to':
        if (toH !== undefined) error ??= BAD + 'Duplicate To header';
        else toH = h;
        break;
      case 'call-id':
        if (callIdH !== undefined) error ??= BAD + 'Duplicate Call-ID header';
        else callIdH = h;
        break;
      case 'cseq':
        if (cseqH !== undefined) error ??= BAD + 'Duplicate CSeq header';
        else cseqH = h;
        break;
      case 'max-forwards':
        if (mfH !== undefined) error ??= BAD + 'Duplicate Max-Forwards header';
        else mfH = h;
        break;
      case 'content-length':
        // Identical repeats are harmless; conflicting ones are a framing error (RFC 4475 §3.3.9 mcl01).
        if (clH !== undefined) {
          if (clH.value !== h.value) error ??= BAD + 'Conflicting Content-Length headers';
        } else clH = h;
        break;
      case 'contact':
        hasContact = true;
        break;
    }
  }

  // Via: every value must parse; if not, the top one parsed leniently still tells where to answer (§18.2.2).
  let via: readonly Via[] = [];
  if (viaH === undefined) error ??= BAD + 'Missing Via header';
  else {
    const all: Via[] = [];
    let bad = false;
    for (const h of viaH) {
      const r = parseViaList(h.value);
      if (!r.ok) {
        bad = true;
        break;
      }
      for (const v of r.value) all.push(v);
    }
    if (!bad) via = all;
    else {
      error ??= BAD + 'Malformed Via header';
      const top = parseVia(splitTopLevelCommas(viaH[0]!.value)[0] ?? '', true);
      if (top.ok) via = [top.value];
    }
    // §17.1.1.3 / RFC 4475 §3.2.1 badbranch: a branch that is only the magic cookie identifies nothing.
    if (via.length > 0 && via[0]!.branch === MAGIC_COOKIE) error ??= BAD + 'Malformed Via branch';
  }

  let from: NameAddr;
  let to: NameAddr;
  [from, error] = nameAddrHeader(fromH, 'From', error);
  [to, error] = nameAddrHeader(toH, 'To', error);

  let callId = '';
  if (callIdH === undefined) error ??= BAD + 'Missing Call-ID header';
  else {
    callId = callIdH.value;
    // callid = word [ "@" word ]: no whitespace.
    if (callId === '' || /\s/.test(callId)) error ??= BAD + 'Malformed Call-ID header';
  }

  let cseq: CSeq | undefined;
  if (cseqH === undefined) error ??= BAD + 'Missing CSeq header';
  else {
    const r = parseCSeq(cseqH.value);
    if (!r.ok) error ??= BAD + `Malformed CSeq header (${r.error})`;
    else {
      cseq = r.value;
      // §20.16: "The method MUST match that of the request" (RFC 4475 §3.1.2.17 mismatch01).
      if (isRequest && cseq.method !== method) error ??= BAD + 'CSeq method does not match request method';
    }
  }
  cseq ??= { seq: 0, method };

  let maxForwards: number | null = null;
  if (mfH !== undefined) {
    // §20.22: Max-Forwards = 1*DIGIT, 0-255 (RFC 4475 §3.1.2.4 scalar02 sends 300).
    const n = parseUint(mfH.value, 255);
    if (n < 0) error ??= BAD + 'Invalid Max-Forwards header';
    else maxForwards = n;
  }

  // ---- Body framing (§18.3, §20.14) ----
  const available = buf.length - head.bodyStart;
  let body: Buffer;
  if (clH === undefined) {
    // §18.3: on UDP a missing Content-Length means the body runs to the end of the datagram (RFC 4475 §3.4.1
    // inv2543). On a stream the framer has already cut the message (a missing Content-Length counts as 0).
    body = buf.subarray(head.bodyStart);
  } else {
    const n = parseUint(clH.value, MAX_CONTENT_LENGTH);
    if (n < 0) {
      // RFC 4475 §3.1.2.3 ncl: -999 must never be used as a size.
      error ??= BAD + 'Invalid Content-Length header';
      body = buf.subarray(buf.length);
    } else if (n > available) {
      // RFC 4475 §3.1.2.2 clerr: §18.3 "If the message is shorter ... the message is rejected with 400".
      error ??= BAD + 'Content-Length larger than body';
      body = buf.subarray(head.bodyStart);
    } else {
      // §18.3: extra octets after Content-Length are discarded (RFC 4475 §3.1.1.8 dblreq).
      body = buf.subarray(head.bodyStart, head.bodyStart + n);
    }
  }

  // Object literals, not spreads: this is the hot path (a spread here cost ~2 µs per message).
  if (!isRequest) {
    if (error !== undefined) return drop(error);
    if (statusCode < 100) return drop('Invalid status code');
    const response = new Response({ version, headers, body, via, from, to, callId, cseq, status: statusCode, reason });
    return { ok: true, message: response };
  }

  const request = new Request({ version, headers, body, via, from, to, callId, cseq, method, uri: uri!, maxForwards });
  // Contact is validated for requests now (it is cached for the registrar/dialog layer anyway).
  if (hasContact && error === undefined) {
    const c = request.contacts();
    if (!c.ok) error ??= BAD + 'Malformed Contact header';
  }
  if (error === undefined) return { ok: true, message: request };
  // Answerable only if the response can be routed: a usable top Via (§18.2.2).
  if (via.length === 0) return drop(error);
  return { ok: false, error, status, request };
}

/** From/To (§20.20, §20.39): parsed, or a placeholder plus the first error. */
function nameAddrHeader(
  h: Header | undefined,
  label: string,
  error: string | undefined,
): [NameAddr, string | undefined] {
  if (h === undefined) return [placeholderNameAddr(''), error ?? `${BAD}Missing ${label} header`];
  const r: Result<NameAddr> = parseNameAddr(h.value);
  if (!r.ok) return [placeholderNameAddr(h.value), error ?? `${BAD}Malformed ${label} header`];
  return [r.value, error];
}

/** Split on runs of SP (Request-Line elements). */
function splitSp(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    const sp = line.indexOf(' ', i);
    const end = sp === -1 ? line.length : sp;
    if (end > i) out.push(line.slice(i, end));
    i = end + 1;
  }
  return out;
}
