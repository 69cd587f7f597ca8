/**
 * What the GUI reads from the focus's roster beyond RFC 4575's users: the media `id` (participant id + line,
 * which ties a per-publisher video line's a=label to a person), and sipmeet's extension elements
 * `<media-mode>` (cs | p2p, shown in the status badge) and `<active-speaker>` (the highlighted tile).
 * The documents are the focus's own (registrar/focus/roster/conference-info.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conferenceInfoXml } from '../../registrar/focus/roster/conference-info.ts';
import type { MeetingView, ParticipantView } from '../../registrar/focus/views.ts';
import { Roster } from '../../softclient/roster/roster.ts';
import { participantIdOf } from '../../softclient/gui/roster-view.ts';

function participant(id: string, name: string, video: 'sendrecv' | 'recvonly'): ParticipantView {
  const stream = (kind: 'audio' | 'video', direction: 'sendrecv' | 'recvonly') => ({
    kind, label: undefined, codec: kind === 'audio' ? 'opus' : 'VP8', direction, packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, packetsLost: 0, jitterMs: 0, rttMs: undefined,
  });
  return {
    id, displayName: name, aor: `sip:${name.toLowerCase()}@127.0.0.1`, contact: `sip:${name.toLowerCase()}@127.0.0.1:5070`,
    joinedAt: '2026-01-01T10:00:00.000Z', state: 'connected', media: [stream('audio', 'sendrecv'), stream('video', video)],
  };
}

function meeting(mode: 'cs' | 'p2p', ps: ParticipantView[]): MeetingView {
  return {
    id: 'conf-42', uri: 'sip:conf-42@127.0.0.1', creator: { aor: 'sip:ann@127.0.0.1', displayName: 'Ann' }, createdAt: '2026-01-01T10:00:00.000Z',
    state: 'active', mode, p2p: 'auto', switches: [], participants: ps,
  };
}

const doc = (version: number, m: MeetingView, activeSpeaker?: string) =>
  conferenceInfoXml(m, { version, state: 'full', entity: m.uri, focusUri: m.uri, ...(activeSpeaker ? { activeSpeaker } : {}) });

test('roster: media ids name the participant, <media-mode> and <active-speaker> are read and reported when they change', () => {
  const r = new Roster();
  const two = [participant('p1', 'Ann', 'sendrecv'), participant('p2', 'Bob', 'recvonly')];
  const first = r.apply(doc(1, meeting('cs', two)));
  assert.ok(first.ok && first.change);
  assert.equal(first.change.mode, 'cs');
  assert.equal(first.change.activeSpeaker, undefined);
  const bob = first.change.users.find((u) => u.name === 'Bob')!;
  assert.deepEqual(bob.media.map((m) => [m.id, m.type, m.status]), [['p2-0', 'audio', 'sendrecv'], ['p2-1', 'video', 'recvonly']]);
  assert.equal(participantIdOf(bob), 'p2');

  // Same users, new mode: still a change (the badge must follow the switch to peer-to-peer).
  const p2p = r.apply(doc(2, meeting('p2p', two)));
  assert.ok(p2p.ok && p2p.change);
  assert.equal(p2p.change.mode, 'p2p');
  assert.equal(p2p.change.joined.length + p2p.change.left.length + p2p.change.changed.length, 0);

  const speaking = r.apply(doc(3, meeting('p2p', two), 'sip:bob@127.0.0.1'));
  assert.ok(speaking.ok && speaking.change);
  assert.equal(speaking.change.activeSpeaker, 'sip:bob@127.0.0.1');

  // Nothing new at all: no change, as before.
  const same = r.apply(doc(4, meeting('p2p', two), 'sip:bob@127.0.0.1'));
  assert.ok(same.ok);
  assert.equal(same.change, undefined);
});
