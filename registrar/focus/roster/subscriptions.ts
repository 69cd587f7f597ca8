/**
 * The roster notifier: SUBSCRIBE / NOTIFY for the conference event package (RFC 6665 + RFC 4575 §3), one
 * `Subscription` (subscription.ts) per subscriber, NOTIFYs through a `SubscriptionPort` (port.ts).
 *
 * - SUBSCRIBE with `Event: conference` to a meeting → 200 with `Expires` = min(requested, 3600), 600 when absent
 *   (what Linphone asks), then at once a full-state NOTIFY (`Subscription-State: active;expires=N`).
 *   A missing or other Event → 489 Bad Event with `Allow-Events: conference`.
 * - Anyone may subscribe, participant or not: the roster lists names, addresses and media states, no secrets
 *   (with a users file, the server core has authenticated the SUBSCRIBE before it gets here).
 * - Every roster change of the meeting → a NOTIFY with the next version. Every document is full state: RFC 4575
 *   allows it, Linphone accepts it each time, and it cannot leave a subscriber with a wrong merged view.
 * - Versions (RFC 4575 §5.1) rise by one per document sent to a subscriber. Linphone sends the last version it
 *   saw as `Last-Notify-Version` and ignores any document not above it: a new subscription starts right after
 *   that number (so Linphone takes the first full state even if it equals what it had), else at 1.
 * - Bursts are coalesced: at most one NOTIFY in flight per subscription and at most one per `minIntervalMs`
 *   (100 ms); the one that goes out carries the latest state.
 *   Deviation: RFC 4575's rate-of-notification guidance is far slower; a meeting's roster must follow joins,
 *   leaves and mutes within a fraction of a second, and coalescing bounds the rate anyway.
 * - A refresh SUBSCRIBE (same Call-ID, From tag and Event id) → 200 with the new Expires and a NOTIFY
 *   (RFC 6665 §4.2.1.4 / §4.2.2: a NOTIFY follows every accepted refresh).
 * - Unsubscribe (`Expires: 0`) → 200, then a final NOTIFY `Subscription-State: terminated` with the current state.
 *   Expiry → `terminated;reason=timeout`; the meeting ended → `terminated;reason=noresource` (no body).
 * - RFC 6665 §4.2.2: a NOTIFY answered 481 (MUST) or timing out, 408 (SHOULD), or failing otherwise removes the
 *   subscription at once, without another NOTIFY; 401/407 (we cannot answer a challenge) keep it.
 */
import type { Clock } from '../../sip/clock.ts';
import type { Logger } from '../../log.ts';
import type { SipRequest } from '../../sip/message/types.ts';
import { formatUri } from '../../sip/message/uri.ts';
import type { FocusApi } from '../api.ts';
import type { MeetingView } from '../views.ts';
import { CONFERENCE_INFO_CONTENT_TYPE, conferenceInfoXml } from './conference-info.ts';
import { accepts, formatEventHeader, parseEventHeader } from './event-header.ts';
import type { NotifyContent, SubscriptionPort, TerminationReason } from './port.ts';
import { Subscription } from './subscription.ts';

export const EVENT_PACKAGE = 'conference';
export const DEFAULT_EXPIRES = 600;
export const MAX_EXPIRES = 3600;
export const MIN_NOTIFY_INTERVAL_MS = 100;
export const MAX_SUBSCRIPTIONS_PER_MEETING = 200;
const MAX_VERSION = 0xffffffff; // xs:unsignedInt

export interface RosterSubscriptionsOptions<Tx, Handle> {
  readonly focus: Pick<FocusApi, 'get' | 'onRosterChange'>;
  readonly port: SubscriptionPort<Tx, Handle>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The focus URI in <host-info>; default the meeting URI. */
  readonly focusUri?: (meeting: MeetingView) => string;
  /** The AOR talking now in a meeting, when the media side knows it. */
  readonly activeSpeaker?: (meetingId: string) => string | undefined;
  readonly defaultExpires?: number;
  readonly maxExpires?: number;
  readonly minIntervalMs?: number;
  /** More subscriptions to one meeting than this → 503 (a flood on one meeting stays there). */
  readonly maxPerMeeting?: number;
}

