/**
 * Address-of-record canonical form (RFC 3261 §10.3 step 5): "all URI parameters MUST be removed (including the
 * user-param), and any escaped characters MUST be converted to their unescaped form. The result serves as an
 * index into the list of bindings."
 *
 * Canonical AOR = `sip:` user `@` host [`:` port] with the user unescaped (as the parser gives it, so
 * `null-%00-null` keeps its NUL and is not cut short — RFC 4475 §3.1.1.4 escnull) and the host lowercased.
 * `sips:` AORs map to the same `sip:` key: one user, one set of bindings (each Contact keeps its own scheme).
 */
import type { SipUri } from '../sip/message/types.ts';

/** True for URIs that can name an AOR (sip / sips with a user part). */
export function isAorUri(uri: SipUri): boolean {
  return (uri.scheme === 'sip' || uri.scheme === 'sips') && uri.user !== undefined && uri.host !== '';
}

/** The canonical AOR key. `host` overrides the URI's host (the registrar maps its own names to its domain). */
export function canonicalAor(uri: SipUri, host: string = uri.host): string {
  const port = host === uri.host && uri.port !== undefined ? `:${uri.port}` : '';
  return `sip:${uri.user ?? ''}@${host.toLowerCase()}${port}`;
}
