/**
 * IP address helpers for the transport layer: bracket handling (RFC 5118 / RFC 3986 IP-literal), IPv4-mapped
 * IPv6 normalisation for dual-stack sockets, and address comparison for the §18.2.1 `received` rule.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';

/** `[2001:db8::1]` → `2001:db8::1`; anything else unchanged. Sockets want IPv6 without brackets. */
export function stripBrackets(host: string): string {
  return host.length > 1 && host.charCodeAt(0) === 0x5b /* [ */ && host.charCodeAt(host.length - 1) === 0x5d
    ? host.slice(1, -1)
    : host;
}

/** `2001:db8::1` → `[2001:db8::1]` (the form used in Via sent-by, URIs and host:port, RFC 3261 §25.1). */
export function bracketHost(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/**
 * A dual-stack IPv6 socket reports IPv4 peers as `::ffff:a.b.c.d`; the rest of the stack (Via received,
 * connection keys, bindings) uses the plain IPv4 form so the same peer has one address.
 */
export function normalizeAddress(address: string): string {
  // Fast path: only an address with both ':' and '.' can be IPv4-mapped.
  if (address.length > 7 && address.charCodeAt(0) === 0x3a /* : */ && address.includes('.')) {
    const lower = address.toLowerCase();
    if (lower.startsWith('::ffff:')) {
      const v4 = address.slice(7);
      if (isIPv4(v4)) return v4;
    }
  }
  return address;
}

/** The address to give a socket of `family` for `address` (IPv4 on a dual-stack IPv6 socket → `::ffff:a.b.c.d`). */
export function socketAddressFor(address: string, family: 4 | 6): string {
  const a = stripBrackets(address);
  return family === 6 && isIPv4(a) ? `::ffff:${a}` : a;
}

/**
 * Whether two hosts name the same IP address (case-insensitive; IPv6 compared in canonical form, so
 * `[0:0::1]` equals `::1`). A domain name never equals an IP address here (RFC 3261 §18.2.1 then adds
 * `received`, which is what the RFC wants: "if the host portion of the sent-by is a domain name ... the server
 * MUST add a received parameter").
 */
export function sameAddress(host: string, address: string): boolean {
  const h = stripBrackets(host);
  if (h === address) return true;
  if (h.length === address.length && h.toLowerCase() === address.toLowerCase()) return true;
  if (isIPv6(h) && isIPv6(address)) return canonicalIPv6(h) === canonicalIPv6(address);
  return false;
}

function canonicalIPv6(a: string): string {
  try {
    return new URL(`http://[${a}]/`).hostname;
  } catch {
    return a.toLowerCase();
  }
}

/** 0.0.0.0 or :: (or an IPv6 spelling of it). */
export function isWildcard(host: string): boolean {
  const h = stripBrackets(host);
  return h === '0.0.0.0' || (isIPv6(h) && canonicalIPv6(h) === '[::]');
}

/**
 * The address to advertise in Via sent-by / Contact for a bind address: the bind address itself, or for a
 * wildcard bind the first non-internal interface address (IPv4 preferred; for `::` an IPv6 global address
 * when there is no IPv4), falling back to 127.0.0.1.
 */
export function defaultAdvertise(host: string): string {
  if (!isWildcard(host)) return stripBrackets(host);
  const v6Allowed = stripBrackets(host) !== '0.0.0.0';
  let v6: string | undefined;
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      if (ni.internal) continue;
      if (ni.family === 'IPv4') return ni.address;
      // Link-local IPv6 needs a zone id and is useless to remote peers.
      if (v6Allowed && !v6 && ni.family === 'IPv6' && !ni.address.toLowerCase().startsWith('fe80')) v6 = ni.address;
    }
  }
  return v6 ?? '127.0.0.1';
}

/** 4 or 6 for an IP literal (brackets allowed), 0 for anything else. */
export function ipFamily(host: string): 0 | 4 | 6 {
  return isIP(stripBrackets(host)) as 0 | 4 | 6;
}

/**
 * 16 bytes of an IPv6 address (no brackets, no zone), or undefined when it is not one. Handles `::` and an
 * embedded dotted IPv4 tail. Used for STUN XOR-MAPPED-ADDRESS.
 */
export function ipv6Bytes(address: string): Buffer | undefined {
  if (!isIPv6(address)) return undefined;
  let text = address;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // Embedded IPv4 tail (`::ffff:1.2.3.4`): rewrite it as two hex groups.
    const v4 = text.slice(lastColon + 1).split('.').map(Number);
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const parse = (part: string): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const gap = text.indexOf('::');
  let groups: number[];
  if (gap < 0) {
    groups = parse(text);
  } else {
    const head = parse(text.slice(0, gap));
    const rest = parse(text.slice(gap + 2));
    groups = [...head, ...new Array<number>(Math.max(0, 8 - head.length - rest.length)).fill(0), ...rest];
  }
  if (groups.length !== 8) return undefined;
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i]! & 0xffff, i * 2);
  return out;
}
