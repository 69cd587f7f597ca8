import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../registrar/log.ts';
import { ManualClock } from '../../registrar/sip/clock.ts';
import { AudioWorkerHost } from '../../media-relay/audio/worker-host.ts';
import type { AudioOut } from '../../media-relay/audio/types.ts';
import { OPUS, PCMU, ToneClient } from './tone-client.ts';
import { toneAmplitude, concat, dominantFrequency, medianToneAmplitude, sine } from './spectrum.ts';
import { createCodec } from '../../media/codec/create-codec.ts';

test('a meeting in a worker thread produces a frame every 20 ms (50/s ± 10 %) with no drift over 2 s', async () => {
  const host = new AudioWorkerHost({ logger: silentLogger(), workers: 1 });
  const ticks: number[] = [];
  const frames: AudioOut[] = [];
  host.onFrames((meetingId, outs, tick, nowMs) => {
    assert.equal(meetingId, 'm1');
    ticks.push(nowMs);
    frames.push(...outs.filter((o) => o.participantId === 'bob'));
    void tick;
  });
  const alice = new ToneClient('alice', PCMU, 440);
  const bob = new ToneClient('bob', OPUS, 0);
  host.addLeg('m1', alice.config);
  host.addLeg('m1', bob.config);
  // Alice sends 20 ms packets on a drift-free schedule of her own until 2.3 s of ticks came back (worker start-up
  // with tsx takes a moment), at most 8 s.
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const send = (): void => {
      host.push('m1', 'alice', alice.nextPacket());
      host.push('m1', 'bob', bob.nextPacket());
      sent++;
      const covered = ticks.length > 0 ? ticks[ticks.length - 1]! - ticks[0]! : 0;
      if (covered >= 2300 || sent >= 400) return resolve();
      setTimeout(send, Math.max(0, start + sent * 20 - performance.now()));
    };
    send();
  });
  const stats = await host.stats('m1');
  await host.close();

  // Skip the first 0.2 s (worker start-up), then count over 2 s of ticks.
  const t0 = ticks.find((t) => t >= ticks[0]! + 200)!;
  const window = ticks.filter((t) => t >= t0 && t < t0 + 2000);
  assert.ok(window.length >= 90 && window.length <= 110, `${window.length} ticks in 2 s`);
  // No drift: tick k lands near t0 + k × 20 all along — timer lateness does not accumulate (a setInterval-style
  // loop would be ~1 ms late per tick, 100 ms behind after 2 s). A busy shared machine can delay single ticks.
  const dev = window.map((t, k) => Math.abs(t - (t0 + k * 20))).sort((x, y) => x - y);
  const p90 = dev[Math.floor(dev.length * 0.9)]!;
  assert.ok(p90 < 10, `90 % of ticks within 10 ms of the grid (p90 ${p90.toFixed(1)} ms)`);
  assert.ok(Math.abs(window[window.length - 1]! - (t0 + (window.length - 1) * 20)) < 25, 'the last tick is still on the grid');
  // And the audio went through the worker: bob heard alice's tone.
  const dec = new ToneClient('decoder', OPUS, 0);
  for (const f of frames) dec.receive(f);
  assert.ok(toneAmplitude(concat(dec.heard.slice(20)), 48000, 440) > 3000);
  assert.ok(stats?.legs.alice?.talking, 'stats come back from the worker');
});

test('inline host on a ManualClock: exactly 50 frames per simulated second, meetings isolated', async () => {
  const clock = new ManualClock();
  const host = new AudioWorkerHost({ logger: silentLogger(), inline: true, clock });
  const got = new Map<string, number>();
  const heard = new Map<string, ToneClient>();
  host.onFrames((meetingId, outs) => {
    for (const o of outs) {
      got.set(`${meetingId}/${o.participantId}`, (got.get(`${meetingId}/${o.participantId}`) ?? 0) + 1);
      heard.get(`${meetingId}/${o.participantId}`)?.receive(o);
    }
  });
  const speakers: Array<[string, string | undefined]> = [];
  host.onActiveSpeaker((m, p) => speakers.push([m, p]));
  const digits: string[] = [];
  host.onDtmf((m, p, d) => digits.push(`${m}/${p}/${d}`));

  const a1 = new ToneClient('a', PCMU, 440);
  const b1 = new ToneClient('b', PCMU, 0);
  const a2 = new ToneClient('a', PCMU, 1000);
  const b2 = new ToneClient('b', PCMU, 0);
  host.addLeg('m1', a1.config);
  host.addLeg('m1', b1.config);
  host.addLeg('m2', a2.config);
  host.addLeg('m2', b2.config);
  heard.set('m1/b', b1);
  heard.set('m2/b', b2);
  for (let i = 0; i < 50; i++) {
    for (const [m, c] of [['m1', a1], ['m1', b1], ['m2', a2], ['m2', b2]] as const) host.push(m, c.id, c.nextPacket(), clock.now());
    clock.advance(20);
  }
  const ts = a1.timestamp;
  host.push('m1', 'a', a1.dtmfPacket(1, true, 800, ts), clock.now());
  clock.advance(20);
  assert.equal(got.get('m1/a'), 51);
  assert.equal(got.get('m2/b'), 51);
  // Meeting 1's listener hears 440 Hz and nothing of meeting 2's 1000 Hz, and vice versa.
  const h1 = concat(b1.heard.slice(10));
  const h2 = concat(b2.heard.slice(10));
  assert.ok(toneAmplitude(h1, 8000, 440) > 3000 && toneAmplitude(h1, 8000, 1000) < 30);
  assert.ok(toneAmplitude(h2, 8000, 1000) > 3000 && toneAmplitude(h2, 8000, 440) < 30);
  assert.deepEqual(speakers, [['m1', 'a'], ['m2', 'a']]);
  assert.deepEqual(digits, ['m1/a/1']);

  host.removeLeg('m1', 'a');
  host.removeLeg('m1', 'b');
  assert.equal(await host.stats('m1'), undefined, 'a meeting goes away with its last leg');
  assert.ok(await host.stats('m2'));
  await host.close();
  await host.close(); // idempotent
  const before = got.get('m2/b');
  clock.advance(100);
  assert.equal(got.get('m2/b'), before, 'no frames after close');
});

