/**
 * RFC 3261 §17.1.1 INVITE client transaction (Figure 5), with the Accepted state of RFC 6026 §7.2 (Figure 3).
 *
 *                                |INVITE from TU
 *              Timer A fires     |INVITE sent (Timer A only over UDP)
 *              Reset A,          V                      Timer B fires
 *              INVITE sent +-----------+                or Transport Err.
 *                +---------|           |---------------+inform TU (408 / 503)
 *                |         |  Calling  |               |
 *                +-------->|           |-----------+   |
 *   300-699                +-----------+ 2xx       |   |
 *   ACK sent                  |  |       2xx to TU |   |
 *   resp. to TU               |  |1xx              |   |
 *        +--------------------+  |1xx to TU        |   |
 *        |                       V                 |   |
 *        |  1xx to TU      +-----------+           |   |
 *        |  +--------------|           |  2xx      |   |
 *        |  |              |Proceeding |---------->|   |
 *        |  +------------->|           | 2xx to TU |   |
 *        |                 +-----------+           |   |
 *        |    300-699          |                   |   |
 *        |    ACK sent,        |                   V   |
 *        |    resp. to TU      |          +-----------+|
 *        |                     |          |           || 2xx: 2xx to TU (RFC 6026 §7.2:
 *        V                     V          | Accepted  ||   retransmissions and other forks;
 *      +-----------+<----------+          |           ||   the TU re-sends its ACK)
 *      |           | 300-699: ACK sent    +-----------+|
 *      | Completed |   (re-ACK, absorbed)      |       |
 *      |           |                           |Timer M|
 *      +-----------+                           |fires  |
 *         |   Timer D fires, or                |       |
 *         |   Transport Err.: inform TU        |       |
 *         V                                    V       |
 *      +-----------------------------------------------+
 *      |                  Terminated                   |
 *      +-----------------------------------------------+
 *
 * Deviation: RFC 3261 moves straight from Calling/Proceeding to Terminated on a 2xx; we follow RFC 6026
 * (which updates it) and wait in Accepted for Timer M so that 2xx retransmissions and forked 2xx reach the TU
 * instead of being dropped as strays.
 *
 * Note (Figure 5): Proceeding runs no timer — Timer B only guards Calling. A UAC that hears a 1xx and then
 * nothing relies on its TU (CANCEL, §9.1) to end the call attempt; Timer C is proxy-only (§16.6).
 */
import type { TimerHandle } from '../clock.ts';
import type { SipRequest, SipResponse } from '../message/types.ts';
import type { Endpoint, SendCallback } from '../transport/types.ts';
import { buildNon2xxAck, synthesize } from './requests.ts';
import { checkEdge, type EdgeTable } from './state.ts';
import { invokeTu, isReliable, type ClientHandlers, type TransactionContext } from './types.ts';

export type ClientInviteState = 'Calling' | 'Proceeding' | 'Completed' | 'Accepted' | 'Terminated';

const EDGES: EdgeTable<ClientInviteState> = {
  Calling: ['Proceeding', 'Completed', 'Accepted', 'Terminated'],
  Proceeding: ['Completed', 'Accepted', 'Terminated'],
  Completed: ['Terminated'],
  Accepted: ['Terminated'],
  Terminated: [],
};

export class ClientInviteTransaction {
  readonly kind = 'clientInvite' as const;
  /** Transport is reliable (TCP): no Timer A, Timer D = 0 (§17.1.1.2). */
  readonly reliable: boolean;
  private current: ClientInviteState = 'Calling';
  private timerA: TimerHandle | undefined;
  private intervalA: number;
  private timerB: TimerHandle | undefined;
  /** Timer D in Completed, Timer M in Accepted. */
  private timerEnd: TimerHandle | undefined;
  private ack: SipRequest | undefined;
  private sendCb: SendCallback | undefined;
  /** Set by `TransactionLayer.cancel()` while still in Calling: §9.1 defers the CANCEL to the first 1xx. */
  private deferredCancel: (() => void) | undefined;
  private cancelling = false;

  constructor(
    private readonly ctx: TransactionContext,
    /** Client matching key (§17.1.3): top Via branch + CSeq method. */
    readonly key: string,
    readonly request: SipRequest,
    readonly dest: Endpoint,
    private readonly handlers: ClientHandlers,
  ) {
    this.reliable = isReliable(dest.protocol);
    this.intervalA = ctx.timers.TIMER_A;
  }

