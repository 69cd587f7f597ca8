/**
 * The roster notifier (RFC 6665 + RFC 4575) with a fake port and a ManualClock: 200 + immediate NOTIFY, version
 * per change, burst coalescing, refresh, unsubscribe, fetch, expiry, meeting end, NOTIFY failures, 489/406/404.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { ManualClock } from '../../registrar/sip/clock.ts';
import { silentLogger } from '../../registrar/log.ts';
import { createRequest } from '../../registrar/sip/message/build.ts';
import type { SipRequest } from '../../registrar/sip/message/types.ts';
import type { MeetingView, ParticipantView } from '../../registrar/focus/views.ts';
import { RosterSubscriptions } from '../../registrar/focus/roster/subscriptions.ts';
import { notifyHeaders, type NotifyContent, type SubscriptionPort } from '../../registrar/focus/roster/port.ts';

// ---- fakes ---------------------------------------------------------------------------------------------------

interface Answer { status: number; reason: string; headers: ReadonlyArray<readonly [string, string]>; tx: number }
interface Sent { handle: number; content: NotifyContent; at: number; resolve: (status: number) => void }

/** Records what the notifier asks of the dialog layer. NOTIFYs are answered 200 at once unless `hold` is set. */
class FakePort implements SubscriptionPort<number, number> {
  readonly answers: Answer[] = [];
  readonly notifies: Sent[] = [];
  readonly released: number[] = [];
  hold = false;
  nextStatus = 200;
  private handles = 0;
  constructor(private readonly clock: ManualClock) {}

  accept(tx: number, _req: SipRequest, expires: number): number {
    this.answers.push({ status: 200, reason: 'OK', headers: [['Expires', String(expires)]], tx });
    return ++this.handles;
  }
  respond(tx: number, _req: SipRequest, status: number, reason: string, headers: ReadonlyArray<readonly [string, string]>): void {
    this.answers.push({ status, reason, headers, tx });
  }
  notify(handle: number, content: NotifyContent): Promise<number> {
    return new Promise((resolve) => {
      this.notifies.push({ handle, content, at: this.clock.now(), resolve });
      if (!this.hold) resolve(this.nextStatus);
    });
  }
  release(handle: number): void {
    this.released.push(handle);
  }
}

class FakeFocus {
  readonly views = new Map<string, MeetingView>();
  private listeners: Array<(id: string) => void> = [];
  onRosterChange(cb: (id: string) => void): void {
    this.listeners.push(cb);
  }
  async get(id: string): Promise<MeetingView | undefined> {
    return this.views.get(id);
  }
  /** Change a meeting and tell the listeners, as the focus does. */
  change(id: string, f: (m: MeetingView) => MeetingView | undefined): void {
    const next = f(this.views.get(id)!);
    if (next) this.views.set(id, next);
    else this.views.delete(id);
    for (const l of this.listeners) l(id);
  }
}

function person(n: number): ParticipantView {
  return {
    id: `p${n}`, displayName: `User ${n}`, aor: `sip:user${n}@example.com`, contact: `sip:user${n}@192.0.2.${n}:5060`,
    joinedAt: '2026-01-01T00:00:00.000Z', state: 'connected',
    media: [{ kind: 'audio', label: undefined, codec: 'opus', direction: 'sendrecv', packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, packetsLost: 0, jitterMs: 0, rttMs: undefined }],
  };
}

function meetingView(id: string, people: number[]): MeetingView {
  return {
    id, uri: `sip:${id}@example.com`, creator: { aor: 'sip:user1@example.com', displayName: 'User 1' },
    createdAt: '2026-01-01T00:00:00.000Z', state: 'active', mode: 'cs', p2p: 'off', switches: [], participants: people.map(person),
  };
}

const addPerson = (n: number) => (m: MeetingView): MeetingView => ({ ...m, participants: [...m.participants, person(n)] });

