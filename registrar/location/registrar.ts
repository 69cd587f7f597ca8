/**
 * The registrar: REGISTER processing per RFC 3261 §10.3 (steps 1–8), with RFC 3327 Path and RFC 5626
 * instance/reg-id bookkeeping. Authentication (step 3) happens before: the caller runs the
 * DigestAuthenticator and passes the authenticated username as `ctx.authUser`.
 *
 *     REGISTER ─► 1 Request-URI domain ──(not ours)──────────────────────► 404
 *                 2 Require ──(unsupported option)───────────────────────► 420 + Unsupported
 *                 5 To = sip/sips AOR of ours ──(bad)────────────────────► 400 / 404
 *                 4 authUser may register this AOR ──(no)────────────────► 403
 *                 6 Contact list ──(unparsable, `*` misuse, bad q)───────► 400
 *                   (no Contact) ─────────────────────────────────────────► 200 current bindings (a query)
 *                 7 per contact: expiry; 0 < e < Min-Expires ────────────► 423 + Min-Expires
 *                   same Call-ID and CSeq not higher than stored ────────► 500, nothing changed
 *                 8 commit all-or-nothing ───────────────────────────────► 200 all bindings;expires=N + Date
 *
 * Policy (documented choices):
 * - Expiry of a contact: its `expires` param, else the Expires header, else `defaultExpires` (3600). A
 *   malformed or > 2^32-1 value counts as absent (RFC 4475 §3.1.2.4 scalar02 note: "treat them as if they
 *   contained the default values"). Granted expiry is capped at `maxExpires` (7200).
 * - 423 only when 0 < requested < min(Min-Expires, 3600) (§10.3 step 7: "greater than zero AND smaller than
 *   one hour AND less than a registrar-configured minimum").
 * - The step 7 Call-ID/CSeq failure is answered 500 (the RFC only says "the request fails").
 * - Binding identity: RFC 3261 §19.1.4 URI equality, or the same `+sip.instance` with the same `reg-id`
 *   (RFC 5626 §6: a rebooted or re-NATed UA replaces its old flow instead of piling up bindings).
 * - Path (RFC 3327 §5.3): always stored with the binding; echoed in the 200 when the UA sent `Supported: path`.
 * - Non-SIP Contact URIs are stored as given (RFC 3261 §10.2.1 allows them); route.ts skips them.
 */
import type { Clock } from '../sip/clock.ts';
import type { Logger } from '../log.ts';
import type { NameAddr, SipRequest, SipResponse, SipUri } from '../sip/message/types.ts';
import type { Source } from '../sip/transport/types.ts';
import { createResponse, newTag } from '../sip/message/build.ts';
import { uriEquals } from '../sip/message/uri.ts';
import { canonicalAor, isAorUri } from './aor.ts';
import type { Binding, LocationService } from './bindings.ts';
import { instanceIdOf, parseDeltaSeconds, parseQ, regIdOf } from './contact.ts';
import { StoredBinding } from './binding.ts';
import { flat } from '../sip/message/lex.ts';

export interface RegistrarOptions {
  readonly location: LocationService;
  readonly clock: Clock;
  /** The domain we serve. When set, only it (and hosts `isLocalDomain` accepts) may be registered. */
  readonly domain?: string;
  /** Our own hosts/IPs (e.g. `10.0.0.5`, `localhost`), mapped to `domain` in AORs. */
  readonly isLocalDomain?: (host: string) => boolean;
  /** Min-Expires (s), default 60. */
  readonly minExpires?: number;
  /** Longest granted registration (s), default 7200. */
  readonly maxExpires?: number;
  /** Expiry when the request gives none (s), default 3600 (§10.2.1.1). */
  readonly defaultExpires?: number;
  readonly logger?: Logger;
}

export interface RegisterContext {
  /** Where the REGISTER came from (stored with each binding). */
  readonly source: Source;
  /** The digest-authenticated username, when authentication ran (§10.3 steps 3–4). */
  readonly authUser?: string;
}

/** Option tags this registrar supports (§10.3 step 2 checks Require against them). */
export const SUPPORTED_OPTIONS: ReadonlySet<string> = new Set(['path']);

interface Rejection {
  readonly status: number;
  readonly reason?: string;
  readonly headers?: Array<[string, string]>;
}

export class Registrar {
  readonly location: LocationService;
  readonly domain: string | undefined;
  readonly minExpires: number;
  readonly maxExpires: number;
  readonly defaultExpires: number;
  private readonly clock: Clock;
  private readonly isLocalDomain: ((host: string) => boolean) | undefined;
  private readonly log: Logger | undefined;
  private dateSecond = -1;
  private dateText = '';

  constructor(opts: RegistrarOptions) {
    this.location = opts.location;
    this.clock = opts.clock;
    this.domain = opts.domain?.toLowerCase();
    this.isLocalDomain = opts.isLocalDomain;
    this.minExpires = opts.minExpires ?? 60;
    this.maxExpires = opts.maxExpires ?? 7200;
    this.defaultExpires = opts.defaultExpires ?? 3600;
    if (!(this.minExpires >= 0 && this.maxExpires >= this.minExpires && this.defaultExpires >= 0)) {
      throw new TypeError('Registrar: need 0 <= minExpires <= maxExpires and defaultExpires >= 0');
    }
    this.log = opts.logger?.child({ component: 'registrar' });
  }

