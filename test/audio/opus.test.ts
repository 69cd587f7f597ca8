import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as evan from '@evan/opus';
import { OpusCodec } from '../../media/codec/opus-codec.ts';
import { opusFrameTenthsMs, plcPacketFor } from '../../media/codec/opus-toc.ts';
import { createCodec } from '../../media/codec/create-codec.ts';
import { concat, dominantFrequency, rms, sine, toneAmplitude } from './spectrum.ts';

test('Opus round trip of a 440 Hz tone keeps the tone', () => {
  const enc = new OpusCodec();
  const dec = new OpusCodec();
  const out: Int16Array[] = [];
  for (let f = 0; f < 25; f++) {
    const payload = enc.encode(sine(440, 48000, 960, 8000, f * 960));
    assert.ok(payload.length > 0 && payload.length < 200, `20 ms at 32 kbit/s is ~80 bytes, got ${payload.length}`);
    out.push(dec.decode(payload)!);
  }
  const pcm = concat(out.slice(5)); // past the codec's start-up
  assert.equal(pcm.length, 20 * 960);
  assert.equal(dominantFrequency(pcm, 48000, { minHz: 100, maxHz: 4000, stepHz: 5 }), 440);
  const amp = toneAmplitude(pcm, 48000, 440);
  assert.ok(amp > 6000 && amp < 10000, `tone level kept (amplitude ${amp.toFixed(0)} of 8000)`);
});

test('Opus decodes stereo packets to mono (RFC 7587: opus/48000/2 may carry either)', () => {
  // Stereo packets from a stereo encoder (as baresip's stereo=1 sends): the mono decoder downmixes them.
  const dec = new OpusCodec();
  const { Encoder } = evan;
  const e = new Encoder({ channels: 2, sample_rate: 48000, application: 'voip' });
  let last: Int16Array | null = null;
  for (let f = 0; f < 10; f++) {
    const mono = sine(660, 48000, 960, 8000, f * 960);
    const inter = new Int16Array(1920);
    for (let i = 0; i < 960; i++) inter[2 * i] = inter[2 * i + 1] = mono[i]!;
    last = dec.decode(e.encode(inter));
  }
  assert.equal(last!.length, 960, 'mono samples');
  assert.equal(dominantFrequency(last!, 48000, { minHz: 100, maxHz: 2000, stepHz: 10 }), 660);
});

test('Opus loss concealment gives exactly 20 ms that continues the tone, then fades; garbage never throws', () => {
  const enc = new OpusCodec();
  const dec = new OpusCodec();
  for (let f = 0; f < 10; f++) dec.decode(enc.encode(sine(440, 48000, 960, 8000, f * 960)));
  const plc = dec.conceal();
  assert.equal(plc.length, 960);
  assert.ok(rms(plc) > 1000, `first concealed frame carries on (rms ${rms(plc).toFixed(0)})`);
  let later = plc;
  for (let i = 0; i < 5; i++) later = dec.conceal();
  assert.ok(rms(later) < rms(plc) / 2, 'a long loss fades out');
  // Corrupt payloads: decode returns audio or null, never throws.
  for (const junk of [Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff), Uint8Array.of(0x03), new Uint8Array(1500).fill(0xfb)]) {
    const r = dec.decode(junk);
    assert.ok(r === null || r instanceof Int16Array);
  }
  assert.equal(dec.decode(new Uint8Array(0)), null);
});

test('RFC 6716 TOC: frame durations and the 20 ms PLC packet', () => {
  assert.equal(opusFrameTenthsMs(1 << 3), 200); // SILK NB 20 ms
  assert.equal(opusFrameTenthsMs(15 << 3), 200); // Hybrid FB 20 ms
  assert.equal(opusFrameTenthsMs(28 << 3), 25); // CELT FB 2.5 ms
  assert.equal(opusFrameTenthsMs(3 << 3), 600); // SILK NB 60 ms
  assert.deepEqual([...plcPacketFor((15 << 3) | 0x05)], [15 << 3], 'keeps a 20 ms config, mono, one frame');
  assert.deepEqual([...plcPacketFor(3 << 3)], [31 << 3], 'a 60 ms config falls back to CELT FB 20 ms');
});

test('codec factory: fmtp maxaveragebitrate caps the Opus bitrate; telephone-event is not an audio codec', () => {
  const low = createCodec({ payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'maxaveragebitrate=12000' })!;
  const tone = sine(440, 48000, 960, 8000);
  let bytes = 0;
  for (let f = 0; f < 10; f++) bytes += low.encode(tone).length;
  assert.ok(bytes / 10 < 45, `12 kbit/s ≈ 30 bytes per 20 ms, got ${bytes / 10}`);
  assert.equal(createCodec({ payloadType: 101, name: 'telephone-event', clockRate: 8000 }), undefined);
  assert.equal(createCodec({ payloadType: 9, name: 'G722', clockRate: 8000 })?.sampleRate, 16000);
});
