/**
 * SIP digest authentication, server side (RFC 3261 §22, updated by RFC 8760; computations per RFC 7616).
 *
 * Roles (RFC 3261 §22.1–§22.3):
 *   registrar / UAS: reads `Authorization`, challenges with 401 + `WWW-Authenticate`;
 *   proxy:           reads `Proxy-Authorization`, challenges with 407 + `Proxy-Authenticate`.
 *
 * Flow:
 *
 *     request ──verify()──┬── ok {username}
 *                         ├── 401/407 {stale?}  → reject() = challenge() headers on a 401/407
 *                         └── 400               → reject() = plain 400 (malformed credentials, uri mismatch)
 *
 * Decisions (documented policy):
 * - One challenge per configured algorithm, SHA-256 first then MD5 by default (RFC 8760 §2.3: the UAS lists
 *   one WWW-Authenticate per supported algorithm in order of preference; a UAC uses the first it supports,
 *   §2.4). All carry `qop="auth"`, the same fresh nonce and our `opaque`.
 * - Credentials for another realm, or with another scheme (RFC 4475 §3.3.7 regaut01:
 *   `Authorization: NoOneKnowsThisScheme ...`), are ignored: "no credentials" → challenge.
 * - Unknown user and wrong password both get a fresh (non-stale) challenge with the same status, so the
 *   response does not reveal which usernames exist; the UAC treats a second 401 for the same realm as
 *   "credentials rejected" (RFC 3261 §22.2) and does not loop. 403 is not produced here: it is for policy
 *   (the registrar's "authenticated user may not register this AOR", RFC 3261 §10.3 step 4).
 * - stale=true (RFC 7616 §3.3) only when the response digest is correct for the user's password but the
 *   nonce is expired, not ours (e.g. issued before a restart), or its nonce-count was replayed: the client
 *   knows the password, so it may retry with the new nonce without asking the user.
 * - No-qop (RFC 2069) responses are rejected by default with a challenge (they carry no nc, so no replay
 *   protection); `allowNoQop: true` accepts them. qop other than `auth` (e.g. auth-int) is not offered and
 *   gets a challenge.
 * - `uri=` must designate the Request-URI (RFC 7616 §3.4.6, RFC 3261 §22.4), else 400.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Logger } from '../../log.ts';
import type { SipRequest, SipResponse, SipUri } from '../message/types.ts';
import { createResponse } from '../message/build.ts';
import { parseUri } from '../message/uri.ts';
import { parseCredentials, credentialsScheme, quote, type Credentials } from './credentials.ts';
import { algorithmByName, baseAlgorithm, computeHa1, computeResponse, type DigestAlgorithmName } from './hash.ts';
import { NonceManager } from './nonce.ts';
import type { UserDirectory } from './users.ts';

export type AuthRole = 'registrar' | 'proxy';

export type VerifyResult =
  | { readonly ok: true; readonly username: string }
  | {
      readonly ok: false;
      readonly status: 401 | 407 | 403 | 400;
      /** Short diagnostic for logs (not sent: responses use the standard reason phrase). */
      readonly reason: string;
      readonly stale?: boolean;
    };

export type VerifyFailure = Extract<VerifyResult, { ok: false }>;

export interface DigestOptions {
  readonly realm: string;
  readonly users: UserDirectory;
  readonly clock: Clock;
  /** Nonce lifetime; default 300 s. */
  readonly nonceTtlMs?: number;
  /** Offered in this order, and the only ones accepted. Default ['SHA-256', 'MD5']. */
  readonly algorithms?: readonly DigestAlgorithmName[];
  /** Accept RFC 2069 responses without qop (no replay protection). Default false. */
  readonly allowNoQop?: boolean;
  /** Bound on the nonce-count table (see nonce.ts). Default 100 000. */
  readonly maxTrackedNonces?: number;
  /** HMAC key for nonces (share it between processes behind one address). Default random. */
  readonly secret?: Buffer;
  readonly logger?: Logger;
}

export interface DigestStats {
  ok: number;
  challenged: number;
  stale: number;
  badRequest: number;
}

const NC_RE = /^[0-9a-fA-F]{8}$/;
const HEX_RE = /^[0-9a-fA-F]+$/;

export class DigestAuthenticator {
  readonly realm: string;
  private readonly users: UserDirectory;
  private readonly algorithms: readonly DigestAlgorithmName[];
  private readonly allowNoQop: boolean;
  private readonly nonces: NonceManager;
  private readonly opaque: string;
  private readonly log: Logger | undefined;
  private readonly counters: DigestStats = { ok: 0, challenged: 0, stale: 0, badRequest: 0 };