let cseq = 1;
function subscribe(o: { meeting?: string; callId?: string; fromTag?: string; toTag?: string; expires?: number; event?: string | null; accept?: string; extra?: Array<[string, string]> } = {}): SipRequest {
  const headers: Array<[string, string]> = [
    ['Via', `SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bK-${cseq}`],
    ['Max-Forwards', '70'],
    ['From', `<sip:watcher@example.com>;tag=${o.fromTag ?? 'w1'}`],
    ['To', `<sip:${o.meeting ?? 'conf-1'}@192.0.2.1:5060>${o.toTag ? `;tag=${o.toTag}` : ''}`],
    ['Call-ID', o.callId ?? 'call-1'],
    ['CSeq', `${cseq++} SUBSCRIBE`],
    ['Contact', '<sip:watcher@192.0.2.50:5060>'],
  ];
  if (o.event !== null) headers.push(['Event', o.event ?? 'conference']);
  if (o.expires !== undefined) headers.push(['Expires', String(o.expires)]);
  if (o.accept !== undefined) headers.push(['Accept', o.accept]);
  headers.push(...(o.extra ?? []));
  return createRequest({ method: 'SUBSCRIBE', uri: `sip:${o.meeting ?? 'conf-1'}@192.0.2.1:5060;transport=udp`, headers });
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (n) => n === 'user' });
function doc(c: NotifyContent): { version: number; entity: string; users: string[] } {
  assert.ok(c.body, 'the NOTIFY carries a document');
  assert.equal(c.contentType, 'application/conference-info+xml');
  const d = xml.parse(c.body)['conference-info'];
  assert.equal(d['@state'], 'full');
  return { version: Number(d['@version']), entity: d['@entity'], users: (d.users.user ?? []).map((u: any) => u['display-text']) };
}

