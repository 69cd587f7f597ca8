/**
 * RFC 3261 §17.1.2 non-INVITE client transaction (Figure 6).
 *
 *                                    |Request from TU
 *                                    |send request (Timer E only over UDP)
 *                Timer E             V
 *                send request  +-----------+
 *                    +---------|           |-------------------+
 *                    |         |  Trying   |  Timer F          |
 *                    +-------->|           |  or Transport Err.|
 *                              +-----------+  inform TU        |
 *                 200-699         |  |        (408 / 503)      |
 *                 resp. to TU     |  |1xx                      |
 *                 +---------------+  |resp. to TU              |
 *                 |                  |                         |
 *                 |   Timer E        V       Timer F           |
 *                 |   send req +-----------+ or Transport Err. |
 *                 |  +---------|           | inform TU         |
 *                 |  |         |Proceeding |------------------>|
 *                 |  +-------->|           |-----+             |
 *                 |            +-----------+     |1xx          |
 *                 |              |      ^        |resp to TU   |
 *                 | 200-699      |      +--------+             |
 *                 | resp. to TU  |                             |
 *                 |              |                             |
 *                 |              V                             |
 *                 |            +-----------+                   |
 *                 |            |           |                   |
 *                 |            | Completed |                   |
 *                 |            |           |                   |
 *                 |            +-----------+                   |
 *                 |              ^   |                         |
 *                 |              |   | Timer K                 |
 *                 +--------------+   | -                       |
 *                                    |                         |
 *                                    V                         |
 *              NOTE:           +-----------+                   |
 *                              |           |                   |
 *          transitions         | Terminated|<------------------+
 *          labeled with        |           |
 *          the event           +-----------+
 *          over the action
 *          to take
 */
import type { TimerHandle } from '../clock.ts';
import type { SipRequest, SipResponse } from '../message/types.ts';
import type { Endpoint, SendCallback } from '../transport/types.ts';
import { synthesize } from './requests.ts';
import { checkEdge, type EdgeTable } from './state.ts';
import { invokeTu, isReliable, type ClientHandlers, type TransactionContext } from './types.ts';

export type ClientNonInviteState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

const EDGES: EdgeTable<ClientNonInviteState> = {
  Trying: ['Proceeding', 'Completed', 'Terminated'],
  Proceeding: ['Completed', 'Terminated'],
  Completed: ['Terminated'],
  Terminated: [],
};

export class ClientNonInviteTransaction {
  readonly kind = 'clientNonInvite' as const;
  /** Reliable transport (TCP): no Timer E, Timer K = 0 (§17.1.2.2). */
  readonly reliable: boolean;
  private current: ClientNonInviteState = 'Trying';
  private timerE: TimerHandle | undefined;
  private intervalE: number;
  private timerF: TimerHandle | undefined;
  private timerK: TimerHandle | undefined;
  private sendCb: SendCallback | undefined;

  constructor(
    private readonly ctx: TransactionContext,
    /** Client matching key (§17.1.3): top Via branch + CSeq method. */
    readonly key: string,
    readonly request: SipRequest,
    readonly dest: Endpoint,
    private readonly handlers: ClientHandlers,
  ) {
    this.reliable = isReliable(dest.protocol);
    this.intervalE = ctx.timers.TIMER_E;
  }

  get state(): ClientNonInviteState {
    return this.current;
  }

  /** The single state-change path; an edge absent from Figure 6 is API misuse and throws. */
  transition(to: ClientNonInviteState): void {
    checkEdge('client non-INVITE transaction', EDGES, this.current, to);
    this.current = to;
    if (to === 'Terminated') {
      this.timerE?.cancel();
      this.timerF?.cancel();
      this.timerK?.cancel();
      this.timerE = this.timerF = this.timerK = undefined;
      this.ctx.terminated(this);
    }
  }

  /** §17.1.2.2: "The "Trying" state is entered when the TU initiates a new client transaction with a request.
   * When entering this state, the client transaction SHOULD set timer F to fire in 64*T1 seconds. The request
   * MUST be passed to the transport layer for transmission. If an unreliable transport is in use, the client
   * transaction MUST set timer E to fire in T1 seconds." */
  start(): void {
    const { clock, timers } = this.ctx;
    this.timerF = clock.setTimer(timers.TIMER_F, () => this.fireTimerF());
    if (!this.reliable) this.timerE = clock.setTimer(this.intervalE, () => this.fireTimerE());
    this.send();
  }

