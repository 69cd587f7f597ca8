/**
 * The RFC 3261 §17 transaction layer: owns every client and server transaction of one SIP element, matches
 * incoming messages to them (§17.1.3, §17.2.3), answers CANCEL (§9.2) and hands the TU what is new.
 *
 * Receive path (`receive(incoming)`):
 *  - response → client transaction by (top Via branch, CSeq method); no match → dropped and counted as a stray
 *    (§18.1.2 would pass it to a stateless core; a UA has none).
 *  - ACK → the INVITE server transaction (absorbed in Completed/Confirmed, §17.2.1); otherwise — the ACK for a
 *    2xx is its own transaction (§17.1.1.3) — to the TU's `onAck` handler (§13.3.1.4, the dialog layer).
 *  - CANCEL → answered by this layer, never shown to `onRequest` (documented choice): 481 when it matches no INVITE
 *    server transaction, otherwise 200; if the INVITE is still pending its transaction's `onCancel` callback runs
 *    (the TU then answers the INVITE 487; without a callback the layer sends the 487 itself). A CANCEL for an INVITE
 *    already answered finally gets 200 and has no effect.
 *  - any other request → its server transaction when it is a retransmission (absorbed / answered from the
 *    transaction), else a new server transaction handed to `onRequest`.
 *
 * Keys are strings in two Maps, transactions hold no per-message closures, every timer is cancelled when its
 * machine terminates, and a terminated machine is forgotten at once: `stats().live.total` returns to 0.
 *
 * Non-INVITE server transactions over UDP are compacted when they enter Completed (§17.2.2; completed-store.ts):
 * key → {response bytes, source} records kept off the JS heap, Timer J for all of them on one clock timer
 * (`TIMER_J_RESOLUTION` buckets, not a timer per transaction). They count as live `serverNonInvite` transactions
 * until Timer J ends them.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../../log.ts';
import { createResponse, newTag } from '../message/build.ts';
import type { SipRequest } from '../message/types.ts';
import type { Endpoint, Incoming, SendCallback, Source } from '../transport/types.ts';
import { ClientInviteTransaction } from './client-invite.ts';
import { ClientNonInviteTransaction } from './client-non-invite.ts';
import { clientKey, isRfc3261Branch, rfc2543Key, serverKey } from './keys.ts';
import { buildCancel } from './requests.ts';
import { ServerInviteTransaction } from './server-invite.ts';
import { ServerNonInviteTransaction } from './server-non-invite.ts';
import { TransactionTimers, type BaseTimers } from './timers.ts';
import { CompletedStore, type CompletedState } from './completed-store.ts';
import { responseFromWire } from '../message/serialize.ts';
import { invokeTu } from './types.ts';
import type {
  ClientHandlers,
  TransactionContext,
  TransactionCounters,
  TransactionKind,
  TransactionStats,
  TransactionTransport,
} from './types.ts';

export type ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction;
export type ServerTransaction = ServerInviteTransaction | ServerNonInviteTransaction;

export type RequestHandler = (req: SipRequest, tx: ServerTransaction) => void;
export type AckHandler = (ack: SipRequest, source: Source) => void;

export interface TransactionLayerOptions {
  transport: TransactionTransport;
  clock: Clock;
  logger: Logger;
  /** Base timer values in ms (defaults T1 = 500, T2 = 4000, T4 = 5000). */
  timers?: Partial<BaseTimers>;
}

const NO_OP = (): void => {};
/** Timer J granularity for compacted transactions (ms; never more than T1): they end 64*T1 to 64*T1 + this after
 * entering Completed. */
export const TIMER_J_RESOLUTION = 500;
/** Handlers for a CANCEL's own client transaction when the TU passes none: its outcome is the INVITE's 487. */
const QUIET_HANDLERS: ClientHandlers = { onFinal: NO_OP, onTimeout: NO_OP, onTransportError: NO_OP };

export class TransactionLayer {
  readonly timers: TransactionTimers;
  private readonly clientTxs = new Map<string, ClientTransaction>();
  private readonly serverTxs = new Map<string, ServerTransaction>();
  /** Compacted Completed non-INVITE server transactions over UDP (§17.2.2), by server key. */
  private readonly completed: CompletedStore;
  private readonly live: Record<TransactionKind, number> = { clientInvite: 0, clientNonInvite: 0, serverInvite: 0, serverNonInvite: 0 };
  private readonly counters: TransactionCounters = {
    created: { clientInvite: 0, clientNonInvite: 0, serverInvite: 0, serverNonInvite: 0 },
    retransmissions: 0,
    absorbedDuplicates: 0,
    strayResponses: 0,
    acksToTu: 0,
    straysDropped: 0,
    cancelNoMatch: 0,
    timeouts: 0,
    transportErrors: 0,
    tryingSent: 0,
  };
  private readonly ctx: TransactionContext;
  private readonly log: Logger;
  private requestHandler: RequestHandler | undefined;
  private ackHandler: AckHandler | undefined;

