/**
 * The SIP server's transaction user: the UAS core checks (RFC 3261 §8.2), then REGISTER → registrar (with
 * digest authentication when a users file is configured), OPTIONS → 200, in-dialog requests → dialog layer,
 * requests for registered users → proxy (§16). Later the conference focus plugs in before the proxy.
 */
import type { Logger } from '../log.ts';
import type { Clock } from '../sip/clock.ts';
import type { SipRequest } from '../sip/message/types.ts';
import { createResponse } from '../sip/message/build.ts';
import { parseUri } from '../sip/message/parse.ts';
import type { Endpoint, Source, SipTransport } from '../sip/transport/types.ts';
import type { ServerTransaction, TransactionLayer, ClientTransaction } from '../sip/transaction/layer.ts';
import { DialogLayer } from '../sip/dialog/dialog-layer.ts';
import { uriToEndpoint } from '../sip/dialog/target.ts';
import type { DigestAuthenticator } from '../sip/auth/digest.ts';
import type { Registrar } from '../location/registrar.ts';
import { routeTargets } from '../location/route.ts';
import { Proxy, type ProxyTarget } from '../proxy/proxy.ts';
import { ALLOW_HEADER, inspectRequest } from './uas-checks.ts';

/** A request handler that may claim a request before the proxy (the conference focus, later). */
export type RequestClaim = (req: SipRequest, tx: ServerTransaction) => boolean;

export interface SipServerOptions {
  transport: SipTransport;
  transactions: TransactionLayer;
  registrar: Registrar;
  auth?: DigestAuthenticator;
  clock: Clock;
  logger: Logger;
  /** Is this user one we know (users file)? Then an unreachable user gets 480 rather than 404. */
  knownUser?: (user: string) => boolean;
  /** Metrics hooks: every new request, and every response the server sends to one. */
  onRequestCounted?: (method: string) => void;
  onResponseCounted?: (method: string, status: number) => void;
}

export class SipServer {
  readonly dialogs: DialogLayer;
  readonly proxy: Proxy<ClientTransaction>;
  private readonly transport: SipTransport;
  private readonly registrar: Registrar;
  private readonly auth: DigestAuthenticator | undefined;
  private readonly log: Logger;
  private readonly knownUser: (user: string) => boolean;
  private readonly claims: RequestClaim[] = [];
  private readonly onRequestCounted: ((method: string) => void) | undefined;
  private readonly onResponseCounted: ((method: string, status: number) => void) | undefined;
  readonly counters = { requests: 0, rejectedByChecks: 0, registers: 0, proxied: 0, notFound: 0, noDialog: 0, handlerErrors: 0 };

  constructor(opts: SipServerOptions) {
    this.transport = opts.transport;
    this.registrar = opts.registrar;
    this.auth = opts.auth;
    this.log = opts.logger.child({ component: 'sip-server' });
    this.knownUser = opts.knownUser ?? (() => false);
    this.onRequestCounted = opts.onRequestCounted;
    this.onResponseCounted = opts.onResponseCounted;
    this.dialogs = new DialogLayer({ transactions: opts.transactions, transport: opts.transport, clock: opts.clock, logger: opts.logger });
    this.proxy = new Proxy<ClientTransaction>({
      transactions: { sendRequest: (r, d, h) => opts.transactions.sendRequest(r, d, h), cancel: (tx) => void opts.transactions.cancel(tx) },
      viaFor: (dest) => this.viaFor(dest),
      logger: opts.logger,
    });
    opts.transactions.onRequest((req, tx) => this.onRequest(req, tx));
    opts.transactions.onAck((ack) => {
      // §13.3.1.4 / §17.2.3: an ACK for a 2xx is end-to-end; if it belongs to no dialog of ours it is dropped
      // (ACKs are never answered).
      this.dialogs.handleAck(ack);
    });
  }

  /** Let another component (the focus) claim requests before routing to registered users. */
  addClaim(claim: RequestClaim): void {
    this.claims.push(claim);
  }

  viaFor(dest: Endpoint): string {
    const s = this.transport.viaSentBy(dest.protocol);
    const host = s.host.includes(':') && !s.host.startsWith('[') ? `[${s.host}]` : s.host;
    return `SIP/2.0/${s.transport} ${host}:${s.port}`;
  }

