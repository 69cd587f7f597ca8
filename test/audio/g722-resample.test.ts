import { test } from 'node:test';
import assert from 'node:assert/strict';
import { G722Codec } from '../../media/codec/g722-codec.ts';
import { Resampler } from '../../media/audio/resample.ts';
import { concat, dominantFrequency, sine, toneAmplitude } from './spectrum.ts';

function g722RoundTrip(freq: number, frames = 25): Int16Array {
  const enc = new G722Codec();
  const dec = new G722Codec();
  const out: Int16Array[] = [];
  for (let f = 0; f < frames; f++) {
    const payload = enc.encode(sine(freq, 16000, 320, 10000, f * 320));
    assert.equal(payload.length, 160, '64 kbit/s: one octet per two samples');
    out.push(dec.decode(payload)!);
  }
  return concat(out.slice(5));
}

test('G.722 round trip keeps a 1 kHz tone (low band) at its level', () => {
  const pcm = g722RoundTrip(1000);
  assert.equal(dominantFrequency(pcm, 16000, { minHz: 100, maxHz: 7900, stepHz: 10 }), 1000);
  const amp = toneAmplitude(pcm, 16000, 1000);
  assert.ok(amp > 9000 && amp < 11000, `amplitude ${amp.toFixed(0)} of 10000`);
});

test('G.722 is wideband: a 6 kHz tone (high sub-band, beyond narrowband telephony) survives', () => {
  const pcm = g722RoundTrip(6000);
  assert.equal(dominantFrequency(pcm, 16000, { minHz: 100, maxHz: 7900, stepHz: 10 }), 6000);
  assert.ok(toneAmplitude(pcm, 16000, 6000) > 7000);
});

test('G.722 decodes arbitrary octets without throwing and conceals a lost frame', () => {
  const dec = new G722Codec();
  const junk = new Uint8Array(160).map((_, i) => (i * 97) & 0xff);
  assert.equal(dec.decode(junk)!.length, 320);
  assert.equal(dec.conceal().length, 320);
  assert.equal(dec.decode(new Uint8Array(0)), null);
});

test('resampler 8 kHz → 48 kHz → 8 kHz: exact 20 ms frame sizes, tone kept', () => {
  const up = new Resampler(8000, 48000);
  const down = new Resampler(48000, 8000);
  const bus: Int16Array[] = [];
  const back: Int16Array[] = [];
  for (let f = 0; f < 20; f++) {
    const x = up.process(sine(440, 8000, 160, 8000, f * 160));
    assert.equal(x.length, 960);
    bus.push(x);
    const y = down.process(x);
    assert.equal(y.length, 160);
    back.push(y);
  }
  const b = concat(bus.slice(2));
  assert.equal(dominantFrequency(b, 48000, { minHz: 100, maxHz: 4000, stepHz: 5 }), 440);
  assert.ok(toneAmplitude(b, 48000, 440) > 7500);
  // A sinc resampler leaves no images of the 440 Hz tone around 8 kHz (linear interpolation would).
  assert.ok(toneAmplitude(b, 48000, 8000 - 440) < 80, 'no imaging');
  assert.ok(toneAmplitude(concat(back.slice(2)), 8000, 440) > 7500);
  up.destroy();
  down.destroy();
});

test('resampler 48 kHz → 8 kHz filters out what narrowband cannot carry (anti-aliasing)', () => {
  const down = new Resampler(48000, 8000);
  const out: Int16Array[] = [];
  // 6 kHz at 48 kHz would alias to 2 kHz at 8 kHz without a low-pass.
  for (let f = 0; f < 10; f++) out.push(down.process(sine(6000, 48000, 960, 10000, f * 960)));
  const y = concat(out.slice(2));
  assert.ok(toneAmplitude(y, 8000, 2000) < 200, `alias at 2 kHz: ${toneAmplitude(y, 8000, 2000).toFixed(0)}`);
  down.destroy();
  assert.throws(() => down.process(new Int16Array(160)), TypeError);
});

test('resampler 16 kHz ↔ 48 kHz for G.722 legs', () => {
  const up = new Resampler(16000, 48000);
  const out: Int16Array[] = [];
  for (let f = 0; f < 10; f++) out.push(up.process(sine(5000, 16000, 320, 8000, f * 320)));
  assert.ok(out.every((o) => o.length === 960));
  assert.equal(dominantFrequency(concat(out.slice(2)), 48000, { minHz: 100, maxHz: 12000, stepHz: 10 }), 5000);
  up.destroy();
});
