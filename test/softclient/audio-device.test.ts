/**
 * `--audio-in device[:NAME]` / `--audio-out device[:NAME]` through the real CLI, ffmpeg and libasound — with no
 * sound card: ALSA's `file` PCM plugin (over the `null` PCM) reads "captured" audio from a raw file (`infile`) and
 * writes what is played to another (`file`). The CLIs run with HOME set to a directory whose ~/.asoundrc defines
 *   sipmeetmic: capture  — infile = a raw s16le mono 48 kHz 660 Hz tone
 *   sipmeetspk: playback — file   = out.raw
 * (a `plug` around each fixes the format the file plugin sees: S16_LE, 48 kHz, mono).
 * The null PCM has no clock, so ALSA delivers the tone faster than real time: the capture FIFO drops the oldest
 * audio (overruns), which is exactly its job, and the sent audio stays a 660 Hz tone.
 *
 * Ann speaks through the capture device, Ben records to a WAV, Cat plays on the playback device: Ben's WAV and
 * Cat's out.raw both hold 660 Hz. A device that does not exist, or no ffmpeg, is one line and exit 2.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAudioIn } from '../../softclient/media/audio-source.ts';
import { parseAudioOut } from '../../softclient/media/audio-output.ts';
import { readWavFile } from '../../softclient/media/wav.ts';
import { goertzelPower } from '../audio/spectrum.ts';
import { Cli, oneLine, runCli, startTestServer, tempDir, type TestServer } from './helpers.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer('38800-38999');
});
after(() => srv.close());

const RATE = 48000;
const TONE = 660;

/** A HOME whose .asoundrc defines sipmeetmic (capture from a 660 Hz tone) and sipmeetspk (playback to out.raw). */
function alsaHome(): { home: string; played: string } {
  const home = tempDir();
  const tone = join(home, 'in.raw');
  const played = join(home, 'out.raw');
  // 120 s of tone: the clock-less null PCM lets ffmpeg read it several times faster than real time.
  const n = RATE * 120;
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * TONE * i) / RATE)), 2 * i);
  writeFileSync(tone, b);
  writeFileSync(
    join(home, '.asoundrc'),
    [
      `pcm.sipmeetmicfile { type file; slave.pcm "null"; file "/dev/null"; infile "${tone}"; format "raw" }`,
      'pcm.sipmeetmic { type plug; slave { pcm "sipmeetmicfile"; format S16_LE; rate 48000; channels 1 } }',
      `pcm.sipmeetspkfile { type file; slave.pcm "null"; file "${played}"; format "raw" }`,
      'pcm.sipmeetspk { type plug; slave { pcm "sipmeetspkfile"; format S16_LE; rate 48000; channels 1 } }',
      '',
    ].join('\n'),
  );
  return { home, played };
}

