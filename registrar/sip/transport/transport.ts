/**
 * The SIP transport layer (RFC 3261 §18, RFC 3581, RFC 5626 keep-alives): UDP and TCP on one host/port.
 *
 * Receive path (hot): datagram / framed stream message → `parseMessage` → §18.2.1 received/rport on requests →
 * `onMessage`. Nothing throws out of a socket callback; bad input is dropped and counted (`stats().dropped`), or
 * answered 400 statelessly when the parser could recover the request (`answered400`).
 * Send path: `serialize` → UDP from the listening socket, or TCP on an open connection (either direction) / a new
 * one. Responses are routed by §18.2.2 / RFC 3581 (`routing.ts`).
 *
 * Idle TCP connections close after `tcpIdleTimeoutMs` (default 10 min) measured on the injected clock
 * (`connection.ts`), so `ManualClock.advance()` drives it in tests.
 *
 * `stats().dropped` reasons: `unparseable` (no answerable request), `bad-response` (a response that failed to
 * parse), `bad-ack` (a malformed ACK: never answered), `oversize`, `empty`, `missing-content-length` /
 * `bad-content-length` (stream framing; the connection is closed), `response-not-ours` (§18.1.2), `stun-other`,
 * `no-handler`, `handler-error`, `send-error`, `internal-error`, `tcp-error`, `tcp-write-backlog`, `tcp-refused`.
 *
 * Deviations: TLS, SCTP and WebSocket transports are not implemented (the Via transport token of a request is not
 * checked against the socket it arrived on). Multicast (maddr) responses are sent as unicast to maddr (routing.ts).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { systemClock, type Clock } from '../clock.ts';
import type { Logger } from '../../log.ts';
import { createResponse } from '../message/build.ts';
import { parseMessage } from '../message/parse.ts';
import { serialize } from '../message/serialize.ts';
import type { ParseResult, SipMessage, SipRequest, SipResponse, Via } from '../message/types.ts';
import { bracketHost, defaultAdvertise, normalizeAddress, sameAddress, stripBrackets } from './address.ts';
import { bindSockets } from './bind.ts';
import type { Connection } from './connection.ts';
import { DEFAULT_SIP_PORT, responseTarget, stampedVia, viaWithTransport } from './routing.ts';
import type { FramingError } from './stream-framer.ts';
import { isStun, stunBindingResponse } from './stun.ts';
import { TcpLayer } from './tcp.ts';
import type {
  Endpoint, Incoming, SendCallback, SipTransport, Source, TraceEvent, TransportProtocol, TransportStats,
} from './types.ts';
import { createUdpLayer, type UdpLayer } from './udp.ts';

export interface TransportOptions {
  /** Bind address: an IP literal ('127.0.0.1', '::1', '0.0.0.0', '::') or a name (resolved once). */
  host: string;
  /** 0: the OS picks (UDP first, TCP on the same number). */
  port: number;
  protocols?: TransportProtocol[];
  /** Address for Via sent-by / Contact (default: host; for a wildcard bind the first non-internal address). */
  advertise?: string;
  clock?: Clock;
  logger: Logger;
  /** Larger messages are dropped (UDP) or close the connection (TCP). Default 65535. */
  maxMessageSize?: number;
  /** Close a TCP connection idle this long (ms, on `clock`). Default 10 minutes; 0 or Infinity: never. */
  tcpIdleTimeoutMs?: number;
  /** Simultaneous TCP connections (accepted + opened). Default 10000. */
  maxTcpConnections?: number;
  /**
   * RFC 3261 §18.1.1: a UDP-bound request larger than this is sent over TCP instead (top Via transport rewritten),
   * falling back to UDP when the TCP connection is refused. Default 1300; Infinity disables.
   */
  udpMaxRequestSize?: number;
  /** RFC 3261 §18.1.2: drop responses whose top Via sent-by is not ours. Default true. */
  checkResponseSentBy?: boolean;
  /** Requested kernel receive buffer for the UDP socket (bytes). Default 4 MiB (capped by the OS). */
  udpRecvBufferSize?: number;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 65535;