  constructor(opts: TransactionLayerOptions) {
    this.timers = new TransactionTimers(opts.timers);
    this.log = opts.logger.child({ component: 'transaction' });
    this.ctx = {
      transport: opts.transport,
      clock: opts.clock,
      timers: this.timers,
      log: this.log,
      counters: this.counters,
      terminated: (tx) => this.forget(tx.kind, tx.key, tx),
      compact: (tx, bytes, cb) => this.compact(tx, bytes, cb),
      completedState: (record) => this.completedState(record),
      endCompleted: (record) => this.completed.end(record),
    };
    // §17.2.2 Timer J for compacted transactions: "The server transaction remains in this state until Timer J
    // fires, at which point it MUST transition to the "Terminated" state."
    this.completed = new CompletedStore(opts.clock, this.timers.TIMER_J(false), Math.min(TIMER_J_RESOLUTION, this.timers.T1), () => {
      this.live.serverNonInvite--;
    });
  }

  /** New requests (not retransmissions, not ACK, not CANCEL) with their server transaction. */
  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  /** ACKs that no server transaction absorbs: ACKs for 2xx responses (§13.3.1.4, §17.1.1.3). */
  onAck(handler: AckHandler): void {
    this.ackHandler = handler;
  }

  /** Feed every message the transport received. Never throws on untrusted input. */
  receive(incoming: Incoming): void {
    const msg = incoming.message;
    if (msg.kind === 'response') {
      const top = msg.via[0];
      const tx = top?.branch === undefined ? undefined : this.clientTxs.get(clientKey(top.branch, msg.cseq.method));
      if (tx === undefined) {
        this.counters.strayResponses++;
        this.log.debug({ status: msg.status, cseq: msg.cseq.method, branch: top?.branch }, 'stray response dropped');
        return;
      }
      tx.receiveResponse(msg);
      return;
    }
    const top = msg.via[0];
    if (top === undefined) {
      this.counters.straysDropped++;
      this.log.debug({ method: msg.method }, 'request without Via dropped');
      return;
    }
    if (msg.method === 'ACK') {
      this.receiveAck(msg, incoming.source);
      return;
    }
    const branch = top.branch;
    const key = isRfc3261Branch(branch) ? serverKey(top, branch, msg.method) : rfc2543Key(msg, msg.method, msg.toTag);
    const existing = this.serverTxs.get(key);
    if (existing !== undefined) {
      existing.receiveRequest();
      return;
    }
    const done = this.completed.find(key);
    if (done >= 0) {
      this.resendCompleted(done);
      return;
    }
    if (msg.method === 'CANCEL') {
      this.receiveCancel(msg, incoming.source, key);
      return;
    }
    const handler = this.requestHandler;
    if (handler === undefined) {
      this.counters.straysDropped++;
      this.log.warn({ method: msg.method, callId: msg.callId }, 'no request handler: request dropped');
      return;
    }
    const tx =
      msg.method === 'INVITE'
        ? new ServerInviteTransaction(this.ctx, key, msg, incoming.source)
        : new ServerNonInviteTransaction(this.ctx, key, msg, incoming.source);
    this.register(this.serverTxs, tx);
    if (tx.kind === 'serverInvite') tx.start();
    try {
      handler(msg, tx);
    } catch (err) {
      // A TU bug must not leave the peer retransmitting into a transaction nobody answers.
      this.log.error({ err, method: msg.method, callId: msg.callId }, 'request handler threw; answering 500');
      if (tx.state === 'Trying' || tx.state === 'Proceeding') {
        tx.respond(createResponse(msg, 500, 'Server Internal Error', msg.toTag === undefined ? { toTag: newTag() } : undefined));
      }
    }
  }

