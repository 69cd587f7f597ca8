/**
 * The o= line of the descriptions we generate (RFC 4566 §5.2, RFC 3264 §5 and §8).
 *
 * A dialog keeps one Origin: the first offer or answer uses `createOrigin()`, every later one
 * `nextVersion(previous)`. RFC 3264 §8: "When issuing an offer that modifies the session, the "o=" line of the
 * new SDP MUST be identical to that in the previous SDP, except that the version in the origin field MUST
 * increment by one from the previous SDP."
 */
import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { MAX_SESSION_NUMBER } from './lines.ts';
import type { AddressType, Origin } from './model.ts';

/** IP6 for an IPv6 literal, IP4 otherwise (RFC 4566 §5.7 <addrtype>). */
export function addressTypeOf(address: string): AddressType {
  return isIPv6(address) ? 'IP6' : 'IP4';
}

/**
 * A new origin. RFC 4566 §5.2 wants <sess-id> globally unique with the other fields; we draw it at random
 * (no clock involved). RFC 3264 §5: "The initial value of the version MUST be less than (2**62)-1, to avoid
 * rollovers" — the first version equals the session id, far below that.
 */
export function createOrigin(address: string, opts: { username?: string; sessionId?: string } = {}): Origin {
  const sessionId = opts.sessionId ?? String(randomInt(1, 2 ** 47));
  if (!/^\d+$/.test(sessionId) || BigInt(sessionId) > MAX_SESSION_NUMBER) {
    throw new TypeError(`createOrigin: session id must be a 63-bit number, got "${sessionId}"`);
  }
  return {
    // RFC 4566 §5.2: "-" when the originating host does not support user IDs.
    username: opts.username ?? '-',
    sessionId,
    sessionVersion: BigInt(sessionId),
    addressType: addressTypeOf(address),
    address,
  };
}

/** RFC 3264 §8: the same origin with the version incremented by one. */
export function nextVersion(origin: Origin): Origin {
  if (origin.sessionVersion >= MAX_SESSION_NUMBER) {
    throw new RangeError('nextVersion: o= version would exceed 64 bits (RFC 3264 §5)');
  }
  return { ...origin, sessionVersion: origin.sessionVersion + 1n };
}