/** The CLI started with some environment variables changed (spawn copies process.env when called). */
function withEnv<T>(env: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * Power at the tone and at two other frequencies over [end - 1.6 s, end - 0.4 s] of 48 kHz samples, averaged
 * over 20 ms blocks: the clock-less test device makes each sent frame start at a new phase of the tone (the
 * overruns above), which a single long Goertzel window would partly cancel out.
 */
function powers(samples: Int16Array): { tone: number; other: number } {
  const w = samples.subarray(samples.length - Math.round(1.6 * RATE), samples.length - Math.round(0.4 * RATE));
  const block = (hz: number) => {
    let sum = 0;
    let n = 0;
    for (let i = 0; i + 960 <= w.length; i += 960, n++) sum += goertzelPower(w.subarray(i, i + 960), RATE, hz);
    return n ? sum / n : 0;
  };
  return { tone: block(TONE), other: Math.max(block(440), block(880)) };
}


test('device[:NAME] on the command line', () => {
  assert.deepEqual(parseAudioIn('device'), { ok: true, value: { kind: 'device', device: 'default' } });
  assert.deepEqual(parseAudioIn('device:plughw:1,0'), { ok: true, value: { kind: 'device', device: 'plughw:1,0' } });
  assert.deepEqual(parseAudioOut('device:sipmeetspk'), { ok: true, value: { kind: 'device', device: 'sipmeetspk' } });
  assert.deepEqual(parseAudioOut('ben.wav'), { ok: true, value: { kind: 'file', path: 'ben.wav' } });
  assert.equal(parseAudioOut('device:').ok, false);
});

test('a tone captured from an ALSA device reaches a WAV recording and an ALSA playback device', async () => {
  const { home, played } = alsaHome();
  const dir = tempDir();
  const meeting = srv.uri('conf-devices');
  const common = ['join', meeting, '--json', '--stats-interval', '1'];
  const ann = withEnv({ HOME: home }, () => new Cli([...common, '--name', 'Ann', '--audio-in', 'device:sipmeetmic']));
  const ben = new Cli([...common, '--name', 'Ben', '--audio-out', join(dir, 'ben.wav')]);
  const cat = withEnv({ HOME: home }, () => new Cli([...common, '--name', 'Cat', '--audio-out', 'device:sipmeetspk']));
  try {
    await Promise.all([ann, ben, cat].map((c) => c.waitEvent('joined', undefined, 30_000)));
    await ben.waitEvent('roster', (e) => (e.participants as unknown[]).length === 3);
    await new Promise((r) => setTimeout(r, 3000)); // Ann talking to both
    for (const c of [ann, ben, cat]) c.send('/leave');
    const exits = await Promise.all([ann, ben, cat].map((c) => c.waitExit()));
    for (const e of exits) assert.equal(e.code, 0, `exit 0 after /leave; stderr: ${e.stderr}`);

    const wav = readWavFile(join(dir, 'ben.wav'));
    assert.ok(wav.ok, "Ben's recording is a WAV");
    assert.equal(wav.value.sampleRate, RATE);
    const b = powers(wav.value.samples);
    assert.ok(b.tone > 1e5, `Ben hears Ann's ${TONE} Hz (${b.tone.toExponential(2)})`);
    assert.ok(b.tone > 30 * b.other, `Ben: ${TONE} Hz (${b.tone.toExponential(2)}) dominates (${b.other.toExponential(2)})`);

    const raw = readFileSync(played);
    const samples = new Int16Array(raw.buffer, raw.byteOffset, raw.byteLength >> 1);
    assert.ok(samples.length > 3 * RATE, `Cat's device played the call (${(samples.length / RATE).toFixed(2)} s)`);
    const c = powers(samples);
    assert.ok(c.tone > 1e5, `Cat's device plays Ann's ${TONE} Hz (${c.tone.toExponential(2)})`);
    assert.ok(c.tone > 30 * c.other, `Cat: ${TONE} Hz (${c.tone.toExponential(2)}) dominates (${c.other.toExponential(2)})`);
  } finally {
    for (const c of [ann, ben, cat]) c.kill();
  }
});

test('no such device: one readable line and exit 2 (as a missing camera), before joining', async () => {
  const { home } = alsaHome();
  const meeting = srv.uri('conf-nodevice');
  await withEnv({ HOME: home }, async () => {
    oneLine(await runCli(['join', meeting, '--name', 'Ann', '--audio-in', 'device:nosuchdevice']), 2, /^sipmeet: --audio-in device: ALSA device "nosuchdevice" cannot be opened: Unknown PCM nosuchdevice/);
    oneLine(await runCli(['join', meeting, '--name', 'Ann', '--audio-out', 'device:nosuchdevice']), 2, /^sipmeet: --audio-out device: ALSA device "nosuchdevice" cannot be opened: Unknown PCM nosuchdevice/);
  });
  // Nobody joined the meeting: the focus never had it.
  const list = await runCli(['list', '--api', srv.api, '--json']);
  assert.ok(!list.stdout.join('\n').includes('conf-nodevice'), `no meeting was created: ${list.stdout.join('\n')}`);
});

test('no ffmpeg: one readable line and exit 2', async () => {
  const empty = tempDir();
  const r = await withEnv({ PATH: empty }, () => runCli(['join', srv.uri('conf-noffmpeg'), '--name', 'Ann', '--audio-in', 'device']));
  oneLine(r, 2, /^sipmeet: --audio-in device: ffmpeg \("ffmpeg"\) is not installed or not on PATH/);
});
