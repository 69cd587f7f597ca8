/**
 * Turning a URI into the next-hop transport address.
 *
 * Deviation: RFC 3263 (DNS NAPTR/SRV/A lookups) is not implemented. sipmeet routes only to IP-literal hosts
 * (what registered contacts, Via received/rport and Record-Route of our own peers carry); a domain name that
 * is not an IP literal is reported as unresolvable, and the caller answers 404/480 or 503.
 */
import { isIP } from 'node:net';
import type { SipUri } from '../message/types.ts';
import type { Endpoint, TransportProtocol } from '../transport/types.ts';

export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** RFC 3261 §19.1.2 / RFC 3263 §4.1-4.2 without DNS: transport param → protocol, default port 5060 (5061 sips). */
export function uriToEndpoint(uri: SipUri): Endpoint | undefined {
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips') return undefined;
  const address = stripBrackets(uri.host);
  if (isIP(address) === 0) return undefined;
  const t = uri.params.get('transport');
  const protocol: TransportProtocol = t && t.toLowerCase() === 'tcp' ? 'tcp' : uri.scheme === 'sips' ? 'tcp' : 'udp';
  const port = uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060);
  return { protocol, address, port };
}
