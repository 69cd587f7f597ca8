import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MULAW_DECODE, mulawDecode, mulawEncode } from '../../media/codec/mulaw.ts';
import { ALAW_DECODE, alawDecode, alawEncode } from '../../media/codec/alaw.ts';
import { G711Codec } from '../../media/codec/g711-codec.ts';
import { dominantFrequency, rms, sine } from './spectrum.ts';

test('µ-law known code words decode per ITU-T G.711 Table 2a', () => {
  assert.equal(MULAW_DECODE[0x00], -32124); // most negative
  assert.equal(MULAW_DECODE[0x80], 32124); // most positive
  assert.equal(MULAW_DECODE[0xff], 0); // positive zero
  assert.equal(MULAW_DECODE[0x7f], 0); // negative zero
  assert.equal(MULAW_DECODE[0xfe], 8); // smallest positive step
  assert.equal(MULAW_DECODE[0x7e], -8);
  assert.deepEqual([...mulawEncode(Int16Array.of(0, 32767, -32768, 8, -8))], [0xff, 0x80, 0x00, 0xfe, 0x7e]);
});

test('A-law known code words decode per ITU-T G.711 Table 1a', () => {
  assert.equal(ALAW_DECODE[0xd5], 8); // smallest positive (even bits inverted)
  assert.equal(ALAW_DECODE[0x55], -8);
  assert.equal(ALAW_DECODE[0xaa], 32256); // most positive
  assert.equal(ALAW_DECODE[0x2a], -32256);
  assert.deepEqual([...alawEncode(Int16Array.of(0, 32767, -32768, -1))], [0xd5, 0xaa, 0x2a, 0x55]);
});

for (const [law, enc, dec] of [
  ['µ-law', mulawEncode, mulawDecode],
  ['A-law', alawEncode, alawDecode],
] as const) {
  test(`${law} round trip of every 16-bit sample stays within half a quantisation step`, () => {
    const x = new Int16Array(65536).map((_, i) => i - 32768);
    const y = dec(enc(x));
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      const err = Math.abs(v - y[i]!);
      // Segment step sizes grow with amplitude: ≤ 512 at full scale, ≤ 16 near zero; a bound of |x|/32 + 16 holds
      // for both laws below the clip level (±32124 / ±32256) and pins a wrong segment or mantissa immediately.
      if (Math.abs(v) <= 32000) assert.ok(err <= Math.abs(v) / 32 + 16, `${law} x=${v} decoded ${y[i]}`);
    }
    // Decoding is a fixed point: re-encoding any decoded value gives the same value back.
    const codes = new Uint8Array(256).map((_, i) => i);
    assert.deepEqual([...dec(enc(dec(codes)))], [...dec(codes)]);
  });
}

test('PCMU codec: a 1 kHz tone survives a round trip; loss concealment fades then goes silent', () => {
  const enc = new G711Codec('pcmu');
  const dec = new G711Codec('pcmu');
  const tone = sine(1000, 8000, 160, 10000);
  const out = dec.decode(enc.encode(tone))!;
  assert.equal(out.length, 160);
  assert.equal(dominantFrequency(out, 8000), 1000);
  const c1 = dec.conceal();
  const c2 = dec.conceal();
  const c3 = dec.conceal();
  const c4 = dec.conceal();
  assert.ok(rms(c1) > rms(c2) && rms(c2) > rms(c3) && rms(c3) > 0, 'attenuated repeats');
  assert.equal(rms(c4), 0, 'then silence');
  assert.equal(dec.decode(new Uint8Array(0)), null, 'an empty payload is not audio');
});
