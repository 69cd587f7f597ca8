/**
 * RTP header (RFC 3550 §5.1) byte vectors: parse, CSRC list, §5.3.1 extension, padding, malformed packets as
 * error results (never a throw), in-place rewrite and build round trips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRtp, parseRtp, rewriteRtp, setPayloadType, setSequenceNumber, setSsrc, setTimestamp } from '../../media/rtp/packet.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// PCMU packet, no CSRC, no extension.
const PLAIN = Buffer.from([
  0x80, //       V=2 P=0 X=0 CC=0
  0x00, //       M=0 PT=0 (PCMU)
  0x12, 0x34, // sequence number 4660
  0x00, 0x00, 0x03, 0x20, // timestamp 800
  0xde, 0xad, 0xbe, 0xef, // SSRC
  0xff, 0xfe, 0xfd, 0xfc, // payload (4 octets)
]);

// Mixer output: 2 CSRCs, RFC 8285 one-byte extension of 1 word, 3 octets of padding.
const FULL = Buffer.from([
  0xb2, //       V=2 P=1 X=1 CC=2
  0xe0, //       M=1 PT=96
  0xff, 0xff, // sequence number 65535
  0xff, 0xff, 0xff, 0xff, // timestamp 2^32-1
  0x00, 0x00, 0x00, 0x01, // SSRC 1
  0x11, 0x11, 0x11, 0x11, // CSRC 1
  0x22, 0x22, 0x22, 0x22, // CSRC 2
  0xbe, 0xde, 0x00, 0x01, // extension: profile 0xBEDE, length 1 word
  0x10, 0xaa, 0x00, 0x00, //   id=1 len=0 (1 octet) 0xaa, padding
  0x01, 0x02, //             payload (2 octets)
  0x00, 0x00, 0x03, //       padding: 3 octets, the last one counts them
]);

test('a plain PCMU packet parses field by field', () => {
  const r = parseRtp(PLAIN);
  assert.ok(r.ok);
  const p = r.packet;
  assert.equal(p.payloadType, 0);
  assert.equal(p.marker, false);
  assert.equal(p.sequenceNumber, 0x1234);
  assert.equal(p.timestamp, 800);
  assert.equal(p.ssrc, 0xdeadbeef);
  assert.deepEqual(p.csrcs, []);
  assert.equal(p.extensionProfile, undefined);
  assert.deepEqual([...p.payload], [0xff, 0xfe, 0xfd, 0xfc]);
});

test('CSRC list, header extension and padding are all skipped to find the payload', () => {
  const r = parseRtp(FULL);
  assert.ok(r.ok);
  const p = r.packet;
  assert.equal(p.marker, true);
  assert.equal(p.payloadType, 96);
  assert.equal(p.sequenceNumber, 65535);
  assert.equal(p.timestamp, 0xffffffff);
  assert.deepEqual(p.csrcs, [0x11111111, 0x22222222]);
  assert.equal(p.extensionProfile, 0xbede);
  assert.deepEqual([...p.extensionData!], [0x10, 0xaa, 0x00, 0x00]);
  assert.equal(p.paddingLength, 3);
  assert.deepEqual([...p.payload], [0x01, 0x02]);
});

test('malformed packets give an error result, never a throw', () => {
  const cases: Array<[string, Buffer, string]> = [
    ['empty', Buffer.alloc(0), 'too-short'],
    ['11 octets', PLAIN.subarray(0, 11), 'too-short'],
    ['version 1', Buffer.concat([Buffer.from([0x40]), PLAIN.subarray(1)]), 'bad-version'],
    ['version 0 (STUN-like)', hex('0001 0000 2112a442 000000000000000000000000'), 'bad-version'],
    ['CC=2 but only 1 CSRC present', FULL.subarray(0, 16), 'truncated-csrc'],
    ['X=1 but the extension header is cut', FULL.subarray(0, 22), 'truncated-extension'],
    ['extension length runs past the end', hex('90000001 00000000 00000001 bede0009 00'), 'truncated-extension'],
    ['padding count 0', Buffer.concat([Buffer.from([0xa0]), PLAIN.subarray(1, 15), Buffer.from([0x00])]), 'bad-padding'],
    ['padding count larger than the payload', Buffer.concat([Buffer.from([0xa0]), PLAIN.subarray(1, 15), Buffer.from([0x09])]), 'bad-padding'],
  ];
  for (const [what, buf, reason] of cases) {
    const r = parseRtp(buf);
    assert.equal(r.ok, false, what);
    assert.equal(!r.ok && r.reason, reason, what);
  }
});

test('in-place rewrite changes SSRC, sequence, timestamp and PT but keeps the marker and payload', () => {
  const buf = Buffer.from(FULL);
  rewriteRtp(buf, 0xcafebabe, 7, 123456, 100);
  const r = parseRtp(buf);
  assert.ok(r.ok);
  assert.equal(r.packet.ssrc, 0xcafebabe);
  assert.equal(r.packet.sequenceNumber, 7);
  assert.equal(r.packet.timestamp, 123456);
  assert.equal(r.packet.payloadType, 100);
  assert.equal(r.packet.marker, true);
  assert.deepEqual(r.packet.csrcs, [0x11111111, 0x22222222]);
  assert.deepEqual([...r.packet.payload], [0x01, 0x02]);

  const one = Buffer.from(PLAIN);
  setSsrc(one, 1);
  setSequenceNumber(one, 0xffff);
  setTimestamp(one, 0x80000000);
  setPayloadType(one, 8);
  assert.equal(one.toString('hex'), '8008ffff800000000000000' + '1fffefdfc');
});

test('buildRtp round-trips through parseRtp (with CSRCs)', () => {
  const payload = Uint8Array.from({ length: 160 }, (_, i) => i & 0xff);
  const buf = buildRtp({ payloadType: 0, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0x01020304, marker: true, csrcs: [5, 6] }, payload);
  assert.equal(buf.length, 12 + 8 + 160);
  assert.equal(buf.subarray(0, 2).toString('hex'), '8280'); // V=2 CC=2, M=1 PT=0
  const r = parseRtp(buf);
  assert.ok(r.ok);
  assert.equal(r.packet.sequenceNumber, 65535);
  assert.equal(r.packet.timestamp, 0xfffffff0);
  assert.equal(r.packet.ssrc, 0x01020304);
  assert.deepEqual(r.packet.csrcs, [5, 6]);
  assert.deepEqual([...r.packet.payload], [...payload]);
  assert.deepEqual({ ...r.packet.toRtpIn(), payload: [...r.packet.toRtpIn().payload] }, {
    payloadType: 0, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0x01020304, marker: true, payload: [...payload], audioLevel: undefined,
  });
});