  /**
   * Start a client transaction (INVITE → §17.1.1, anything else but ACK → §17.1.2). The request's top Via must
   * already carry its branch (and sent-by); the branch + method must not belong to a live transaction.
   */
  sendRequest(req: SipRequest, dest: Endpoint, handlers: ClientHandlers): ClientTransaction {
    if (req.method === 'ACK') {
      throw new TypeError('TransactionLayer.sendRequest: ACK has no client transaction (§17.1.1.3); use sendAck()');
    }
    const branch = req.via[0]?.branch;
    if (branch === undefined || branch === '') throw new TypeError('TransactionLayer.sendRequest: top Via has no branch');
    const key = clientKey(branch, req.method);
    if (this.clientTxs.has(key)) throw new Error(`TransactionLayer.sendRequest: branch ${branch} already in use for ${req.method}`);
    const tx =
      req.method === 'INVITE'
        ? new ClientInviteTransaction(this.ctx, key, req, dest, handlers)
        : new ClientNonInviteTransaction(this.ctx, key, req, dest, handlers);
    this.register(this.clientTxs, tx);
    tx.start();
    return tx;
  }

  /**
   * Cancel a pending INVITE (§9.1): builds the CANCEL (same Request-URI, Call-ID, To, From, CSeq number, top Via
   * and Route as the INVITE) and sends it in its own non-INVITE client transaction — at once if a provisional
   * response arrived, else when the first one does. Returns false (nothing sent, ever) when the INVITE already
   * has a final response or was already cancelled. The INVITE's own handlers then see the 487.
   */
  cancel(tx: ClientTransaction, handlers: ClientHandlers = QUIET_HANDLERS): boolean {
    if (!(tx instanceof ClientInviteTransaction)) throw new TypeError('TransactionLayer.cancel: not a client INVITE transaction');
    return tx.requestCancel(() => {
      this.sendRequest(buildCancel(tx.request), tx.dest, handlers);
    });
  }

  /** Send an ACK for a 2xx (the TU's end-to-end ACK, §13.2.2.4): stateless, no transaction. */
  sendAck(ack: SipRequest, dest: Endpoint, cb?: SendCallback): void {
    if (ack.method !== 'ACK') throw new TypeError('TransactionLayer.sendAck: not an ACK');
    this.ctx.transport.sendRequest(ack, dest, cb);
  }

  stats(): TransactionStats {
    const c = this.counters;
    const l = this.live;
    return {
      live: { ...l, total: l.clientInvite + l.clientNonInvite + l.serverInvite + l.serverNonInvite },
      created: { ...c.created },
      retransmissions: c.retransmissions,
      absorbedDuplicates: c.absorbedDuplicates,
      strayResponses: c.strayResponses,
      acksToTu: c.acksToTu,
      straysDropped: c.straysDropped,
      cancelNoMatch: c.cancelNoMatch,
      timeouts: c.timeouts,
      transportErrors: c.transportErrors,
      tryingSent: c.tryingSent,
    };
  }

  /** Shutdown: terminate every transaction (timers cancelled, no TU callbacks). */
  close(): void {
    for (const tx of [...this.clientTxs.values(), ...this.serverTxs.values()]) {
      if (tx.state !== 'Terminated') tx.transition('Terminated');
    }
    this.completed.clear();
  }

  private receiveAck(ack: SipRequest, source: Source): void {
    const top = ack.via[0]!;
    let tx: ServerTransaction | undefined;
    if (isRfc3261Branch(top.branch)) {
      tx = this.serverTxs.get(serverKey(top, top.branch, 'INVITE'));
    } else {
      // RFC 2543: the ACK's To tag must equal the To tag of the response the server transaction sent. A re-INVITE
      // already carried that tag; an initial INVITE did not.
      tx = this.serverTxs.get(rfc2543Key(ack, 'INVITE', ack.toTag));
      if (tx === undefined) {
        const initial = this.serverTxs.get(rfc2543Key(ack, 'INVITE', undefined));
        if (initial !== undefined && initial.responseToTag === ack.toTag) tx = initial;
      }
    }
    if (tx !== undefined && tx.kind === 'serverInvite' && tx.receiveAck()) return;
    const handler = this.ackHandler;
    if (handler === undefined) {
      this.counters.straysDropped++;
      this.log.debug({ callId: ack.callId }, 'ACK matching no transaction dropped (no onAck handler)');
      return;
    }
    this.counters.acksToTu++;
    try {
      handler(ack, source);
    } catch (err) {
      this.log.error({ err, callId: ack.callId }, 'ACK handler threw');
    }
  }

