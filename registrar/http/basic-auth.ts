/**
 * HTTP Basic authentication (RFC 7617) for the API's mutations, checked against the same users file as SIP
 * digest auth (registrar/sip/auth/users.ts).
 *
 * Deviation: Basic sends the password in clear on every request; sipmeet's HTTP API has no TLS. It is meant for
 * a trusted network or behind a TLS-terminating reverse proxy (docs/configuration.md).
 */
import { timingSafeEqual } from 'node:crypto';
import type { DigestAlgorithm, UserDirectory } from '../sip/auth/users.ts';
import { computeHa1 } from '../sip/auth/hash.ts';

export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

/** The realm of the `WWW-Authenticate` challenge (RFC 7617 §2). */
export const BASIC_REALM = 'sipmeet';
export const BASIC_CHALLENGE = `Basic realm="${BASIC_REALM}"`;

/**
 * RFC 7617 §2: `Authorization: Basic base64(user-id ":" password)`; the user-id cannot contain a colon, the
 * password may. The scheme name is case-insensitive (RFC 7235 §2.1). Undefined when absent or malformed.
 */
export function parseBasicAuthorization(header: string | undefined): BasicCredentials | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A checker over the users file: a cleartext password is compared directly (constant time); a user stored only
 * as HA1 (`{MD5}…`, `{SHA-256}…`) is checked by computing H(user:realm:password) for each stored algorithm —
 * `realm` must be the SIP digest realm the HA1 values were computed for.
 */
export function usersBasicAuth(users: UserDirectory, realm: string): { check(user: string, password: string): boolean } {
  return {
    check(user, password) {
      const cred = users.lookup(user);
      if (!cred) return false;
      if (cred.password !== undefined) return sameSecret(cred.password, password);
      for (const [alg, ha1] of Object.entries(cred.ha1 ?? {})) {
        if (ha1 && sameSecret(computeHa1(alg as DigestAlgorithm, user, realm, password), ha1.toLowerCase())) return true;
      }
      return false;
    },
  };
}
