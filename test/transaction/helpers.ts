/**
 * Test fixtures for the transaction layer: a fake transport that records what was sent (and when, on the
 * ManualClock), message builders, and a `deliver` that round-trips messages through serialize/parse so the layer
 * sees exactly what it would see from the wire.
 */
import assert from 'node:assert/strict';
import { ManualClock } from '../../registrar/sip/clock.ts';
import { silentLogger } from '../../registrar/log.ts';
import { createRequest, createResponse, newBranch, newTag } from '../../registrar/sip/message/build.ts';
import { parseMessage } from '../../registrar/sip/message/parse.ts';
import { serialize } from '../../registrar/sip/message/serialize.ts';
import type { SipMessage, SipRequest, SipResponse } from '../../registrar/sip/message/types.ts';
import type { Endpoint, SendCallback, Source, TransportProtocol } from '../../registrar/sip/transport/types.ts';
import { TransactionLayer } from '../../registrar/sip/transaction/layer.ts';
import type { BaseTimers } from '../../registrar/sip/transaction/timers.ts';

export interface SentRecord {
  readonly msg: SipMessage;
  readonly at: number;
  readonly to: Endpoint;
}

export class FakeTransport {
  readonly sent: SentRecord[] = [];
  /** When set, every send reports this error to its callback. */
  failWith: Error | undefined;

  constructor(private readonly clock: ManualClock) {}

  sendRequest(req: SipRequest, dest: Endpoint, cb?: SendCallback): void {
    this.sent.push({ msg: req, at: this.clock.now(), to: dest });
    cb?.(this.failWith);
  }

  sendResponse(res: SipResponse, source: Source, cb?: SendCallback): void {
    this.sent.push({ msg: res, at: this.clock.now(), to: source });
    cb?.(this.failWith);
  }

  requests(method?: string): SipRequest[] {
    const out: SipRequest[] = [];
    for (const s of this.sent) if (s.msg.kind === 'request' && (method === undefined || s.msg.method === method)) out.push(s.msg);
    return out;
  }

  responses(status?: number): SipResponse[] {
    const out: SipResponse[] = [];
    for (const s of this.sent) if (s.msg.kind === 'response' && (status === undefined || s.msg.status === status)) out.push(s.msg);
    return out;
  }

  /** Times (ms) at which requests with this method were sent. */
  requestTimes(method: string): number[] {
    return this.sent.filter((s) => s.msg.kind === 'request' && s.msg.method === method).map((s) => s.at);
  }

  responseTimes(status: number): number[] {
    return this.sent.filter((s) => s.msg.kind === 'response' && s.msg.status === status).map((s) => s.at);
  }
}

export function setup(timers?: Partial<BaseTimers>) {
  const clock = new ManualClock();
  const transport = new FakeTransport(clock);
  const layer = new TransactionLayer({ transport, clock, logger: silentLogger(), ...(timers ? { timers } : {}) });
  return { clock, transport, layer };
}

export function peer(protocol: TransportProtocol = 'udp'): Endpoint {
  return { protocol, address: '192.0.2.10', port: 5060 };
}

export function source(protocol: TransportProtocol = 'udp', port = 5070): Source {
  return { protocol, address: '192.0.2.20', port, local: { protocol, address: '192.0.2.1', port: 5060 } };
}

/** serialize → parseMessage: what the layer would get from the wire. */
export function wire<T extends SipMessage>(m: T): T {
  const r = parseMessage(serialize(m));
  assert.ok(r.ok, `fixture did not parse: ${r.ok ? '' : r.error}`);
  return r.message as T;
}

/** Parse literal message text (lines joined with CRLF, blank line appended). */
export function text<T extends SipMessage>(lines: string[]): T {
  const r = parseMessage(Buffer.from(lines.join('\r\n') + '\r\n\r\n'));
  assert.ok(r.ok, `fixture did not parse: ${r.ok ? '' : r.error}`);
  return r.message as T;
}

export interface RequestOpts {
  method?: string;
  branch?: string | null;
  protocol?: TransportProtocol;
  sentBy?: string;
  cseq?: number;
  callId?: string;
  toTag?: string;
  fromTag?: string;
  routes?: string[];
  uri?: string;
}

/** A request as a UA would build it (branch null = RFC 2543 style, no branch at all). */
export function request(opts: RequestOpts = {}): SipRequest {
  const method = opts.method ?? 'INVITE';
  const transport = (opts.protocol ?? 'udp').toUpperCase();
  const branch = opts.branch === null ? '' : `;branch=${opts.branch ?? newBranch()}`;
  const headers: Array<readonly [string, string]> = [
    ['Via', `SIP/2.0/${transport} ${opts.sentBy ?? '192.0.2.20:5070'}${branch}`],
    ['Max-Forwards', '70'],
  ];
  for (const r of opts.routes ?? []) headers.push(['Route', r]);
  headers.push(
    ['From', `"Alice" <sip:alice@example.com>;tag=${opts.fromTag ?? 'a1b2c3'}`],
    ['To', `<sip:bob@example.com>${opts.toTag ? `;tag=${opts.toTag}` : ''}`],
    ['Call-ID', opts.callId ?? 'call-1@192.0.2.20'],
    ['CSeq', `${opts.cseq ?? 1} ${method}`],
    ['Contact', '<sip:alice@192.0.2.20:5070>'],
  );
  return createRequest({ method, uri: opts.uri ?? 'sip:bob@example.com', headers });
}

/** A response to `req` with a To tag for status > 100 (the peer's). */
export function response(req: SipRequest, status: number, toTag = 'peer-tag'): SipResponse {
  return createResponse(req, status, undefined, status > 100 ? { toTag } : undefined);
}

export function incoming(message: SipMessage, src: Source = source(), at = 0) {
  return { message: wire(message), source: src, receivedAt: at };
}

export { newBranch, newTag };