  /** Is this host one we keep bindings for? (No domain and no callback configured: every host is.) */
  isLocal(host: string): boolean {
    if (this.domain === undefined && this.isLocalDomain === undefined) return true;
    return host === this.domain || (this.isLocalDomain?.(host) ?? false);
  }

  /** Canonical AOR for a URI, our own hosts mapped to the configured domain; undefined if not an AOR. */
  aorOf(uri: SipUri): string | undefined {
    if (!isAorUri(uri)) return undefined;
    // Our own hosts (at any port) all mean the configured domain: `sip:alice@10.0.0.5:5060` and
    // `sip:alice@10.0.0.5` are one AOR (§10.3 step 5 removes parameters; the port of our own address is not part
    // of a user's identity).
    if (this.domain !== undefined && this.isLocal(uri.host)) return `sip:${uri.user ?? ''}@${this.domain}`;
    return canonicalAor(uri, uri.host);
  }

  /** Live bindings for a target URI (e.g. an INVITE's Request-URI), highest q first. */
  lookup(uri: SipUri | string): Binding[] {
    if (typeof uri === 'string') return this.location.lookup(uri);
    const aor = this.aorOf(uri);
    return aor === undefined ? [] : this.location.lookup(aor);
  }

  /** Process a REGISTER (RFC 3261 §10.3) and build the final response. Never throws for bad input. */
  handleRegister(req: SipRequest, ctx: RegisterContext): SipResponse {
    const toTag = req.toTag ?? newTag();
    const result = this.process(req, ctx);
    if ('status' in result) {
      if (this.log?.isLevelEnabled('debug')) {
        const info = { tag: 'register-reject', status: result.status, why: result.reason, callId: req.callId };
        this.log.debug(info, 'REGISTER rejected');
      }
      return createResponse(req, result.status, result.reason, {
        toTag,
        ...(result.headers ? { headers: result.headers } : {}),
      });
    }
    return createResponse(req, 200, undefined, { toTag, headers: result.headers });
  }

  private process(req: SipRequest, ctx: RegisterContext): Rejection | { headers: Array<[string, string]> } {
    // §10.3 step 1: the Request-URI names the domain whose bindings are to be changed.
    const ruri = req.uri;
    if (ruri.scheme !== 'sip' && ruri.scheme !== 'sips') return { status: 416 }; // §8.2.2.1
    if (!this.isLocal(ruri.host)) return { status: 404, reason: 'Domain Not Served Here' };

    // §10.3 step 2 (as §8.2.2.3): every Require option tag must be supported.
    const required = req.has('require') ? req.getAll('require') : NO_PATH;
    if (required.length > 0) {
      const unsupported = required.filter((t) => !SUPPORTED_OPTIONS.has(t.toLowerCase()));
      if (unsupported.length > 0) return { status: 420, headers: [['Unsupported', unsupported.join(', ')]] };
    }

    // §10.3 step 5: the AOR comes from To; it must be a SIP/SIPS URI of ours (RFC 4475 §3.3.4 unksm2 → 400).
    const to = req.to.uri;
    if (to.scheme !== 'sip' && to.scheme !== 'sips') return { status: 400, reason: 'To Is Not a SIP URI' };
    if (to.user === undefined) return { status: 400, reason: 'To Has No User Part' };
    if (!this.isLocal(to.host)) return { status: 404, reason: 'Not Found' };
    // A flat copy: the location table hashes it, and a new AOR's key is stored (binding.ts explains why flat).
    const aor = flat(this.aorOf(to)!);

    // §10.3 step 4: the authenticated identity must be allowed to register this AOR (its own).
    if (ctx.authUser !== undefined && ctx.authUser !== to.user) return { status: 403, reason: 'Forbidden' };

    const now = this.clock.now();
    // §10.3 step 6 / RFC 3261 §10.2.3: no Contact → a query; the 200 lists the current bindings.
    if (!req.has('contact')) return this.ok(req, this.location.live(aor), now);

    const parsed = req.contacts();
    if (!parsed.ok) return { status: 400, reason: 'Invalid Contact' };
    const expiresHdr = req.expires();
    // A malformed Expires header counts as absent (scalar02 note), so the default applies.
    const headerExpires = expiresHdr.ok && expiresHdr.value !== undefined && expiresHdr.value <= 0xffffffff
      ? expiresHdr.value
      : undefined;

    if (parsed.value.star) {
      // §10.3 step 6: "*" only alone and with Expires: 0, else 400.
      if (req.getAll('contact').length !== 1 || !expiresHdr.ok || expiresHdr.value !== 0) {
        return { status: 400, reason: 'Invalid Wildcard Contact' };
      }
      const current = this.location.live(aor);
      // §10.3 step 6: with the same Call-ID, a binding goes only if the CSeq is higher; otherwise abort.
      for (const b of current) {
        if (b.callId === req.callId && req.cseq.seq <= b.cseq) return { status: 500, reason: 'Out of Order CSeq' };
      }
      return this.ok(req, this.location.set(aor, []), now);
    }

    const contacts = parsed.value.contacts;
    const n = contacts.length;
    // Validate every contact and its expiry first (423 / 400 before any change, §10.3 step 7).
    const grants: number[] = new Array<number>(n);
    const qs: number[] = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const c = contacts[i]!;
      const q = parseQ(c.params.get('q'));
      if (q !== undefined && Number.isNaN(q)) return { status: 400, reason: 'Invalid q Value' };
      const requested = parseDeltaSeconds(c.params.get('expires')) ?? headerExpires ?? this.defaultExpires;
      if (requested > 0 && requested < 3600 && requested < this.minExpires) {
        return { status: 423, headers: [['Min-Expires', String(this.minExpires)]] };
      }
      grants[i] = Math.min(requested, this.maxExpires);
      qs[i] = q ?? 1;
    }