/** A registrar at > 15k requests/s needs more than the default ~200 KB kernel buffer to ride out bursts. */
const DEFAULT_UDP_RECV_BUFFER = 4 * 1024 * 1024;
export const DEFAULT_TCP_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
/** RFC 3261 §18.1.1: "larger than 1300 bytes and the path MTU is unknown". */
export const UDP_MTU_THRESHOLD = 1300;

/** Bind and start a transport. Rejects with a readable Error when a port cannot be bound. */
export async function createTransport(opts: TransportOptions): Promise<SipTransport> {
  const protocols = opts.protocols ?? ['udp', 'tcp'];
  if (protocols.length === 0) throw new TypeError('createTransport: protocols must not be empty');
  let bindHost = stripBrackets(opts.host);
  if (!isIP(bindHost)) bindHost = (await lookup(bindHost)).address;
  const bound = await bindSockets(bindHost, opts.port, protocols, opts.udpRecvBufferSize ?? DEFAULT_UDP_RECV_BUFFER);
  const advertise = opts.advertise ?? (isIP(stripBrackets(opts.host)) ? defaultAdvertise(bindHost) : opts.host);
  return new Transport(opts, bindHost, bound, stripBrackets(advertise));
}

const CR = 0x0d;
const LF = 0x0a;
const STREAM = { stream: true } as const;

const FRAMING_REASON: Record<FramingError, string> = {
  'missing-content-length': 'Missing Content-Length',
  'bad-content-length': 'Bad Content-Length',
  oversize: 'Message Too Large',
};

class Transport implements SipTransport {
  readonly listening: readonly Endpoint[];
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly udp: UdpLayer | undefined;
  private readonly tcp: TcpLayer | undefined;
  private readonly port: number;
  private readonly maxMessageSize: number;
  private readonly udpMaxRequestSize: number;
  private readonly checkSentBy: boolean;
  private handler: ((incoming: Incoming) => void) | undefined;
  private tracer: ((ev: TraceEvent) => void) | undefined;
  private closing: Promise<void> | undefined;

  private received = 0;
  private sent = 0;
  private parseErrors = 0;
  private answered400 = 0;
  private keepAlives = 0;
  private stunBindings = 0;
  private readonly dropped: Record<string, number> = {};

  constructor(
    opts: TransportOptions,
    private readonly bindHost: string,
    bound: Awaited<ReturnType<typeof bindSockets>>,
    private readonly advertise: string,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger.child({ component: 'transport' });
    this.port = bound.port;
    this.maxMessageSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.udpMaxRequestSize = opts.udpMaxRequestSize ?? UDP_MTU_THRESHOLD;
    this.checkSentBy = opts.checkResponseSentBy ?? true;
    const listening: Endpoint[] = [];
    if (bound.udp) {
      const local: Endpoint = { protocol: 'udp', address: bindHost, port: bound.port };
      listening.push(local);
      this.udp = createUdpLayer(bound.udp, {
        local,
        logger: this.logger,
        onDatagram: (buf, address, port, borrowed) => this.onDatagram(buf, address, port, borrowed),
        onSendError: (err) => this.onSendError(err),
      }, opts.udpRecvBufferSize ?? DEFAULT_UDP_RECV_BUFFER);
    }
    if (bound.tcp) {
      const local: Endpoint = { protocol: 'tcp', address: bindHost, port: bound.port };
      listening.push(local);
      this.tcp = new TcpLayer(bound.tcp, local, {
        clock: this.clock,
        logger: this.logger,
        idleTimeoutMs: opts.tcpIdleTimeoutMs ?? DEFAULT_TCP_IDLE_TIMEOUT_MS,
        maxMessageSize: this.maxMessageSize,
        maxWriteBuffer: 4 * 1024 * 1024,
        maxConnections: opts.maxTcpConnections ?? 10000,
      }, {
        message: (conn, buf) => this.onStreamMessage(conn, buf),
        framingError: (conn, reason, head) => this.onFramingError(conn, reason, head),
        keepAlive: () => { this.keepAlives++; },
        // Idle, peer and shutdown closes are normal; framing errors are counted where they are handled.
        closed: (why) => { if (why === 'error' || why === 'write-backlog' || why === 'refused') this.drop(`tcp-${why}`); },
      });
    }
    this.listening = listening;
  }

