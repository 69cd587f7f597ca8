/**
 * The roster notifier's port to the SIP dialog layer. `RosterSubscriptions` (subscriptions.ts) holds the RFC 6665
 * notifier logic and never touches dialogs; the server wiring implements this port with the dialog layer
 * (`Tx` is its server transaction, `Handle` whatever identifies the subscription's dialog).
 */
import type { SipRequest } from '../../sip/message/types.ts';

/** RFC 6665 §4.1.3: the reasons a subscription ends (those sipmeet sends: timeout, noresource, deactivated). */
export type TerminationReason = 'deactivated' | 'probation' | 'rejected' | 'timeout' | 'giveup' | 'noresource' | 'invariant';

/** One NOTIFY to send in a subscription's dialog. */
export interface NotifyContent {
  /** The Event header value: `conference`, plus the SUBSCRIBE's `id` parameter when it had one. */
  readonly event: string;
  readonly state: 'active' | 'terminated';
  /** With `active`: seconds left of the subscription. */
  readonly expires?: number;
  /** With `terminated`: why, when there is a reason to give (an unsubscribe has none). */
  readonly reason?: TerminationReason;
  /** The conference-info document; absent in a final NOTIFY that carries no state (timeout, noresource). */
  readonly body?: string;
  readonly contentType?: string;
}

export interface SubscriptionPort<Tx, Handle> {
  /**
   * RFC 6665 §4.2.1.1: answer the initial SUBSCRIBE 200 OK with `Expires: expires` and the focus's Contact
   * (`;isfocus`), creating the notifier's dialog (or, for a SUBSCRIBE inside an existing dialog, reusing it).
   * Returns the handle NOTIFYs are sent on.
   */
  accept(tx: Tx, req: SipRequest, expires: number): Handle;
  /** Any other answer: a refresh's 200 (with `Expires`), 481, 489 (with `Allow-Events`), 404, 400, 406, 503. */
  respond(tx: Tx, req: SipRequest, status: number, reason: string, headers: ReadonlyArray<readonly [string, string]>): void;
  /**
   * Send a NOTIFY in the subscription's dialog: `Event`, `Subscription-State` and, with a body, `Content-Type`
   * (`notifyHeaders(content)` builds them). Resolves with the final response's status, 408 when the
   * transaction timed out (Timer F) or the transport failed.
   */
  notify(handle: Handle, content: NotifyContent): Promise<number>;
  /** The subscription is over: forget its dialog (unless the dialog is shared with a call). */
  release(handle: Handle): void;
}

/** RFC 6665 §8.2.3 Subscription-State value: `active;expires=600`, `terminated;reason=timeout`, `terminated`. */
export function subscriptionState(c: NotifyContent): string {
  if (c.state === 'active') return c.expires !== undefined ? `active;expires=${c.expires}` : 'active';
  return c.reason !== undefined ? `terminated;reason=${c.reason}` : 'terminated';
}

/** The header lines a NOTIFY carries for `c` (the body's Content-Type only when there is a body). */
export function notifyHeaders(c: NotifyContent): Array<[string, string]> {
  const h: Array<[string, string]> = [['Event', c.event], ['Subscription-State', subscriptionState(c)]];
  if (c.body !== undefined && c.contentType !== undefined) h.push(['Content-Type', c.contentType]);
  return h;
}
