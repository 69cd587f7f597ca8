/**
 * RFC 3550 receiver statistics as Appendix A computes them (A.1 sequence validity and cycles, A.3 loss, A.8 jitter),
 * LSR/DLSR → round-trip time (§6.4.1), and the A.7 RTCP interval.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReceiverStats } from '../../media/rtcp/stats.ts';
import { ntpFromWallMs, ntpMiddle32, rttMs, NTP_UNIX_OFFSET_S } from '../../media/rtcp/ntp.ts';
import { rtcpInterval } from '../../media/rtcp/interval.ts';

test('A.1/A.3: 100 packets with 5 lost → cumulative lost 5, fraction lost 12/256, then 0 in the next interval', () => {
  const lost = new Set([1010, 1020, 1030, 1040, 1050]);
  const s = new ReceiverStats(1, 8000, 1000);
  for (let seq = 1000; seq < 1100; seq++) if (!lost.has(seq)) s.onPacket(seq, seq * 160, seq * 20);
  // Probation (MIN_SEQUENTIAL = 2) makes the second packet the base: expected = 1099 − 1001 + 1 = 99, received 94.
  const b = s.reportBlock(5000);
  assert.equal(b.cumulativeLost, 5);
  assert.equal(b.fractionLost, Math.floor((5 * 256) / 99));
  assert.equal(b.highestSeq, 1099);
  for (let seq = 1100; seq < 1150; seq++) s.onPacket(seq, seq * 160, seq * 20);
  const b2 = s.reportBlock(6000);
  assert.equal(b2.fractionLost, 0);
  assert.equal(b2.cumulativeLost, 5);
});

test('A.1: a sequence wrap adds a cycle to the extended highest sequence number', () => {
  const s = new ReceiverStats(1, 8000, 65530);
  for (let i = 0; i < 12; i++) s.onPacket((65530 + i) & 0xffff, i * 160, i * 20);
  assert.equal(s.reportBlock(0).highestSeq, 0x10000 + 5);
  assert.equal(s.cumulativeLost, 0);
});

test('A.1: duplicates make the loss negative; a huge jump needs two sequential packets to resync', () => {
  const s = new ReceiverStats(1, 8000, 10);
  for (let seq = 10; seq < 20; seq++) s.onPacket(seq, seq * 160, seq * 20);
  s.onPacket(19, 19 * 160, 400); // duplicate
  assert.equal(s.cumulativeLost, -1);
  s.onPacket(40000, 0, 420); // jump > MAX_DROPOUT: not counted
  assert.equal(s.reportBlock(420).highestSeq, 19);
  s.onPacket(40001, 160, 440); // second in a row: restart
  assert.equal(s.reportBlock(440).highestSeq, 40001);
});

test('A.8: one packet 10 ms late at 8 kHz → jitter 80/16 = 5, then 5 + (80 − 5)/16 units', () => {
  const s = new ReceiverStats(1, 8000, 0);
  for (let seq = 0; seq < 10; seq++) s.onPacket(seq, seq * 160, 1000 + seq * 20);
  assert.equal(s.jitterMs, 0);
  s.onPacket(10, 1600, 1000 + 200 + 10); // transit +80 units
  assert.equal(s.reportBlock(0).jitter, 5);
  s.onPacket(11, 1760, 1000 + 220); // transit back: |D| = 80
  assert.equal(s.reportBlock(0).jitter, Math.floor(5 + (80 - 5) / 16));
  assert.ok(Math.abs(s.jitterMs - (5 + 75 / 16) / 8) < 1e-9);
});

test('§6.4.1 LSR/DLSR: the middle 32 bits of the SR time, delay in 1/65536 s; RTT = A − LSR − DLSR', () => {
  const s = new ReceiverStats(1, 90000, 0);
  s.onPacket(0, 0, 0);
  s.onPacket(1, 3000, 33);
  const srTime = ntpFromWallMs(Date.UTC(2026, 0, 1, 12, 0, 0, 250));
  assert.equal(srTime.seconds, Date.UTC(2026, 0, 1, 12) / 1000 + NTP_UNIX_OFFSET_S);
  assert.equal(srTime.fraction, 0x40000000); // .25 s
  const lsr = ntpMiddle32(srTime);
  s.onSenderReport(lsr, 1000);
  const b = s.reportBlock(1500);
  assert.equal(b.lastSr, lsr);
  assert.equal(b.delaySinceLastSr, 32768); // 0.5 s
  // The sender gets the report 0.5 s + 100 ms of network after its SR.
  const arrival = ntpMiddle32(ntpFromWallMs(Date.UTC(2026, 0, 1, 12, 0, 0, 850)));
  assert.ok(Math.abs(rttMs(arrival, b.lastSr, b.delaySinceLastSr)! - 100) < 0.1);
  assert.equal(rttMs(arrival, 0, 0), undefined);
});

test('A.7 rtcp_interval: 5 s minimum (2.5 s initially), randomised over [0.5, 1.5] and divided by e − 3/2', () => {
  const base = { members: 2, senders: 1, rtcpBw: 400, weSent: true, avgRtcpSize: 100 };
  const mid = () => 0.5;
  assert.ok(Math.abs(rtcpInterval({ ...base, initial: false }, mid) - 5 / (Math.E - 1.5)) < 1e-9);
  assert.ok(Math.abs(rtcpInterval({ ...base, initial: true }, mid) - 2.5 / (Math.E - 1.5)) < 1e-9);
  assert.ok(Math.abs(rtcpInterval({ ...base, initial: false }, () => 0) - 2.5 / (Math.E - 1.5)) < 1e-9);
  // Low bandwidth: the bandwidth term wins over the minimum. 1 sender of 2 members is more than 25 %, so all
  // members share rtcp_bw: 100 octets × 2 / 10 octets/s = 20 s.
  const slow = rtcpInterval({ ...base, rtcpBw: 10, initial: false }, mid);
  assert.ok(Math.abs(slow - 20 / (Math.E - 1.5)) < 1e-9);
  // 1 sender among 8 members: senders get 25 % of rtcp_bw and n = senders → 100 × 1 / (10 × 0.25) = 40 s.
  const few = rtcpInterval({ ...base, members: 8, rtcpBw: 10, initial: false }, mid);
  assert.ok(Math.abs(few - 40 / (Math.E - 1.5)) < 1e-9);
  assert.ok(Math.abs(rtcpInterval({ ...base, initial: false, minTimeS: 1 }, mid) - 1 / (Math.E - 1.5)) < 1e-9);
});
