/**
 * The FIFO between a capture device and the 20 ms send clock (alsa-capture-fifo.ts): the clock always gets a whole
 * frame at once — the device's audio in order, silence on underrun, the newest audio after an overrun — and both
 * are counted. And the one-line reason the CLI prints from ffmpeg's stderr (alsa-ffmpeg.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureFifo } from '../../softclient/media/alsa-capture-fifo.ts';
import { ffmpegReason } from '../../softclient/media/alsa-ffmpeg.ts';

/** s16le bytes of consecutive sample values from `start`. */
function ramp(start: number, n: number): Buffer {
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeInt16LE(start + i, 2 * i);
  return b;
}

test('frames come out in order, whole, whatever the chunking of the bytes (a sample split across pushes)', () => {
  const f = new CaptureFifo(1000, 0);
  assert.deepEqual(Array.from(f.take(10)), new Array(10).fill(0), 'nothing yet: silence'); // the call is up
  const bytes = ramp(-50, 300);
  f.push(bytes.subarray(0, 7)); // 3 samples and half of the 4th
  f.push(bytes.subarray(7, 401));
  f.push(bytes.subarray(401));
  const a = f.take(100);
  const b = f.take(200);
  assert.deepEqual(Array.from(a), Array.from({ length: 100 }, (_, i) => -50 + i));
  assert.deepEqual(Array.from(b), Array.from({ length: 200 }, (_, i) => 50 + i));
  assert.equal(f.stats().underruns, 0);
});

test('underrun: the tick still gets n samples, padded with silence; it refills to the prefill before playing again', () => {
  const f = new CaptureFifo(1000, 200);
  f.take(100); // the call is up, nothing captured yet
  f.push(ramp(1, 250));
  assert.deepEqual(Array.from(f.take(100)).slice(0, 3), [1, 2, 3]);
  assert.equal(f.take(100)[0], 101);
  const short = f.take(100); // 50 left
  assert.equal(short.length, 100);
  assert.equal(short[49], 250);
  assert.deepEqual(Array.from(short.subarray(50)), new Array(50).fill(0));
  assert.equal(f.stats().underruns, 1);
  f.push(ramp(1000, 150)); // below the prefill: still silence, no second underrun counted
  assert.deepEqual(Array.from(f.take(100)), new Array(100).fill(0));
  f.push(ramp(1150, 100));
  assert.equal(f.take(100)[0], 1000, 'plays again from the refilled audio');
  const s = f.stats();
  assert.equal(s.underruns, 1);
  assert.equal(s.paddedSamples, 100 + 50 + 100);
});

test('overrun: the oldest audio is dropped and counted, the queue stays at the capacity', () => {
  const f = new CaptureFifo(300, 0);
  f.push(ramp(0, 100));
  f.take(100); // the call is up
  f.push(ramp(100, 200));
  f.push(ramp(300, 250)); // 450 queued > 300: drop 150 oldest (100..249)
  const s = f.stats();
  assert.equal(s.overruns, 1);
  assert.equal(s.droppedSamples, 150);
  assert.equal(s.queued, 300);
  assert.equal(f.take(10)[0], 250);
});

test('before the call the FIFO keeps only the newest audio, uncounted; the first frame starts near the prefill', () => {
  const f = new CaptureFifo(1000, 200);
  for (let i = 0; i < 10; i++) f.push(ramp(i * 300, 300)); // 3000 samples while joining
  const first = f.take(100);
  assert.equal(first[0], 3000 - 200, 'the newest 200 samples are kept');
  assert.equal(f.stats().overruns, 0);
  assert.equal(f.stats().droppedSamples, 0);
});

test("ffmpeg's stderr becomes one reason: libasound's complaint and the errno text", () => {
  const stderr = [
    "Input #0, s16le, from 'pipe:':",
    'ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM nosuchdevice',
    '[alsa @ 0x555a23611580] cannot open audio device nosuchdevice (No such file or directory)',
    'Could not write header for output file #0 (incorrect codec parameters ?): Input/output error',
    'Conversion failed!',
  ].join('\n');
  assert.equal(ffmpegReason(stderr), 'Unknown PCM nosuchdevice (No such file or directory)');
  assert.equal(ffmpegReason('[alsa @ 0x1] cannot open audio device hw:9 (Device or resource busy)\nhw:9: Input/output error\n'), 'Device or resource busy');
  assert.equal(ffmpegReason('something odd\nConversion failed!\n'), 'something odd');
});
