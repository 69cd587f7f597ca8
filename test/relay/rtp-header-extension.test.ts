/**
 * RFC 8285 header extension elements and the RFC 6464 audio level they carry, on annotated byte vectors (the
 * RFCs' own layout examples), plus what a malformed block gives: never a throw, always "absent".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findExtensionElement, oneByteExtension, ONE_BYTE_PROFILE } from '../../media/rtp/header-extension.ts';
import { audioLevelExtension, dbovOf, pcmAudioLevel, readAudioLevel, rmsOfDbov } from '../../media/rtp/audio-level.ts';
import { buildRtp, parseRtp } from '../../media/rtp/packet.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const bytes = (u: Uint8Array | undefined) => (u === undefined ? undefined : Buffer.from(u).toString('hex'));

test('RFC 8285 §4.2 one-byte form: the RFC\'s example block (three elements, two padding octets)', () => {
  // 0xBEDE, length=3 | ID=1 L=0 data AA | ID=2 L=1 data BB BB | pad pad | ID=3 L=3 data CC CC CC CC
  const data = hex('10 aa 21 bb  bb 00 00 33  cc cc cc cc');
  assert.equal(bytes(findExtensionElement(ONE_BYTE_PROFILE, data, 1)), 'aa');
  assert.equal(bytes(findExtensionElement(ONE_BYTE_PROFILE, data, 2)), 'bbbb');
  assert.equal(bytes(findExtensionElement(ONE_BYTE_PROFILE, data, 3)), 'cccccccc');
  assert.equal(findExtensionElement(ONE_BYTE_PROFILE, data, 4), undefined, 'an id not in the block');
});

test('RFC 8285 §4.3 two-byte form: the RFC\'s example block (an empty element, padding, appbits ignored)', () => {
  // 0x100 + appbits 0x5, length=3 | ID=1 L=0 | ID=2 L=1 data DD | pad | ID=3 L=4 data EE EE EE EE
  const data = hex('01 00 02 01  dd 00 03 04  ee ee ee ee');
  assert.equal(bytes(findExtensionElement(0x1005, data, 1)), '');
  assert.equal(bytes(findExtensionElement(0x1005, data, 2)), 'dd');
  assert.equal(bytes(findExtensionElement(0x1005, data, 3)), 'eeeeeeee');
});

test('malformed or foreign blocks: ID 15 stops processing, truncated elements and other profiles give nothing', () => {
  // §4.2: "If the ID value 15 is encountered, its length field should be ignored, processing of the entire
  // extension should terminate at that point" — the element after it is not found.
  assert.equal(findExtensionElement(ONE_BYTE_PROFILE, hex('f0 00 10 7f'), 1), undefined);
  assert.equal(findExtensionElement(ONE_BYTE_PROFILE, hex('13 aa bb'), 1), undefined, 'L=3 (4 octets) but 2 left');
  assert.equal(findExtensionElement(0x1000, hex('01 05 aa'), 1), undefined, 'two-byte L=5 but 1 left');
  assert.equal(findExtensionElement(0x1000, hex('00 00 01'), 1), undefined, 'an ID with no length octet');
  assert.equal(findExtensionElement(0xabcd, hex('10 7f 00 00'), 1), undefined, 'not an RFC 8285 block');
  assert.equal(readAudioLevel(undefined, undefined, 1), undefined, 'no extension at all');
});

test('RFC 6464 §3: the level is the low 7 bits (−dBov), the V bit is not part of it', () => {
  // ID=1 L=0 | V=1 level=0x2a (−42 dBov) | padding
  assert.equal(readAudioLevel(ONE_BYTE_PROFILE, hex('10 aa 00 00'), 1), 42);
  // Same value, V=0, after a padding octet, with another element (ID 3, a 2-octet one) before it.
  assert.equal(readAudioLevel(ONE_BYTE_PROFILE, hex('31 12 34 00 10 2a 00 00'), 1), 42);
  assert.equal(readAudioLevel(ONE_BYTE_PROFILE, hex('31 12 34 00 10 2a 00 00'), 2), undefined);
  // Two-byte form: ID=7 L=1 data 0x7f (silence, 127).
  assert.equal(readAudioLevel(0x1000, hex('07 01 7f 00'), 7), 127);
});

test('buildRtp with an audio-level block: X set, one extension word, and parseRtp finds level and payload', () => {
  const payload = Uint8Array.of(1, 2, 3, 4, 5);
  const buf = buildRtp({ payloadType: 111, sequenceNumber: 7, timestamp: 960, ssrc: 0x01020304, extension: audioLevelExtension(1, 60, true) }, payload);
  // 90 = V=2, X=1 | 6f = PT 111 | … | be de 00 01 | 10 bc 00 00  (ID 1, L=0, V=1 | 60 = 0x3c → 0xbc)
  assert.equal(Buffer.from(buf.subarray(0, 2)).toString('hex'), '906f');
  assert.equal(Buffer.from(buf.subarray(12, 20)).toString('hex'), 'bede000110bc0000');
  const p = parseRtp(buf);
  assert.ok(p.ok);
  assert.equal(p.packet.extensionProfile, ONE_BYTE_PROFILE);
  assert.equal(readAudioLevel(p.packet.extensionProfile, p.packet.extensionData, 1), 60);
  assert.deepEqual([...p.packet.payload], [...payload]);
  // An id above 14 needs the §4.3 two-byte form: 10 00 00 01 | 14 01 3c 00 (ID 20, length 1, V=0 | 60, padding).
  const two = buildRtp({ payloadType: 111, sequenceNumber: 8, timestamp: 1920, ssrc: 1, extension: audioLevelExtension(20, 60) }, payload);
  assert.equal(Buffer.from(two.subarray(12, 20)).toString('hex'), '1000000114013c00');
  const q = parseRtp(two);
  assert.ok(q.ok);
  assert.equal(readAudioLevel(q.packet.extensionProfile, q.packet.extensionData, 20), 60);
});

test('oneByteExtension refuses ids and lengths the one-byte form cannot carry (API misuse)', () => {
  assert.throws(() => oneByteExtension([{ id: 15, data: Uint8Array.of(0) }]), RangeError);
  assert.throws(() => oneByteExtension([{ id: 0, data: Uint8Array.of(0) }]), RangeError);
  assert.throws(() => oneByteExtension([{ id: 1, data: new Uint8Array(17) }]), RangeError);
  assert.equal(oneByteExtension([{ id: 2, data: Uint8Array.of(9, 9) }, { id: 3, data: Uint8Array.of(8) }]).data.length, 8);
});

test('levels of PCM: full-scale square 0 −dBov, digital silence 127, a −20 dBFS-RMS sine 20, and back', () => {
  assert.equal(pcmAudioLevel(new Int16Array(960).fill(-32768)), 0);
  assert.equal(pcmAudioLevel(new Int16Array(960)), 127);
  const amp = 32768 * 0.1 * Math.SQRT2; // RMS = 0.1 of full scale
  const sine = Int16Array.from({ length: 960 }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * 1000 * i) / 48000)));
  assert.equal(pcmAudioLevel(sine), 20);
  assert.equal(dbovOf(rmsOfDbov(42)), 42);
  assert.equal(rmsOfDbov(127), 0);
});
