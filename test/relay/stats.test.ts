/**
 * Per-endpoint statistics on real sockets, the relay on a manual clock: packets/bytes in and out, drops by reason,
 * RFC 3550 §6.4.1 loss and jitter of what the relay receives (and the RR it sends carrying them), LSR/DLSR, and the
 * round-trip time from the participant's report about the relay's stream.
 */
import { test } from 'node:test';
import { createSocket } from 'node:dgram';
import assert from 'node:assert/strict';
import { createMediaRelay } from '../../media-relay/relay.ts';
import { ntpFromWallMs, ntpMiddle32 } from '../../media/rtcp/ntp.ts';
import { parseRtcp } from '../../media/rtcp/packet.ts';
import { writeReceiverReport, writeSenderReport } from '../../media/rtcp/sender-report.ts';
import { ManualClock } from '../../registrar/sip/clock.ts';
import { silentLogger } from '../../registrar/log.ts';
import { PCMU, RtpPeer, remoteOf, rtp, testPortRange, until, vp8 } from './helpers.ts';

test('counters, drops by reason, loss/jitter in stats and in the relay\'s report block, LSR/DLSR, RTT', async () => {
  const clock = new ManualClock(1000);
  // RTCP interval minimum 60 s: the only report in this test is the one it asks for (fraction lost is per interval).
  const relay = await createMediaRelay({
    host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(), clock, audio: 'inline', rtcpMinIntervalS: 60,
  });
  const peer = await RtpPeer.open();
  try {
    const alloc = await relay.allocateEndpoint({ meetingId: 'stats', participantId: 'alice', kind: 'audio', rtcpMux: true });
    const id = alloc.endpointId;
    await relay.setRemote(id, remoteOf(peer, [PCMU]));
    const ssrc = 0x5eed;
    const lost = new Set([10, 20, 30, 40, 60]);
    const payload = new Uint8Array(160).fill(0xff);
    let received = 0;
    for (let seq = 0; seq < 100; seq++) {
      // Packet 50 arrives 10 ms late (80 timestamp units at 8 kHz); everything else on time.
      if (seq === 50) clock.advance(10);
      if (!lost.has(seq)) {
        peer.send(rtp(0, seq, seq * 160, ssrc, payload), alloc.rtpPort);
        received++;
        await until(() => relay.endpointStats(id)!.packetsIn === received, 2000, `packet ${seq}`);
      }
      clock.advance(seq === 50 ? 10 : 20); // the mixer ticks: one frame out to alice per 20 ms
    }
    peer.send(Buffer.from([0x80, 0x00]), alloc.rtpPort); // too short
    peer.send(rtp(8, 100, 16000, ssrc, payload), alloc.rtpPort); // PCMA: not negotiated
    await until(() => Object.values(relay.endpointStats(id)!.dropped).reduce((a, b) => a + b, 0) === 2, 2000, 'drops');

    const s = relay.endpointStats(id)!;
    assert.equal(s.packetsIn, 95);
    assert.equal(s.bytesIn, 95 * 172);
    assert.deepEqual(s.dropped, { 'bad-header': 1, 'unknown-pt': 1 });
    assert.equal(s.packetsLost, 5);
    // A.8 by hand: 0 until packet 50; |D| = 80 for packets 50 and 51 (J = 5, then 5 + 75/16); then ×15/16 per packet.
    let j = 0;
    j += (80 - j) / 16;
    j += (80 - j) / 16;
    for (let seq = 52; seq < 100; seq++) if (!lost.has(seq)) j += (0 - j) / 16;
    assert.ok(Math.abs(s.jitterMs - j / 8) < 1e-9, `jitter ${s.jitterMs} ms, expected ${j / 8}`);
    await until(() => (relay.endpointStats(id)!.packetsOut) >= 90, 2000, 'mixed frames out');
    assert.equal(relay.endpointStats(id)!.bytesOut, relay.endpointStats(id)!.packetsOut * 172);

    // Alice sends an SR; 500 ms later the relay reports: its SR (it sends the mix) with a block about alice.
    const aliceSrTime = ntpFromWallMs(clock.wallNow());
    peer.send(writeSenderReport({ ssrc, ntpSeconds: aliceSrTime.seconds, ntpFraction: aliceSrTime.fraction, rtpTimestamp: 16000, packetCount: 95, octetCount: 95 * 160, reports: [] }), alloc.rtpPort);
    await until(() => relay.endpointStats(id)!.rtcpIn === 1, 2000, 'SR in');
    clock.advance(500);
    peer.clear();
    relay.sendRtcpReport(id);
    await until(() => peer.rtcp().length >= 2, 2000, 'relay report');
    const [sr, sdes] = peer.rtcp();
    assert.equal(sr!.type, 'sr');
    assert.equal(sdes!.type, 'sdes');
    if (sr!.type !== 'sr') return;
    assert.equal(sr.ssrc, s.localSsrc);
    assert.equal(sr.packetCount, relay.endpointStats(id)!.packetsOut);
    assert.equal(sr.octetCount, relay.endpointStats(id)!.packetsOut * 160, 'SR octet count is payload octets (§6.4.1)');
    const block = sr.reports.find((b) => b.ssrc === ssrc)!;
    assert.equal(block.cumulativeLost, 5);
    assert.equal(block.fractionLost, Math.floor((5 * 256) / 99)); // expected 99 after A.1 probation
    assert.equal(block.highestSeq, 99);
    assert.equal(block.jitter, Math.floor(j));
    assert.equal(block.lastSr, ntpMiddle32(aliceSrTime));
    assert.equal(block.delaySinceLastSr, 32768, 'DLSR = 0.5 s in 1/65536 s');

    // Alice's RR about the relay's stream: LSR = the relay's SR, DLSR 250 ms, arriving 350 ms after that SR → RTT 100 ms.
    clock.advance(350);
    const relaySrMiddle = ntpMiddle32({ seconds: sr.ntpSeconds, fraction: sr.ntpFraction });
    peer.send(writeReceiverReport({ ssrc, reports: [{ ssrc: s.localSsrc, fractionLost: 3, cumulativeLost: 7, highestSeq: 1234, jitter: 42, lastSr: relaySrMiddle, delaySinceLastSr: 16384 }] }), alloc.rtpPort);
    await until(() => relay.endpointStats(id)!.rttMs !== undefined, 2000, 'RTT');
    const after = relay.endpointStats(id)!;
    assert.ok(Math.abs(after.rttMs! - 100) < 0.1, `rtt ${after.rttMs}`);
    assert.deepEqual(after.remoteReception, { fractionLost: 3, cumulativeLost: 7, jitter: 42 });

    const meeting = await relay.stats('stats');
    assert.equal(meeting.packetsIn, 95);
    assert.equal(meeting.packetsOut, after.packetsOut);
    assert.equal(meeting.streams.length, 1);
    assert.equal(meeting.streams[0]!.codec, 'pcmu');
    assert.deepEqual(meeting.streams[0]!.latchedTo, { address: '127.0.0.1', port: peer.port });
    assert.ok(meeting.streams[0]!.lastPacketAt! > Date.UTC(2026, 0, 1));
  } finally {
    await relay.close();
    peer.close();
  }
});

