/**
 * Linphone on Opus with an open microphone in a quiet room (−60 dBFS noise, no RFC 6464 levels — Linphone sends
 * none): its encoder flags those frames "no voice activity" in the SILK layer (RFC 6716 §4.2.3), the relay's mixer
 * reads that flag without decoding and skips them — an idle desk phone costs the mixer no decode — while Linphone
 * still hears the others and the others hear each other cleanly (its noise is never mixed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from './peer-check.ts';
import { withMeeting, TONE } from './meeting-setup.ts';
import { assertHearing, tail } from './audio-check.ts';
import { readWav } from './wav.ts';
import { sleep } from '../../bench/lib/procs.ts';
import type { MediaRelay } from '../../media-relay/relay.ts';

test('Linphone (Opus) with a quiet-room microphone: the relay skips decoding it by its VAD flag; it hears the others and they hear each other', { timeout: 90_000 }, async (t) => {
  if (!requirePeer(t, 'linphonec', 'baresip')) return;
  await withMeeting({ id: 'conf-quiet', linphoneCodecs: 'opus', linphoneSource: 'quiet-room' }, async (m) => {
    const { carol, linphone, srv } = m;
    await sleep(1000);
    const t0 = performance.now();
    await sleep(4000);
    const t1 = performance.now();

    const view = (await srv.server.focus.get(m.id))!;
    const stats = await (srv.server.relay as MediaRelay).audioStats(view.id);
    assert.ok(stats, 'the meeting has audio stats');
    const leg = (name: string) => stats.legs[view.participants.find((p) => p.displayName === name)!.id]!;
    const alice = leg('Alice');
    const bob = leg('Bob');
    t.diagnostic(`relay, Linphone (Alice): ${alice.decoded} decoded, ${alice.vadSkipped} skipped by VAD; baresip (Bob): ${bob.decoded} decoded`);
    assert.ok(alice.vadSkipped >= 150 && alice.decoded <= alice.vadSkipped / 10, `Linphone's quiet packets are not decoded (${alice.decoded} decoded, ${alice.vadSkipped} skipped)`);
    assert.ok(!alice.talking, 'Linphone is not a talker');
    assert.ok(bob.decoded >= 150 && bob.vadSkipped === 0, `baresip's tone (G.711/Opus) is decoded (${bob.decoded})`);

    const carolHeard = assertHearing(carol.media.heard(t0, t1), 8000, { who: 'scripted phone (Carol)', hears: [TONE.baresip], own: TONE.scripted });
    t.diagnostic(`Carol heard:\n${carolHeard.table}`);

    await linphone.terminateAll();
    const rec = readWav(m.linphoneRec);
    const heard = assertHearing(tail(rec.samples, rec.sampleRate, 3), rec.sampleRate, { who: 'Linphone', hears: [TONE.scripted, TONE.baresip], own: TONE.linphone });
    t.diagnostic(`Linphone heard, its last 3 s:\n${heard.table}`);
    await m.baresip.hangup();
  });
});