  /**
   * SIP trace: every message received (before parsing) and sent, as bytes with the peer's address. For operators
   * (`--log-level trace`) and for tests that print a call's trace when they fail. Off (no cost) until set.
   */
  onTrace(fn: ((ev: TraceEvent) => void) | undefined): void {
    this.tracer = fn;
  }

  onMessage(handler: (incoming: Incoming) => void): void {
    this.handler = handler;
  }

  viaSentBy(protocol: TransportProtocol): { host: string; port: number; transport: string } {
    // The host goes into a Via header: IPv6 in brackets (RFC 3261 §25.1 `host = hostname / IPv4address / IPv6reference`).
    return { host: bracketHost(this.advertise), port: this.port, transport: protocol === 'tcp' ? 'TCP' : 'UDP' };
  }

  stats(): TransportStats {
    return {
      received: this.received,
      sent: this.sent,
      parseErrors: this.parseErrors,
      answered400: this.answered400,
      dropped: { ...this.dropped },
      tcpConnections: this.tcp?.size ?? 0,
      keepAlives: this.keepAlives,
      stunBindings: this.stunBindings,
      ...(this.udp ? { udpSocket: this.udp.kind } : {}),
    };
  }

  close(): Promise<void> {
    this.closing ??= Promise.all([this.udp?.close(), this.tcp?.close()]).then(() => undefined);
    return this.closing;
  }

  // Sending ------------------------------------------------------------------------------------------------------

  sendRequest(req: SipRequest, dest: Endpoint, cb?: SendCallback): void {
    try {
      const buf = serialize(req);
      if (dest.protocol === 'tcp') return this.sendTcp(dest, buf, cb);
      const topVia = req.via[0];
      if (buf.length > this.udpMaxRequestSize && this.tcp && topVia && !this.closing) {
        return this.sendLargeOverTcp(req, topVia, buf, dest, cb);
      }
      this.sendUdp(buf, dest.port, dest.address, cb);
    } catch (err) {
      // serialize() of a built message should not throw; if it does, the caller gets it as a transport error.
      cb?.(err as Error);
    }
  }

  sendResponse(res: SipResponse, requestSource: Source, cb?: SendCallback): void {
    try {
      const target = responseTarget(res.via[0], requestSource);
      const buf = serialize(res);
      if (target.protocol === 'tcp') this.sendTcp(target, buf, cb);
      else this.sendUdp(buf, target.port, target.address, cb);
    } catch (err) {
      cb?.(err as Error);
    }
  }

  private sendUdp(buf: Buffer, port: number, address: string, cb?: SendCallback): void {
    if (!this.udp) return cb?.(new Error('UDP is not enabled on this SIP transport'));
    this.sent++;
    if (this.tracer) this.trace('out', 'udp', address, port, buf);
    this.udp.send(buf, port, address, cb);
  }

  private sendTcp(dest: Endpoint & { connectionId?: number }, buf: Buffer, cb?: SendCallback): void {
    if (!this.tcp) return cb?.(new Error('TCP is not enabled on this SIP transport'));
    this.sent++;
    if (this.tracer) this.trace('out', 'tcp', dest.address, dest.port, buf);
    this.tcp.send(dest, buf, cb);
  }

  /**
   * RFC 3261 §18.1.1: "If a request is within 200 bytes of the path MTU, or if it is larger than 1300 bytes and the
   * path MTU is unknown, the request MUST be sent using an RFC 2914 congestion controlled transport protocol, such
   * as TCP. If this causes a change in the transport protocol from the one indicated in the top Via, the value in
   * the top Via MUST be changed." ... "if the attempt to establish the connection generates either an ICMP Protocol
   * Not Supported, or results in a TCP reset, the element SHOULD retry the request, using UDP."
   * The path MTU is never known here, so the 1300-byte rule applies. The client transaction keeps its UDP timers
   * (Timer A retransmissions go over the same TCP connection: harmless, the server transaction absorbs them).
   */
  private sendLargeOverTcp(req: SipRequest, topVia: Via, udpBuf: Buffer, dest: Endpoint, cb?: SendCallback): void {
    const tcpReq = req.edit({ topVia: viaWithTransport(topVia, 'TCP') });
    this.sendTcp({ protocol: 'tcp', address: dest.address, port: dest.port }, serialize(tcpReq), (err) => {
      const code = (err as NodeJS.ErrnoException | undefined)?.code;
      if (err && (code === 'ECONNREFUSED' || code === 'ECONNRESET') && this.udp) {
        this.sendUdp(udpBuf, dest.port, dest.address, cb);
      } else {
        cb?.(err);
      }
    });
  }

