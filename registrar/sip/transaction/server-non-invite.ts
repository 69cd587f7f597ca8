/**
 * RFC 3261 §17.2.2 non-INVITE server transaction (Figure 8).
 *
 *                                   |Request received
 *                                   |pass to TU
 *                                   V
 *                             +-----------+
 *                             |           |
 *                             | Trying    |-------------+
 *                             |           |             |
 *                             +-----------+             |200-699 from TU
 *                                   |                   |send response
 *                                   |1xx from TU        |
 *                                   |send response      |
 *                                   |                   |
 *                Request            V      1xx from TU  |
 *                send response+-----------+send response|
 *                    +--------|           |--------+    |
 *                    |        | Proceeding|        |    |
 *                    +------->|           |<-------+    |
 *             +<--------------|           |             |
 *             |Trnsprt Err    +-----------+             |
 *             |Inform TU            |                   |
 *             |                     |                   |
 *             |                     |200-699 from TU    |
 *             |                     |send response      |
 *             |  Request            V                   |
 *             |  send response+-----------+             |
 *             |      +--------|           |             |
 *             |      |        | Completed |<------------+
 *             |      +------->|           |
 *             +<--------------|           |
 *             |Trnsprt Err    +-----------+
 *             |Inform TU            |
 *             |                     |Timer J fires
 *             |                     |-
 *             |                     |
 *             |                     V
 *             |               +-----------+
 *             |               |           |
 *             +-------------->| Terminated|
 *                             |           |
 *                             +-----------+
 *
 * (Request retransmissions in Trying are absorbed silently: there is no response to resend yet.)
 *
 * Over UDP, on entering Completed the transaction hands its Completed state to a compact record (completed-store.ts:
 * key → response bytes + source, off the JS heap) and the layer forgets this object: the record answers
 * retransmissions and Timer J ends it. A TU that kept this object still sees the right `state`: it reads the
 * record's, and `transition('Terminated')` ends the record.
 */
import type { SipRequest, SipResponse } from '../message/types.ts';
import type { Source } from '../transport/types.ts';
import { serialize } from '../message/serialize.ts';
import { checkEdge, type EdgeTable } from './state.ts';
import { invokeTu, isReliable, type TransactionContext } from './types.ts';

export type ServerNonInviteState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

const EDGES: EdgeTable<ServerNonInviteState> = {
  Trying: ['Proceeding', 'Completed', 'Terminated'],
  Proceeding: ['Completed', 'Terminated'],
  Completed: ['Terminated'],
  Terminated: [],
};

export class ServerNonInviteTransaction {
  readonly kind = 'serverNonInvite' as const;
  /** Reliable transport (TCP): Timer J = 0 (§17.2.2). */
  readonly reliable: boolean;
  private current: ServerNonInviteState = 'Trying';
  private last: SipResponse | undefined;
  /** Set once Completed over UDP was handed to the layer's compact record (which then owns the state). */
  private record = -1;
  private transportErrorCb: ((err: Error) => void) | undefined;
  /** Called with the request's method and the status on every `respond()` (the server core's metrics): one
   * function shared by all transactions, instead of a closure wrapping `respond` per request. */
  respondHook: ((method: string, status: number) => void) | undefined = undefined;

  constructor(
    private readonly ctx: TransactionContext,
    /** Server matching key (§17.2.3): branch + sent-by + method, or the RFC 2543 key. */
    readonly key: string,
    readonly request: SipRequest,
    readonly source: Source,
  ) {
    this.reliable = isReliable(source.protocol);
  }

  get state(): ServerNonInviteState {
    return this.record >= 0 ? this.ctx.completedState(this.record) : this.current;
  }

  /** To tag of the final response sent (unused for non-INVITE matching; kept for a uniform server surface). */
  get responseToTag(): string | undefined {
    return this.last !== undefined && this.last.status >= 200 ? this.last.toTag : undefined;
  }

  /** Accepted for a uniform `ServerTransaction` surface; never fires: §9.2 "CANCEL has no effect on a request
   * to which a UAS has already given a final response" and a UAS answers non-INVITE requests at once. */
  onCancel(_cb: (cancel: SipRequest) => void): void {}

  /** TU: the transport failed to send a response (§17.2.4). */
  onTransportError(cb: (err: Error) => void): void {
    this.transportErrorCb = cb;
  }