  get state(): ClientInviteState {
    return this.current;
  }

  /** The single state-change path; an edge absent from Figure 5 (+RFC 6026) is API misuse and throws. */
  transition(to: ClientInviteState): void {
    checkEdge('client INVITE transaction', EDGES, this.current, to);
    this.current = to;
    if (to === 'Terminated') {
      this.cancelTimers();
      this.deferredCancel = undefined;
      this.ctx.terminated(this);
    }
  }

  /** RFC 3261 §17.1.1.2: "The initial state, "calling", MUST be entered when the TU initiates a new client
   * transaction with an INVITE request. The client transaction MUST pass the request to the transport layer
   * for transmission. If an unreliable transport is being used, the client transaction MUST start timer A
   * with a value of T1 ... For any transport, the client transaction MUST start timer B with a value of 64*T1." */
  start(): void {
    const { clock, timers } = this.ctx;
    if (!this.reliable) this.timerA = clock.setTimer(this.intervalA, () => this.fireTimerA());
    this.timerB = clock.setTimer(timers.TIMER_B, () => this.fireTimerB());
    this.send(this.request);
  }

  /** True once `TransactionLayer.cancel()` accepted a CANCEL for this INVITE. */
  get cancelRequested(): boolean {
    return this.cancelling;
  }

  /**
   * Used by `TransactionLayer.cancel()`. RFC 3261 §9.1: "If no provisional response has been received, the CANCEL
   * request MUST NOT be sent; rather, the client MUST wait for the arrival of a provisional response before
   * sending the request. If the original request has generated a final response, the CANCEL SHOULD NOT be sent".
   * Runs `send` now (Proceeding) or on the first 1xx (Calling); returns false — and never runs it — when a final
   * response already arrived or a CANCEL was already requested. A final response or Timer B in Calling drops a
   * deferred CANCEL.
   */
  requestCancel(send: () => void): boolean {
    if (this.cancelling || (this.current !== 'Calling' && this.current !== 'Proceeding')) return false;
    this.cancelling = true;
    if (this.current === 'Proceeding') send();
    else this.deferredCancel = send;
    return true;
  }

  /** A response matched to this transaction by the layer (§17.1.3). */
  receiveResponse(res: SipResponse): void {
    const status = res.status;
    switch (this.current) {
      case 'Calling':
      case 'Proceeding':
        if (status < 200) {
          // §17.1.1.2: "If the client transaction receives a provisional response while in the "Calling" state,
          // it transitions to the "Proceeding" state. In the "Proceeding" state, the client transaction SHOULD
          // NOT retransmit the request any longer. Furthermore, the provisional response MUST be passed to the TU."
          if (this.current === 'Calling') {
            this.transition('Proceeding');
            this.cancelTimer('A');
            this.cancelTimer('B');
            const cancel = this.deferredCancel;
            this.deferredCancel = undefined;
            invokeTu(this.ctx.log, 'onProvisional', this.handlers.onProvisional, this.handlers, res);
            if (cancel !== undefined) cancel();
            return;
          }
          invokeTu(this.ctx.log, 'onProvisional', this.handlers.onProvisional, this.handlers, res);
          return;
        }
        this.cancelTimer('A');
        this.cancelTimer('B');
        this.deferredCancel = undefined;
        if (status < 300) {
          // §17.1.1.2: "When in either the "Calling" or "Proceeding" states, reception of a 2xx response MUST
          // cause the client transaction to enter the "Terminated" state, and the response MUST be passed up to
          // the TU." — RFC 6026 §7.2 replaces "Terminated" with "Accepted" and starts Timer M.
          this.transition('Accepted');
          this.timerEnd = this.ctx.clock.setTimer(this.ctx.timers.TIMER_M, () => this.fireTimerEnd());
          invokeTu(this.ctx.log, 'onFinal', this.handlers.onFinal, this.handlers, res);
          return;
        }
        // §17.1.1.2: "When in either the "Calling" or "Proceeding" states, reception of a response with status code
        // from 300-699 MUST cause the client transaction to transition to "Completed". The client transaction MUST
        // pass the received response up to the TU, and the client transaction MUST generate an ACK request ...
        // The client transaction SHOULD start timer D when it enters the "Completed" state, with a value of at
        // least 32 seconds for unreliable transports, and a value of zero seconds for reliable transports."
        this.transition('Completed');
        this.ack = buildNon2xxAck(this.request, res);
        this.send(this.ack);
        invokeTu(this.ctx.log, 'onFinal', this.handlers.onFinal, this.handlers, res);
        if (this.state !== 'Completed') return; // the ACK send failed synchronously
        this.startEnd(this.ctx.timers.TIMER_D(this.reliable));
        return;
      case 'Completed':
        // §17.1.1.2: "Any retransmissions of the final response that are received while in the "Completed" state
        // MUST cause the ACK to be re-passed to the transport layer for retransmission, but the newly received
        // response MUST NOT be passed up to the TU."
        this.ctx.counters.absorbedDuplicates++;
        if (status >= 300 && this.ack !== undefined) {
          this.ctx.counters.retransmissions++;
          this.send(this.ack);
        }
        return;
      case 'Accepted':
        // RFC 6026 §7.2: "any 2xx response received while in the "Accepted" state MUST be passed up to the TU";
        // anything else is absorbed.
        if (status >= 200 && status < 300) {
          invokeTu(this.ctx.log, 'onFinal', this.handlers.onFinal, this.handlers, res);
        } else {
          this.ctx.counters.absorbedDuplicates++;
        }
        return;
      case 'Terminated':
        return;
    }
  }

