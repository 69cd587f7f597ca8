/**
 * Messages the transaction layer builds itself: the ACK for a non-2xx final response (§17.1.1.3), CANCEL
 * (§9.1), 100 Trying (§17.2.1, §8.2.6.1) and the synthesised 408/503 handed to the TU (§8.1.3.1).
 */
import { createRequest, createResponse, newTag } from '../message/build.ts';
import type { SipRequest, SipResponse } from '../message/types.ts';

/**
 * RFC 3261 §17.1.1.3 Construction of the ACK Request:
 * "The ACK request constructed by the client transaction MUST contain values for the Call-ID, From, and
 * Request-URI that are equal to the values of those header fields in the request passed to the transport by
 * the client transaction (call this the "original request"). The To header field in the ACK MUST equal the To
 * header field in the response being acknowledged ... The ACK MUST contain a single Via header field, and this
 * MUST be equal to the top Via header field of the original request. The CSeq header field in the ACK MUST
 * contain the same value for the sequence number as was present in the original request, but the method
 * parameter MUST be equal to "ACK". If the INVITE request whose response is being acknowledged had Route header
 * fields, those header fields MUST appear in the ACK."
 */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const headers: Array<readonly [string, string]> = [
    ['Via', topViaText(invite)],
    // §8.1.1.6 (the ACK is a new request sent by this element).
    ['Max-Forwards', '70'],
  ];
  for (const route of invite.getAll('route')) headers.push(['Route', route]);
  headers.push(
    ['From', invite.get('from') ?? invite.from.raw],
    ['To', response.get('to') ?? response.to.raw],
    ['Call-ID', invite.callId],
    ['CSeq', `${invite.cseq.seq} ACK`],
  );
  return createRequest({ method: 'ACK', uri: invite.uri.raw, headers });
}

/**
 * RFC 3261 §9.1 Client Behavior:
 * "The Request-URI, Call-ID, To, the numeric part of CSeq, and From header fields in the CANCEL request MUST be
 * identical to those in the request being cancelled, including tags. A CANCEL constructed by a client MUST
 * have only a single Via header field value matching the top Via value in the request being cancelled. ...
 * the method part of the CSeq header field MUST have a value of CANCEL. If the request being cancelled contains
 * a Route header field, the CANCEL request MUST include that Route header field's values."
 */
export function buildCancel(request: SipRequest): SipRequest {
  const headers: Array<readonly [string, string]> = [
    ['Via', topViaText(request)],
    ['Max-Forwards', '70'],
  ];
  for (const route of request.getAll('route')) headers.push(['Route', route]);
  headers.push(
    ['From', request.get('from') ?? request.from.raw],
    ['To', request.get('to') ?? request.to.raw],
    ['Call-ID', request.callId],
    ['CSeq', `${request.cseq.seq} CANCEL`],
  );
  return createRequest({ method: 'CANCEL', uri: request.uri.raw, headers });
}

/**
 * RFC 3261 §17.2.1: "the server transaction MUST generate a 100 (Trying) response". §8.2.6.1: "When a 100
 * (Trying) response is generated, any Timestamp header field present in the request MUST be copied into this
 * 100 (Trying) response."
 */
export function buildTrying(request: SipRequest): SipResponse {
  const ts = request.get('timestamp');
  return createResponse(request, 100, 'Trying', ts === undefined ? undefined : { headers: [['Timestamp', ts]] });
}

/** RFC 3261 §9.2: "the UAS SHOULD respond to the INVITE with a 487 (Request Terminated)". A final response to a
 * dialog-creating INVITE carries a To tag (§8.2.6.2); a re-INVITE already has one. */
export function buildRequestTerminated(invite: SipRequest): SipResponse {
  return createResponse(invite, 487, 'Request Terminated', invite.toTag === undefined ? { toTag: newTag() } : undefined);
}

/** RFC 3261 §8.1.3.1: a transaction timeout is treated as a 408, a transport failure as a 503. These responses
 * never touch the wire; they give the TU one response-shaped path for every outcome. */
export function synthesize(request: SipRequest, status: 408 | 503, reason: string): SipResponse {
  return createResponse(request, status, reason);
}

/** The top Via value exactly as sent (one value, even when the header line carried several). */
function topViaText(req: SipRequest): string {
  return req.getAll('via')[0] ?? req.via[0]?.raw ?? '';
}
