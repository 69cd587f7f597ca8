import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../registrar/log.ts';
import { createMeetingAudio } from '../../media-relay/mixer/meeting-audio.ts';
import { softLimit, KNEE } from '../../media-relay/mixer/limiter.ts';
import type { MeetingAudio } from '../../media-relay/audio/types.ts';
import { G722, OPUS, PCMA, PCMU, ToneClient, drive } from './tone-client.ts';
import { rms, toneAmplitude } from './spectrum.ts';

function meeting(...clients: ToneClient[]): MeetingAudio {
  const audio = createMeetingAudio({ logger: silentLogger(), sampleRate: 48000 });
  for (const c of clients) audio.addLeg(c.config);
  return audio;
}

test('three participants (PCMU 440 Hz, PCMA 660 Hz, Opus 880 Hz) each hear the other two tones and not their own', () => {
  const a = new ToneClient('alice', PCMU, 440);
  const b = new ToneClient('bob', PCMA, 660);
  const c = new ToneClient('carol', OPUS, 880);
  const audio = meeting(a, b, c);
  drive(audio, [a, b, c], 1200);
  for (const [me, others] of [
    [a, [b, c]],
    [b, [a, c]],
    [c, [a, b]],
  ] as const) {
    const pcm = me.heardSince(400);
    const own = toneAmplitude(pcm, me.sampleRate, me.freq);
    for (const o of others) {
      const heard = toneAmplitude(pcm, me.sampleRate, o.freq);
      assert.ok(heard > 3000, `${me.id} hears ${o.id}'s ${o.freq} Hz (amplitude ${heard.toFixed(0)} of 6000)`);
      assert.ok(heard / Math.max(own, 1) > 30, `${me.id}'s own ${me.freq} Hz is absent (${own.toFixed(0)} vs ${heard.toFixed(0)})`);
    }
  }
  const s = audio.stats();
  assert.ok(s.legs.alice!.talking && s.legs.bob!.talking && s.legs.carol!.talking);
  assert.equal(s.encodesLastTick, 3, 'three talkers: three N-1 encodes');
});

test('a G.722 participant and an Opus participant hear each other', () => {
  const g = new ToneClient('gina', G722, 5000); // wideband tone G.711 could not carry
  const o = new ToneClient('omar', OPUS, 1000);
  const audio = meeting(g, o);
  drive(audio, [g, o], 800);
  assert.ok(toneAmplitude(g.heardSince(300), 16000, 1000) > 3000);
  assert.ok(toneAmplitude(o.heardSince(300), 48000, 5000) > 3000);
});

test('shared mix: 5 Opus legs, 1 talking → 2 encodes (its own N-1 + one shared by the 4 listeners)', () => {
  const legs = ['a', 'b', 'c', 'd', 'e'].map((id, i) => new ToneClient(id, OPUS, i === 0 ? 440 : 0));
  const audio = meeting(...legs);
  drive(audio, legs, 400);
  assert.equal(audio.stats().encodesLastTick, 2);
  const [talker, ...listeners] = legs;
  const shared = listeners.map((l) => l.received.at(-1)!.payload);
  assert.ok(shared.every((p) => p === shared[0]), 'listeners get the very same encoded frame');
  assert.notEqual(talker!.received.at(-1)!.payload, shared[0]);
  for (const l of listeners) assert.ok(toneAmplitude(l.heardSince(200), 48000, 440) > 3000, `${l.id} hears the talker`);
  assert.ok(toneAmplitude(talker!.heardSince(200), 48000, 440) < 100, 'the talker does not hear itself');

  // A second talker: 3 encodes. Listeners on another codec: one more shared encode.
  legs[1]!.freq = 660;
  drive(audio, legs, 200, { startMs: 400 });
  assert.equal(audio.stats().encodesLastTick, 3);
  const p = new ToneClient('p', PCMU, 0);
  audio.addLeg(p.config);
  drive(audio, [...legs, p], 100, { startMs: 600 });
  assert.equal(audio.stats().encodesLastTick, 4);
});