/** RFC 3261 §19.1: the Request-URI without parameters and headers, as the document's `entity`. */
function conferenceUri(req: SipRequest): string {
  if (req.uri.scheme !== 'sip' && req.uri.scheme !== 'sips') return req.uri.raw;
  return formatUri({ ...req.uri, params: new Map(), headers: [] });
}

/** Linphone's `Last-Notify-Version: N`: a version below 2^32 - 1, else undefined. */
function lastNotifyVersion(req: SipRequest): number | undefined {
  const v = req.get('last-notify-version')?.trim();
  if (v === undefined || !/^\d{1,10}$/.test(v)) return undefined;
  const n = Number(v);
  return n < MAX_VERSION ? n : undefined;
}

export class RosterSubscriptions<Tx, Handle> {
  private readonly subs = new Map<string, Subscription<Handle>>();
  private readonly byMeeting = new Map<string, Set<Subscription<Handle>>>();
  private readonly o: RosterSubscriptionsOptions<Tx, Handle>;
  private readonly log: Logger;
  private readonly defaultExpires: number;
  private readonly maxExpires: number;
  private readonly minInterval: number;
  private readonly maxPerMeeting: number;

  constructor(opts: RosterSubscriptionsOptions<Tx, Handle>) {
    this.o = opts;
    this.log = opts.logger.child({ component: 'roster' });
    this.defaultExpires = opts.defaultExpires ?? DEFAULT_EXPIRES;
    this.maxExpires = opts.maxExpires ?? MAX_EXPIRES;
    this.minInterval = opts.minIntervalMs ?? MIN_NOTIFY_INTERVAL_MS;
    this.maxPerMeeting = opts.maxPerMeeting ?? MAX_SUBSCRIPTIONS_PER_MEETING;
    opts.focus.onRosterChange((id) => this.rosterChanged(id));
  }

  /** Subscriptions not yet terminated (of one meeting, or all). */
  count(meetingId?: string): number {
    return meetingId === undefined ? this.subs.size : (this.byMeeting.get(meetingId)?.size ?? 0);
  }

  /**
   * A SUBSCRIBE for meeting `meetingId`, initial or inside a subscription's dialog. Always answers `tx` (through
   * the port); never throws on what the request contains.
   */
  async handleSubscribe(meetingId: string, req: SipRequest, tx: Tx): Promise<void> {
    const reject = (status: number, reason: string, headers: ReadonlyArray<readonly [string, string]> = []) => {
      this.log.debug({ meeting: meetingId, status, reason, callId: req.callId }, 'SUBSCRIBE refused');
      this.o.port.respond(tx, req, status, reason, headers);
    };
    // RFC 6665 §4.2.1.1: an Event package we do not serve → 489, listing the one we do (Allow-Events).
    const event = parseEventHeader(req.get('event'));
    if (!event || event.type !== EVENT_PACKAGE) return reject(489, 'Bad Event', [['Allow-Events', EVENT_PACKAGE]]);
    // RFC 3261 §21.4.7: nothing we can send is acceptable → 406.
    if (!accepts(req.getAll('accept'), CONFERENCE_INFO_CONTENT_TYPE)) {
      return reject(406, 'Not Acceptable', [['Accept', CONFERENCE_INFO_CONTENT_TYPE]]);
    }
    const exp = req.expires();
    if (!exp.ok) return reject(400, 'Bad Request - malformed Expires');
    // RFC 6665 §4.2.1.1: the notifier may shorten the duration, never lengthen it.
    const granted = Math.min(exp.value ?? this.defaultExpires, this.maxExpires);

    const key = `${req.callId}\n${req.fromTag ?? ''}\n${event.id ?? ''}`;
    const existing = this.subs.get(key);
    if (existing) {
      if (existing.state !== 'active' || existing.meetingId !== meetingId) {
        return reject(481, 'Subscription Does Not Exist');
      }
      return this.refresh(existing, req, tx, granted);
    }

    let view: MeetingView | undefined;
    try {
      view = await this.o.focus.get(meetingId);
    } catch (err) {
      this.log.error({ err, meeting: meetingId }, 'focus.get failed');
      return reject(500, 'Server Internal Error');
    }
    if (!view || view.state === 'ended') return reject(404, `Not Found - no meeting ${meetingId}`);
    if (this.subs.has(key)) return reject(481, 'Subscription Does Not Exist'); // raced with itself: keep the first
    if (this.count(meetingId) >= this.maxPerMeeting) {
      return reject(503, 'Service Unavailable - too many roster subscriptions', [['Retry-After', '60']]);
    }

    const handle = this.o.port.accept(tx, req, granted);
    const now = this.o.clock.now();
    const sub = new Subscription<Handle>(
      key, meetingId, handle, event, conferenceUri(req), lastNotifyVersion(req) ?? 0, now + granted * 1000,
      granted > 0 ? 'active' : 'terminating',
    );
    this.subs.set(key, sub);
    let set = this.byMeeting.get(meetingId);
    if (!set) this.byMeeting.set(meetingId, (set = new Set()));
    set.add(sub);
    this.log.info({ meeting: meetingId, expires: granted, from: req.from.uri.raw, version: sub.version }, 'roster subscription');
    if (granted === 0) {
      // RFC 6665 §4.4.3: a fetch — one NOTIFY with the current state, and the subscription is over.
      sub.final = { reason: undefined, withBody: true };
    } else {
      this.armExpiry(sub);
    }
    void this.flush(sub, view);
  }

