/**
 * RFC 3261 §17.2.1 INVITE server transaction (Figure 7), with the Accepted state of RFC 6026 §7.1 (Figure 5).
 *
 *                               |INVITE
 *                               |pass INV to TU; after 200 ms without a TU response: send 100 Trying
 *            INVITE             V
 *            send response+-----------+
 *                +--------|           |--------+ 101-199 from TU
 *                |        | Proceeding|        | send response
 *                +------->|           |<-------+
 *                         |           |          Transport Err.
 *                         |           |          Inform TU
 *                         |           |--------------------------------->+
 *                         +-----------+                                  |
 *            300-699 from TU |     | 2xx from TU                         |
 *            send response   |     | send response                       |
 *                            |     +------------------+                  |
 *                            |                        |                  |
 *            INVITE          V          Timer G fires |  2xx from TU     |
 *            send response+-----------+ send response |  send response   |
 *                +--------|           |--------+      V  +-------+       |
 *                |        | Completed |        |  +-----------+  |       |
 *                +------->|           |<-------+  |           |<-+       |
 *                         +-----------+           |  Accepted | INVITE:  |
 *                            |  |  |              |           | absorbed |
 *                        ACK |  |  +------------->+-----------+ ACK: to  |
 *                        -   |  | Timer H fires,      |         the TU   |
 *                            |  | Transport Err.:     | Timer L fires    |
 *                            V  | Inform TU           |                  |
 *                         +-----------+               |                  |
 *                         |           |               |                  |
 *                         | Confirmed |               |                  |
 *                         | (ACK:     |               |                  |
 *                         |  absorbed)|               |                  |
 *                         +-----------+               |                  |
 *                               |                     |                  |
 *                               |Timer I fires        |                  |
 *                               V                     V                  |
 *                         +----------------------------------+           |
 *                         |            Terminated            |<----------+
 *                         +----------------------------------+
 *
 * Deviation: RFC 3261 §17.2.1 terminates the transaction as soon as the TU sends a 2xx. We follow RFC 6026
 * (which updates it): Accepted absorbs INVITE retransmissions (so the TU never sees a duplicate INVITE) for
 * Timer L = 64*T1. The TU still retransmits its 2xx (§13.3.1.4) by calling `respond()` again; ACKs for the 2xx
 * (their own transaction, §17.1.1.3) go to the TU's `onAck` handler whether or not they match this machine.
 */
import type { TimerHandle } from '../clock.ts';
import type { SipRequest, SipResponse } from '../message/types.ts';
import type { SendCallback, Source } from '../transport/types.ts';
import { buildRequestTerminated, buildTrying } from './requests.ts';
import { checkEdge, type EdgeTable } from './state.ts';
import { TRYING_DELAY } from './timers.ts';
import { invokeTu, isReliable, type TransactionContext } from './types.ts';

export type ServerInviteState = 'Proceeding' | 'Completed' | 'Confirmed' | 'Accepted' | 'Terminated';

const EDGES: EdgeTable<ServerInviteState> = {
  Proceeding: ['Completed', 'Accepted', 'Terminated'],
  Completed: ['Confirmed', 'Terminated'],
  Confirmed: ['Terminated'],
  Accepted: ['Terminated'],
  Terminated: [],
};

