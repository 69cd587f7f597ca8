/**
 * The SILK VAD flag of an Opus packet, read without decoding (media/codec/opus-vad.ts): annotated byte vectors for
 * the range decoder's first bit and the framings it declines, then packets from libopus itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { opusVoiceActivity } from '../../media/codec/opus-vad.ts';
import { createCodec } from '../../media/codec/create-codec.ts';
import { OPUS } from './tone-client.ts';
import { sine } from './spectrum.ts';

test('the first range-coded bit (RFC 6716 §4.1.1 init, §4.1.3.1 bit with logp 1) on hand-made packets', () => {
  // TOC 0x08 = config 1 (SILK NB, 20 ms), s=0, code 0 (one frame). §4.1.1: val = 127 − (b0 >> 1), then
  // normalised; the bit is 1 when val < rng/2 — the decoder's val is the inverted code, so a high first octet
  // reads as 1 ("activity") and a low one as 0.
  assert.equal(opusVoiceActivity(Uint8Array.of(0x08, 0xff, 0xff, 0xff)), true);
  assert.equal(opusVoiceActivity(Uint8Array.of(0x08, 0x00, 0x00, 0x00)), false);
  assert.equal(opusVoiceActivity(Uint8Array.of(0x08, 0x80, 0x00)), true, '0x80: val = 63·2^24 + … < 2^30');
  assert.equal(opusVoiceActivity(Uint8Array.of(0x08, 0x7f, 0xff)), false, '0x7f: val = 64·2^24 − … ≥ 2^30');
  // Hybrid config 13 (SWB 20 ms): the SILK layer comes first there too.
  assert.equal(opusVoiceActivity(Uint8Array.of(13 << 3, 0xff, 0xff)), true);
});

test('framings it cannot read without decoding give undefined', () => {
  assert.equal(opusVoiceActivity(Uint8Array.of(0x08)), undefined, 'TOC only (a PLC packet)');
  assert.equal(opusVoiceActivity(new Uint8Array(0)), undefined, 'empty');
  assert.equal(opusVoiceActivity(Uint8Array.of(0x09, 0xff, 0xff)), undefined, 'code 1: two frames');
  assert.equal(opusVoiceActivity(Uint8Array.of(0x0b, 0x81, 0xff)), undefined, 'code 3: several frames');
  assert.equal(opusVoiceActivity(Uint8Array.of(2 << 3, 0xff, 0xff)), undefined, 'config 2: SILK NB 40 ms (two SILK frames)');
  assert.equal(opusVoiceActivity(Uint8Array.of(3 << 3, 0xff, 0xff)), undefined, 'config 3: SILK NB 60 ms');
  assert.equal(opusVoiceActivity(Uint8Array.of(31 << 3, 0xff, 0xff)), undefined, 'config 31: CELT-only, no VAD flag');
});

test('libopus (the relay\'s own encoder settings): silence and low noise flag no activity, a tone onset flags activity', () => {
  let enc = createCodec(OPUS)!;
  const flags = (pcm: (f: number) => Int16Array, frames: number, from: number) =>
    Array.from({ length: frames }, (_, f) => opusVoiceActivity(enc.encode(pcm(from + f))));
  const silence = flags(() => new Int16Array(960), 25, 0);
  assert.ok(silence.every((v) => v === false), `digital silence: ${silence.join(',')}`);
  // An open microphone in a quiet room: noise from the start (SILK's VAD learns it as the noise floor).
  const opened = createCodec(OPUS)!;
  let seed = 1;
  const noise = () => Int16Array.from({ length: 960 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 115) - 57);
  const quiet = Array.from({ length: 50 }, () => opusVoiceActivity(opened.encode(noise())));
  // Never flagged active; libopus may move such noise to CELT-only coding after a while (no flag: undefined).
  assert.ok(!quiet.slice(10).includes(true) && quiet.filter((v) => v === false).length >= 20, `−60 dBFS noise: ${quiet.join(',')}`);
  enc = createCodec(OPUS)!;
  flags(() => new Int16Array(960), 25, 0);
  const onset = flags((f) => sine(660, 48000, 960, 4000, f * 960), 5, 50);
  assert.ok(onset[0] === true || onset[0] === undefined, `a tone's first packet is not flagged inactive (${onset[0]})`);
  assert.ok(!onset.includes(false), `nor are the next ones: ${onset.join(',')}`);
});