  /** The single state-change path; an edge absent from Figure 8 is API misuse and throws. */
  transition(to: ServerNonInviteState): void {
    checkEdge('server non-INVITE transaction', EDGES, this.state, to);
    if (this.record >= 0) {
      // Compacted: Completed → Terminated is the record's edge (the only one left).
      this.ctx.endCompleted(this.record);
      return;
    }
    this.current = to;
    if (to === 'Terminated') this.ctx.terminated(this);
  }

  /** The TU's response. A response after the final one is discarded (§17.2.2: "Any other final responses passed
   * by the TU to the server transaction MUST be discarded while in the "Completed" state"); a non-response or a
   * status outside 100-699 is API misuse and throws. */
  respond(res: SipResponse): void {
    if (res.kind !== 'response' || !(res.status >= 100 && res.status <= 699)) {
      throw new TypeError('ServerNonInviteTransaction.respond: not a 100-699 response');
    }
    this.respondHook?.(this.request.method, res.status);
    if (this.state === 'Completed' || this.state === 'Terminated') {
      this.ctx.log.warn({ status: res.status, state: this.state, method: this.request.method }, 'TU response discarded in this state');
      return;
    }
    this.last = res;
    if (res.status < 200) {
      // §17.2.2: "While in the "Trying" state, if the TU passes a provisional response to the server transaction,
      // the server transaction MUST enter the "Proceeding" state. The response MUST be passed to the transport
      // layer for transmission. Any further provisional responses that are received from the TU while in the
      // "Proceeding" state MUST be passed to the transport layer for transmission."
      if (this.current === 'Trying') this.transition('Proceeding');
      this.send(res);
      return;
    }
    // §17.2.2: "If the TU passes a final response (status codes 200-699) to the server while in the "Proceeding"
    // [or "Trying"] state, the transaction MUST enter the "Completed" state, and the response MUST be passed to the
    // transport layer for transmission." ... "When the server transaction enters the "Completed" state, it MUST set
    // Timer J to fire in 64*T1 seconds for unreliable transports, and zero seconds for reliable transports."
    this.transition('Completed');
    if (this.reliable) {
      this.send(res);
      if (this.stillCompleted()) this.transition('Terminated'); // Timer J = 0
      return;
    }
    // Unreliable: Timer J = 64*T1, run by the layer for the compact record that takes over from here.
    const bytes = serialize(res); // cached on the response: the transport sends these very bytes
    this.send(res);
    if (this.stillCompleted()) this.record = this.ctx.compact(this, bytes, this.transportErrorCb);
  }

  /** After a send: a synchronous transport error may have terminated the transaction meanwhile. */
  private stillCompleted(): boolean {
    return this.state === 'Completed';
  }

  /** A retransmission of the request (matched per §17.2.3). */
  receiveRequest(): void {
    const c = this.ctx.counters;
    c.absorbedDuplicates++;
    // §17.2.2: "Once in the "Trying" state, any further request retransmissions are discarded." ... "If a
    // retransmission of the request is received while in the "Proceeding" state, the most recently sent
    // provisional response MUST be passed to the transport layer for retransmission." ... "While in the
    // "Completed" state, the server transaction MUST pass the final response to the transport layer for
    // retransmission whenever a retransmission of the request is received."
    if ((this.current === 'Proceeding' || this.current === 'Completed') && this.last !== undefined) {
      c.retransmissions++;
      this.send(this.last);
    }
  }

  private send(res: SipResponse): void {
    // A closure per send, not one kept on the transaction: a transaction holding a closure over itself is kept
    // alive (with its request and response) across the next young-generation GC and promoted — measured ~3 KB
    // promoted per REGISTER (bench/register-inproc.ts, --trace-gc-nvp), all of it garbage in old space soon after.
    this.ctx.transport.sendResponse(res, this.source, (err?: Error) => {
      if (err) this.onSendError(err);
    });
  }

  /** §17.2.4 (Figure 8 "Trnsprt Err / Inform TU"): terminate and tell the TU. */
  private onSendError(err: Error): void {
    if (this.state === 'Terminated') return;
    this.ctx.counters.transportErrors++;
    this.ctx.log.debug({ err, method: this.request.method, key: this.key }, 'response transport error');
    this.transition('Terminated');
    invokeTu(this.ctx.log, 'onTransportError', this.transportErrorCb, undefined, err);
  }
}