export class ServerInviteTransaction {
  readonly kind = 'serverInvite' as const;
  /** Reliable transport (TCP): no Timer G, Timer I = 0 (§17.2.1). */
  readonly reliable: boolean;
  private current: ServerInviteState = 'Proceeding';
  /** The most recent response handed to the transport (resent on a retransmitted INVITE). */
  private last: SipResponse | undefined;
  private timerTrying: TimerHandle | undefined;
  private timerG: TimerHandle | undefined;
  private intervalG: number;
  private timerH: TimerHandle | undefined;
  /** Timer I in Confirmed, Timer L in Accepted. */
  private timerEnd: TimerHandle | undefined;
  private sendCb: SendCallback | undefined;
  private cancelCb: ((cancel: SipRequest) => void) | undefined;
  private timeoutCb: (() => void) | undefined;
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
    this.intervalG = ctx.timers.TIMER_G;
  }

  get state(): ServerInviteState {
    return this.current;
  }

  /** To tag of the final response sent (RFC 2543 ACK matching, §17.2.3). */
  get responseToTag(): string | undefined {
    return this.last !== undefined && this.last.status >= 200 ? this.last.toTag : undefined;
  }

  /** To tag of the latest response sent, provisional included (§9.2: the 200 to a CANCEL SHOULD carry the same
   * To tag as the responses to the INVITE). */
  get lastToTag(): string | undefined {
    return this.last?.toTag;
  }

  /** TU: CANCEL for this INVITE arrived while it was pending (§9.2); answer the INVITE 487. Without a handler
   * the layer answers 487 itself. */
  onCancel(cb: (cancel: SipRequest) => void): void {
    this.cancelCb = cb;
  }

  /** TU: Timer H fired — the ACK for our non-2xx final response never came (§17.2.1). */
  onTimeout(cb: () => void): void {
    this.timeoutCb = cb;
  }

  /** TU: the transport failed to send a response (§17.2.4). */
  onTransportError(cb: (err: Error) => void): void {
    this.transportErrorCb = cb;
  }

  /** The single state-change path; an edge absent from Figure 7 (+RFC 6026) is API misuse and throws. */
  transition(to: ServerInviteState): void {
    checkEdge('server INVITE transaction', EDGES, this.current, to);
    this.current = to;
    if (to === 'Terminated') {
      this.timerTrying?.cancel();
      this.timerG?.cancel();
      this.timerH?.cancel();
      this.timerEnd?.cancel();
      this.timerTrying = this.timerG = this.timerH = this.timerEnd = undefined;
      this.ctx.terminated(this);
    }
  }

  /** §17.2.1: "When a server transaction is constructed for a request, it enters the "Proceeding" state. The
   * server transaction MUST generate a 100 (Trying) response unless it knows that the TU will generate a
   * provisional or final response within 200 ms". We give the TU those 200 ms. */
  start(): void {
    this.timerTrying = this.ctx.clock.setTimer(TRYING_DELAY, () => this.fireTrying());
  }

  /** The TU's response. Illegal sequences the RFC says to discard (a 1xx after a final response, a second
   * non-2xx) are logged and dropped; a non-response or a status outside 100-699 is API misuse and throws. */
  respond(res: SipResponse): void {
    if (res.kind !== 'response' || !(res.status >= 100 && res.status <= 699)) {
      throw new TypeError(`ServerInviteTransaction.respond: not a 100-699 response`);
    }
    this.respondHook?.(this.request.method, res.status);
    const status = res.status;
    switch (this.current) {
      case 'Proceeding':
        this.timerTrying?.cancel();
        this.timerTrying = undefined;
        this.last = res;
        if (status < 200) {
          // §17.2.1: "The TU passes any number of provisional responses to the server transaction. So long as the
          // server transaction is in the "Proceeding" state, each of these MUST be passed to the transport layer"
          this.send(res);
        } else if (status < 300) {
          // §17.2.1 (as updated by RFC 6026 §8.5): "If, while in the "Proceeding" state, the TU passes a 2xx
          // response to the server transaction, the server transaction MUST pass this response to the transport
          // layer for transmission ... The server transaction MUST then transition to the "Accepted" state."
          this.transition('Accepted');
          this.timerEnd = this.ctx.clock.setTimer(this.ctx.timers.TIMER_L, () => this.fireTimerEnd());
          this.send(res);
        } else {
          // §17.2.1: "While in the "Proceeding" state, if the TU passes a response with status code from 300 to 699
          // to the server transaction, the response MUST be passed to the transport layer for transmission, and the
          // state machine MUST enter the "Completed" state. For unreliable transports, timer G is set to fire in T1
          // seconds ... When the "Completed" state is entered, timer H MUST be set to fire in 64*T1 seconds for all
          // transports."
          this.transition('Completed');
          if (!this.reliable) this.timerG = this.ctx.clock.setTimer(this.intervalG, () => this.fireTimerG());
          this.timerH = this.ctx.clock.setTimer(this.ctx.timers.TIMER_H, () => this.fireTimerH());
          this.send(res);
        }
        return;
      case 'Accepted':
      case 'Terminated':
        // RFC 6026 §8.7: "Any 2xx responses passed from the TU to the transaction while in the "Accepted" state
        // MUST be passed to the transport layer for transmission." The TU owns 2xx retransmission (§13.3.1.4), so
        // after Timer L a late 2xx retransmission is still sent, statelessly.
        if (status >= 200 && status < 300) {
          this.ctx.transport.sendResponse(res, this.source);
          return;
        }
        this.discard(res);
        return;
      case 'Completed':
      case 'Confirmed':
        this.discard(res);
        return;
    }
  }

  /** A retransmission of the INVITE (matched per §17.2.3). */
  receiveRequest(): void {
    const c = this.ctx.counters;
    c.absorbedDuplicates++;
    // §17.2.1: "If a request retransmission is received while in the "Proceeding" state, the most recent
    // provisional response that was received from the TU MUST be passed to the transport layer for
    // retransmission." ... "while in the "Completed" state, if a request retransmission is received, the server
    // SHOULD pass the response to the transport for retransmission." Confirmed and Accepted absorb it.
    if ((this.current === 'Proceeding' || this.current === 'Completed') && this.last !== undefined) {
      c.retransmissions++;
      this.send(this.last);
    }
  }

  /** An ACK matched to this INVITE (§17.2.3). Returns true when absorbed, false when it belongs to the TU. */
  receiveAck(): boolean {
    switch (this.current) {
      case 'Completed': {
        // §17.2.1: "If an ACK is received while the server transaction is in the "Completed" state, the server
        // transaction MUST transition to the "Confirmed" state. As Timer G is ignored in this state, any
        // retransmissions of the response will cease." ... "When this state is entered, timer I is set to fire in
        // T4 seconds for unreliable transports, and zero seconds for reliable transports."
        this.timerG?.cancel();
        this.timerH?.cancel();
        this.timerG = this.timerH = undefined;
        this.transition('Confirmed');
        const i = this.ctx.timers.TIMER_I(this.reliable);
        if (i === 0) this.transition('Terminated');
        else this.timerEnd = this.ctx.clock.setTimer(i, () => this.fireTimerEnd());
        return true;
      }
      case 'Confirmed':
        // §17.2.1: "The purpose of the "Confirmed" state is to absorb any additional ACK messages that arrive".
        this.ctx.counters.absorbedDuplicates++;
        return true;
      case 'Accepted':
        // RFC 6026 §8.7: "the ACK must be passed up to the TU" (it acknowledges the TU's 2xx).
        return false;
      default:
        // An ACK before any final response is meaningless: drop it.
        this.ctx.counters.straysDropped++;
        return true;
    }
  }

  /** A CANCEL matched to this INVITE (§9.2). Returns true if the INVITE was still pending (TU notified). */
  cancelled(cancel: SipRequest): boolean {
    if (this.current !== 'Proceeding') return false;
    if (this.cancelCb !== undefined) {
      invokeTu(this.ctx.log, 'onCancel', this.cancelCb, undefined, cancel);
    } else {
      // §9.2: "the UAS SHOULD respond to the INVITE with a 487 (Request Terminated)" — no TU handler, so we do.
      this.respond(buildRequestTerminated(this.request));
    }
    return true;
  }

  private fireTrying(): void {
    this.timerTrying = undefined;
    if (this.current !== 'Proceeding' || this.last !== undefined) return;
    this.ctx.counters.tryingSent++;
    this.last = buildTrying(this.request);
    this.send(this.last);
  }

  /** §17.2.1: "If timer G fires, the response is passed to the transport layer once more for retransmission, and
   * timer G is set to fire in MIN(2*T1, T2) seconds. From then on, when timer G fires, the response is passed to
   * the transport again for transmission, and timer G is reset with a value that doubles, unless that value
   * exceeds T2, in which case it is reset with the value of T2." */
  private fireTimerG(): void {
    this.timerG = undefined;
    if (this.current !== 'Completed' || this.last === undefined) return;
    this.ctx.counters.retransmissions++;
    this.intervalG = this.ctx.timers.nextTimerG(this.intervalG);
    this.timerG = this.ctx.clock.setTimer(this.intervalG, () => this.fireTimerG());
    this.send(this.last);
  }

  /** §17.2.1: "If timer H fires while in the "Completed" state, it implies that the ACK was never received. In
   * this case, the server transaction MUST transition to the "Terminated" state, and MUST indicate to the TU
   * that a transaction failure has occurred." */
  private fireTimerH(): void {
    this.timerH = undefined;
    if (this.current !== 'Completed') return;
    this.transition('Terminated');
    this.ctx.counters.timeouts++;
    this.ctx.log.debug({ callId: this.request.callId, key: this.key }, 'no ACK for final response (Timer H)');
    invokeTu(this.ctx.log, 'onTimeout', this.timeoutCb, undefined);
  }

  /** Timer I (Confirmed, §17.2.1) or Timer L (Accepted, RFC 6026 §8.7): move to Terminated. */
  private fireTimerEnd(): void {
    this.timerEnd = undefined;
    if (this.current === 'Confirmed' || this.current === 'Accepted') this.transition('Terminated');
  }

  private send(res: SipResponse): void {
    this.sendCb ??= (err?: Error) => {
      if (err) this.onSendError(err);
    };
    this.ctx.transport.sendResponse(res, this.source, this.sendCb);
  }

  /** §17.2.4: "the server transaction ... SHOULD inform the TU that a failure has occurred, and SHOULD transition
   * to the terminated state." In Accepted the TU is told but the machine waits for Timer L (RFC 6026). */
  private onSendError(err: Error): void {
    if (this.current === 'Terminated' || this.current === 'Confirmed') return;
    this.ctx.counters.transportErrors++;
    this.ctx.log.debug({ err, callId: this.request.callId, key: this.key }, 'response transport error');
    if (this.current !== 'Accepted') this.transition('Terminated');
    invokeTu(this.ctx.log, 'onTransportError', this.transportErrorCb, undefined, err);
  }

  private discard(res: SipResponse): void {
    this.ctx.log.warn({ status: res.status, state: this.current, callId: this.request.callId }, 'TU response discarded in this state');
  }
}
