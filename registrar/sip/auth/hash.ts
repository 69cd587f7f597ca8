/**
 * Digest computations (RFC 7616 §3.4.1–§3.4.3, RFC 8760 §2 for SIP, RFC 2069 for the no-qop form).
 *
 *     A1       = username ":" realm ":" passwd                              (non -sess)
 *     A1       = H(username ":" realm ":" passwd) ":" nonce ":" cnonce      (-sess)
 *     A2       = Method ":" request-uri                                     (qop=auth or absent)
 *     response = KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2))      (qop present)
 *     response = KD(H(A1), nonce ":" H(A2))                                 (RFC 2069, no qop)
 *     KD(secret, data) = H(secret ":" data)
 *
 * H is MD5, SHA-256 or SHA-512/256 (lowercase hex). Strings are hashed as UTF-8.
 */
import { createHash } from 'node:crypto';
import type { DigestAlgorithm } from './users.ts';

/** Algorithm names as they appear in `algorithm=` (RFC 7616 §3.3, §6.1 registry). */
export type DigestAlgorithmName =
  | 'MD5'
  | 'MD5-sess'
  | 'SHA-256'
  | 'SHA-256-sess'
  | 'SHA-512-256'
  | 'SHA-512-256-sess';

export const ALGORITHM_NAMES: readonly DigestAlgorithmName[] = [
  'MD5',
  'MD5-sess',
  'SHA-256',
  'SHA-256-sess',
  'SHA-512-256',
  'SHA-512-256-sess',
];

const NODE_HASH: Readonly<Record<DigestAlgorithm, string>> = {
  'MD5': 'md5',
  'SHA-256': 'sha256',
  'SHA-512-256': 'sha512-256',
};

/** Case-insensitive lookup of an `algorithm=` token; undefined when unknown. */
export function algorithmByName(token: string): DigestAlgorithmName | undefined {
  const t = token.toUpperCase();
  for (const a of ALGORITHM_NAMES) if (a.toUpperCase() === t) return a;
  return undefined;
}

export function baseAlgorithm(alg: DigestAlgorithmName): DigestAlgorithm {
  return (alg.endsWith('-sess') ? alg.slice(0, -5) : alg) as DigestAlgorithm;
}

export function isSess(alg: DigestAlgorithmName): boolean {
  return alg.endsWith('-sess');
}

export function hashHex(alg: DigestAlgorithm, data: string): string {
  return createHash(NODE_HASH[alg]).update(data, 'utf8').digest('hex');
}

/** H(username:realm:password) — the stored "HA1" (RFC 7616 §3.4.2, non -sess form). */
export function computeHa1(alg: DigestAlgorithm, username: string, realm: string, password: string): string {
  return hashHex(alg, `${username}:${realm}:${password}`);
}

export interface ResponseInput {
  readonly algorithm: DigestAlgorithmName;
  /** H(username:realm:password) for the base algorithm. */
  readonly ha1: string;
  readonly nonce: string;
  readonly method: string;
  /** The digest-uri exactly as sent in `uri=` (RFC 7616 §3.4.6). */
  readonly uri: string;
  /** 'auth', or undefined for the RFC 2069 form. */
  readonly qop?: string;
  /** Required with qop and with -sess. */
  readonly cnonce?: string;
  /** 8 hex digits as sent (hashed exactly as written). */
  readonly nc?: string;
}

/** The expected `response=` value (lowercase hex). */
export function computeResponse(i: ResponseInput): string {
  const alg = baseAlgorithm(i.algorithm);
  // RFC 7616 §3.4.2: for -sess, HA1 = H(H(user:realm:pass) ":" nonce ":" cnonce).
  const ha1 = isSess(i.algorithm) ? hashHex(alg, `${i.ha1}:${i.nonce}:${i.cnonce ?? ''}`) : i.ha1;
  // RFC 7616 §3.4.3: A2 = Method ":" request-uri for qop=auth (or no qop).
  const ha2 = hashHex(alg, `${i.method}:${i.uri}`);
  if (i.qop === undefined) return hashHex(alg, `${ha1}:${i.nonce}:${ha2}`); // RFC 2069 §2.1.2
  // RFC 7616 §3.4.1
  return hashHex(alg, `${ha1}:${i.nonce}:${i.nc ?? ''}:${i.cnonce ?? ''}:${i.qop}:${ha2}`);
}
