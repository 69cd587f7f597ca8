/**
 * RFC 4575 conference-info documents, parsed back with a real XML parser (fast-xml-parser): users, display
 * names (escaped), endpoints, media statuses, roles, versions, partial documents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { conferenceInfoXml, CONFERENCE_INFO_NS, SIPMEET_INFO_NS } from '../../registrar/focus/roster/conference-info.ts';
import type { MeetingView, MediaStreamView, ParticipantView } from '../../registrar/focus/views.ts';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  htmlEntities: true, // decode numeric character references (&#10;) too
  isArray: (name) => ['user', 'endpoint', 'media', 'entry'].includes(name),
});

function parse(xml: string): any {
  const valid = XMLValidator.validate(xml);
  assert.equal(valid, true, `not well-formed: ${JSON.stringify(valid)}`);
  return parser.parse(xml)['conference-info'];
}

function stream(kind: 'audio' | 'video', direction: MediaStreamView['direction'], codec: string | undefined, label?: string): MediaStreamView {
  return { kind, label, codec, direction, packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, packetsLost: 0, jitterMs: 0, rttMs: undefined };
}

function participant(id: string, name: string, aor: string, contact: string, over: Partial<ParticipantView> = {}): ParticipantView {
  return {
    id, displayName: name, aor, contact, joinedAt: '2026-01-01T10:00:00.000Z', state: 'connected',
    media: [stream('audio', 'sendrecv', 'opus')], ...over,
  };
}

function meeting(participants: ParticipantView[], over: Partial<MeetingView> = {}): MeetingView {
  return {
    id: 'conf-42', uri: 'sip:conf-42@example.com', creator: { aor: 'sip:alice@example.com', displayName: 'Alice' },
    createdAt: '2026-01-01T09:59:00.000Z', state: 'active', mode: 'cs', p2p: 'off', switches: [], participants, ...over,
  };
}

const opts = { version: 1, state: 'full' as const, entity: 'sip:conf-42@192.0.2.1:5060', focusUri: 'sip:conf-42@192.0.2.1:5060' };

const alice = participant('p1', 'Alice', 'sip:alice@example.com', 'sip:alice@192.0.2.20:5070', {
  media: [stream('audio', 'sendrecv', 'opus', 'a1'), stream('video', 'sendrecv', 'VP8', 'v1')],
});
const bob = participant('p2', 'Bob', 'sip:bob@example.com', 'sip:bob@192.0.2.21:5062', {
  joinedAt: '2026-01-01T10:01:00.000Z',
  // Camera off (recvonly), and a rejected third line (no codec).
  media: [stream('audio', 'sendrecv', 'PCMU'), stream('video', 'recvonly', 'VP8', 'v2'), stream('video', 'inactive', undefined)],
});
const carol = participant('p3', 'Carol', 'sip:carol@example.com', 'sip:carol@192.0.2.22:5060', { state: 'joining', media: [] });
const dave = participant('p4', 'Dave', 'sip:dave@example.com', 'sip:dave@192.0.2.23:5060', { state: 'left' });

test('full document: root, description, host, state, and one user per participant still in the meeting', () => {
  const doc = parse(conferenceInfoXml(meeting([alice, bob, carol, dave]), { ...opts, version: 7 }));
  assert.equal(doc['@xmlns'], CONFERENCE_INFO_NS);
  assert.equal(doc['@entity'], 'sip:conf-42@192.0.2.1:5060');
  assert.equal(doc['@state'], 'full');
  assert.equal(doc['@version'], '7');
  assert.equal(doc['conference-description'].subject, 'conf-42');
  assert.equal(doc['conference-description']['conf-uris'].entry[0].uri, 'sip:conf-42@example.com');
  assert.equal(doc['conference-description']['conf-uris'].entry[0].purpose, 'participation');
  assert.equal(doc['host-info'].uris.entry[0].uri, 'sip:conf-42@192.0.2.1:5060');
  assert.equal(doc['conference-state']['user-count'], '3');
  assert.equal(doc['conference-state'].active, 'true');
  const users = doc.users.user;
  assert.deepEqual(users.map((u: any) => u['@entity']), ['sip:alice@example.com', 'sip:bob@example.com', 'sip:carol@example.com']);
  assert.deepEqual(users.map((u: any) => u['display-text']), ['Alice', 'Bob', 'Carol']);
  assert.ok(users.every((u: any) => u['@state'] === 'full'));
});

test('roles: the creator is host (and admin, which Linphone reads), the others participant', () => {
  const users = parse(conferenceInfoXml(meeting([alice, bob]), opts)).users.user;
  assert.deepEqual(users[0].roles.entry, ['host', 'admin']);
  assert.deepEqual(users[1].roles.entry, ['participant']);
});

test('endpoints: contact, status (connected / dialing-in), joining method and time', () => {
  const users = parse(conferenceInfoXml(meeting([alice, bob, carol]), opts)).users.user;
  const [a, b, c] = users.map((u: any) => u.endpoint[0]);
  assert.equal(a['@entity'], 'sip:alice@192.0.2.20:5070');
  assert.equal(a.status, 'connected');
  assert.equal(a['joining-method'], 'dialed-in');
  assert.equal(a['joining-info'].when, '2026-01-01T10:00:00.000Z');
  assert.equal(b['joining-info'].when, '2026-01-01T10:01:00.000Z');
  assert.equal(c.status, 'dialing-in');
  assert.equal(c.media, undefined);
});

test('media: type, label, status from the participant side (camera off = recvonly); rejected lines left out', () => {
  const users = parse(conferenceInfoXml(meeting([alice, bob]), opts)).users.user;
  const am = users[0].endpoint[0].media;
  assert.deepEqual(am.map((m: any) => [m['@id'], m.type, m.label, m.status]), [['p1-0', 'audio', 'a1', 'sendrecv'], ['p1-1', 'video', 'v1', 'sendrecv']]);
  const bm = users[1].endpoint[0].media;
  assert.equal(bm.length, 2, 'the rejected video line is not media of the conference');
  assert.deepEqual(bm.map((m: any) => [m['@id'], m.type, m.label, m.status]), [['p2-0', 'audio', undefined, 'sendrecv'], ['p2-1', 'video', 'v2', 'recvonly']]);
});

test('display names and URIs with XML specials, quotes, newlines and control characters round-trip escaped', () => {
  const nasty = '<Bob & "The Builders"\'s> ]]> \n line2';
  const odd = participant('p9', nasty, 'sip:o%27brien@example.com;x=a&b', 'sip:ob@192.0.2.30:5060;transport=tcp', {
    media: [stream('audio', 'sendrecv', 'opus', 'lab<&>"\'')],
  });
  const ctl = participant('p10', 'bell\u0007tab\there\uFFFE', 'sip:ctl@example.com', 'sip:ctl@192.0.2.31');
  const xml = conferenceInfoXml(meeting([odd, ctl], { id: 'conf-<x>' }), { ...opts, entity: 'sip:conf@h;a="b"&c' });
  assert.doesNotMatch(xml, /\u0007/);
  const doc = parse(xml);
  assert.equal(doc['@entity'], 'sip:conf@h;a="b"&c');
  assert.equal(doc['conference-description'].subject, 'conf-<x>');
  const [u, c] = doc.users.user;
  assert.equal(u['display-text'], nasty);
  assert.equal(u['@entity'], 'sip:o%27brien@example.com;x=a&b');
  assert.equal(u.endpoint[0]['@entity'], 'sip:ob@192.0.2.30:5060;transport=tcp');
  assert.equal(u.endpoint[0].media[0].label, 'lab<&>"\'');
  assert.equal(c['display-text'], 'bell\uFFFDtab\there\uFFFD', 'characters XML cannot carry become U+FFFD; a tab survives');
});

test('two devices of one AOR: one user with two endpoints', () => {
  const phone = participant('p5', 'Alice (phone)', 'sip:alice@example.com', 'sip:alice@192.0.2.40:5060');
  const users = parse(conferenceInfoXml(meeting([alice, bob, phone]), opts)).users.user;
  assert.equal(users.length, 2);
  assert.deepEqual(users[0].endpoint.map((e: any) => e['@entity']), ['sip:alice@192.0.2.20:5070', 'sip:alice@192.0.2.40:5060']);
  assert.deepEqual(users[0].endpoint.map((e: any) => e['display-text']), ['Alice', 'Alice (phone)']);
  assert.equal(parse(conferenceInfoXml(meeting([alice, bob, phone]), opts))['conference-state']['user-count'], '2');
});

test('a waiting meeting: inactive, no users; versions are written as given and checked', () => {
  const doc = parse(conferenceInfoXml(meeting([], { state: 'waiting' }), { ...opts, version: 4294967295 }));
  assert.equal(doc['conference-state'].active, 'false');
  assert.equal(doc['conference-state']['user-count'], '0');
  assert.equal(doc['@version'], '4294967295');
  assert.equal(doc.users.user, undefined);
  assert.throws(() => conferenceInfoXml(meeting([]), { ...opts, version: -1 }), RangeError);
  assert.throws(() => conferenceInfoXml(meeting([]), { ...opts, version: 2 ** 32 }), RangeError);
});

test('the active speaker travels in our own namespace inside conference-state', () => {
  const xml = conferenceInfoXml(meeting([alice, bob]), { ...opts, activeSpeaker: 'sip:bob@example.com' });
  const doc = parse(xml);
  assert.equal(doc['conference-state']['active-speaker']['#text'], 'sip:bob@example.com');
  assert.equal(doc['conference-state']['active-speaker']['@xmlns'], SIPMEET_INFO_NS);
  assert.equal(parse(conferenceInfoXml(meeting([alice]), opts))['conference-state']['active-speaker'], undefined);
});

test('partial document: users state="partial" with the joined and changed users whole, the gone ones deleted', () => {
  const before = meeting([alice, bob, dave.state === 'left' ? { ...dave, state: 'connected' } : dave]);
  const bobMuted = { ...bob, media: [stream('audio', 'recvonly', 'PCMU')] };
  const after = meeting([alice, bobMuted, carol]);
  const doc = parse(conferenceInfoXml(after, { ...opts, state: 'partial', previous: before, version: 3 }));
  assert.equal(doc['@state'], 'partial');
  assert.equal(doc.users['@state'], 'partial');
  const byEntity = new Map(doc.users.user.map((u: any) => [u['@entity'], u]));
  assert.equal(byEntity.has('sip:alice@example.com'), false, 'unchanged users are omitted');
  assert.equal((byEntity.get('sip:bob@example.com') as any)['@state'], 'full');
  assert.equal((byEntity.get('sip:bob@example.com') as any).endpoint[0].media[0].status, 'recvonly');
  assert.equal((byEntity.get('sip:carol@example.com') as any)['@state'], 'full');
  assert.equal((byEntity.get('sip:dave@example.com') as any)['@state'], 'deleted');
  assert.equal(doc['conference-description'].subject, 'conf-42', 'the description is always there');
  assert.throws(() => conferenceInfoXml(after, { ...opts, state: 'partial' }), TypeError);
});