  constructor(opts: DigestOptions) {
    if (opts.realm === '') throw new TypeError('DigestAuthenticator: realm must not be empty');
    this.realm = opts.realm;
    this.users = opts.users;
    this.algorithms = opts.algorithms ?? ['SHA-256', 'MD5'];
    if (this.algorithms.length === 0) throw new TypeError('DigestAuthenticator: no algorithms');
    this.allowNoQop = opts.allowNoQop ?? false;
    this.nonces = new NonceManager({
      clock: opts.clock,
      ttlMs: opts.nonceTtlMs ?? 300_000,
      ...(opts.secret ? { secret: opts.secret } : {}),
      ...(opts.maxTrackedNonces ? { maxTracked: opts.maxTrackedNonces } : {}),
    });
    this.opaque = randomBytes(12).toString('base64url');
    this.log = opts.logger?.child({ component: 'digest' });
  }

  /**
   * Challenge header lines: one per configured algorithm, in preference order (RFC 8760 §2.3),
   * `WWW-Authenticate` for a registrar/UAS, `Proxy-Authenticate` for a proxy (RFC 3261 §22.3).
   */
  challenge(
    req?: SipRequest,
    opts: { stale?: boolean; role?: AuthRole } = {},
  ): Array<[string, string]> {
    const name = opts.role === 'proxy' ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    const nonce = this.nonces.issue();
    const tail = `, opaque="${this.opaque}", qop="auth"${opts.stale ? ', stale=true' : ''}`;
    const realm = quote(this.realm);
    const algorithms = req !== undefined && md5OnlyClient(req) && this.algorithms.includes('MD5') ? (['MD5'] as const) : this.algorithms;
    return algorithms.map((alg) => [
      name,
      `Digest realm=${realm}, nonce="${nonce}", algorithm=${alg}${tail}`,
    ]);
  }

  /** Check the request's credentials for our realm (RFC 3261 §22.4, RFC 7616 §3.4). Never throws. */
  verify(req: SipRequest, opts: { role?: AuthRole } = {}): VerifyResult {
    const role = opts.role ?? 'registrar';
    const r = this.verifyInner(req, role);
    if (r.ok) this.counters.ok++;
    else if (r.status === 400) this.counters.badRequest++;
    else if (r.stale) this.counters.stale++;
    else this.counters.challenged++;
    if (!r.ok && this.log?.isLevelEnabled('debug')) {
      const info = { tag: 'auth-fail', status: r.status, why: r.reason, stale: r.stale ?? false, callId: req.callId };
      this.log.debug(info, 'digest verification failed');
    }
    return r;
  }

  /** The response for a failed verification: 401/407 with fresh challenges (stale as given), or 400/403. */
  reject(req: SipRequest, failure: VerifyFailure, opts: { toTag?: string } = {}): SipResponse {
    const base = opts.toTag !== undefined ? { toTag: opts.toTag } : {};
    if (failure.status === 401 || failure.status === 407) {
      const role: AuthRole = failure.status === 407 ? 'proxy' : 'registrar';
      return createResponse(req, failure.status, undefined, {
        ...base,
        headers: this.challenge(req, { stale: failure.stale ?? false, role }),
      });
    }
    return createResponse(req, failure.status, undefined, base);
  }

  stats(): Readonly<DigestStats> {
    return { ...this.counters };
  }

  private verifyInner(req: SipRequest, role: AuthRole): VerifyResult {
    const challengeStatus = role === 'proxy' ? 407 : 401;
    const challenge = (reason: string, stale = false): VerifyResult =>
      stale
        ? { ok: false, status: challengeStatus, reason, stale: true }
        : { ok: false, status: challengeStatus, reason };
    const bad = (reason: string): VerifyResult => ({ ok: false, status: 400, reason });

    // RFC 3261 §22.3: a server MUST walk all credentials header values to find the ones for its realm.
    const headerName = role === 'proxy' ? 'proxy-authorization' : 'authorization';
    let creds: Credentials | undefined;
    let malformed: string | undefined;
    for (const h of req.headers) {
      if (h.name !== headerName) continue;
      if (credentialsScheme(h.value).toLowerCase() !== 'digest') continue; // unknown scheme: not for us
      const parsed = parseCredentials(h.value);
      if (!parsed.ok) {
        malformed ??= parsed.error;
        continue;
      }
      if (parsed.value.params.get('realm') !== this.realm) continue; // another realm's credentials
      creds = parsed.value;
      break;
    }
    if (!creds) {
      return malformed !== undefined ? bad(`malformed credentials: ${malformed}`) : challenge('no credentials');
    }

    const p = creds.params;
    const username = p.get('username');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return bad('credentials lack username, nonce, uri or response');
    }
    // RFC 7616 §3.4: algorithm absent means MD5.
    const algToken = p.get('algorithm') ?? 'MD5';
    const algorithm = algorithmByName(algToken);
    if (!algorithm || !this.algorithms.includes(algorithm)) return challenge(`algorithm ${algToken} not offered`);

