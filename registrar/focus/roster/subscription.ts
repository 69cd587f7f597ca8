/**
 * One roster subscription (RFC 6665 notifier side) and its state machine.
 *
 *        SUBSCRIBE accepted: 200 OK, then at once a full-state NOTIFY
 *                      │
 *                      ▼
 *   refresh  ┌───► ┌────────┐
 *   change   └──── │ active │ ───── a NOTIFY answered 481, 408 or another failure ──────┐
 *                  └────────┘                                                           │
 *                      │ Expires: 0 (unsubscribe) / expiry (timeout) /                  │
 *                      │ meeting ended (noresource) / shutdown                          │
 *                      ▼                                                                │
 *               ┌─────────────┐                                                         │
 *               │ terminating │  the final NOTIFY (Subscription-State: terminated)      │
 *               └─────────────┘  waits for any NOTIFY in flight, then goes out          │
 *                      │ its response (whatever the status) / 481, 408 on the one before│
 *                      ▼                                                                │
 *               ┌────────────┐                                                          │
 *               │ terminated │ ◄────────────────────────────────────────────────────────┘
 *               └────────────┘  removed; the dialog is released
 *
 * A fetch (an initial SUBSCRIBE with Expires: 0, RFC 6665 §4.4.3) starts in `terminating`.
 */
import type { TimerHandle } from '../../sip/clock.ts';
import type { EventHeader } from './event-header.ts';
import type { TerminationReason } from './port.ts';

export type SubscriptionState = 'active' | 'terminating' | 'terminated';

const TRANSITIONS: Readonly<Record<SubscriptionState, readonly SubscriptionState[]>> = {
  active: ['terminating', 'terminated'],
  terminating: ['terminated'],
  terminated: [],
};

/** How the final NOTIFY reads: the reason (none for an unsubscribe) and whether it carries the state. */
export interface FinalNotify {
  readonly reason: TerminationReason | undefined;
  readonly withBody: boolean;
}

export class Subscription<Handle> {
  private current: SubscriptionState;
  /** Version of the last conference-info document sent (RFC 4575 §5.1); the next one is version + 1. */
  version: number;
  /** Monotonic ms when the subscription expires. */
  expiresAt: number;
  /** Monotonic ms of the last NOTIFY sent (-Infinity: none yet). */
  lastNotifyAt = -Infinity;
  /** A NOTIFY is waiting for its response. */
  inFlight = false;
  /** The roster changed since the last NOTIFY was built. */
  dirty = false;
  flushTimer: TimerHandle | undefined;
  expiryTimer: TimerHandle | undefined;
  final: FinalNotify | undefined;

  constructor(
    readonly key: string,
    readonly meetingId: string,
    readonly handle: Handle,
    readonly event: EventHeader,
    /** The conference URI as the subscriber addressed it (the document's `entity`). */
    readonly entity: string,
    initialVersion: number,
    expiresAt: number,
    state: 'active' | 'terminating',
  ) {
    this.version = initialVersion;
    this.expiresAt = expiresAt;
    this.current = state;
  }

  get state(): SubscriptionState {
    return this.current;
  }

  /** Move to `to`; an illegal move is API misuse and throws. */
  transition(to: SubscriptionState): void {
    if (!TRANSITIONS[this.current].includes(to)) {
      throw new Error(`roster subscription ${this.key}: illegal transition ${this.current} → ${to}`);
    }
    this.current = to;
  }

  cancelTimers(): void {
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    this.expiryTimer?.cancel();
    this.expiryTimer = undefined;
  }
}