  private onSendError(err: Error): void {
    this.drop('send-error');
    if (this.logger.isLevelEnabled('debug')) this.logger.debug({ tag: 'send-error', err: err.message }, 'SIP send failed');
  }

  // Receiving ----------------------------------------------------------------------------------------------------

  /** `borrowed`: `data` is valid only during this call (udp.ts). */
  private onDatagram(data: Buffer, from: string, port: number, borrowed: boolean): void {
    try {
      let buf = data;
      if (buf.length > this.maxMessageSize) return this.drop('oversize');
      const address = normalizeAddress(from);
      const c0 = buf[0];
      if (c0 === undefined) return this.drop('empty');
      if (c0 === CR || c0 === LF) {
        // RFC 5626 §4.4.1 CRLF keep-alives over UDP are ignored (UDP keep-alive is STUN, §4.4.2).
        // Deviation: leading CRLFs before a start-line are skipped on UDP too (RFC 3261 §7.5 only asks it of streams).
        let i = 1;
        while (i < buf.length && (buf[i] === CR || buf[i] === LF)) i++;
        if (i === buf.length) { this.keepAlives++; return; }
        buf = buf.subarray(i);
      } else if ((c0 & 0xc0) === 0 && isStun(buf)) {
        return this.onStun(buf, address, port);
      }
      const source: Source = { protocol: 'udp', address, port, local: this.udp!.local };
      this.receive(buf, source, false, borrowed);
    } catch (err) {
      this.internalError(err, 'udp');
    }
  }

  private onStun(buf: Buffer, address: string, port: number): void {
    const res = stunBindingResponse(buf, address, port);
    if (!res) return this.drop('stun-other');
    this.stunBindings++;
    this.udp!.send(res, port, address);
  }

  private onStreamMessage(conn: Connection, buf: Buffer): void {
    try {
      this.receive(buf, conn.source, true, false);
    } catch (err) {
      this.internalError(err, 'tcp');
    }
  }

  /** A connection's stream could not be framed: answer 400 when the head names a request, then it closes. */
  private onFramingError(conn: Connection, reason: FramingError, head: Buffer | undefined): void {
    try {
      this.drop(reason);
      if (this.logger.isLevelEnabled('debug')) {
        this.logger.debug({ tag: 'framing-error', reason, remote: `${conn.source.address}:${conn.source.port}` }, 'closing SIP TCP connection');
      }
      if (!head) return;
      // Parse the head alone as a datagram would be (the body length is what is broken).
      const r = parseMessage(head);
      const req = r.ok ? (r.message.kind === 'request' ? r.message : undefined) : r.request;
      if (req) this.answerError(req, 400, FRAMING_REASON[reason], conn.source);
    } catch (err) {
      this.internalError(err, 'tcp');
    }
  }

  private trace(direction: 'in' | 'out', protocol: TransportProtocol, address: string, port: number, bytes: Buffer): void {
    try {
      this.tracer?.({ direction, protocol, address, port, bytes, at: this.clock.wallNow() });
    } catch {
      /* a tracer's bug never affects SIP */
    }
  }