    const qopRaw = p.get('qop');
    const cnonce = p.get('cnonce');
    const ncRaw = p.get('nc');
    let nc = 0;
    let qop: string | undefined;
    if (qopRaw !== undefined) {
      qop = qopRaw.toLowerCase();
      if (qop !== 'auth') return challenge(`qop ${qopRaw} not offered`);
      // RFC 7616 §3.4: cnonce and nc MUST be sent when qop is.
      if (cnonce === undefined || ncRaw === undefined) return bad('qop without cnonce or nc');
      if (!NC_RE.test(ncRaw)) return bad('nc is not 8 hex digits');
      nc = parseInt(ncRaw, 16);
      if (nc === 0) return bad('nc is zero');
    } else {
      if (!this.allowNoQop) return challenge('qop required');
      if (algorithm.endsWith('-sess') && cnonce === undefined) return bad('-sess without cnonce');
    }

    // RFC 7616 §3.4.6 / RFC 3261 §22.4: the uri directive must designate the Request-URI.
    if (!uriMatches(uri, req.uri)) return bad('uri does not match the Request-URI');

    const user = this.users.lookup(username);
    if (!user) return challenge('unknown user');
    const base = baseAlgorithm(algorithm);
    const ha1 =
      user.password !== undefined ? computeHa1(base, username, this.realm, user.password) : user.ha1?.[base];
    if (ha1 === undefined) return challenge(`no ${base} secret for user`);

    const expected = computeResponse({
      algorithm,
      ha1,
      nonce,
      method: req.method,
      uri,
      ...(qop !== undefined ? { qop } : {}),
      ...(cnonce !== undefined ? { cnonce } : {}),
      ...(ncRaw !== undefined ? { nc: ncRaw } : {}),
    });
    if (!HEX_RE.test(response) || !constantTimeEquals(expected, response.toLowerCase())) {
      return challenge('wrong password');
    }

    // The digest is right; now the nonce must be ours, alive, and its count new (RFC 7616 §3.3, §3.4).
    const opaque = p.get('opaque');
    if (opaque !== undefined && opaque !== this.opaque) return challenge('opaque not ours', true);
    const st = this.nonces.check(nonce);
    if (st.state === 'invalid') return challenge('nonce not issued by us', true);
    if (st.state === 'expired') return challenge('nonce expired', true);
    if (qop !== undefined && !this.nonces.use(nonce, st.issuedAt, nc)) return challenge('nonce count replayed', true);
    return { ok: true, username };
  }
}

function constantTimeEquals(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'latin1');
  const bb = Buffer.from(b, 'latin1');
  if (ab.length !== bb.length) return false;
  return timingSafeEqual(ab, bb);
}

/**
 * Does the digest-uri designate the Request-URI? Exact text first (the normal case); otherwise both are
 * compared as SIP URIs on scheme, userinfo, host and port (RFC 3261 §19.1.4 for those components).
 * Deviation: URI parameters are not compared, so a proxy that added e.g. `;lr` or a `transport` param on the
 * way does not break authentication.
 */
function uriMatches(digestUri: string, requestUri: SipUri): boolean {
  if (digestUri === requestUri.raw) return true;
  const parsed = parseUri(digestUri);
  if (!parsed.ok) return false;
  const u = parsed.value;
  return (
    u.scheme === requestUri.scheme &&
    u.user === requestUri.user &&
    u.password === requestUri.password &&
    u.host === requestUri.host &&
    u.port === requestUri.port
  );
}

/**
 * Deviation: RFC 8760 §2.4 has a client pick the first challenge whose algorithm it supports. libre 1.x (the SIP
 * stack of Debian's baresip 1.0) instead gives up on the first challenge when it is not MD5 ("Register: Function
 * not implemented"), and sipp 3.6 reads only the first challenge ("authentication must use MD5 or AKAv1-MD5"), so
 * such clients, recognised by their User-Agent, are challenged with MD5 alone. Everyone else gets SHA-256 first.
 */
export function md5OnlyClient(req: SipRequest): boolean {
  const ua = req.get('user-agent');
  return ua !== undefined && (/^baresip v[01]\./i.test(ua) || /^sipp\b/i.test(ua));
}
