/**
 * Quiet participants not decoded, and nobody can hear the difference: by their RFC 6464 client-to-mixer audio level,
 * or, without levels, by their Opus packets' SILK VAD flag. Each test runs the same participants through two
 * meetings — one where the mixer may skip, one where it decodes every packet — and compares what listeners hear.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../registrar/log.ts';
import { createMeetingAudio } from '../../media-relay/mixer/meeting-audio.ts';
import type { MeetingAudio } from '../../media-relay/audio/types.ts';
import { OPUS, PCMU, ToneClient, drive } from './tone-client.ts';
import { concat, toneAmplitude } from './spectrum.ts';

interface Run {
  audio: MeetingAudio;
  ann: ToneClient;
  bob: ToneClient;
  cat: ToneClient;
  dan: ToneClient;
}

/** ann talks (440 Hz) all along, bob is quiet then talks (660 Hz) from 1 s to 2 s, cat and dan (PCMU) stay quiet. */
function run(levels: boolean, opts: { loss?: (c: ToneClient, frame: number) => boolean; opusVad?: boolean } = {}): Run {
  const ann = new ToneClient('ann', OPUS, 440);
  const bob = new ToneClient('bob', OPUS, 0, 4000);
  const cat = new ToneClient('cat', OPUS, 0);
  const dan = new ToneClient('dan', PCMU, 0);
  const all = [ann, bob, cat, dan];
  for (const c of all) c.sendsLevel = levels;
  // The reference (no levels) decodes every packet unless the test asks for the Opus VAD skip.
  const audio = createMeetingAudio({ logger: silentLogger(), sampleRate: 48000, opusVad: opts.opusVad ?? levels });
  for (const c of all) audio.addLeg(c.config);
  let t = drive(audio, all, 1000, opts);
  bob.freq = 660;
  t = drive(audio, all, 1000, { ...opts, startMs: t });
  bob.freq = 0;
  drive(audio, all, 1000, { ...opts, startMs: t });
  return { audio, ann, bob, cat, dan };
}

/** Signal-to-difference ratio (dB) of what a listener heard in the two runs. */
function sameness(a: Int16Array, b: Int16Array): number {
  let sig = 0;
  let diff = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    sig += b[i]! * b[i]!;
    diff += (a[i]! - b[i]!) ** 2;
  }
  return 10 * Math.log10(sig / Math.max(diff, 1));
}

test('quiet legs that send their level are not decoded, and every listener hears what it would without levels', () => {
  const withLevels = run(true);
  const without = run(false);
  const s = withLevels.audio.stats().legs;
  // 150 packets each. cat: only its first packet is decoded (it tells the mixer the packet duration).
  assert.ok(s.cat!.decodesSkipped >= 145 && s.cat!.decoded <= 2, `cat (quiet) skipped ${s.cat!.decodesSkipped}, decoded ${s.cat!.decoded}`);
  assert.ok(s.dan!.decodesSkipped >= 145, `dan (PCMU, quiet) skipped ${s.dan!.decodesSkipped}`);
  // bob: quiet for 1 s (skipped), talking for 1 s + the 300 ms hangover (decoded), quiet again (skipped).
  assert.ok(s.bob!.decoded >= 60 && s.bob!.decodesSkipped >= 80, `bob decoded ${s.bob!.decoded}, skipped ${s.bob!.decodesSkipped}`);
  assert.equal(s.ann!.decodesSkipped, 0, 'a talker is always decoded');
  for (const leg of Object.values(without.audio.stats().legs)) assert.equal(leg.decodesSkipped, 0, 'no levels, nothing skipped');

  for (const who of ['ann', 'bob', 'cat', 'dan'] as const) {
    const a = withLevels[who].heardSince(0);
    const b = without[who].heardSince(0);
    const db = sameness(a, b);
    assert.ok(db > 60, `${who} hears the same with and without levels (${db.toFixed(1)} dB signal-to-difference)`);
  }
  // (Without decoding the last skipped packet first, bob's first loud frame comes out of a stale decoder: ≈ 30 dB.)
  // bob's first words are not clipped: in the first 100 ms of his talk spurt cat already hears his tone.
  const onset = concat(withLevels.cat.heard.slice(50, 55));
  assert.ok(toneAmplitude(onset, 48000, 660) > 2000, `bob's onset heard at once (660 Hz amplitude ${toneAmplitude(onset, 48000, 660).toFixed(0)})`);
});

test('a packet lost while a leg is quiet is not concealed (no decoder call); a talker\'s loss still is', () => {
  const lossy = (c: ToneClient, frame: number) => (c.id === 'cat' || c.id === 'ann') && frame % 10 === 5;
  const withLevels = run(true, { loss: lossy });
  const without = run(false, { loss: lossy });
  const a = withLevels.audio.stats().legs;
  const b = without.audio.stats().legs;
  assert.equal(a.cat!.concealed, 0, 'cat\'s lost packets fell in its quiet run');
  assert.ok(b.cat!.concealed >= 10, `without levels they are concealed (${b.cat!.concealed})`);
  assert.ok(a.ann!.concealed >= 10, `the talker's losses are concealed either way (${a.ann!.concealed})`);
  const db = sameness(withLevels.dan.heardSince(0), without.dan.heardSince(0));
  assert.ok(db > 60, `dan hears the same (${db.toFixed(1)} dB)`);
});

test('without levels, quiet Opus legs are skipped by their SILK VAD flag, and listeners hear what full decoding gives', () => {
  const vad = run(false, { opusVad: true });
  const all = run(false, { opusVad: false });
  const s = vad.audio.stats().legs;
  // cat sends digital silence all along: libopus codes it as SILK with the VAD flag off (read without decoding).
  assert.ok(s.cat!.vadSkipped >= 140 && s.cat!.decoded <= 5, `cat: ${s.cat!.vadSkipped} skipped by VAD, ${s.cat!.decoded} decoded`);
  // bob: his first quiet second is skipped; after his tone libopus stays in CELT mode (no VAD flag): decoded.
  assert.ok(s.bob!.vadSkipped >= 45 && s.bob!.decoded >= 50, `bob: ${s.bob!.vadSkipped} skipped by VAD, ${s.bob!.decoded} decoded`);
  assert.equal(s.dan!.vadSkipped, 0, 'PCMU has no VAD flag: decoded');
  assert.equal(s.ann!.vadSkipped, 0, 'a talker is always decoded');
  for (const leg of Object.values(all.audio.stats().legs)) assert.equal(leg.vadSkipped, 0, 'VAD skipping off: every packet decoded');
  for (const who of ['ann', 'bob', 'cat', 'dan'] as const) {
    const db = sameness(vad[who].heardSince(0), all[who].heardSince(0));
    assert.ok(db > 60, `${who} hears the same with and without the VAD skip (${db.toFixed(1)} dB)`);
  }
  const onset = concat(vad.cat.heard.slice(50, 55));
  assert.ok(toneAmplitude(onset, 48000, 660) > 2000, `bob's onset heard at once (660 Hz amplitude ${toneAmplitude(onset, 48000, 660).toFixed(0)})`);
});
