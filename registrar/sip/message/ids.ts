/**
 * Identifiers: branch (RFC 3261 §8.1.1.7), tags (§19.3), Call-ID (§8.1.1.4).
 *
 * §8.1.1.7: "The branch ID inserted by an element compliant with this specification MUST always begin with the
 * characters "z9hG4bK"" and be unique across space and time. §19.3: tags need "at least 32 bits of randomness".
 * Cryptographic randomness is drawn in blocks (one syscall per 4 KiB) to keep per-message cost low.
 */
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.alloc(4096);
let poolPos = POOL.length;

function randomHex(bytes: number): string {
  if (poolPos + bytes > POOL.length) {
    randomFillSync(POOL);
    poolPos = 0;
  }
  const s = POOL.toString('hex', poolPos, poolPos + bytes);
  poolPos += bytes;
  return s;
}

/** A new RFC 3261 branch: magic cookie + 80 random bits. */
export function newBranch(): string {
  return 'z9hG4bK' + randomHex(10);
}

/** A new From/To tag: 64 random bits. */
export function newTag(): string {
  return randomHex(8);
}

/** A new Call-ID: 128 random bits (no host part needed, §8.1.1.4 "RECOMMENDED ... cryptographically random"). */
export function newCallId(): string {
  return randomHex(16);
}
