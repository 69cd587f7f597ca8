/**
 * Server nonces and nonce-count replay protection (RFC 7616 §3.3 nonce, §3.4 nc; RFC 3261 §22.4).
 *
 * Nonces are stateless and self-validating: base64url( issuedAt(6 bytes, ms of clock.now()) | counter(6 bytes)
 * | HMAC-SHA256(secret, first 12 bytes)[0..12) ). Issuing one costs no memory, so challenging a flood of
 * unauthenticated requests cannot exhaust the table. A nonce is "ours" when its MAC verifies, and "expired"
 * when `now - issuedAt > ttlMs` (→ a `stale=true` challenge, RFC 7616 §3.3).
 *
 * Replay protection (RFC 7616 §3.4: "the server can detect request replays by maintaining its own copy of
 * this count — if the same nc-value is seen twice, then the request is a replay"): the first time a nonce is
 * used successfully it enters a table `nonce → highest nc seen`; a later use must carry a strictly higher nc.
 * The table is bounded:
 *  - entries whose nonce has expired are dropped lazily from the head (insertion order ≈ age) on each insert;
 *  - when it holds `maxTracked` entries the oldest is evicted, and the issue time of every evicted nonce is
 *    remembered as a watermark: an untracked nonce issued at or before the watermark is refused (it may have
 *    been evicted, so its nc history is lost) — the client gets a stale challenge and simply retries.
 * No timers: all expiry is done on the request path, O(1) amortised.
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.ts';

export type NonceState =
  | { readonly state: 'invalid' }
  | { readonly state: 'expired'; readonly issuedAt: number }
  | { readonly state: 'fresh'; readonly issuedAt: number };

interface Tracked {
  nc: number;
  readonly issuedAt: number;
}

const BODY_LEN = 12;
const MAC_LEN = 12;
const NONCE_LEN = BODY_LEN + MAC_LEN;
const COUNTER_MAX = 2 ** 48;

export interface NonceOptions {
  readonly clock: Clock;
  readonly ttlMs: number;
  /** HMAC key; random per process by default (nonces then die with the process, which is fine). */
  readonly secret?: Buffer;
  /** Bound on the nc table. */
  readonly maxTracked?: number;
}

export class NonceManager {
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly secret: Buffer;
  private readonly maxTracked: number;
  private counter: number;
  private readonly tracked = new Map<string, Tracked>();
  private evictedWatermark = -Infinity;

  constructor(opts: NonceOptions) {
    if (!(opts.ttlMs > 0)) throw new TypeError(`NonceManager: ttlMs must be > 0, got ${opts.ttlMs}`);
    this.clock = opts.clock;
    this.ttlMs = opts.ttlMs;
    this.secret = opts.secret ?? randomBytes(32);
    this.maxTracked = opts.maxTracked ?? 100_000;
    if (!(this.maxTracked >= 1)) throw new TypeError(`NonceManager: maxTracked must be >= 1`);
    this.counter = randomInt(0, 2 ** 40);
  }

  /** A fresh nonce (no state kept). */
  issue(): string {
    const body = Buffer.allocUnsafe(NONCE_LEN);
    body.writeUIntBE(Math.max(0, Math.floor(this.clock.now())), 0, 6);
    this.counter = (this.counter + 1) % COUNTER_MAX;
    body.writeUIntBE(this.counter, 6, 6);
    this.mac(body.subarray(0, BODY_LEN)).copy(body, BODY_LEN, 0, MAC_LEN);
    return body.toString('base64url');
  }

  /** Was this nonce issued by us, and is it still within its lifetime? */
  check(nonce: string): NonceState {
    if (nonce.length !== 32) return { state: 'invalid' };
    const buf = Buffer.from(nonce, 'base64url');
    if (buf.length !== NONCE_LEN || buf.toString('base64url') !== nonce) return { state: 'invalid' };
    const expected = this.mac(buf.subarray(0, BODY_LEN)).subarray(0, MAC_LEN);
    if (!timingSafeEqual(expected, buf.subarray(BODY_LEN))) return { state: 'invalid' };
    const issuedAt = buf.readUIntBE(0, 6);
    if (this.clock.now() - issuedAt > this.ttlMs) return { state: 'expired', issuedAt };
    return { state: 'fresh', issuedAt };
  }

  /**
   * Record a use of a fresh nonce with nonce-count `nc`. Returns false when `nc` is not higher than every
   * count seen before for this nonce (a replay), or when the nonce's history may have been evicted.
   */
  use(nonce: string, issuedAt: number, nc: number): boolean {
    const entry = this.tracked.get(nonce);
    if (entry) {
      if (nc <= entry.nc) return false;
      entry.nc = nc;
      return true;
    }
    if (issuedAt <= this.evictedWatermark) return false;
    this.sweepHead(8);
    if (this.tracked.size >= this.maxTracked) this.evictOldest();
    this.tracked.set(nonce, { nc, issuedAt });
    return true;
  }

  /** Entries in the nc table (for stats and tests). */
  get trackedCount(): number {
    return this.tracked.size;
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(body).digest();
  }

  /** Drop up to `max` expired entries from the head of the table (oldest first). */
  private sweepHead(max: number): void {
    const cutoff = this.clock.now() - this.ttlMs;
    let n = 0;
    for (const [key, t] of this.tracked) {
      if (n++ >= max || t.issuedAt >= cutoff) break;
      this.tracked.delete(key);
    }
  }

  private evictOldest(): void {
    const first = this.tracked.entries().next();
    if (first.done) return;
    const [key, t] = first.value;
    this.tracked.delete(key);
    if (t.issuedAt > this.evictedWatermark) this.evictedWatermark = t.issuedAt;
  }
}
