/**
 * Fixtures for the dialog layer tests: a real TransactionLayer on a ManualClock over a fake transport that
 * records every message as it would cross the wire (serialize → parseMessage), and phones' messages written as
 * literal SIP text.
 *
 * Addresses: the focus is 192.0.2.1:5060, the phone 192.0.2.20:5070 (RFC 5737 documentation range).
 */
import assert from 'node:assert/strict';
import { ManualClock } from '../../registrar/sip/clock.ts';
import { silentLogger } from '../../registrar/log.ts';
import { createResponse } from '../../registrar/sip/message/build.ts';
import { parseMessage } from '../../registrar/sip/message/parse.ts';
import { serialize } from '../../registrar/sip/message/serialize.ts';
import type { SipMessage, SipRequest, SipResponse } from '../../registrar/sip/message/types.ts';
import type { Endpoint, SendCallback, Source, TransportProtocol } from '../../registrar/sip/transport/types.ts';
import { TransactionLayer, type ServerTransaction } from '../../registrar/sip/transaction/index.ts';
import { DialogLayer } from '../../registrar/sip/dialog/dialog-layer.ts';

export const T1 = 500;
export const T2 = 4000;
export const FOCUS_CONTACT = '<sip:focus@192.0.2.1:5060>';

export interface Sent {
  /** What the peer would parse from the bytes. */
  readonly msg: SipMessage;
  readonly text: string;
  readonly at: number;
  readonly to: Endpoint;
}

/** A transport that sends nothing: it records the wire form of each message and the time it left. */
export class WireTransport {
  readonly sent: Sent[] = [];

  constructor(private readonly clock: ManualClock) {}

  viaSentBy(protocol: TransportProtocol): { host: string; port: number; transport: string } {
    return { host: '192.0.2.1', port: 5060, transport: protocol.toUpperCase() };
  }

  sendRequest(req: SipRequest, dest: Endpoint, cb?: SendCallback): void {
    this.record(req, dest);
    cb?.();
  }

  sendResponse(res: SipResponse, source: Source, cb?: SendCallback): void {
    this.record(res, { protocol: source.protocol, address: source.address, port: source.port });
    cb?.();
  }

  private record(m: SipMessage, to: Endpoint): void {
    const bytes = serialize(m);
    const r = parseMessage(bytes);
    assert.ok(r.ok, `we sent something unparseable: ${r.ok ? '' : r.error}\n${bytes.toString()}`);
    this.sent.push({ msg: r.message, text: bytes.toString('utf8'), at: this.clock.now(), to });
  }

  requests(method?: string): SipRequest[] {
    const out: SipRequest[] = [];
    for (const s of this.sent) if (s.msg.kind === 'request' && (method === undefined || s.msg.method === method)) out.push(s.msg);
    return out;
  }

  responses(status?: number, method?: string): SipResponse[] {
    const out: SipResponse[] = [];
    for (const s of this.sent) {
      if (s.msg.kind !== 'response') continue;
      if (status !== undefined && s.msg.status !== status) continue;
      if (method !== undefined && s.msg.cseq.method !== method) continue;
      out.push(s.msg);
    }
    return out;
  }

  /** The record of the last request with this method. */
  last(method: string): Sent {
    const s = this.sent.filter((x) => x.msg.kind === 'request' && x.msg.method === method).at(-1);
    assert.ok(s, `no ${method} was sent`);
    return s;
  }

  times(pred: (m: SipMessage) => boolean): number[] {
    return this.sent.filter((s) => pred(s.msg)).map((s) => s.at);
  }
}

export function phone(protocol: TransportProtocol = 'udp'): Source {
  return { protocol, address: '192.0.2.20', port: 5070, local: { protocol, address: '192.0.2.1', port: 5060 } };
}