  /** The focus reports a roster change (join, leave, media direction, end): NOTIFY every subscriber of it. */
  rosterChanged(meetingId: string): void {
    for (const sub of this.byMeeting.get(meetingId) ?? []) {
      sub.dirty = true;
      this.schedule(sub);
    }
  }

  /** End every subscription with a final NOTIFY (server shutdown: `deactivated` invites a retry elsewhere). */
  terminateAll(reason: TerminationReason = 'noresource'): void {
    for (const sub of [...this.subs.values()]) this.beginTermination(sub, reason, false);
  }

  // ---- internals ----------------------------------------------------------------------------------------------

  private refresh(sub: Subscription<Handle>, req: SipRequest, tx: Tx, granted: number): void {
    this.o.port.respond(tx, req, 200, 'OK', [['Expires', String(granted)]]);
    if (granted === 0) {
      // RFC 6665 §4.2.1.4: unsubscribing is a refresh to 0; the final NOTIFY carries the current state.
      this.beginTermination(sub, undefined, true);
      return;
    }
    sub.expiresAt = this.o.clock.now() + granted * 1000;
    this.armExpiry(sub);
    sub.dirty = true;
    this.schedule(sub);
  }

  private armExpiry(sub: Subscription<Handle>): void {
    sub.expiryTimer?.cancel();
    sub.expiryTimer = this.o.clock.setTimer(Math.max(0, sub.expiresAt - this.o.clock.now()), () => {
      sub.expiryTimer = undefined;
      this.log.debug({ meeting: sub.meetingId }, 'roster subscription expired');
      this.beginTermination(sub, 'timeout', false);
    });
  }

  private beginTermination(sub: Subscription<Handle>, reason: TerminationReason | undefined, withBody: boolean): void {
    if (sub.state !== 'active') return;
    sub.transition('terminating');
    sub.final = { reason, withBody };
    sub.cancelTimers();
    this.schedule(sub);
  }

  /** Send when allowed: nothing while a NOTIFY is in flight; a final one at once; others `minInterval` apart. */
  private schedule(sub: Subscription<Handle>): void {
    if (sub.state === 'terminated' || sub.inFlight || sub.flushTimer) return;
    const wait = sub.state === 'terminating' ? 0 : Math.max(0, sub.lastNotifyAt + this.minInterval - this.o.clock.now());
    if (wait === 0) {
      void this.flush(sub);
      return;
    }
    sub.flushTimer = this.o.clock.setTimer(wait, () => {
      sub.flushTimer = undefined;
      void this.flush(sub);
    });
  }

