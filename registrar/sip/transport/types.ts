/**
 * The transport layer's contract (RFC 3261 §18): what the transaction layer and the TU see.
 */
import type { SipMessage, SipRequest, SipResponse } from '../message/types.ts';

export type TransportProtocol = 'udp' | 'tcp';

/** A network address: `address` is an IP literal (IPv6 without brackets). */
export interface Endpoint {
  readonly protocol: TransportProtocol;
  readonly address: string;
  readonly port: number;
}

/** Where an incoming message came from. */
export interface Source extends Endpoint {
  /** The listening socket it arrived on. */
  readonly local: Endpoint;
  /** For TCP: the connection it arrived on (responses reuse it, §18.2.2). */
  readonly connectionId?: number;
}

export interface Incoming {
  readonly message: SipMessage;
  readonly source: Source;
  /** Clock.now() at receipt. */
  readonly receivedAt: number;
}

/** One message on the wire, for SIP traces. */
export interface TraceEvent {
  readonly direction: 'in' | 'out';
  readonly protocol: TransportProtocol;
  /** The peer's address and port. */
  readonly address: string;
  readonly port: number;
  readonly bytes: Buffer;
  /** Wall-clock ms. */
  readonly at: number;
}

export type SendCallback = (err?: Error) => void;

export interface SipTransport {
  /** Listening endpoints, one per protocol (and family) bound. */
  readonly listening: readonly Endpoint[];
  /**
   * Send a request to `dest` (for TCP: reuses an open connection to dest, or opens one; a `Source` with a
   * `connectionId` — e.g. the flow a REGISTER arrived on — pins that connection while it is open).
   * The top Via's sent-by and transport must already be filled in by the caller (`viaFor(dest)` helps).
   * Errors (ICMP-unreachable is not reported for UDP; connect failure for TCP) come to `cb` (§17.1.4).
   */
  sendRequest(req: SipRequest, dest: Endpoint, cb?: SendCallback): void;
  /** Send a response routed per §18.2.2 from its top Via (+ received/rport, RFC 3581) and the request's source. */
  sendResponse(res: SipResponse, requestSource: Source, cb?: SendCallback): void;
  /** The sent-by value (host:port) and transport token this transport advertises for dest's protocol. */
  viaSentBy(protocol: TransportProtocol): { host: string; port: number; transport: string };
  /** SIP trace of every message in and out (undefined turns it off). */
  onTrace(fn: ((ev: TraceEvent) => void) | undefined): void;
  /** Incoming valid messages (received/rport already added to a request's top Via). */
  onMessage(handler: (incoming: Incoming) => void): void;
  close(): Promise<void>;
  /** Counters: received, sent, dropped by reason. */
  stats(): TransportStats;
}

export interface TransportStats {
  received: number;
  sent: number;
  parseErrors: number;
  answered400: number;
  dropped: Record<string, number>;
  /** TCP connections open now (accepted + opened). */
  tcpConnections: number;
  /** RFC 5626 keep-alives seen: CRLFCRLF pings on streams (answered), CRLF-only datagrams (ignored). */
  keepAlives?: number;
  /** STUN Binding requests answered on the UDP SIP port (RFC 5626 §4.4.2 keep-alive). */
  stunBindings?: number;
  /** The UDP socket's kind: native batched recvmmsg/sendmmsg (net/udp/) or Node's dgram; absent without UDP. */
  udpSocket?: 'native' | 'dgram';
}

export type { SipMessage, SipRequest, SipResponse };