  private onRequest(req: SipRequest, tx: ServerTransaction): void {
    this.counters.requests++;
    if (this.onRequestCounted) {
      this.onRequestCounted(req.method);
      // Every response the TU gives this transaction is counted (one shared hook, no closure per request).
      tx.respondHook = this.onResponseCounted;
    }
    try {
      this.route(req, tx);
    } catch (err) {
      // A bug in one handler answers 500 for that request only; the server keeps serving everyone else.
      this.counters.handlerErrors++;
      this.log.error({ err, method: req.method, callId: req.callId }, 'request handler failed');
      try {
        tx.respond(createResponse(req, 500, 'Server Internal Error'));
      } catch {
        /* the transaction may already be answered */
      }
    }
  }

  private route(req: SipRequest, tx: ServerTransaction): void {
    const rejection = inspectRequest(req);
    if (rejection) {
      this.counters.rejectedByChecks++;
      tx.respond(createResponse(req, rejection.status, rejection.reason, { headers: rejection.headers }));
      return;
    }
    if (req.method === 'REGISTER') {
      this.register(req, tx);
      return;
    }
    // §12.2.2: a request with a To tag belongs to a dialog.
    if (req.toTag !== undefined) {
      if (!this.dialogs.handleRequest(req, tx)) {
        this.counters.noDialog++;
        tx.respond(createResponse(req, 481, 'Call/Transaction Does Not Exist'));
      }
      return;
    }
    for (const claim of this.claims) if (claim(req, tx)) return;

    const bindings = this.registrar.lookup(req.uri);
    if (bindings.length > 0 && req.method !== 'OPTIONS') {
      this.forward(req, tx, bindings);
      return;
    }
    switch (req.method) {
      case 'OPTIONS':
        // §11.2: capabilities of this server.
        if (bindings.length > 0) {
          this.forward(req, tx, bindings);
          return;
        }
        tx.respond(
          createResponse(req, 200, 'OK', {
            headers: [
              ['Allow', ALLOW_HEADER],
              ['Accept', 'application/sdp, text/plain'],
              ['Supported', 'path'],
            ],
          }),
        );
        return;
      case 'BYE':
      case 'UPDATE':
      case 'PRACK':
      case 'INFO':
        // Only meaningful inside a dialog, and this one has no To tag.
        tx.respond(createResponse(req, 481, 'Call/Transaction Does Not Exist'));
        return;
      default: {
        this.counters.notFound++;
        const user = req.uri.user;
        if (user !== undefined && this.knownUser(user)) {
          tx.respond(createResponse(req, 480, 'Temporarily Unavailable - user not registered'));
        } else {
          tx.respond(createResponse(req, 404, 'Not Found'));
        }
      }
    }
  }

  private register(req: SipRequest, tx: ServerTransaction): void {
    this.counters.registers++;
    let authUser: string | undefined;
    if (this.auth) {
      // RFC 3261 §22.4 / §10.3 step 3: authenticate the registering UA.
      const v = this.auth.verify(req, { role: 'registrar' });
      if (!v.ok) {
        const headers = v.status === 401 || v.status === 407 ? this.auth.challenge(req, { stale: v.stale ?? false }) : [];
        const reason = v.status === 403 ? 'Forbidden' : v.status === 400 ? 'Bad Request - malformed credentials' : undefined;
        tx.respond(createResponse(req, v.status, reason, { headers }));
        return;
      }
      authUser = v.username;
    }
    tx.respond(this.registrar.handleRegister(req, authUser !== undefined ? { source: tx.source, authUser } : { source: tx.source }));
  }

  private forward(req: SipRequest, tx: ServerTransaction, bindings: ReturnType<Registrar['lookup']>): void {
    const targets: ProxyTarget[] = [];
    for (const t of routeTargets(bindings)) {
      let dest: Endpoint | undefined = t.destination;
      if (!dest) {
        const u = parseUri(t.requestUri);
        dest = u.ok ? uriToEndpoint(u.value) : undefined;
      }
      if (dest) targets.push({ uri: t.requestUri, dest, path: t.route });
    }
    if (targets.length === 0) {
      tx.respond(createResponse(req, 480, 'Temporarily Unavailable - no reachable contact'));
      return;
    }
    this.counters.proxied++;
    if (req.method === 'INVITE') {
      tx.onCancel(() => this.proxy.cancel(tx));
    }
    this.proxy.forward(tx, targets);
  }

  close(): void {
    this.dialogs.close();
  }
}

export type { Source };