  /** RFC 3261 §9.2 Server Behavior. */
  private receiveCancel(cancel: SipRequest, source: Source, key: string): void {
    const cancelTx = new ServerNonInviteTransaction(this.ctx, key, cancel, source);
    this.register(this.serverTxs, cancelTx);
    // "The TU determines the transaction to be cancelled by taking the CANCEL request, and then assuming that the
    // request method is anything but CANCEL or ACK and applying the transaction matching procedures of Section
    // 17.2.3." — we look for the INVITE (CANCEL of a non-INVITE has no effect, §9.2).
    const top = cancel.via[0]!;
    const invKey = isRfc3261Branch(top.branch) ? serverKey(top, top.branch, 'INVITE') : rfc2543Key(cancel, 'INVITE', cancel.toTag);
    const invite = this.serverTxs.get(invKey);
    if (invite === undefined || invite.kind !== 'serverInvite') {
      // "If the UAS did not find a matching transaction for the CANCEL according to the procedure above, it
      // SHOULD respond to the CANCEL with a 481 (Call Leg/Transaction Does Not Exist)."
      this.counters.cancelNoMatch++;
      cancelTx.respond(
        createResponse(cancel, 481, 'Call/Transaction Does Not Exist', cancel.toTag === undefined ? { toTag: newTag() } : undefined),
      );
      return;
    }
    // "Regardless of the method of the original request, as long as the CANCEL matched an existing transaction,
    // the UAS answers the CANCEL request itself with a 200 (OK) response." ... "The To tag of the response to the
    // CANCEL and the response to the original request SHOULD be the same." (We reuse the INVITE's tag when a
    // response already carried one; otherwise the 487 the TU sends later cannot be known yet.)
    const toTag = cancel.toTag === undefined ? (invite.lastToTag ?? newTag()) : undefined;
    cancelTx.respond(createResponse(cancel, 200, 'OK', toTag === undefined ? undefined : { toTag }));
    // "If the transaction for the original request still exists, the behavior of the UAS on receiving a CANCEL
    // request depends on whether it has already sent a final response for the original request. If it has, the
    // CANCEL request has no effect on the processing of the original request ... If the UAS has not issued a final
    // response for the original request, its behavior depends on the method of the original request. If the
    // original request was an INVITE, the UAS SHOULD immediately respond to the INVITE with a 487".
    invite.cancelled(cancel);
  }

  private register<T extends ClientTransaction | ServerTransaction>(map: Map<string, T>, tx: T): void {
    map.set(tx.key, tx);
    this.live[tx.kind]++;
    this.counters.created[tx.kind]++;
  }

  /** §17.2.2 Completed over UDP: swap the transaction for its compact record (Timer J runs in the store). */
  private compact(
    tx: { readonly key: string; readonly source: Source },
    bytes: Buffer,
    transportErrorCb: ((err: Error) => void) | undefined,
  ): number {
    if (this.serverTxs.get(tx.key) === tx) this.serverTxs.delete(tx.key);
    // Server keys are flat (keys.ts): kept 64*T1, they do not pin the request's text.
    return this.completed.add(tx.key, bytes, tx.source, transportErrorCb);
  }

  private completedState(record: number): CompletedState {
    return this.completed.stateOf(record);
  }

  /** §17.2.2: "While in the "Completed" state, the server transaction MUST pass the final response to the
   * transport layer for retransmission whenever a retransmission of the request is received." */
  private resendCompleted(record: number): void {
    this.counters.absorbedDuplicates++;
    const res = responseFromWire(this.completed.response(record));
    if (res === undefined) return; // our own bytes always parse; nothing sensible to resend otherwise
    this.counters.retransmissions++;
    this.ctx.transport.sendResponse(res, this.completed.source(record), (err) => {
      if (err === undefined || this.completed.stateOf(record) === 'Terminated') return;
      // §17.2.4 (Figure 8 "Trnsprt Err / Inform TU").
      this.counters.transportErrors++;
      this.log.debug({ err, record }, 'response transport error');
      const cb = this.completed.transportErrorCb(record);
      this.completed.end(record);
      invokeTu(this.log, 'onTransportError', cb, undefined, err);
    });
  }

  private forget(kind: TransactionKind, key: string, tx: object): void {
    const map: Map<string, object> = kind === 'clientInvite' || kind === 'clientNonInvite' ? this.clientTxs : this.serverTxs;
    if (map.get(key) === tx) map.delete(key);
    this.live[kind]--;
  }
}