  /** §17.1.1.2: "When timer A fires, the client transaction MUST retransmit the request by passing it to the
   * transport layer, and MUST reset the timer with a value of 2*T1." */
  private fireTimerA(): void {
    this.timerA = undefined;
    if (this.current !== 'Calling') return;
    this.ctx.counters.retransmissions++;
    this.intervalA = this.ctx.timers.nextTimerA(this.intervalA);
    this.timerA = this.ctx.clock.setTimer(this.intervalA, () => this.fireTimerA());
    this.send(this.request);
  }

  /** §17.1.1.2: "If the client transaction is still in the "Calling" state when timer B fires, the client
   * transaction SHOULD inform the TU that a timeout has occurred." */
  private fireTimerB(): void {
    this.timerB = undefined;
    if (this.current !== 'Calling') return;
    this.transition('Terminated');
    this.ctx.counters.timeouts++;
    this.ctx.log.debug({ callId: this.request.callId, key: this.key }, 'INVITE timed out (Timer B)');
    invokeTu(this.ctx.log, 'onTimeout', this.handlers.onTimeout, this.handlers, synthesize(this.request, 408, 'Request Timeout'));
  }

  /** Timer D (Completed) or Timer M (Accepted): "the client transaction MUST move to the terminated state". */
  private fireTimerEnd(): void {
    this.timerEnd = undefined;
    if (this.current === 'Completed' || this.current === 'Accepted') this.transition('Terminated');
  }

  private startEnd(ms: number): void {
    if (ms === 0) this.transition('Terminated');
    else this.timerEnd = this.ctx.clock.setTimer(ms, () => this.fireTimerEnd());
  }

  private send(req: SipRequest): void {
    this.sendCb ??= (err?: Error) => {
      if (err) this.onTransportError(err);
    };
    this.ctx.transport.sendRequest(req, this.dest, this.sendCb);
  }

  /** §17.1.4: "the client transaction SHOULD inform the TU that a transport failure has occurred, and the client
   * transaction SHOULD transition directly to the "Terminated" state." */
  private onTransportError(err: Error): void {
    if (this.current === 'Terminated' || this.current === 'Accepted') return;
    this.transition('Terminated');
    this.ctx.counters.transportErrors++;
    this.ctx.log.debug({ err, callId: this.request.callId, key: this.key }, 'INVITE transport error');
    invokeTu(this.ctx.log, 'onTransportError', this.handlers.onTransportError, this.handlers, err, synthesize(this.request, 503, 'Service Unavailable'));
  }

  private cancelTimer(which: 'A' | 'B'): void {
    if (which === 'A') {
      this.timerA?.cancel();
      this.timerA = undefined;
    } else {
      this.timerB?.cancel();
      this.timerB = undefined;
    }
  }

  private cancelTimers(): void {
    this.timerA?.cancel();
    this.timerB?.cancel();
    this.timerEnd?.cancel();
    this.timerA = this.timerB = this.timerEnd = undefined;
  }
}