test('comfort silence: nobody talking, every receiving leg still gets a frame every tick', () => {
  const legs = ['a', 'b', 'c'].map((id) => new ToneClient(id, PCMU, 0));
  const audio = meeting(...legs);
  drive(audio, legs, 200); // 10 ticks
  for (const l of legs) {
    assert.equal(l.received.length, 10);
    assert.equal(rms(l.heardSince(0)), 0);
    assert.equal(l.received[0]!.marker, true, 'RFC 3551 §4.1 marker on the first frame');
    assert.ok(l.received.slice(1).every((o) => !o.marker));
    assert.ok(l.received.every((o) => o.samples === 160 && o.payloadType === 0 && o.payload.length === 160));
  }
  assert.equal(audio.stats().encodesLastTick, 1);
  // A receiving leg that has not sent anything yet is served too.
  const quiet = new ToneClient('q', OPUS, 0);
  audio.addLeg(quiet.config);
  const out = audio.tick(220);
  assert.ok(out.some((o) => o.participantId === 'q' && o.samples === 960));
});

test('soft limiter: 8 full-scale tones summed never exceed int16 and never wrap', () => {
  const n = 960;
  const bus = new Float32Array(n);
  for (let k = 0; k < 8; k++) for (let i = 0; i < n; i++) bus[i] += 32000 * Math.sin((2 * Math.PI * (200 + 50 * k) * i) / 48000);
  const y = softLimit(bus);
  for (let i = 0; i < n; i++) {
    assert.ok(Math.abs(y[i]!) <= 32767);
    if (Math.abs(bus[i]!) >= 1) assert.equal(Math.sign(y[i]!), Math.sign(bus[i]!), 'no wrap: the sign survives');
    if (Math.abs(bus[i]!) <= KNEE) assert.equal(y[i], Math.trunc(bus[i]!) || 0, 'untouched below the knee');
  }
  // Monotonic: a louder input is never a quieter output.
  const ramp = Float32Array.from({ length: 2000 }, (_, i) => i * 100);
  const r = softLimit(ramp);
  for (let i = 1; i < r.length; i++) assert.ok(r[i]! >= r[i - 1]!);
});

test('8 loud talkers: a listener hears a loud mix bounded to int16 with no wrap-around', () => {
  const talkers = Array.from({ length: 8 }, (_, k) => new ToneClient(`t${k}`, PCMU, 200 + 40 * k, 12000));
  // A PCMU listener: G.711 decodes to exactly the (quantised) mix the mixer produced — no codec overshoot.
  const listener = new ToneClient('listener', PCMU, 0);
  const audio = meeting(...talkers, listener);
  drive(audio, [...talkers, listener], 600);
  const pcm = listener.heardSince(200);
  let peak = 0;
  let maxJump = 0;
  for (let i = 0; i < pcm.length; i++) {
    peak = Math.max(peak, Math.abs(pcm[i]!));
    if (i > 0) maxJump = Math.max(maxJump, Math.abs(pcm[i]! - pcm[i - 1]!));
  }
  assert.ok(peak <= 32767 && peak > 25000, `loud but bounded (peak ${peak})`);
  // The eight tones' summed slope is at most Σ 2π·f/8000 · 12000 ≈ 26000 per sample; an int16 wrap (+32000 → −32000)
  // would jump by ~64000.
  assert.ok(maxJump < 40000, `largest sample-to-sample step ${maxJump}`);
  for (const t of talkers) assert.ok(toneAmplitude(pcm, 8000, t.freq) > 2000, `${t.freq} Hz still audible in the mix`);
});

test('DTMF (RFC 4733) is reported once per digit and never mixed', () => {
  const a = new ToneClient('alice', PCMU, 0);
  const b = new ToneClient('bob', PCMU, 0);
  const audio = meeting(a, b);
  let t = 0;
  const eventTs = a.timestamp;
  for (let i = 0; i < 6; i++, t += 20) audio.push('alice', a.dtmfPacket(5, false, 160 * (i + 1), eventTs), t);
  for (let i = 0; i < 3; i++) audio.push('alice', a.dtmfPacket(5, true, 960, eventTs), t); // end, sent 3 times
  for (const out of audio.tick(t)) if (out.participantId === 'bob') b.receive(out);
  audio.push('alice', a.dtmfPacket(11, true, 800, eventTs + 2000), t + 100); // '#', start packets lost
  assert.deepEqual(audio.takeDtmf(), [
    { participantId: 'alice', digit: '5' },
    { participantId: 'alice', digit: '#' },
  ]);
  assert.deepEqual(audio.takeDtmf(), []);
  assert.equal(rms(b.heardSince(0)), 0, 'bob hears nothing of the events');
  assert.equal(audio.stats().legs.alice!.level, 0);
});