/** Let pending promise callbacks run (the notifier awaits the focus and the port). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

function setup(meetings: Record<string, number[]> = { 'conf-1': [1, 2] }, opts: { maxPerMeeting?: number } = {}) {
  const clock = new ManualClock();
  const port = new FakePort(clock);
  const focus = new FakeFocus();
  for (const [id, people] of Object.entries(meetings)) focus.views.set(id, meetingView(id, people));
  const roster = new RosterSubscriptions<number, number>({ focus, port, clock, logger: silentLogger(), ...opts });
  return { clock, port, focus, roster };
}

// ---- tests ---------------------------------------------------------------------------------------------------

test('SUBSCRIBE → 200 with Expires 600 by default, then at once a full-state NOTIFY (version 1, active;expires=600)', async () => {
  const { port, roster } = setup();
  await roster.handleSubscribe('conf-1', subscribe(), 1);
  await settle();
  assert.deepEqual(port.answers, [{ status: 200, reason: 'OK', headers: [['Expires', '600']], tx: 1 }]);
  assert.equal(port.notifies.length, 1);
  const n = port.notifies[0]!;
  assert.equal(n.at, 0);
  assert.deepEqual(notifyHeaders(n.content), [
    ['Event', 'conference'], ['Subscription-State', 'active;expires=600'], ['Content-Type', 'application/conference-info+xml'],
  ]);
  const d = doc(n.content);
  assert.equal(d.version, 1);
  assert.equal(d.entity, 'sip:conf-1@192.0.2.1:5060', 'the entity is the URI the subscriber addressed, without parameters');
  assert.deepEqual(d.users, ['User 1', 'User 2']);
  assert.equal(roster.count('conf-1'), 1);
});

test('Expires is granted as min(requested, 3600)', async () => {
  const { port, roster } = setup();
  await roster.handleSubscribe('conf-1', subscribe({ callId: 'a', expires: 7200 }), 1);
  await roster.handleSubscribe('conf-1', subscribe({ callId: 'b', expires: 120 }), 2);
  await settle();
  assert.deepEqual(port.answers.map((a) => a.headers), [[['Expires', '3600']], [['Expires', '120']]]);
  assert.deepEqual(port.notifies.map((n) => n.content.expires), [3600, 120]);
});

test('a roster change → NOTIFY with version + 1 and the new state, no sooner than 100 ms after the previous', async () => {
  const { clock, port, focus, roster } = setup();
  await roster.handleSubscribe('conf-1', subscribe(), 1);
  await settle();
  focus.change('conf-1', addPerson(3));
  await settle();
  assert.equal(port.notifies.length, 1, 'held back: the first NOTIFY went out at 0 ms');
  clock.advance(99);
  await settle();
  assert.equal(port.notifies.length, 1);
  clock.advance(1);
  await settle();
  assert.equal(port.notifies.length, 2);
  assert.equal(port.notifies[1]!.at, 100);
  assert.deepEqual(doc(port.notifies[1]!.content), { version: 2, entity: 'sip:conf-1@192.0.2.1:5060', users: ['User 1', 'User 2', 'User 3'] });
  assert.equal(port.notifies[1]!.content.expires, 600, 'ceil of the time left');

  clock.advance(5000);
  focus.change('conf-1', addPerson(4));
  await settle();
  assert.equal(port.notifies.length, 3, 'a change long after the last NOTIFY goes out at once');
  assert.equal(port.notifies[2]!.at, 5100);
  assert.equal(doc(port.notifies[2]!.content).version, 3);
  assert.equal(port.notifies[2]!.content.expires, 595);
});

test('a burst of changes is coalesced into one NOTIFY carrying the latest state', async () => {
  const { clock, port, focus, roster } = setup();
  await roster.handleSubscribe('conf-1', subscribe(), 1);
  await settle();
  for (let n = 3; n <= 12; n++) {
    focus.change('conf-1', addPerson(n));
    clock.advance(5);
    await settle();
  }
  clock.advance(100);
  await settle();
  assert.equal(port.notifies.length, 2);
  const d = doc(port.notifies[1]!.content);
  assert.equal(d.version, 2);
  assert.equal(d.users.length, 12);
});

test('while a NOTIFY awaits its response nothing else is sent; then the latest state follows', async () => {
  const { clock, port, focus, roster } = setup();
  port.hold = true;
  await roster.handleSubscribe('conf-1', subscribe(), 1);
  await settle();
  focus.change('conf-1', addPerson(3));
  focus.change('conf-1', addPerson(4));
  clock.advance(1000);
  await settle();
  assert.equal(port.notifies.length, 1);
  port.notifies[0]!.resolve(200);
  await settle();
  assert.equal(port.notifies.length, 2, 'sent as soon as the response came (more than 100 ms later)');
  assert.deepEqual(doc(port.notifies[1]!.content).users, ['User 1', 'User 2', 'User 3', 'User 4']);
});

test('Last-Notify-Version (Linphone): the first document is numbered above it, even when the state is unchanged', async () => {
  const { port, focus, roster, clock } = setup();
  await roster.handleSubscribe('conf-1', subscribe({ extra: [['Last-Notify-Version', '7']] }), 1);
  await settle();
  assert.equal(doc(port.notifies[0]!.content).version, 8);
  focus.change('conf-1', addPerson(3));
  clock.advance(100);
  await settle();
  assert.equal(doc(port.notifies[1]!.content).version, 9);
  await roster.handleSubscribe('conf-1', subscribe({ callId: 'x', extra: [['Last-Notify-Version', 'junk']] }), 2);
  await settle();
  assert.equal(doc(port.notifies[2]!.content).version, 1);
});

test('refresh inside the dialog: 200 with the new Expires, a NOTIFY, and the expiry moves', async () => {
  const { clock, port, roster } = setup();
  await roster.handleSubscribe('conf-1', subscribe(), 1);
  await settle();
  clock.advance(500_000);
  await roster.handleSubscribe('conf-1', subscribe({ toTag: 'focus1', expires: 1200 }), 2);
  await settle();
  assert.deepEqual(port.answers[1], { status: 200, reason: 'OK', headers: [['Expires', '1200']], tx: 2 });
  assert.equal(port.notifies.length, 2);
  assert.equal(port.notifies[1]!.content.state, 'active');
  assert.equal(port.notifies[1]!.content.expires, 1200);
  assert.equal(doc(port.notifies[1]!.content).version, 2);
  clock.advance(600_000); // past the original 600 s
  await settle();
  assert.equal(port.notifies.length, 2);
  assert.equal(roster.count(), 1);
  clock.advance(600_000); // 1200 s after the refresh
  await settle();
  assert.equal(port.notifies.length, 3);
  assert.equal(port.notifies[2]!.content.state, 'terminated');
  assert.equal(port.notifies[2]!.content.reason, 'timeout');
  assert.equal(roster.count(), 0);
});

test('unsubscribe (Expires: 0): 200, a final NOTIFY "terminated" with the current state; later changes send nothing', async () => {
  const { clock, port, focus, roster } = setup();
  await roster.handleSubscribe('conf-1', subscribe(), 1);
  await settle();
  await roster.handleSubscribe('conf-1', subscribe({ toTag: 'focus1', expires: 0 }), 2);
  await settle();
  assert.deepEqual(port.answers[1], { status: 200, reason: 'OK', headers: [['Expires', '0']], tx: 2 });
  assert.equal(port.notifies.length, 2, 'the final NOTIFY is not held back by the rate limit');
  const last = port.notifies[1]!.content;
  assert.equal(notifyHeaders(last)[1]![1], 'terminated');
  assert.equal(doc(last).version, 2);
  assert.deepEqual(port.released, [1]);
  assert.equal(roster.count(), 0);
  focus.change('conf-1', addPerson(3));
  clock.advance(1000);
  await settle();
  assert.equal(port.notifies.length, 2);
});

test('fetch (initial SUBSCRIBE with Expires: 0): 200, one terminated NOTIFY with the state, nothing kept', async () => {
  const { port, roster } = setup();
  await roster.handleSubscribe('conf-1', subscribe({ expires: 0 }), 1);
  await settle();
  assert.deepEqual(port.answers[0]!.headers, [['Expires', '0']]);
  assert.equal(port.notifies.length, 1);
  assert.equal(port.notifies[0]!.content.state, 'terminated');
  assert.deepEqual(doc(port.notifies[0]!.content).users, ['User 1', 'User 2']);
  assert.equal(roster.count(), 0);
  assert.deepEqual(port.released, [1]);
});

test('expiry: terminated;reason=timeout without a body at exactly the granted time', async () => {
  const { clock, port, roster } = setup();
  await roster.handleSubscribe('conf-1', subscribe({ expires: 60 }), 1);
  await settle();
  clock.advance(59_999);
  await settle();
  assert.equal(port.notifies.length, 1);
  clock.advance(1);
  await settle();
  assert.equal(port.notifies.length, 2);
  assert.equal(port.notifies[1]!.at, 60_000);
  assert.deepEqual(notifyHeaders(port.notifies[1]!.content), [['Event', 'conference'], ['Subscription-State', 'terminated;reason=timeout']]);
  assert.equal(port.notifies[1]!.content.body, undefined);
  assert.equal(roster.count(), 0);
});

test('the meeting ends: terminated;reason=noresource to every subscriber of it, and only of it', async () => {
  const { clock, port, focus, roster } = setup({ 'conf-1': [1, 2], 'conf-2': [3] });
  await roster.handleSubscribe('conf-1', subscribe({ callId: 'a' }), 1);
  await roster.handleSubscribe('conf-1', subscribe({ callId: 'b' }), 2);
  await roster.handleSubscribe('conf-2', subscribe({ callId: 'c', meeting: 'conf-2' }), 3);
  await settle();
  clock.advance(1000);
  focus.change('conf-1', (m) => ({ ...m, state: 'ended', participants: [] }));
  await settle();
  const finals = port.notifies.slice(3);
  assert.equal(finals.length, 2);
  for (const f of finals) {
    assert.equal(subscriptionStateOf(f.content), 'terminated;reason=noresource');
    assert.equal(f.content.body, undefined);
  }
  assert.deepEqual(finals.map((f) => f.handle).sort(), [1, 2]);
  assert.equal(roster.count('conf-1'), 0);
  assert.equal(roster.count('conf-2'), 1);
  // A meeting that disappears from the focus altogether ends its subscriptions the same way.
  focus.change('conf-2', () => undefined);
  await settle();
  assert.equal(subscriptionStateOf(port.notifies.at(-1)!.content), 'terminated;reason=noresource');
  assert.equal(roster.count(), 0);
});

function subscriptionStateOf(c: NotifyContent): string {
  return notifyHeaders(c).find(([h]) => h === 'Subscription-State')![1];
}

test('a NOTIFY answered 481 or 408 removes the subscription without another NOTIFY', async () => {
  for (const status of [481, 408]) {
    const { clock, port, focus, roster } = setup();
    await roster.handleSubscribe('conf-1', subscribe(), 1);
    await settle();
    port.nextStatus = status;
    focus.change('conf-1', addPerson(3));
    clock.advance(100);
    await settle();
    assert.equal(port.notifies.length, 2);
    assert.equal(roster.count(), 0, `${status}`);
    assert.deepEqual(port.released, [1]);
    focus.change('conf-1', addPerson(4));
    clock.advance(10_000_000);
    await settle();
    assert.equal(port.notifies.length, 2, `nothing more after ${status}, not even at expiry`);
  }
});

test('the first NOTIFY answered 481 also ends it; a 401 keeps it', async () => {
  const { clock, port, focus, roster } = setup();
  port.nextStatus = 481;
  await roster.handleSubscribe('conf-1', subscribe({ callId: 'a' }), 1);
  await settle();
  assert.equal(roster.count(), 0);
  port.nextStatus = 401;
  await roster.handleSubscribe('conf-1', subscribe({ callId: 'b' }), 2);
  await settle();
  assert.equal(roster.count(), 1);
  port.nextStatus = 200;
  focus.change('conf-1', addPerson(3));
  clock.advance(100);
  await settle();
  assert.equal(port.notifies.length, 3);
});

test('a missing or foreign Event → 489 Bad Event with Allow-Events: conference; nothing subscribed', async () => {
  const { port, roster } = setup();
  await roster.handleSubscribe('conf-1', subscribe({ event: 'presence' }), 1);
  await roster.handleSubscribe('conf-1', subscribe({ event: null }), 2);
  await roster.handleSubscribe('conf-1', subscribe({ event: 'conference.x;id=1' }), 3);
  await settle();
  assert.deepEqual(port.answers.map((a) => [a.status, a.reason, a.headers]), [
    [489, 'Bad Event', [['Allow-Events', 'conference']]],
    [489, 'Bad Event', [['Allow-Events', 'conference']]],
    [489, 'Bad Event', [['Allow-Events', 'conference']]],
  ]);
  assert.equal(port.notifies.length, 0);
  assert.equal(roster.count(), 0);
});

test('Event id parameters: two subscriptions in one dialog, each NOTIFY naming its own id', async () => {
  const { port, roster } = setup();
  await roster.handleSubscribe('conf-1', subscribe({ event: 'conference;id=a' }), 1);
  await roster.handleSubscribe('conf-1', subscribe({ event: 'conference;id=b' }), 2);
  await settle();
  assert.equal(roster.count(), 2);
  assert.deepEqual(port.notifies.map((n) => n.content.event), ['conference;id=a', 'conference;id=b']);
});

test('unknown meeting → 404; Accept without conference-info → 406; a bad Expires → 400', async () => {
  const { port, roster } = setup();
  await roster.handleSubscribe('conf-9', subscribe({ meeting: 'conf-9' }), 1);
  await roster.handleSubscribe('conf-1', subscribe({ callId: 'b', accept: 'application/sdp' }), 2);
  await roster.handleSubscribe('conf-1', subscribe({ callId: 'c', accept: 'application/*' }), 3);
  await roster.handleSubscribe('conf-1', subscribe({ callId: 'd', extra: [['Expires', 'soon']] }), 4);
  await settle();
  assert.deepEqual(port.answers.map((a) => [a.tx, a.status]), [[1, 404], [2, 406], [3, 200], [4, 400]]);
  assert.deepEqual(port.answers[1]!.headers, [['Accept', 'application/conference-info+xml']]);
  assert.equal(roster.count(), 1);
});

test('more subscriptions to one meeting than allowed → 503; other meetings unaffected', async () => {
  const { port, roster } = setup({ 'conf-1': [1], 'conf-2': [2] }, { maxPerMeeting: 2 });
  for (let i = 0; i < 3; i++) await roster.handleSubscribe('conf-1', subscribe({ callId: `c${i}` }), i);
  await roster.handleSubscribe('conf-2', subscribe({ callId: 'other', meeting: 'conf-2' }), 9);
  await settle();
  assert.deepEqual(port.answers.map((a) => a.status), [200, 200, 503, 200]);
  assert.equal(roster.count('conf-1'), 2);
  assert.equal(roster.count('conf-2'), 1);
});

test('terminateAll (shutdown): a final NOTIFY to everyone, each once', async () => {
  const { port, roster } = setup({ 'conf-1': [1], 'conf-2': [2] });
  await roster.handleSubscribe('conf-1', subscribe({ callId: 'a' }), 1);
  await roster.handleSubscribe('conf-2', subscribe({ callId: 'b', meeting: 'conf-2' }), 2);
  await settle();
  roster.terminateAll('deactivated');
  roster.terminateAll('deactivated');
  await settle();
  assert.deepEqual(port.notifies.slice(2).map((n) => subscriptionStateOf(n.content)), ['terminated;reason=deactivated', 'terminated;reason=deactivated']);
  assert.equal(roster.count(), 0);
});