test('meetings spread over the workers (fewest meetings first)', async () => {
  const host = new AudioWorkerHost({ logger: silentLogger(), workers: 2 });
  for (const m of ['m1', 'm2', 'm3', 'm4']) host.addLeg(m, new ToneClient('a', PCMU, 0).config);
  assert.deepEqual(host.load(), [2, 2]);
  host.removeMeeting('m1');
  host.addLeg('m5', new ToneClient('a', PCMU, 0).config);
  assert.deepEqual(host.load(), [2, 2]);
  await host.close();
});

test('two workers: each meeting hears only its own talker, packets through the shared ring and frames back in batches', async () => {
  const host = new AudioWorkerHost({ logger: silentLogger(), workers: 2 });
  const tones = [440, 620, 830, 1170];
  const meetings = tones.map((f, i) => ({ id: `m${i}`, f, talk: new ToneClient('talk', OPUS, f), ear: new ToneClient('ear', OPUS, 0), got: [] as AudioOut[] }));
  // No Opus call on this thread while the workers run (the native binding is not thread-safe, codec-lock.ts; the
  // workers lock among themselves): packets are encoded before, what the ears got is decoded after.
  // Up to 6 s of packets: two workers loading tsx on a busy machine can take a few seconds to start mixing.
  const TICKS = 300;
  const packets = meetings.map((m) => Array.from({ length: TICKS }, () => [m.talk.nextPacket(), m.ear.nextPacket()] as const));
  host.onFrames((meetingId, outs) => {
    const m = meetings.find((x) => x.id === meetingId)!;
    for (const o of outs) if (o.participantId === 'ear') m.got.push({ ...o, payload: o.payload.slice() });
  });
  for (const m of meetings) {
    host.addLeg(m.id, m.talk.config);
    host.addLeg(m.id, m.ear.config);
  }
  assert.deepEqual(host.load(), [2, 2]);
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const send = (): void => {
      meetings.forEach((m, i) => {
        host.push(m.id, 'talk', packets[i]![sent]![0]);
        host.push(m.id, 'ear', packets[i]![sent]![1]);
      });
      if (++sent >= TICKS || meetings.every((m) => m.got.length >= 60)) return resolve();
      setTimeout(send, Math.max(0, start + sent * 20 - performance.now()));
    };
    send();
  });
  await host.close();
  for (const m of meetings) {
    assert.ok(m.got.length >= 60, `${m.id}: ${m.got.length} frames`);
    for (const o of m.got) m.ear.receive(o);
    const pcm = concat(m.ear.heard.slice(15));
    // Judged per 100 ms window (median over the windows): a concealed or re-timed frame under load breaks the
    // tone's phase, which would sink one long window's single-bin estimate, while another meeting's tone leaking
    // in would still fill most windows.
    const level = (f: number) => medianToneAmplitude(pcm, 48000, f);
    const heard = `${m.id} heard ${dominantFrequency(pcm, 48000)} Hz most`;
    assert.ok(level(m.f) > 2000, `${m.id} hears its own talker (${m.f} Hz: median ${level(m.f).toFixed(0)}; ${heard})`);
    for (const other of [...tones.filter((f) => f !== m.f), 1500]) {
      assert.ok(level(other) < 150, `${m.id} hears nothing at ${other} Hz (median ${level(other).toFixed(0)}; ${heard})`);
    }
    assert.ok(pcm.every((v) => Math.abs(v) < 12000), `${m.id}: no garbage (peak ${Math.max(...pcm.map(Math.abs))})`);
  }
});