test('a muted leg (sending: false) is not heard by others but hears them; unmuted it is heard again', () => {
  const a = new ToneClient('alice', OPUS, 440, 6000, { sending: false });
  const b = new ToneClient('bob', OPUS, 660);
  const audio = meeting(a, b);
  drive(audio, [a, b], 600); // alice's client keeps sending anyway: the mixer must drop it
  assert.ok(toneAmplitude(b.heardSince(200), 48000, 440) < 100, 'bob does not hear muted alice');
  assert.ok(toneAmplitude(a.heardSince(200), 48000, 660) > 3000, 'muted alice hears bob');
  audio.updateLeg({ ...a.config, sending: true });
  drive(audio, [a, b], 600, { startMs: 600 });
  assert.ok(toneAmplitude(b.heardSince(900), 48000, 440) > 3000, 'unmuted alice is heard');
});

test('a non-receiving leg gets no frames; a removed leg leaves the mix', () => {
  const a = new ToneClient('alice', PCMU, 440, 6000, { receiving: false });
  const b = new ToneClient('bob', PCMU, 0);
  const audio = meeting(a, b);
  drive(audio, [a, b], 300);
  assert.equal(a.received.length, 0);
  assert.ok(toneAmplitude(b.heardSince(100), 8000, 440) > 3000);
  audio.removeLeg('alice');
  audio.removeLeg('alice'); // idempotent
  drive(audio, [b], 300, { startMs: 300 });
  assert.ok(toneAmplitude(b.heardSince(400), 8000, 440) < 50);
  assert.throws(() => audio.addLeg(b.config), TypeError, 'adding a leg twice is API misuse');
});

test('5 % packet loss on a talker still gives the listeners continuous audio (no silent gap over 60 ms)', () => {
  const a = new ToneClient('alice', PCMU, 440);
  const b = new ToneClient('bob', OPUS, 0);
  const audio = meeting(a, b);
  drive(audio, [a, b], 2000, { loss: (c, f) => c.id === 'alice' && f % 20 === 7 });
  const frames = b.heard.slice(5);
  let gap = 0;
  let worst = 0;
  for (const f of frames) {
    gap = rms(f) < 300 ? gap + 20 : 0;
    worst = Math.max(worst, gap);
  }
  assert.ok(worst <= 60, `longest near-silent stretch ${worst} ms`);
  assert.ok(audio.stats().legs.alice!.concealed >= 4, 'the losses were concealed and counted');
});

test('active speaker: the loudest talker, with hysteresis; nobody after a long silence', () => {
  const a = new ToneClient('alice', PCMU, 440, 12000);
  const b = new ToneClient('bob', PCMU, 660, 3000);
  const audio = meeting(a, b);
  drive(audio, [a, b], 400);
  assert.equal(audio.activeSpeaker(), 'alice');
  a.freq = 0; // alice stops; bob keeps talking
  drive(audio, [a, b], 200, { startMs: 400 });
  assert.equal(audio.activeSpeaker(), 'alice', 'a short pause does not hand over');
  drive(audio, [a, b], 1000, { startMs: 600 });
  assert.equal(audio.activeSpeaker(), 'bob');
  b.freq = 0;
  drive(audio, [a, b], 2600, { startMs: 1600 });
  assert.equal(audio.activeSpeaker(), undefined);
});

test('untrusted payloads never throw: garbage, unknown payload types, unknown legs are dropped and counted', () => {
  const a = new ToneClient('alice', OPUS, 0);
  const b = new ToneClient('bob', PCMU, 0);
  const audio = meeting(a, b);
  for (let i = 0; i < 20; i++) {
    const junk = new Uint8Array(50 + i).map((_, k) => (k * 31 + i) & 0xff);
    audio.push('alice', { payloadType: 111, sequenceNumber: i, timestamp: i * 960, ssrc: 7, marker: false, payload: junk }, i * 20);
    audio.push('alice', { payloadType: 96, sequenceNumber: i, timestamp: i * 960, ssrc: 7, marker: false, payload: junk }, i * 20);
    audio.push('nobody', { payloadType: 0, sequenceNumber: i, timestamp: i * 160, ssrc: 8, marker: false, payload: junk }, i * 20);
    assert.doesNotThrow(() => audio.tick(i * 20));
  }
});
