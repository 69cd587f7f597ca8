/**
 * Routing requests to registered users: a transaction-stateful proxy (RFC 3261 §16) with parallel forking.
 *
 *   caller ──INVITE──▶ server tx ──▶ Proxy ──▶ one client tx per live contact of the AOR (§16.6)
 *          ◀─1xx/2xx── (relayed at once, §16.7 step 5; 100 is hop-by-hop and never relayed)
 *          ◀─best final── when every branch has a final response and none was 2xx (§16.7 step 6, §16.7.6)
 *   CANCEL from the caller cancels every pending branch (§16.10); a 2xx on one branch cancels the others
 *   (§16.7 step 10).
 *
 * Deviation: no Record-Route is inserted, so in-dialog requests (ACK for 2xx, BYE, re-INVITE) flow directly
 * between the endpoints. sipmeet's proxy only bridges the initial request; the conference focus (a B2BUA) is
 * the element that stays in the signalling path.
 */
import type { Logger } from '../log.ts';
import type { SipRequest, SipResponse } from '../sip/message/types.ts';
import { createResponse, newBranch } from '../sip/message/build.ts';
import type { Endpoint, Source } from '../sip/transport/types.ts';

/** One place a request can be forwarded to: a registered contact. */
export interface ProxyTarget {
  /** Request-URI for the branch: the registered Contact URI (§16.5). */
  uri: string;
  /** Where to send it (the contact's address, or the address it registered from when behind NAT). */
  dest: Endpoint;
  /** RFC 3327 Path values stored with the binding: they become Route headers (§16.6 step 6). */
  path: readonly string[];
}

export interface ProxyServerTx {
  readonly request: SipRequest;
  readonly source: Source;
  respond(res: SipResponse): void;
}

export interface ProxyClientHandlers {
  onProvisional?(res: SipResponse): void;
  onFinal(res: SipResponse): void;
  onTimeout(res: SipResponse): void;
  onTransportError(err: Error, res: SipResponse): void;
}

export interface ProxyTransactionPort<C> {
  sendRequest(req: SipRequest, dest: Endpoint, handlers: ProxyClientHandlers): C;
  cancel(tx: C): void;
}

export interface ProxyOptions<C> {
  transactions: ProxyTransactionPort<C>;
  /** The Via sent-by this proxy inserts for a destination ("SIP/2.0/UDP 10.0.0.1:5060"). */
  viaFor(dest: Endpoint): string;
  logger: Logger;
}

/** §16.7 step 6 / §16.7.6: 6xx beats everything; else the lowest class; 401/407 are combined; 503 → 500. */
export function bestResponse(finals: readonly SipResponse[]): SipResponse | undefined {
  if (finals.length === 0) return undefined;
  const six = finals.find((r) => r.status >= 600);
  if (six) return six;
  const sorted = [...finals].sort((a, b) => Math.floor(a.status / 100) - Math.floor(b.status / 100) || a.status - b.status);
  return sorted[0];
}

interface Branch<C> {
  tx: C;
  done: boolean;
  provisional: boolean;
}

export class Proxy<C> {
  private readonly tx: ProxyTransactionPort<C>;
  private readonly viaFor: (dest: Endpoint) => string;
  private readonly log: Logger;
  /** Live forwarding contexts by the server transaction they serve (for CANCEL). */
  private readonly contexts = new Map<ProxyServerTx, { branches: Branch<C>[]; answered: boolean }>();

  constructor(opts: ProxyOptions<C>) {
    this.tx = opts.transactions;
    this.viaFor = opts.viaFor;
    this.log = opts.logger.child({ component: 'proxy' });
  }

  get pending(): number {
    return this.contexts.size;
  }

  /**
   * Forward `stx.request` to `targets` (§16.6) and relay the responses (§16.7). The caller has checked that
   * `targets` is non-empty.
   */
  forward(stx: ProxyServerTx, targets: readonly ProxyTarget[]): void {
    const req = stx.request;
    // §16.3 step 3 / §16.6 step 3: Max-Forwards 0 → 483; absent → 70; else decrement.
    const mf = req.maxForwards;
    if (mf === 0) {
      stx.respond(createResponse(req, 483, 'Too Many Hops'));
      return;
    }
    const ctx = { branches: [] as Branch<C>[], answered: false };
    this.contexts.set(stx, ctx);
    const finals: SipResponse[] = [];
    const isInvite = req.method === 'INVITE';

    const finish = () => {
      if (ctx.answered) return;
      if (ctx.branches.some((b) => !b.done)) return;
      ctx.answered = true;
      this.contexts.delete(stx);
      const best = bestResponse(finals);
      if (best) stx.respond(best);
    };

    for (const target of targets) {
      const edits = {
        uri: target.uri,
        // §16.6 step 8: our Via on top; step 3: Max-Forwards; step 6: Path → Route (RFC 3327 §5.3).
        prepend: [['Via', `${this.viaFor(target.dest)};branch=${newBranch()}`] as const, ...target.path.map((p) => ['Route', p] as const)],
        remove: ['max-forwards'],
        append: [['Max-Forwards', String((mf ?? 70) - 1)] as const],
      };
      const out = req.edit(edits);
      const branch: Branch<C> = { tx: undefined as unknown as C, done: false, provisional: false };
      ctx.branches.push(branch);
      const relay = (res: SipResponse) => res.edit({ popVia: true });
      branch.tx = this.tx.sendRequest(out, target.dest, {
        onProvisional: (res) => {
          branch.provisional = true;
          // §16.7 step 5: forward provisional responses other than 100 at once.
          if (res.status > 100 && !ctx.answered) stx.respond(relay(res));
        },
        onFinal: (res) => {
          if (res.status >= 200 && res.status < 300) {
            // §16.7 step 5: every 2xx is forwarded at once (also later 2xx from other forks, for INVITE).
            const first = !ctx.answered;
            ctx.answered = true;
            branch.done = true;
            stx.respond(relay(res));
            if (first && isInvite) {
              // §16.7 step 10: CANCEL the branches still pending.
              for (const b of ctx.branches) if (!b.done) this.tx.cancel(b.tx);
            }
            this.contexts.delete(stx);
            return;
          }
          if (branch.done) return;
          branch.done = true;
          finals.push(relay(res));
          finish();
        },
        onTimeout: (res) => {
          if (branch.done) return;
          branch.done = true;
          finals.push(res.edit({ popVia: true }));
          finish();
        },
        onTransportError: (err, res) => {
          if (branch.done) return;
          this.log.info({ dest: `${target.dest.address}:${target.dest.port}`, err: err.message }, 'branch transport error');
          branch.done = true;
          finals.push(res.edit({ popVia: true }));
          finish();
        },
      });
    }
  }

  /** §16.10: the caller CANCELled: cancel every pending branch; their 487s make the final response. */
  cancel(stx: ProxyServerTx): void {
    const ctx = this.contexts.get(stx);
    if (!ctx) return;
    for (const b of ctx.branches) if (!b.done) this.tx.cancel(b.tx);
  }
}
