/**
 * baresip offering only G.722, then only PCMU, in a meeting with the scripted PCMU phone that created it: audio both
 * ways, checked by tones — the scripted phone hears baresip's tone (transcoded by the mixer for G.722) and not its
 * own; baresip's recording holds the scripted phone's tone and not its own.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { requirePeer } from './peer-check.ts';
import { withScene } from './harness.ts';
import { Baresip, type BaresipCodec } from './peers/baresip.ts';
import { ScriptedPhone } from './peers/scripted.ts';
import { assertHearing, silentWindows, span } from './audio-check.ts';
import { TONE, USERS } from './meeting-setup.ts';
import { readWav, writeToneWav } from './wav.ts';
import { sleep } from '../../bench/lib/procs.ts';

async function twoWay(t: TestContext, codec: BaresipCodec, expect: { name: string; pt: number; recordingRate: number }): Promise<void> {
  await withScene(USERS, async ({ srv, scene, dir }) => {
    const uri = srv.meetingUri(`conf-${codec.toLowerCase()}`);
    const carol = scene.add(await ScriptedPhone.open({ user: 'carol', displayName: 'Carol', password: USERS.carol, server: srv.address, toneHz: TONE.scripted }));
    const res = await carol.join(uri);
    assert.equal(res.status, 200, `the creator's INVITE (${res.status} ${res.reason})`);
    const tone = writeToneWav(join(dir, 'tone.wav'), { freq: TONE.baresip, sampleRate: 8000, seconds: 60 });
    const baresip = await Baresip.start({ user: 'bob', displayName: 'Bob', server: srv.address, toneWav: tone, toneRate: 8000, codecs: [codec], onSpawn: (p) => scene.add(p) });
    await baresip.dial(uri);
    const up = performance.now();
    await sleep(1000);
    const t0 = performance.now();
    await sleep(3000);
    const t1 = performance.now();

    const offer = srv.trace.withPort(baresip.sipPort).find((x) => x.dir === 'in' && x.startLine.startsWith('INVITE '));
    const m = /^m=audio \d+ RTP\/AVP ([\d ]+)\r?$/m.exec(offer?.text ?? '');
    assert.equal(m?.[1], `${expect.pt} 101`, `baresip offers only ${codec} (+ telephone-event)`);
    const view = (await srv.server.focus.get(`conf-${codec.toLowerCase()}`))!;
    const bob = view.participants.find((p) => p.displayName === 'Bob');
    assert.equal(bob?.media[0]?.codec, expect.name, `the focus negotiated ${expect.name} with baresip`);

    const heard = assertHearing(carol.media.heard(t0, t1), 8000, { who: `scripted phone (PCMU) with baresip on ${codec}`, hears: [TONE.baresip], own: TONE.scripted });
    t.diagnostic(`the scripted phone heard:\n${heard.table}`);

    await baresip.hangup();
    const recPath = baresip.recording();
    assert.ok(recPath, 'baresip wrote its received audio (sndfile dump-*-dec.wav)');
    const rec = readWav(recPath);
    assert.equal(rec.sampleRate, expect.recordingRate, `baresip decodes ${codec} at ${expect.recordingRate} Hz`);
    const b0 = (t0 - up) / 1000;
    const bh = assertHearing(span(rec.samples, rec.sampleRate, b0, b0 + (t1 - t0) / 1000), rec.sampleRate, { who: `baresip on ${codec}`, hears: [TONE.scripted], own: TONE.baresip });
    t.diagnostic(`baresip heard (${silentWindows(rec.samples, rec.sampleRate)} silent 1-s windows in ${(rec.samples.length / rec.sampleRate).toFixed(1)} s):\n${bh.table}`);
  });
}

test('baresip on G.722 ↔ scripted PCMU phone: audio both ways (tones), transcoded by the focus', { timeout: 60_000 }, async (t) => {
  if (!requirePeer(t, 'baresip')) return;
  await twoWay(t, 'G722', { name: 'G722', pt: 9, recordingRate: 16000 });
});

test('baresip on PCMU ↔ scripted PCMU phone: audio both ways (tones)', { timeout: 60_000 }, async (t) => {
  if (!requirePeer(t, 'baresip')) return;
  await twoWay(t, 'PCMU', { name: 'PCMU', pt: 0, recordingRate: 8000 });
});