test('Opus on the main thread beside two mixing workers: every payload is what a lone encoder makes (process-wide codec lock)', async () => {
  // The native Opus binding encodes into one buffer per process (codec-lock.ts): without a lock shared by the main
  // thread and every worker, encodes here would be overwritten by the workers' and come out different.
  const FRAMES = 400;
  const signal = Array.from({ length: FRAMES }, (_, i) => sine(523, 48000, 960, 8000, i * 960));
  const alone = createCodec(OPUS)!;
  const reference = signal.map((pcm) => Buffer.from(alone.encode(pcm)));

  const host = new AudioWorkerHost({ logger: silentLogger(), workers: 2 });
  const meetings = [440, 620, 830, 1170].map((f, i) => ({ id: `x${i}`, talk: new ToneClient('talk', OPUS, f), ear: new ToneClient('ear', OPUS, 0) }));
  const packets = meetings.map((m) => Array.from({ length: 150 }, () => [m.talk.nextPacket(), m.ear.nextPacket()] as const));
  let frames = 0;
  host.onFrames((_id, outs) => void (frames += outs.length));
  for (const m of meetings) {
    host.addLeg(m.id, m.talk.config);
    host.addLeg(m.id, m.ear.config);
  }
  const beside = createCodec(OPUS)!;
  const mismatches: number[] = [];
  let encoded = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    let sent = 0;
    const send = (): void => {
      meetings.forEach((m, i) => {
        host.push(m.id, 'talk', packets[i]![sent % 150]![0]);
        host.push(m.id, 'ear', packets[i]![sent % 150]![1]);
      });
      sent++;
      if (encoded >= FRAMES && frames > 200) return resolve();
      setTimeout(send, Math.max(0, start + sent * 20 - performance.now()));
    };
    // Encode a few frames per event-loop turn, only once the workers are mixing, so the two overlap.
    const encodeSome = (): void => {
      if (frames > 0) {
        for (let k = 0; k < 4 && encoded < FRAMES; k++, encoded++) {
          if (!Buffer.from(beside.encode(signal[encoded]!)).equals(reference[encoded]!)) mismatches.push(encoded);
        }
      }
      if (encoded < FRAMES) setImmediate(encodeSome);
    };
    send();
    encodeSome();
  });
  await host.close();
  assert.ok(frames > 200, `the workers mixed meanwhile (${frames} frames)`);
  assert.deepEqual(mismatches, [], `${mismatches.length} of ${FRAMES} main-thread encodes differ from a lone encoder's`);
});

test('an audio worker that dies is started again: its meeting is heard again, the other worker\'s meeting never stops', async () => {
  const host = new AudioWorkerHost({ logger: silentLogger(), workers: 2 });
  const meetings = [440, 830].map((f, i) => ({ id: `k${i}`, f, talk: new ToneClient('talk', OPUS, f), ear: new ToneClient('ear', OPUS, 0), at: [] as number[], after: [] as AudioOut[] }));
  let killedAt = Infinity;
  host.onFrames((meetingId, outs) => {
    const m = meetings.find((x) => x.id === meetingId)!;
    for (const o of outs) {
      if (o.participantId !== 'ear') continue;
      m.at.push(performance.now());
      if (performance.now() > killedAt) m.after.push({ ...o, payload: o.payload.slice() });
    }
  });
  for (const m of meetings) {
    host.addLeg(m.id, m.talk.config);
    host.addLeg(m.id, m.ear.config);
  }
  assert.deepEqual(host.load(), [1, 1], 'one meeting per worker');
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const send = (): void => {
      for (const m of meetings) {
        host.push(m.id, 'talk', m.talk.nextPacket());
        host.push(m.id, 'ear', m.ear.nextPacket());
      }
      sent++;
      if (killedAt === Infinity && meetings.every((m) => m.at.length >= 30)) {
        killedAt = performance.now();
        void host.killWorker(0);
      }
      if (sent >= 500 || (meetings[0]!.after.length >= 60 && performance.now() - killedAt > 1500)) return resolve();
      setTimeout(send, Math.max(0, start + sent * 20 - performance.now()));
    };
    send();
  });
  await host.close();
  assert.ok(killedAt < Infinity, 'both meetings were mixing before the kill');
  assert.deepEqual(host.restarts(), [1, 0], 'worker 0 was started again once');
  const [dead, alive] = meetings as [(typeof meetings)[0], (typeof meetings)[0]];
  assert.ok(dead.after.length >= 60, `the dead worker's meeting has frames again (${dead.after.length})`);
  for (const o of dead.after) dead.ear.receive(o);
  const pcm = concat(dead.ear.heard.slice(20));
  assert.ok(medianToneAmplitude(pcm, 48000, dead.f) > 2000, `and its listener hears its talker again (${medianToneAmplitude(pcm, 48000, dead.f).toFixed(0)})`);
  const gaps = alive.at.slice(1).map((t, i) => t - alive.at[i]!);
  const around = gaps.filter((_, i) => alive.at[i]! > killedAt - 500 && alive.at[i]! < killedAt + 1000);
  assert.ok(around.length > 40 && Math.max(...around) < 100, `the other meeting kept its 20 ms frames through the restart (largest gap ${Math.max(...around).toFixed(0)} ms)`);
});