  private async flush(sub: Subscription<Handle>, known?: MeetingView): Promise<void> {
    if (sub.state === 'terminated' || sub.inFlight) return;
    sub.flushTimer?.cancel();
    sub.flushTimer = undefined;
    sub.inFlight = true;
    sub.dirty = false;
    let content: NotifyContent;
    try {
      content = await this.content(sub, known);
    } catch (err) {
      // The focus failed to give a view: try again on the next change or refresh.
      this.log.error({ err, meeting: sub.meetingId }, 'roster NOTIFY not built');
      sub.inFlight = false;
      sub.dirty = true;
      return;
    }
    const final = content.state === 'terminated';
    sub.lastNotifyAt = this.o.clock.now();
    let status: number;
    try {
      status = await this.o.port.notify(sub.handle, content);
    } catch (err) {
      this.log.warn({ err, meeting: sub.meetingId }, 'roster NOTIFY failed');
      status = 408;
    }
    sub.inFlight = false;
    this.afterNotify(sub, status, final);
  }

  /** The next NOTIFY: the final one when terminating, else the current full state (or noresource if it ended). */
  private async content(sub: Subscription<Handle>, known: MeetingView | undefined): Promise<NotifyContent> {
    const event = formatEventHeader(sub.event);
    const needView = sub.state === 'active' || sub.final?.withBody === true;
    let view: MeetingView | undefined;
    try {
      view = needView ? (known ?? (await this.o.focus.get(sub.meetingId))) : undefined;
    } catch (err) {
      if (sub.state === 'active') throw err;
      this.log.error({ err, meeting: sub.meetingId }, 'focus.get failed: final NOTIFY without state');
    }
    if (sub.state === 'active' && (!view || view.state === 'ended')) {
      // RFC 6665 §4.1.3 noresource: the meeting this subscription watched is gone.
      sub.transition('terminating');
      sub.final = { reason: 'noresource', withBody: false };
      sub.cancelTimers();
    }
    if (sub.state === 'terminating') {
      const f = sub.final!;
      const body = f.withBody && view && view.state !== 'ended' ? this.document(sub, view) : undefined;
      return { event, state: 'terminated', ...(f.reason ? { reason: f.reason } : {}), ...body };
    }
    const expires = Math.max(0, Math.ceil((sub.expiresAt - this.o.clock.now()) / 1000));
    return { event, state: 'active', expires, ...this.document(sub, view!) };
  }

  private document(sub: Subscription<Handle>, view: MeetingView): { body: string; contentType: string } {
    // Wrap within xs:unsignedInt (only after 4 billion NOTIFYs, or a hostile Last-Notify-Version).
    sub.version = sub.version >= MAX_VERSION ? 1 : sub.version + 1;
    const speaker = this.o.activeSpeaker?.(sub.meetingId);
    const body = conferenceInfoXml(view, {
      version: sub.version,
      state: 'full',
      entity: sub.entity,
      focusUri: this.o.focusUri?.(view) ?? view.uri,
      ...(speaker !== undefined ? { activeSpeaker: speaker } : {}),
    });
    return { body, contentType: CONFERENCE_INFO_CONTENT_TYPE };
  }

  private afterNotify(sub: Subscription<Handle>, status: number, final: boolean): void {
    if (final) return this.remove(sub, `final NOTIFY answered ${status}`);
    if (status >= 300 && status !== 401 && status !== 407) {
      // RFC 6665 §4.2.2: 481 → MUST remove; a timeout (408) → SHOULD; other failures of a soft-state
      // subscription → remove. No final NOTIFY: the subscriber's dialog is gone or unreachable.
      return this.remove(sub, `NOTIFY answered ${status}`);
    }
    if (sub.dirty || sub.state === 'terminating') this.schedule(sub);
  }

  private remove(sub: Subscription<Handle>, why: string): void {
    if (sub.state === 'terminated') return;
    sub.transition('terminated');
    sub.cancelTimers();
    if (this.subs.get(sub.key) === sub) this.subs.delete(sub.key);
    const set = this.byMeeting.get(sub.meetingId);
    set?.delete(sub);
    if (set && set.size === 0) this.byMeeting.delete(sub.meetingId);
    this.log.info({ meeting: sub.meetingId, why }, 'roster subscription ended');
    this.o.port.release(sub.handle);
  }
}