  /** A response matched to this transaction by the layer (§17.1.3). */
  receiveResponse(res: SipResponse): void {
    switch (this.current) {
      case 'Trying':
      case 'Proceeding':
        if (res.status < 200) {
          // §17.1.2.2: "If a provisional response is received while in the "Trying" state, the response MUST be
          // passed to the TU, and then the client transaction SHOULD move to the "Proceeding" state."
          if (this.current === 'Trying') this.transition('Proceeding');
          invokeTu(this.ctx.log, 'onProvisional', this.handlers.onProvisional, this.handlers, res);
          return;
        }
        // §17.1.2.2: "If a final response (status codes 200-699) is received while in the "Trying" [or
        // "Proceeding"] state, the response MUST be passed to the TU, and the client transaction MUST transition
        // to the "Completed" state." ... "Once the client transaction enters the "Completed" state, it MUST set
        // Timer K to fire in T4 seconds for unreliable transports, and zero seconds for reliable transports."
        this.timerE?.cancel();
        this.timerF?.cancel();
        this.timerE = this.timerF = undefined;
        this.transition('Completed');
        invokeTu(this.ctx.log, 'onFinal', this.handlers.onFinal, this.handlers, res);
        if (this.state !== 'Completed') return;
        {
          const k = this.ctx.timers.TIMER_K(this.reliable);
          if (k === 0) this.transition('Terminated');
          else this.timerK = this.ctx.clock.setTimer(k, () => this.fireTimerK());
        }
        return;
      case 'Completed':
        // §17.1.2.2: "The "Completed" state exists to buffer any additional response retransmissions that may be
        // received (which is why the client transaction remains there only for unreliable transports)."
        this.ctx.counters.absorbedDuplicates++;
        return;
      case 'Terminated':
        return;
    }
  }

  /** §17.1.2.2: "If timer E fires while still in this state, the timer is reset, but this time with a value of
   * MIN(2*T1, T2) ... If Timer E fires while in the "Proceeding" state, the request MUST be passed to the
   * transport layer for retransmission, and Timer E MUST be reset with a value of T2 seconds." */
  private fireTimerE(): void {
    this.timerE = undefined;
    if (this.current === 'Trying') {
      this.intervalE = this.ctx.timers.nextTimerE(this.intervalE);
    } else if (this.current === 'Proceeding') {
      this.intervalE = this.ctx.timers.T2;
    } else {
      return;
    }
    this.ctx.counters.retransmissions++;
    this.timerE = this.ctx.clock.setTimer(this.intervalE, () => this.fireTimerE());
    this.send();
  }

  /** §17.1.2.2: "If Timer F fires while the client transaction is still in the "Trying" [or "Proceeding"]
   * state, the client transaction SHOULD inform the TU about the timeout, and then it SHOULD enter the
   * "Terminated" state." */
  private fireTimerF(): void {
    this.timerF = undefined;
    if (this.current !== 'Trying' && this.current !== 'Proceeding') return;
    this.transition('Terminated');
    this.ctx.counters.timeouts++;
    this.ctx.log.debug({ method: this.request.method, key: this.key }, 'non-INVITE timed out (Timer F)');
    invokeTu(this.ctx.log, 'onTimeout', this.handlers.onTimeout, this.handlers, synthesize(this.request, 408, 'Request Timeout'));
  }

  /** §17.1.2.2: "If Timer K fires while in this state, the client transaction MUST transition to the
   * "Terminated" state." */
  private fireTimerK(): void {
    this.timerK = undefined;
    if (this.current === 'Completed') this.transition('Terminated');
  }

  private send(): void {
    this.sendCb ??= (err?: Error) => {
      if (err) this.onTransportError(err);
    };
    this.ctx.transport.sendRequest(this.request, this.dest, this.sendCb);
  }

  /** §17.1.4: inform the TU of the transport failure and go straight to Terminated. */
  private onTransportError(err: Error): void {
    if (this.current !== 'Trying' && this.current !== 'Proceeding') return;
    this.transition('Terminated');
    this.ctx.counters.transportErrors++;
    this.ctx.log.debug({ err, method: this.request.method, key: this.key }, 'non-INVITE transport error');
    invokeTu(this.ctx.log, 'onTransportError', this.handlers.onTransportError, this.handlers, err, synthesize(this.request, 503, 'Service Unavailable'));
  }
}