test('release and close: ports come back, commands on a closed relay reject, close is idempotent', async () => {
  const range = testPortRange(8); // 4 pairs
  const relay = await createMediaRelay({ host: '127.0.0.1', advertise: '127.0.0.1', portRange: range, logger: silentLogger() });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await relay.allocateEndpoint({ meetingId: 'm', participantId: `p${i}`, kind: 'video', rtcpMux: false })).endpointId);
  await assert.rejects(relay.allocateEndpoint({ meetingId: 'm', participantId: 'p5', kind: 'video', rtcpMux: false }), { name: 'RelayError', code: 'no-ports' });
  await relay.releaseEndpoint(ids[0]!);
  await relay.releaseEndpoint(ids[0]!); // twice is fine
  const again = await relay.allocateEndpoint({ meetingId: 'other', participantId: 'x', kind: 'audio', rtcpMux: true });
  assert.ok(again.rtpPort >= range.min && again.rtpPort <= range.max && again.rtpPort % 2 === 0);
  await assert.rejects(relay.setRemote('ep-nope', { address: '127.0.0.1', rtpPort: 1, rtcpPort: 2, rtcpMux: false, codecs: [PCMU], direction: 'sendrecv' }), { code: 'unknown-endpoint' });
  await assert.rejects(relay.setRemote(again.endpointId, { address: '127.0.0.1', rtpPort: 1, rtcpPort: 2, rtcpMux: false, codecs: [], direction: 'sendrecv' }), { code: 'bad-request' });
  await assert.rejects(
    relay.setRemote(again.endpointId, { address: '127.0.0.1', rtpPort: 1, rtcpPort: 2, rtcpMux: false, codecs: [{ payloadType: 97, name: 'speex', clockRate: 8000 }], direction: 'sendrecv' }),
    { code: 'unsupported-codec' },
  );
  await relay.releaseMeeting('m');
  assert.equal(relay.totals().endpoints, 1);
  assert.equal(relay.totals().portsInUse, 1);
  await relay.close();
  await relay.close();
  assert.equal(relay.totals().portsInUse, 0);
  await assert.rejects(relay.allocateEndpoint({ meetingId: 'm', participantId: 'p', kind: 'audio', rtcpMux: true }), { code: 'closed' });
  await assert.rejects(relay.stats('m'), { code: 'closed' });
});