/** Parse literal SIP text (lines joined with CRLF; the body, if any, after the blank line). */
export function parse<T extends SipMessage>(lines: readonly string[], body = ''): T {
  const text = `${lines.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const r = parseMessage(Buffer.from(text));
  assert.ok(r.ok, `fixture did not parse: ${r.ok ? '' : r.error}\n${text}`);
  return r.message as T;
}

export const OFFER = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 192.0.2.20',
  's=-',
  'c=IN IP4 192.0.2.20',
  't=0 0',
  'm=audio 49170 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
].join('\r\n');

export const ANSWER = [
  'v=0',
  'o=sipmeet 1 1 IN IP4 192.0.2.1',
  's=-',
  'c=IN IP4 192.0.2.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
].join('\r\n');

/** The phone's dialog identity for one call. */
export interface Call {
  callId: string;
  fromTag: string;
  /** Our tag, once we answered. */
  toTag?: string;
  transport?: 'UDP' | 'TCP';
}

let branchSeq = 0;
export function branch(): string {
  return `z9hG4bKphone${++branchSeq}`;
}

/** An initial INVITE as a phone sends it. */
export function inviteText(call: Call, opts: { cseq?: number; recordRoute?: string[]; contact?: string; body?: string } = {}): SipRequest {
  const t = call.transport ?? 'UDP';
  const contact = opts.contact ?? `<sip:alice@192.0.2.20:5070${t === 'TCP' ? ';transport=tcp' : ''}>`;
  const lines = [
    'INVITE sip:conf1@192.0.2.1:5060 SIP/2.0',
    `Via: SIP/2.0/${t} 192.0.2.20:5070;branch=${branch()};rport`,
    ...(opts.recordRoute ?? []).map((r) => `Record-Route: ${r}`),
    'Max-Forwards: 70',
    `From: "Alice" <sip:alice@example.com>;tag=${call.fromTag}`,
    'To: <sip:conf1@192.0.2.1>',
    `Call-ID: ${call.callId}`,
    `CSeq: ${opts.cseq ?? 1} INVITE`,
    `Contact: ${contact}`,
    'User-Agent: Linphone/5.1.65',
    'Content-Type: application/sdp',
  ];
  return parse(lines, opts.body ?? OFFER);
}

/** A request inside the dialog from the phone (BYE, MESSAGE, re-INVITE, ACK ...). */
export function inDialogText(
  call: Call,
  method: string,
  cseq: number,
  opts: { contact?: string; body?: string; contentType?: string; viaBranch?: string; uri?: string } = {},
): SipRequest {
  const t = call.transport ?? 'UDP';
  const lines = [
    `${method} ${opts.uri ?? 'sip:focus@192.0.2.1:5060'} SIP/2.0`,
    `Via: SIP/2.0/${t} 192.0.2.20:5070;branch=${opts.viaBranch ?? branch()};rport`,
    'Max-Forwards: 70',
    `From: "Alice" <sip:alice@example.com>;tag=${call.fromTag}`,
    `To: <sip:conf1@192.0.2.1>;tag=${call.toTag ?? 'no-such-tag'}`,
    `Call-ID: ${call.callId}`,
    `CSeq: ${cseq} ${method}`,
  ];
  if (opts.contact) lines.push(`Contact: ${opts.contact}`);
  if (opts.body !== undefined) lines.push(`Content-Type: ${opts.contentType ?? 'application/sdp'}`);
  return parse(lines, opts.body ?? '');
}

/** The phone's response to a request we sent (copies Via/From/To/Call-ID/CSeq as text, adds its tag). */
export function responseText(
  req: SipRequest,
  status: number,
  reason: string,
  opts: { toTag?: string; contact?: string; recordRoute?: string[]; body?: string } = {},
): SipResponse {
  const to = req.get('to')!;
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    ...req.getAll('via').map((v) => `Via: ${v}`),
    ...(opts.recordRoute ?? []).map((r) => `Record-Route: ${r}`),
    `From: ${req.get('from')}`,
    `To: ${req.toTag === undefined && opts.toTag !== undefined ? `${to};tag=${opts.toTag}` : to}`,
    `Call-ID: ${req.callId}`,
    `CSeq: ${req.cseq.seq} ${req.cseq.method}`,
  ];
  if (opts.contact) lines.push(`Contact: ${opts.contact}`);
  if (opts.body !== undefined) lines.push('Content-Type: application/sdp');
  return parse(lines, opts.body ?? '');
}

/** Everything wired as the server wires it: transaction layer → dialog layer, orphan in-dialog requests → 481. */
export function setup() {
  const clock = new ManualClock();
  const transport = new WireTransport(clock);
  const transactions = new TransactionLayer({ transport, clock, logger: silentLogger(), timers: { T1, T2 } });
  const dialogs = new DialogLayer({ transactions, transport, clock, logger: silentLogger(), T1, T2 });
  /** Initial INVITEs (no To tag) the focus would handle, with their server transactions. */
  const invites: Array<{ req: SipRequest; tx: ServerTransaction }> = [];
  const handled: boolean[] = [];
  transactions.onRequest((req, tx) => {
    if (req.toTag !== undefined) {
      const ok = dialogs.handleRequest(req, tx);
      handled.push(ok);
      if (!ok) tx.respond(createResponse(req, 481, 'Call/Transaction Does Not Exist'));
      return;
    }
    invites.push({ req, tx });
  });
  transactions.onAck((ack) => dialogs.handleAck(ack));
  /** Deliver a message from the phone, as the transport would. */
  const receive = (message: SipMessage, src: Source = phone()) => {
    transactions.receive({ message, source: src, receivedAt: clock.now() });
  };
  return { clock, transport, transactions, dialogs, invites, handled, receive };
}

export type Env = ReturnType<typeof setup>;

/** Events a dialog's owner saw. */
export function recorder() {
  const ev = {
    requests: [] as SipRequest[],
    acks: [] as SipRequest[],
    ended: [] as string[],
  };
  return ev;
}

/**
 * The phone calls; the focus answers 200 with SDP through `acceptInvite`. Returns the dialog and the call with
 * our tag filled in.
 */
export function answeredCall(env: Env, call: Call, opts: { recordRoute?: string[]; onRequest?: Parameters<DialogLayer['acceptInvite']>[2]['onRequest'] } = {}) {
  const ev = recorder();
  env.receive(inviteText(call, { recordRoute: opts.recordRoute }), phone(call.transport === 'TCP' ? 'tcp' : 'udp'));
  const inv = env.invites.at(-1);
  assert.ok(inv && inv.req.callId === call.callId, 'the INVITE reached the focus');
  const dialog = env.dialogs.acceptInvite(
    inv.tx,
    { localContact: FOCUS_CONTACT, body: ANSWER, contentType: 'application/sdp' },
    {
      onRequest: opts.onRequest ?? ((d, req, tx) => {
        ev.requests.push(req);
        tx.respond(createResponse(req, 200, 'OK'));
      }),
      onAck: (_d, ack) => ev.acks.push(ack),
      onTerminated: (_d, reason) => ev.ended.push(reason),
    },
  );
  const ok = env.transport.responses(200, 'INVITE').filter((r) => r.callId === call.callId).at(-1);
  assert.ok(ok, 'a 200 to the INVITE was sent');
  const answered: Call = { ...call, toTag: ok.toTag! };
  return { dialog, call: answered, ev, ok, invite: inv.req };
}

/** The phone's ACK for our 2xx. */
export function ackFor(call: Call, cseq: number, body?: string): SipRequest {
  return inDialogText(call, 'ACK', cseq, body === undefined ? {} : { body });
}

export { createResponse };
