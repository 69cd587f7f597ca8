/**
 * Pure routing rules of the transport layer:
 * - RFC 3261 §18.2.1 + RFC 3581 §4: the `received` / `rport` parameters a server adds to the top Via;
 * - RFC 3261 §18.2.2 + RFC 3581 §4: where a response goes;
 * - RFC 3261 §18.1.1: rewriting the top Via transport when a large request moves from UDP to TCP.
 */
import type { Via } from '../message/types.ts';
import { sameAddress, stripBrackets } from './address.ts';
import type { Source, TransportProtocol } from './types.ts';

/** RFC 3261 §18.2.2 / §19.1.2: the port when a Via sent-by has none. */
export const DEFAULT_SIP_PORT = 5060;

// `;rport` with no value (RFC 3581 §4), followed by another parameter or the end.
const RPORT_FLAG = /;\s*rport(?=\s*(?:;|$))/i;
const RECEIVED_PARAM = /;\s*received\s*=\s*[^;\s]*/i;

/**
 * The new top Via text for a request received from `srcAddress`:`srcPort`, or undefined when nothing changes.
 *
 * RFC 3261 §18.2.1: "if the host portion of the 'sent-by' field contains a domain name, or if it contains an IP
 * address that differs from the packet source address, the server MUST add a 'received' parameter to that Via
 * header field value. This parameter MUST contain the source address from which the packet was received."
 *
 * RFC 3581 §4: "If this Via header field value contains an 'rport' parameter with no value, it MUST set the value of
 * the parameter to the source port of the request. ... the server MUST insert a 'received' parameter containing
 * the source IP address that the request came from, even if it is identical to the value of the 'sent-by'".
 *
 * The edit works on the Via's raw text so that everything else (branch spelling, parameter order) reaches the
 * response byte for byte (the client compares its own Via, §18.1.2/§17.1.3).
 */
export function stampedVia(via: Via, srcAddress: string, srcPort: number): string | undefined {
  const rportFlag = via.params.has('rport') && !via.params.get('rport');
  const needReceived = rportFlag || !sameAddress(via.host, srcAddress);
  if (!needReceived) return undefined;
  let text = via.raw || formatVia(via);
  if (rportFlag) text = text.replace(RPORT_FLAG, `;rport=${srcPort}`);
  // received values are IP addresses without brackets (RFC 3261 §25.1 `received = "received" EQUAL (IPv4address
  // / IPv6address)`).
  if (via.params.has('received')) text = text.replace(RECEIVED_PARAM, `;received=${srcAddress}`);
  else text = `${text};received=${srcAddress}`;
  return text;
}

/** Rebuild a Via value from its parsed fields (only used when `raw` is empty, i.e. a hand-built Via). */
export function formatVia(via: Via): string {
  let s = `${via.protocol}/${via.transport} ${via.host}${via.port !== undefined ? `:${via.port}` : ''}`;
  let sawBranch = false;
  for (const [k, v] of via.params) {
    if (k === 'branch') sawBranch = true;
    s += v === null ? `;${k}` : `;${k}=${v}`;
  }
  if (!sawBranch && via.branch) s += `;branch=${via.branch}`;
  return s;
}

/**
 * RFC 3261 §18.1.1: "If this causes a change in the transport protocol from the one indicated in the top Via,
 * the value in the top Via MUST be changed." Returns the top Via text with its transport token replaced.
 */
export function viaWithTransport(via: Via, transport: string): string {
  const text = via.raw || formatVia(via);
  return text.replace(/^(\s*[^/\s]+\s*\/\s*[^/\s]+\s*\/\s*)[^\s]+/, `$1${transport}`);
}

/** Where a response goes: an existing connection (reliable) and/or an address. */
export interface ResponseTarget {
  readonly protocol: TransportProtocol;
  /** IP literal (or a name from an unstamped Via: the socket layer resolves it), no brackets. */
  readonly address: string;
  readonly port: number;
  /** Reliable transports: the connection the request arrived on (§18.2.2: "MUST be sent using the existing connection"). */
  readonly connectionId?: number;
}

/**
 * RFC 3261 §18.2.2 (+ RFC 3581 §4) response routing from the response's top Via and the request's source.
 *
 * Reliable (TCP): the existing connection; "If that connection is no longer open, the server SHOULD open a
 * connection to the IP address in the 'received' parameter, if present, using the port in the 'sent-by' value, or
 * the default port for that transport, if no port is specified."
 *
 * Unreliable (UDP):
 * - "if the top Via has a 'maddr' parameter, the response MUST be forwarded to the address listed there, using the
 *   port indicated in 'sent-by', or port 5060 if none is present."
 *   Deviation: multicast specifics (the `ttl` parameter, sending from a multicast-capable socket) are not
 *   implemented; the response is simply sent to maddr as a unicast destination.
 * - RFC 3581 §4: with an `rport` value, to the `received` address and the rport port (from the socket the request
 *   arrived on — the transport's single UDP socket per family).
 * - otherwise to `received` (or the sent-by host) at the sent-by port (default 5060).
 *
 * Deviation: a response whose top Via is missing (a 400 answering a request whose Via could not be parsed) goes
 * back to the request's source address and port, the only address known.
 * Deviation: a sent-by domain name with no `received` is not resolved with RFC 3263 §6 SRV procedures; it is handed to
 * the socket layer (A/AAAA lookup). The transport always adds `received` when sent-by is a name, so this only
 * happens for responses to requests that did not come through this transport.
 */
export function responseTarget(via: Via | undefined, source: Source): ResponseTarget {
  const protocol = source.protocol;
  if (!via) return { protocol, address: source.address, port: source.port, connectionId: source.connectionId };
  const received = via.params.get('received') || undefined;
  const sentByPort = via.port ?? DEFAULT_SIP_PORT;
  if (protocol === 'tcp') {
    return {
      protocol,
      address: stripBrackets(received ?? via.host),
      port: sentByPort,
      connectionId: source.connectionId,
    };
  }
  const maddr = via.params.get('maddr');
  if (maddr) return { protocol, address: stripBrackets(maddr), port: sentByPort };
  const rport = via.params.get('rport');
  if (rport) {
    const p = parsePort(rport);
    if (p !== undefined) return { protocol, address: stripBrackets(received ?? source.address), port: p };
  }
  return { protocol, address: stripBrackets(received ?? via.host), port: sentByPort };
}

function parsePort(text: string): number | undefined {
  if (text.length === 0 || text.length > 5) return undefined;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  return n > 0 && n <= 65535 ? n : undefined;
}