test('a port pair taken by another process is skipped', async () => {
  const range = testPortRange(4); // 2 pairs
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(range.min + 1, '127.0.0.1', () => resolve()); // the first pair's RTCP port
  });
  const relay = await createMediaRelay({ host: '127.0.0.1', advertise: '127.0.0.1', portRange: range, logger: silentLogger() });
  try {
    const a = await relay.allocateEndpoint({ meetingId: 'm', participantId: 'a', kind: 'audio', rtcpMux: false });
    assert.deepEqual([a.rtpPort, a.rtcpPort], [range.min + 2, range.min + 3]);
    await assert.rejects(relay.allocateEndpoint({ meetingId: 'm', participantId: 'b', kind: 'audio', rtcpMux: false }), { code: 'no-ports' });
  } finally {
    await relay.close();
    s.close();
  }
});

test('RTCP on its own: compound reports (RR/SR first, then SDES CNAME) on the RFC 3550 §6.3 schedule', async () => {
  const clock = new ManualClock(0);
  const relay = await createMediaRelay({
    host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(), clock,
    audioDriver: () => ({ addLeg() {}, updateLeg() {}, removeLeg() {}, push() {}, close() {} }),
  });
  const peer = await RtpPeer.open();
  try {
    const alloc = await relay.allocateEndpoint({ meetingId: 'rtcp', participantId: 'a', kind: 'video', rtcpMux: false });
    await relay.setRemote(alloc.endpointId, { ...remoteOf(peer, [vp8(96)]), rtcpMux: false });
    // First report within the initial interval: at most 1.5 × 2.5 s / (e − 3/2) ≈ 3.1 s.
    clock.advance(3100);
    await until(() => peer.received.length === 1, 2000, 'first report');
    // Then one per interval of 0.5–1.5 × 5 s / 1.218 ≈ 2.05–6.2 s: 60 s gives 9 to 30 more.
    for (let t = 0; t < 60; t++) clock.advance(1000);
    await until(() => peer.received.length >= 10, 2000, 'regular reports');
    const n = peer.received.length;
    assert.ok(n >= 10 && n <= 31, `${n} reports in 63 s`);
    const ssrc = relay.endpointStats(alloc.endpointId)!.localSsrc;
    for (const d of peer.received) {
      const types = parseRtcp(d.buf).packets.map((p) => p.type);
      assert.deepEqual(types, ['rr', 'sdes'], 'nothing sent: RR, then SDES');
    }
    assert.ok(peer.received.every((d) => d.from === alloc.rtcpPort), 'from the RTCP port (no rtcp-mux)');
    const sdes = parseRtcp(peer.received[0]!.buf).packets[1]!;
    assert.ok(sdes.type === 'sdes' && sdes.chunks[0]!.ssrc === ssrc && /^sipmeet-[0-9a-f]{12}@127\.0\.0\.1$/.test(sdes.chunks[0]!.cname!));
  } finally {
    await relay.close();
    peer.close();
  }
});
