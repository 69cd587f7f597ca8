/**
 * RTCP byte vectors (RFC 3550 §6.4–6.6, RFC 4585 §6.2.1/§6.3.1, RFC 5104 §4.3.1): compound splitting by the length
 * field first — the werift case, a NACK followed by a PLI — every packet type we parse, skipped ones, a truncated
 * trailer, and writer round trips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRtcp } from '../../media/rtcp/packet.ts';
import { isRtcp, splitCompound } from '../../media/rtcp/header.ts';
import { writeSenderReport, writeReceiverReport } from '../../media/rtcp/sender-report.ts';
import { writeSdes } from '../../media/rtcp/sdes.ts';
import { writeBye } from '../../media/rtcp/bye.ts';
import { writeFir, writeNack, writePli } from '../../media/rtcp/feedback.ts';

const SR_SDES = Buffer.from([
  // SR
  0x81, 0xc8, 0x00, 0x0c, //  V=2 P=0 RC=1, PT=200 SR, length 12 (52 octets)
  0x11, 0x22, 0x33, 0x44, //  SSRC of sender
  0xe1, 0x23, 0x45, 0x67, //  NTP timestamp, most significant word
  0x80, 0x00, 0x00, 0x00, //  NTP timestamp, least significant word (.5 s)
  0x00, 0x00, 0x10, 0x00, //  RTP timestamp 4096
  0x00, 0x00, 0x00, 0x0a, //  sender's packet count 10
  0x00, 0x00, 0x06, 0x40, //  sender's octet count 1600
  0xaa, 0xbb, 0xcc, 0xdd, //  report block 1: SSRC_1
  0x40, 0x00, 0x00, 0x05, //    fraction lost 64/256, cumulative lost 5
  0x00, 0x01, 0x00, 0x0a, //    extended highest seq: 1 cycle, seq 10
  0x00, 0x00, 0x00, 0x20, //    interarrival jitter 32
  0x45, 0x67, 0x80, 0x00, //    LSR
  0x00, 0x01, 0x00, 0x00, //    DLSR 1 s
  // SDES
  0x81, 0xca, 0x00, 0x04, //  V=2 SC=1, PT=202 SDES, length 4 (20 octets)
  0x11, 0x22, 0x33, 0x44, //  chunk 1: SSRC
  0x01, 0x06, 0x61, 0x40, //    CNAME, length 6, "a@"
  0x68, 0x6f, 0x73, 0x74, //    "host"
  0x00, 0x00, 0x00, 0x00, //    END + null padding to the 32-bit boundary
]);

const NACK_PLI = Buffer.from([
  0x81, 0xcd, 0x00, 0x03, //  V=2 FMT=1 (Generic NACK), PT=205 RTPFB, length 3 (16 octets)
  0x00, 0x00, 0x00, 0x01, //  SSRC of packet sender
  0x00, 0x00, 0x00, 0x02, //  SSRC of media source
  0x00, 0x64, 0x00, 0x05, //  PID 100, BLP 0b101 → 101 and 103 lost too
  0x81, 0xce, 0x00, 0x02, //  V=2 FMT=1 (PLI), PT=206 PSFB, length 2 (12 octets)
  0x00, 0x00, 0x00, 0x01, //  SSRC of packet sender
  0x00, 0x00, 0x00, 0x02, //  SSRC of media source
]);

const RR = Buffer.from([
  0x81, 0xc9, 0x00, 0x07, //  V=2 RC=1, PT=201 RR, length 7 (32 octets)
  0x55, 0x55, 0x55, 0x55, //  SSRC of packet sender
  0x66, 0x66, 0x66, 0x66, //  report block: SSRC_1
  0x00, 0xff, 0xff, 0xff, //    fraction lost 0, cumulative lost -1 (a duplicate)
  0x00, 0x00, 0xff, 0xff, //    extended highest seq 65535
  0x00, 0x00, 0x00, 0x00, //    jitter 0
  0x00, 0x00, 0x00, 0x00, //    LSR 0 (no SR yet)
  0x00, 0x00, 0x00, 0x00, //    DLSR 0
]);

const BYE = Buffer.from([
  0x82, 0xcb, 0x00, 0x04, //  V=2 SC=2, PT=203 BYE, length 4 (20 octets)
  0x00, 0x00, 0x00, 0x07, //  SSRC 7
  0x00, 0x00, 0x00, 0x08, //  SSRC 8
  0x05, 0x6c, 0x65, 0x66, //  reason: length 5, "lef"
  0x74, 0x21, 0x00, 0x00, //          "t!", padding
]);

const FIR = Buffer.from([
  0x84, 0xce, 0x00, 0x04, //  V=2 FMT=4 (FIR), PT=206 PSFB, length 4 (20 octets)
  0x00, 0x00, 0x00, 0x09, //  SSRC of packet sender
  0x00, 0x00, 0x00, 0x00, //  SSRC of media source: 0 (RFC 5104 §4.3.1.2)
  0x12, 0x34, 0x56, 0x78, //  FCI: SSRC of the stream to refresh
  0x07, 0x00, 0x00, 0x00, //       Seq nr 7, reserved
]);

const APP = Buffer.from([
  0x80, 0xcc, 0x00, 0x02, //  V=2 subtype 0, PT=204 APP, length 2
  0x00, 0x00, 0x00, 0x01, //  SSRC
  0x71, 0x74, 0x73, 0x74, //  name "qtst"
]);

test('SR + SDES compound: sender info, one report block, CNAME', () => {
  const r = parseRtcp(SR_SDES);
  assert.equal(r.error, undefined);
  assert.deepEqual(r.skipped, []);
  assert.equal(r.packets.length, 2);
  const [sr, sdes] = r.packets;
  assert.deepEqual(sr, {
    type: 'sr', ssrc: 0x11223344, ntpSeconds: 0xe1234567, ntpFraction: 0x80000000, rtpTimestamp: 4096,
    packetCount: 10, octetCount: 1600,
    reports: [{ ssrc: 0xaabbccdd, fractionLost: 64, cumulativeLost: 5, highestSeq: 0x1000a, jitter: 32, lastSr: 0x45678000, delaySinceLastSr: 0x10000 }],
  });
  assert.deepEqual(sdes, { type: 'sdes', chunks: [{ ssrc: 0x11223344, cname: 'a@host', items: [{ type: 1, value: 'a@host' }] }] });
});

test('a NACK followed by a PLI in one compound: each parser sees only its own packet (the werift bug)', () => {
  const split = splitCompound(NACK_PLI);
  assert.deepEqual(split.chunks.map((c) => [c.packetType, c.count, c.bytes.length]), [[205, 1, 16], [206, 1, 12]]);
  const r = parseRtcp(NACK_PLI);
  assert.deepEqual(r.packets, [
    { type: 'nack', senderSsrc: 1, mediaSsrc: 2, lost: [100, 101, 103] },
    { type: 'pli', senderSsrc: 1, mediaSsrc: 2 },
  ]);
});

test('RR with a negative cumulative loss (24-bit sign extension)', () => {
  const r = parseRtcp(RR);
  assert.deepEqual(r.packets, [
    { type: 'rr', ssrc: 0x55555555, reports: [{ ssrc: 0x66666666, fractionLost: 0, cumulativeLost: -1, highestSeq: 65535, jitter: 0, lastSr: 0, delaySinceLastSr: 0 }] },
  ]);
});

test('BYE with two sources and a reason; FIR with its sequence number', () => {
  assert.deepEqual(parseRtcp(BYE).packets, [{ type: 'bye', ssrcs: [7, 8], reason: 'left!' }]);
  assert.deepEqual(parseRtcp(FIR).packets, [{ type: 'fir', senderSsrc: 9, entries: [{ ssrc: 0x12345678, seqNr: 7 }] }]);
});

test('APP and unknown types are skipped without losing their neighbours', () => {
  const unknown = Buffer.from([0x80, 0xd0, 0x00, 0x01, 0, 0, 0, 0]); // PT 208
  const r = parseRtcp(Buffer.concat([RR, APP, unknown, BYE]));
  assert.deepEqual(r.packets.map((p) => p.type), ['rr', 'bye']);
  assert.deepEqual(r.skipped, ['app', 'unknown-208']);
});

test('framing faults keep what came before and report the fault', () => {
  // The PLI's length says 3 words but only 2 follow: the NACK before it survives.
  const cut = Buffer.from(NACK_PLI);
  cut[19] = 0x03;
  const r = parseRtcp(cut);
  assert.equal(r.error, 'bad-length');
  assert.deepEqual(r.packets.map((p) => p.type), ['nack']);
  assert.equal(parseRtcp(Buffer.from([0x81, 0xc9])).error, 'too-short');
  assert.equal(parseRtcp(Buffer.from([0x41, 0xc9, 0, 1, 0, 0, 0, 0])).error, 'bad-version');
  // A sub-packet whose content is too short for its type is skipped, not thrown on.
  const shortSr = Buffer.from([0x81, 0xc8, 0x00, 0x01, 0, 0, 0, 1]);
  assert.deepEqual(parseRtcp(shortSr).skipped, ['bad-sr']);
});

test('padding on the last packet is removed before parsing (§6.4.1 P bit)', () => {
  const padded = Buffer.from([
    0xa1, 0xce, 0x00, 0x03, //  V=2 P=1 FMT=1 PLI, length 3 (16 octets incl. 4 of padding)
    0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x04, //  padding, last octet = 4
  ]);
  const r = parseRtcp(padded);
  assert.deepEqual(r.packets, [{ type: 'pli', senderSsrc: 1, mediaSsrc: 2 }]);
});

test('writers round-trip: SR + SDES, RR, BYE, PLI, FIR, NACK', () => {
  const block = { ssrc: 3, fractionLost: 25, cumulativeLost: -2, highestSeq: 70000, jitter: 99, lastSr: 0x12345678, delaySinceLastSr: 655 };
  const sr = { ssrc: 1, ntpSeconds: 3900000000, ntpFraction: 123, rtpTimestamp: 42, packetCount: 7, octetCount: 1120, reports: [block] };
  const compound = Buffer.concat([writeSenderReport(sr), writeSdes([{ ssrc: 1, cname: 'sipmeet@127.0.0.1' }])]);
  assert.equal(compound.length % 4, 0);
  assert.equal(compound.subarray(0, 4).toString('hex'), '81c8000c');
  const r = parseRtcp(compound);
  assert.deepEqual(r.packets, [{ type: 'sr', ...sr }, { type: 'sdes', chunks: [{ ssrc: 1, cname: 'sipmeet@127.0.0.1', items: [{ type: 1, value: 'sipmeet@127.0.0.1' }] }] }]);
  assert.deepEqual(parseRtcp(writeReceiverReport({ ssrc: 5, reports: [] })).packets, [{ type: 'rr', ssrc: 5, reports: [] }]);
  assert.deepEqual(parseRtcp(writeBye([9], 'bye')).packets, [{ type: 'bye', ssrcs: [9], reason: 'bye' }]);
  assert.equal(writePli(1, 2).toString('hex'), '81ce0002' + '00000001' + '00000002');
  assert.equal(writeFir(9, [{ ssrc: 0x12345678, seqNr: 7 }]).toString('hex'), FIR.toString('hex'));
  // 100, 101, 103 share one PID/BLP pair; 120 is 20 past 100 → a second pair; 65535 → 0 wraps within a pair.
  const nack = writeNack(1, 2, [100, 101, 103, 120, 65535, 0]);
  assert.equal(nack.subarray(12).toString('hex'), '00640005' + '00780000' + 'ffff0001');
  assert.deepEqual(parseRtcp(nack).packets, [{ type: 'nack', senderSsrc: 1, mediaSsrc: 2, lost: [100, 101, 103, 120, 65535, 0] }]);
  assert.equal(writeNack(1, 2, [100, 101, 103]).toString('hex'), NACK_PLI.subarray(0, 16).toString('hex'));
});

test('RFC 5761 §4 demultiplexing: RTCP PTs 200–206 vs RTP PTs', () => {
  assert.equal(isRtcp(SR_SDES), true);
  assert.equal(isRtcp(NACK_PLI), true);
  assert.equal(isRtcp(Buffer.from([0x80, 0x00])), false); // PCMU
  assert.equal(isRtcp(Buffer.from([0x80, 0xe0])), false); // PT 96 with marker = 224
  assert.equal(isRtcp(Buffer.from([0x80, 0x7f])), false); // PT 127
});
