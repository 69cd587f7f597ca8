/**
 * Shared types of the RFC 3261 §17 transaction layer: what the layer needs from the transport, the TU-facing
 * handler shapes, the per-layer context each transaction machine is given, and the counters behind `stats()`.
 *
 * Style: callbacks (no promises). A client transaction reports through the `ClientHandlers` it was created
 * with; a server transaction through `onCancel` / `onTimeout` / `onTransportError` setters.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../../log.ts';
import type { SipRequest, SipResponse } from '../message/types.ts';
import type { Endpoint, SendCallback, Source } from '../transport/types.ts';
import type { TransactionTimers } from './timers.ts';
import type { CompletedState } from './completed-store.ts';

/** The subset of `SipTransport` (transport/types.ts) the transaction layer uses. */
export interface TransactionTransport {
  sendRequest(req: SipRequest, dest: Endpoint, cb?: SendCallback): void;
  sendResponse(res: SipResponse, source: Source, cb?: SendCallback): void;
}

export type TransactionKind = 'clientInvite' | 'clientNonInvite' | 'serverInvite' | 'serverNonInvite';

/**
 * What a client transaction tells its TU (RFC 3261 §17.1). Called synchronously from `receive()` or from a
 * timer; a throwing handler is caught and logged so one TU bug cannot wedge the layer.
 */
export interface ClientHandlers {
  /** 1xx responses (the INVITE machine passes every one up, §17.1.1.2; non-INVITE likewise, §17.1.2.2). */
  onProvisional?(res: SipResponse): void;
  /**
   * The final response. For INVITE it is called once for a non-2xx (whose ACK the transaction already sent,
   * §17.1.1.3) and once for EVERY 2xx: the first, its retransmissions and 2xx from other forks, while the
   * transaction sits in RFC 6026's Accepted state — the TU (dialog layer) sends/re-sends the ACK end-to-end
   * (§13.2.2.4) and may see several dialogs.
   */
  onFinal(res: SipResponse): void;
  /** Timer B (INVITE) or Timer F (non-INVITE) fired: no final response. `res` is a synthesised 408 (§8.1.3.1). */
  onTimeout(res: SipResponse): void;
  /** §17.1.4: the transport reported a failure. `res` is a synthesised 503 (§8.1.3.1). */
  onTransportError(err: Error, res: SipResponse): void;
}

/** Live counters (mutated in place by the machines; `TransactionLayer.stats()` copies them). */
export interface TransactionCounters {
  created: Record<TransactionKind, number>;
  /** Requests (client) and responses (server) re-sent by Timers A/E/G or on a retransmitted request/response. */
  retransmissions: number;
  /** Retransmitted requests/responses/ACKs swallowed by a transaction (never shown to the TU). */
  absorbedDuplicates: number;
  /** Responses matching no client transaction (§18.1.2: dropped here, the UA has no stateless core). */
  strayResponses: number;
  /** ACKs matching no server transaction, handed to `onAck` (or dropped when no handler is set). */
  acksToTu: number;
  straysDropped: number;
  /** CANCELs answered 481 (§9.2). */
  cancelNoMatch: number;
  timeouts: number;
  transportErrors: number;
  /** 100 Trying sent by server INVITE transactions on the TU's behalf (§17.2.1). */
  tryingSent: number;
}

export interface TransactionStats {
  live: Record<TransactionKind, number> & { total: number };
  created: Record<TransactionKind, number>;
  retransmissions: number;
  absorbedDuplicates: number;
  strayResponses: number;
  acksToTu: number;
  straysDropped: number;
  cancelNoMatch: number;
  timeouts: number;
  transportErrors: number;
  tryingSent: number;
}

/** Everything a transaction machine needs from the layer that owns it (one object per layer, shared). */
export interface TransactionContext {
  readonly transport: TransactionTransport;
  readonly clock: Clock;
  readonly timers: TransactionTimers;
  readonly log: Logger;
  readonly counters: TransactionCounters;
  /** Called exactly once when a machine enters Terminated: the layer forgets it. */
  terminated(tx: { readonly kind: TransactionKind; readonly key: string }): void;
  /**
   * A non-INVITE server transaction entered Completed over UDP (§17.2.2): the layer keeps a compact record of its
   * response bytes instead (completed-store.ts) and runs Timer J for it. Returns the record's number.
   */
  compact(
    tx: { readonly key: string; readonly source: Source },
    bytes: Buffer,
    transportErrorCb: ((err: Error) => void) | undefined,
  ): number;
  /** State of a compacted transaction's record. */
  completedState(record: number): CompletedState;
  /** End a compacted transaction now (Completed → Terminated; throws when it already ended). */
  endCompleted(record: number): void;
}

/**
 * Call a TU callback (if set), catching and logging what it throws: a TU bug must not unwind into the
 * transport's receive path or a timer, nor leave a machine half-transitioned.
 */
export function invokeTu<A extends unknown[]>(
  log: Logger,
  what: string,
  fn: ((...args: A) => void) | undefined,
  thisArg: unknown,
  ...args: A
): void {
  if (fn === undefined) return;
  try {
    fn.apply(thisArg, args);
  } catch (err) {
    log.error({ err, handler: what }, 'TU handler threw');
  }
}

/** RFC 3261 §8.1.1.7: "The branch ID inserted by an element compliant with this specification MUST always begin
 * with the characters 'z9hG4bK'." */
export const MAGIC_COOKIE = 'z9hG4bK';

export function isReliable(protocol: string): boolean {
  // Transport reliability (§17): TCP is reliable, UDP is not.
  return protocol === 'tcp';
}