    // §10.3 step 7: apply to a copy; commit only if every contact succeeded.
    const current = this.location.live(aor);
    const next: Binding[] = current.slice();
    let added: Binding[] | undefined; // bindings this request created (exempt from the CSeq check below)
    const path = this.pathOf(req);
    const userAgent = req.get('user-agent');
    const callId = req.callId;
    const cseq = req.cseq.seq;
    for (let i = 0; i < n; i++) {
      const contact = contacts[i]!;
      const expires = grants[i]!;
      const instanceId = instanceIdOf(contact);
      const regId = regIdOf(contact);
      let idx = -1;
      for (let k = 0; k < next.length; k++) {
        if (sameBinding(next[k]!, contact, instanceId, regId)) {
          idx = k;
          break;
        }
      }
      const existing = idx >= 0 ? next[idx]! : undefined;
      if (existing && !added?.includes(existing) && existing.callId === callId && cseq <= existing.cseq) {
        return { status: 500, reason: 'Out of Order CSeq' };
      }
      if (expires === 0) {
        if (idx >= 0) next.splice(idx, 1);
        continue;
      }
      // Long-lived: the stored binding keeps copies of what it needs, never the request (binding.ts).
      const b = new StoredBinding(
        {
          aor, contact, expiresAt: now + expires * 1000, q: qs[i]!, callId, cseq, path, instanceId, regId,
          source: ctx.source, userAgent, updatedAt: now,
        },
        existing ?? current[0],
      );
      (added ??= []).push(b);
      if (idx >= 0) next[idx] = b;
      else next.push(b);
    }
    const stored = this.location.set(aor, next);
    return this.ok(req, stored, now);
  }

  /** §10.3 step 8: 200 with every current binding (`;expires=` remaining), Date, and Path if supported. */
  private ok(req: SipRequest, bindings: readonly Binding[], now: number): { headers: Array<[string, string]> } {
    const headers: Array<[string, string]> = [];
    for (const b of bindings) {
      const remaining = Math.max(0, Math.ceil((b.expiresAt - now) / 1000));
      headers.push(['Contact', `${b.contactText};expires=${remaining}`]);
    }
    // RFC 3327 §5.3: the registrar returns the Path it stored when the UA indicated support.
    if (req.has('path') && supportsPath(req)) {
      for (const p of req.getAll('path')) headers.push(['Path', p]);
    }
    headers.push(['Date', this.date()]);
    return { headers };
  }

  /** RFC 3327 Path values of this REGISTER, in order (name-addr text). */
  private pathOf(req: SipRequest): readonly string[] {
    if (!req.has('path')) return NO_PATH;
    const r = req.nameAddrs('path');
    return r.ok ? r.value.map((na) => na.raw) : req.getAll('path');
  }

  /** RFC 1123 date for the Date header (§20.17), recomputed at most once a second. */
  private date(): string {
    const wall = this.clock.wallNow();
    const second = Math.floor(wall / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.dateText = new Date(second * 1000).toUTCString();
    }
    return this.dateText;
  }
}

const NO_PATH: readonly string[] = Object.freeze([]);

function supportsPath(req: SipRequest): boolean {
  for (const t of req.getAll('supported')) if (t.toLowerCase() === 'path') return true;
  return false;
}

/** Same binding: §19.1.4 URI equality, or the same RFC 5626 instance-id + reg-id. */
function sameBinding(
  b: Binding,
  contact: NameAddr,
  instanceId: string | undefined,
  regId: number | undefined,
): boolean {
  if (instanceId !== undefined && regId !== undefined && b.instanceId === instanceId && b.regId === regId) return true;
  // Identical URI text is the same URI (fast path: a refresh from the same phone; no re-parse of the stored one).
  if (b instanceof StoredBinding && b.contactUri === contact.uri.raw) return true;
  return uriEquals(b.contact.uri, contact.uri);
}
