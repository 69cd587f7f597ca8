/**
 * Building outgoing messages: createRequest (UAC, RFC 3261 §8.1.1) and createResponse (UAS, §8.2.6).
 *
 * Misuse (a malformed URI or mandatory header handed in by our own code) throws TypeError; untrusted input
 * never reaches here unparsed.
 */
import type { NameAddr, SipRequest, SipResponse, Via } from './types.ts';
import { canonicalName } from './headers.ts';
import { Header, isPlaceholder, Request, Response } from './message.ts';
import { parseNameAddr } from './name-addr.ts';
import { parseUri } from './uri.ts';
import { parseViaList } from './via.ts';
import { parseCSeq } from './cseq.ts';
import { defaultReason } from './reasons.ts';
import { ParamList } from './params.ts';

export { defaultReason } from './reasons.ts';
export { newBranch, newCallId, newTag } from './ids.ts';

type HeaderTuples = ReadonlyArray<readonly [string, string]>;

const EMPTY_BODY = Buffer.alloc(0);

function toBody(body: Buffer | string | undefined): Buffer {
  if (body === undefined) return EMPTY_BODY;
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

function first(headers: readonly Header[], name: string): string {
  for (const h of headers) if (h.name === name) return h.value;
  throw new TypeError(`createRequest: missing ${name} header`);
}

function toHeaders(list: HeaderTuples): Header[] {
  const out: Header[] = [];
  for (const [n, v] of list) {
    const name = canonicalName(n);
    // Content-Length is computed from the body by serialize().
    if (name === 'content-length') continue;
    out.push(new Header(name, v, n));
  }
  return out;
}

/**
 * A request from its parts. §8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via are the caller's to supply
 * (use newBranch/newTag/newCallId); they are checked here. Content-Length is added by serialize().
 */
export function createRequest(init: {
  method: string;
  uri: string;
  headers: HeaderTuples;
  body?: Buffer | string;
}): SipRequest {
  const uri = parseUri(init.uri);
  if (!uri.ok) throw new TypeError(`createRequest: invalid Request-URI '${init.uri}': ${uri.error}`);
  const headers = toHeaders(init.headers);
  const via: Via[] = [];
  for (const h of headers) {
    if (h.name !== 'via') continue;
    const r = parseViaList(h.value);
    if (!r.ok) throw new TypeError(`createRequest: invalid Via '${h.value}': ${r.error}`);
    via.push(...r.value);
  }
  if (via.length === 0) throw new TypeError('createRequest: missing via header');
  const from = parseNameAddr(first(headers, 'from'));
  if (!from.ok) throw new TypeError(`createRequest: invalid From: ${from.error}`);
  const to = parseNameAddr(first(headers, 'to'));
  if (!to.ok) throw new TypeError(`createRequest: invalid To: ${to.error}`);
  const cseq = parseCSeq(first(headers, 'cseq'));
  if (!cseq.ok) throw new TypeError(`createRequest: invalid CSeq: ${cseq.error}`);
  if (cseq.value.method !== init.method) throw new TypeError('createRequest: CSeq method differs from method');
  return new Request({
    version: 'SIP/2.0',
    method: init.method,
    uri: uri.value,
    headers,
    body: toBody(init.body),
    via,
    from: from.value,
    to: to.value,
    callId: first(headers, 'call-id'),
    cseq: cseq.value,
  });
}

/**
 * A response to `req` (§8.2.6.2): "The From field of the response MUST equal the From header field of the request.
 * The Call-ID ... MUST equal ... The CSeq ... MUST equal ... The Via header field values in the response MUST equal
 * the Via header field values in the request and MUST maintain the same ordering." These are copied as the
 * request's header TEXT (no re-serialisation). "If a request contained a To tag in the request, the To header
 * field in the response MUST equal that of the request. However, if the To header field in the request did not
 * contain a tag, the URI in the To header field in the response MUST equal the URI in the To header field;
 * additionally, the UAS MUST add a tag to the To header field in the response (with the exception of the 100
 * (Trying) response, in which a tag MAY be present)." — pass `toTag` for that.
 * Record-Route (§12.1.1) is not copied: a dialog-creating UAS passes it in `opts.headers`.
 */
export function createResponse(
  req: SipRequest,
  status: number,
  reason?: string,
  opts?: { headers?: HeaderTuples; body?: Buffer | string; toTag?: string },
): SipResponse {
  if (!Number.isInteger(status) || status < 100 || status > 699) {
    throw new TypeError(`createResponse: invalid status ${status}`);
  }
  const headers: Header[] = [];
  let to: NameAddr | undefined = req.to;
  const addTag =
    opts?.toTag !== undefined && status > 100 && req.toTag === undefined && !isPlaceholder(req.to);
  // Only the first From/To/Call-ID/CSeq (a broken request may repeat them: RFC 4475 §3.3.8 multi01).
  let seen = 0;
  for (const h of req.headers) {
    switch (h.name) {
      case 'via':
        headers.push(h as Header);
        break;
      case 'from':
        if ((seen & 1) === 0) headers.push(h as Header);
        seen |= 1;
        break;
      case 'call-id':
        if ((seen & 2) === 0) headers.push(h as Header);
        seen |= 2;
        break;
      case 'cseq':
        if ((seen & 4) === 0) headers.push(h as Header);
        seen |= 4;
        break;
      case 'to':
        if ((seen & 8) !== 0) break;
        seen |= 8;
        if (addTag) {
          const value = `${h.value};tag=${opts!.toTag!}`;
          headers.push(new Header('to', value, (h as Header).wire ?? 'To'));
          const items: Array<string | null> = [];
          if (req.to.params.size > 0) for (const [k, v] of req.to.params) if (k !== 'tag') items.push(k, v);
          items.push('tag', opts!.toTag!);
          to = { displayName: req.to.displayName, uri: req.to.uri, params: new ParamList(items), raw: value };
        } else headers.push(h as Header);
        break;
    }
  }
  if (opts?.headers !== undefined) for (const h of toHeaders(opts.headers)) headers.push(h);
  return new Response({
    version: 'SIP/2.0',
    status,
    reason: reason ?? defaultReason(status),
    headers,
    body: toBody(opts?.body),
    via: req.via,
    from: req.from,
    to,
    callId: req.callId,
    cseq: req.cseq,
  });
}
