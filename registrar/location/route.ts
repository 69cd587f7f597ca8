/**
 * From bindings to forwarding targets: how the proxy / focus reaches a registered user
 * (RFC 3261 §16.5–§16.6 target = Contact URI; RFC 3327 §5.3 Path; NAT handling as Kamailio's
 * `fix_nated_register` and RFC 5626 §5.3 flow reuse do).
 *
 * For each live binding with a sip/sips Contact:
 * - `requestUri` = the Contact URI as registered (without any `?headers` part, which `uriHeaders` carries);
 * - `route` = the binding's Path values, in order, as a preloaded Route set (RFC 3327 §5.3). When there is a
 *   Path, the request goes to its first hop (the edge proxy that saw the UA): no `destination` is set.
 * - `destination` = where to send the request instead of resolving the Request-URI (RFC 3263), set when the
 *   Contact cannot be trusted to be reachable:
 *     · the REGISTER came over TCP → the same connection (`connectionId`), as UAs behind NAT/firewalls
 *       cannot accept new inbound connections;
 *     · the Contact host is an IP literal that differs from the source address or port the REGISTER came
 *       from (a private address such as 192.168.x.y behind a NAT, or a NAT-rewritten port);
 *     · the Contact host is a `.invalid` name (RFC 7118 WebSocket clients).
 *   `natted` is true when the contact host/port differs from the source.
 *   A Contact with a DNS name that matches nothing of the above is resolved normally (no destination).
 */
import { isIP } from 'node:net';
import type { Endpoint } from '../sip/transport/types.ts';
import type { Binding } from './bindings.ts';

export interface RouteTarget {
  readonly binding: Binding;
  /** Request-URI for the forwarded request. */
  readonly requestUri: string;
  /** Headers embedded in the Contact URI (`?Route=…`, RFC 3261 §19.1.5), for the caller to apply or ignore. */
  readonly uriHeaders: ReadonlyArray<readonly [string, string]>;
  /** Route header values to preload (RFC 3327 Path). */
  readonly route: readonly string[];
  /** Send here (e.g. the NAT's public address / the TCP connection) instead of resolving the URI. */
  readonly destination?: Endpoint & { readonly connectionId?: number };
  readonly natted: boolean;
}

/** Targets for bindings (given highest q first, e.g. from `lookup`), skipping non-SIP contacts. */
export function routeTargets(bindings: readonly Binding[]): RouteTarget[] {
  const out: RouteTarget[] = [];
  for (const b of bindings) {
    const t = routeTarget(b);
    if (t) out.push(t);
  }
  return out;
}

export function routeTarget(b: Binding): RouteTarget | undefined {
  const uri = b.contact.uri;
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips') return undefined;
  const q = uri.raw.indexOf('?');
  const requestUri = q >= 0 ? uri.raw.slice(0, q) : uri.raw;
  const src = b.source;
  const host = stripBrackets(uri.host);
  const defaultPort = uri.scheme === 'sips' ? 5061 : 5060;
  // An IPv4 peer on a dual-stack socket shows up as ::ffff:a.b.c.d.
  const mapped = src.address.startsWith('::ffff:') && isIP(src.address.slice(7)) === 4;
  const srcAddress = mapped ? src.address.slice(7) : src.address;
  const natted = host !== srcAddress || (uri.port ?? defaultPort) !== src.port;
  const base = { binding: b, requestUri, uriHeaders: uri.headers, route: b.path };
  if (b.path.length > 0) return { ...base, natted: false };
  const viaSource =
    src.protocol === 'tcp' || (isIP(host) !== 0 && natted) || host.endsWith('.invalid');
  if (!viaSource) return { ...base, natted };
  const destination: Endpoint & { connectionId?: number } = {
    protocol: src.protocol,
    address: src.address,
    port: src.port,
    ...(src.connectionId !== undefined ? { connectionId: src.connectionId } : {}),
  };
  return { ...base, destination, natted };
}

/** RFC 1918 / RFC 6598 / loopback / link-local / RFC 4193 ULA addresses (for diagnostics and policy). */
export function isPrivateAddress(address: string): boolean {
  const a = stripBrackets(address).toLowerCase();
  const v = isIP(a);
  if (v === 4) {
    const [x, y] = a.split('.').map(Number) as [number, number];
    return (
      x === 10 ||
      x === 127 ||
      (x === 172 && y >= 16 && y <= 31) ||
      (x === 192 && y === 168) ||
      (x === 100 && y >= 64 && y <= 127) ||
      (x === 169 && y === 254)
    );
  }
  if (v === 6) return a === '::1' || a.startsWith('fc') || a.startsWith('fd') || a.startsWith('fe80:');
  return false;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