  private receive(data: Buffer, source: Source, stream: boolean, borrowed: boolean): void {
    this.received++;
    let buf = data;
    if (this.tracer) {
      if (borrowed) buf = Buffer.from(data); // a tracer may keep the bytes
      borrowed = false;
      this.trace('in', source.protocol, source.address, source.port, buf);
    }
    let r = stream ? parseMessage(buf, STREAM) : parseMessage(buf);
    // A borrowed datagram is reused after this call; the parsed header values are strings of their own, but a
    // body is a subarray of the datagram: parse a copy (rare on the hot path: REGISTERs have no body).
    if (borrowed && r.ok && r.message.body.length > 0) r = parseMessage(Buffer.from(buf));
    if (!r.ok) return this.onParseFailure(r, buf, source);
    const msg = r.message;
    if (msg.kind === 'request') return this.deliver(this.stamp(msg, source), source);
    // RFC 3261 §18.1.2: "If the value of the sent-by parameter in that header field value does not correspond to a
    // value that the client transport is configured to insert into requests, the response MUST be silently
    // discarded."
    if (this.checkSentBy && !this.isOurSentBy(msg.via[0])) return this.drop('response-not-ours', msg, source);
    this.deliver(msg, source);
  }

  /** RFC 3261 §18.2.1 + RFC 3581 §4: add received / fill rport on the top Via. */
  private stamp(req: SipRequest, source: Source): SipRequest {
    const via = req.via[0];
    if (!via) return req;
    const text = stampedVia(via, source.address, source.port);
    return text === undefined ? req : req.edit({ topVia: text });
  }

  private isOurSentBy(via: Via | undefined): boolean {
    if (!via) return false;
    if ((via.port ?? DEFAULT_SIP_PORT) !== this.port) return false;
    return sameAddress(via.host, this.advertise) || sameAddress(via.host, this.bindHost);
  }

  private deliver(message: SipMessage, source: Source): void {
    const handler = this.handler;
    if (!handler) return this.drop('no-handler', message, source);
    try {
      handler({ message, source, receivedAt: this.clock.now() });
    } catch (err) {
      // A TU bug must not take the socket down or affect other peers.
      this.drop('handler-error');
      this.logger.error({ tag: 'handler-error', err }, 'SIP message handler threw');
    }
  }

  private onParseFailure(r: Extract<ParseResult, { ok: false }>, buf: Buffer, source: Source): void {
    this.parseErrors++;
    // RFC 3261 §17: an ACK is never answered.
    if (r.request && r.request.method !== 'ACK') {
      if (this.logger.isLevelEnabled('debug')) {
        this.logger.debug({ tag: 'parse-error-answered', error: r.error, src: `${source.address}:${source.port}` }, 'answering bad request');
      }
      return this.answerError(r.request, r.status ?? 400, r.error, source);
    }
    const reason = r.request ? 'bad-ack' : startsWithSip(buf) ? 'bad-response' : 'unparseable';
    this.drop(reason);
    if (this.logger.isLevelEnabled('debug')) {
      this.logger.debug({ tag: 'parse-drop', reason, error: r.error, src: `${source.address}:${source.port}` }, 'dropped SIP message');
    }
  }

  /** Stateless error response (RFC 3261 §8.2 / §21.4.1) to a request that could not be accepted. */
  private answerError(req: SipRequest, status: number, reason: string, source: Source): void {
    let stamped = req;
    try {
      stamped = this.stamp(req, source);
    } catch {
      // A Via the parser let through but edit() cannot handle: route from the unstamped Via / the source.
    }
    const res = createResponse(stamped, status, reasonPhrase(reason));
    this.answered400++;
    this.sendResponse(res, source);
  }

  private drop(reason: string, message?: SipMessage, source?: Source): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    if (message && this.logger.isLevelEnabled('debug')) {
      this.logger.debug(
        { tag: 'drop', reason, callId: message.callId, src: source ? `${source.address}:${source.port}` : undefined },
        'dropped SIP message',
      );
    }
  }

  private internalError(err: unknown, where: string): void {
    this.drop('internal-error');
    this.logger.error({ tag: 'transport-internal-error', where, err }, 'SIP transport internal error (message dropped)');
  }
}

function startsWithSip(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0x53 && buf[1] === 0x49 && buf[2] === 0x50 && buf[3] === 0x2f; // "SIP/"
}

/** RFC 3261 §25.1 Reason-Phrase: no CR/LF; keep it short. */
function reasonPhrase(text: string): string {
  const one = text.replace(/[\r\n\t]+/g, ' ').trim();
  return one.length > 120 ? one.slice(0, 120) : one || 'Bad Request';
}
