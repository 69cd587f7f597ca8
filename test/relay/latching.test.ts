/**
 * Symmetric RTP on real UDP sockets (RFC 4961 style latching): before any packet the relay sends to the SDP
 * address; the first valid packet's source is latched; other sources, bad headers and unknown payload types are
 * dropped and counted; a re-INVITE with a new address re-arms latching.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMediaRelay, type MediaRelay } from '../../media-relay/relay.ts';
import { silentLogger } from '../../registrar/log.ts';
import { PCMU, RtpPeer, remoteOf, rtp, sleep, testPortRange, until } from './helpers.ts';

const silence = new Uint8Array(160).fill(0xff);

async function relayWithAlice(): Promise<{ relay: MediaRelay; endpointId: string; port: number; sdp: RtpPeer; other: RtpPeer }> {
  const relay = await createMediaRelay({ host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(), audio: 'inline' });
  const alloc = await relay.allocateEndpoint({ meetingId: 'm1', participantId: 'alice', kind: 'audio', rtcpMux: true });
  const sdp = await RtpPeer.open();
  const other = await RtpPeer.open();
  await relay.setRemote(alloc.endpointId, remoteOf(sdp, [PCMU]));
  return { relay, endpointId: alloc.endpointId, port: alloc.rtpPort, sdp, other };
}

test('a packet from the SDP address latches it; a packet from another port is then dropped and counted', async () => {
  const { relay, endpointId, port, sdp, other } = await relayWithAlice();
  try {
    // Before any packet, the mix (silence) goes to the SDP address.
    await until(() => sdp.rtp().length > 0, 2000, 'RTP at the SDP address before latching');
    sdp.send(rtp(0, 1, 160, 0xa11ce, silence), port);
    await until(() => relay.endpointStats(endpointId)!.latchedTo !== undefined, 2000, 'latch');
    assert.deepEqual(relay.endpointStats(endpointId)!.latchedTo, { address: '127.0.0.1', port: sdp.port });
    other.send(rtp(0, 2, 320, 0xa11ce, silence), port);
    other.send(rtp(0, 3, 480, 0xa11ce, silence), port);
    await until(() => relay.endpointStats(endpointId)!.dropped['wrong-source'] === 2, 2000, 'two wrong-source drops');
    const s = relay.endpointStats(endpointId)!;
    assert.equal(s.packetsIn, 1);
    assert.equal(s.bytesIn, 172);
    assert.deepEqual(s.latchedTo, { address: '127.0.0.1', port: sdp.port });
    assert.equal(other.rtp().length, 0, 'nothing is ever sent to the other port');
  } finally {
    await relay.close();
    sdp.close();
    other.close();
  }
});

test('behind a NAT: the first packet comes from another port → latched there, and the relay sends there, not to the SDP address', async () => {
  const { relay, endpointId, port, sdp, other: nat } = await relayWithAlice();
  try {
    await until(() => sdp.rtp().length > 0, 2000, 'RTP at the SDP address');
    nat.send(rtp(0, 100, 16000, 0xbeef, silence), port);
    await until(() => nat.rtp().length >= 3, 2000, 'RTP at the latched NAT port');
    const sdpCount = sdp.rtp().length;
    await sleep(150);
    assert.equal(sdp.rtp().length, sdpCount, 'no more packets to the SDP address once latched');
    assert.deepEqual(relay.endpointStats(endpointId)!.latchedTo, { address: '127.0.0.1', port: nat.port });
    // The SDP address itself is now a foreign source.
    sdp.send(rtp(0, 101, 16160, 0xbeef, silence), port);
    await until(() => relay.endpointStats(endpointId)!.dropped['wrong-source'] === 1, 2000, 'SDP port dropped');
  } finally {
    await relay.close();
    sdp.close();
    nat.close();
  }
});

test('bad headers and payload types not negotiated are dropped by reason and never latch', async () => {
  const { relay, endpointId, port, sdp, other } = await relayWithAlice();
  try {
    other.send(Buffer.from([0x80, 0x00, 0x00]), port); // 3 octets
    other.send(Buffer.concat([Buffer.from([0x40]), rtp(0, 1, 0, 1, silence).subarray(1)]), port); // version 1
    other.send(rtp(8, 2, 160, 1, silence), port); // PCMA: not negotiated here
    other.send(rtp(96, 3, 320, 1, silence), port); // dynamic PT not negotiated
    await until(() => {
      const d = relay.endpointStats(endpointId)!.dropped;
      return d['bad-header'] === 2 && d['unknown-pt'] === 2;
    }, 2000, 'drops by reason');
    assert.equal(relay.endpointStats(endpointId)!.latchedTo, undefined);
    assert.equal(relay.endpointStats(endpointId)!.packetsIn, 0);
    // A good packet from the SDP address still latches afterwards.
    sdp.send(rtp(0, 4, 480, 1, silence), port);
    await until(() => relay.endpointStats(endpointId)!.latchedTo?.port === sdp.port, 2000, 'latch after bad packets');
  } finally {
    await relay.close();
    sdp.close();
    other.close();
  }
});

test('re-INVITE with a new address re-arms latching: media goes to the new SDP address, then to the new source', async () => {
  const { relay, endpointId, port, sdp, other } = await relayWithAlice();
  const moved = await RtpPeer.open();
  try {
    sdp.send(rtp(0, 1, 160, 7, silence), port);
    await until(() => relay.endpointStats(endpointId)!.latchedTo?.port === sdp.port, 2000, 'first latch');
    await relay.setRemote(endpointId, remoteOf(moved, [PCMU]));
    assert.equal(relay.endpointStats(endpointId)!.latchedTo, undefined, 'latch cleared by the new address');
    await until(() => moved.rtp().length > 0, 2000, 'RTP at the new SDP address');
    // The phone's new network path shows up as yet another port: that is where media goes from now on.
    other.send(rtp(0, 2, 320, 7, silence), port);
    await until(() => other.rtp().length >= 2, 2000, 'RTP at the re-latched source');
    assert.deepEqual(relay.endpointStats(endpointId)!.latchedTo, { address: '127.0.0.1', port: other.port });
    // The old source is now foreign.
    const before = relay.endpointStats(endpointId)!.dropped['wrong-source'] ?? 0;
    sdp.send(rtp(0, 3, 480, 7, silence), port);
    await until(() => (relay.endpointStats(endpointId)!.dropped['wrong-source'] ?? 0) === before + 1, 2000, 'old source dropped');
  } finally {
    await relay.close();
    sdp.close();
    other.close();
    moved.close();
  }
});

test('RTCP latches separately from RTP (a NAT may map the two differently)', async () => {
  const { relay, endpointId, port, sdp, other } = await relayWithAlice();
  try {
    sdp.send(rtp(0, 1, 160, 9, silence), port);
    await until(() => relay.endpointStats(endpointId)!.latchedTo !== undefined, 2000, 'RTP latch');
    // An RR from another port: first RTCP, so it latches RTCP there (rtcp-mux on the same relay port).
    const rr = Buffer.from([0x80, 0xc9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09]);
    other.send(rr, port);
    await until(() => relay.endpointStats(endpointId)!.rtcpIn === 1, 2000, 'RTCP accepted');
    await until(() => relay.endpointStats(endpointId)!.packetsOut > 0, 2000, 'the relay has sent RTP (so it reports as a sender)');
    relay.sendRtcpReport(endpointId);
    await until(() => other.rtcp().length > 0, 2000, 'our RTCP at the RTCP latch');
    assert.deepEqual(other.rtcp().map((p) => p.type), ['sr', 'sdes']);
    // RTCP from the RTP source is now foreign for RTCP.
    sdp.send(rr, port);
    await until(() => relay.endpointStats(endpointId)!.dropped['wrong-source'] === 1, 2000, 'RTCP from the RTP source dropped');
  } finally {
    await relay.close();
    sdp.close();
    other.close();
  }
});
