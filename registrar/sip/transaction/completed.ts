/**
 * The Completed state of a non-INVITE server transaction over UDP, compacted (RFC 3261 §17.2.2).
 *
 * §17.2.2: "The purpose of the "Completed" state is to buffer any incoming retransmissions of the request. ...
 * While in the "Completed" state, the server transaction MUST pass the final response to the transport layer for
 * retransmission whenever a retransmission of the request is received. Any other final responses passed by the TU
 * to the server transaction MUST be discarded while in the "Completed" state. The server transaction remains in
 * this state until Timer J fires, at which point it MUST transition to the "Terminated" state."
 *
 * That is all the state needs: the matching key, the final response's bytes and where they went. So when a
 * `ServerNonInviteTransaction` enters Completed over UDP it hands over to this record, and the layer keeps the
 * record instead of the transaction: no parsed request or response, no per-transaction timer or closure (Timer J
 * runs on the layer's timer wheel). A registrar at 10k REGISTER/s holds 320k of these for 64*T1 = 32 s.
 *
 *        final response from TU, UDP        retransmitted request: resend the same bytes
 *                  │                              ┌──────┐
 *                  ▼                              │      ▼
 *            +-----------+  Timer J (wheel) / transport error / close  +------------+
 *            | Completed |───────────────────────────────────────────►| Terminated |
 *            +-----------+                                             +------------+
 */
import type { Source } from '../transport/types.ts';
import { checkEdge, type EdgeTable } from './state.ts';

export type CompletedState = 'Completed' | 'Terminated';

const EDGES: EdgeTable<CompletedState> = {
  Completed: ['Terminated'],
  Terminated: [],
};

export class CompletedNonInvite {
  readonly kind = 'serverNonInvite' as const;
  private current: CompletedState = 'Completed';

  constructor(
    /** The transaction's matching key (§17.2.3), a flat copy (it must not pin the request's text). */
    readonly key: string,
    /** The final response exactly as sent (re-sent byte for byte). */
    readonly bytes: Buffer,
    /** Where the request came from (the response is routed from it and the Via, §18.2.2). */
    readonly source: Source,
    /** The TU's `onTransportError` callback, if it set one (§17.2.4). */
    readonly transportErrorCb: ((err: Error) => void) | undefined,
  ) {}

  get state(): CompletedState {
    return this.current;
  }

  /** The single state-change path; an edge absent from the diagram is API misuse and throws. */
  transition(to: CompletedState): void {
    checkEdge('compacted non-INVITE server transaction', EDGES, this.current, to);
    this.current = to;
  }
}
