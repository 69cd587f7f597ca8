/**
 * Untrusted packets never throw: seeded random and mutated RTP/RTCP through the parsers, and through a live relay
 * endpoint (which must keep forwarding good packets afterwards and count every bad one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRtp } from '../../media/rtp/packet.ts';
import { parseRtcp } from '../../media/rtcp/packet.ts';
import { readAudioLevel } from '../../media/rtp/audio-level.ts';
import { vp8IsKeyframeStart } from '../../media/video/vp8.ts';
import { h264IsKeyframeStart } from '../../media/video/h264.ts';
import { createMediaRelay } from '../../media-relay/relay.ts';
import { silentLogger } from '../../registrar/log.ts';
import { RtpPeer, VideoSender, remoteOf, testPortRange, until, vp8 } from './helpers.ts';

/** xorshift32: the same "random" inputs on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const SR_SDES = Buffer.from('81c8000c11223344e123456780000000000010000000000a00000640aabbccdd40000005' +
  '0001000a000000204567800000010000' + '81ca000411223344010661406' + '86f737400000000', 'hex');

function hostile(r: () => number, base?: Buffer): Buffer {
  if (base && r() % 2 === 0) {
    const b = Buffer.from(base.subarray(0, r() % (base.length + 1)));
    for (let i = r() % 6; i > 0 && b.length; i--) b[r() % b.length] = r() & 0xff;
    return b;
  }
  const b = Buffer.alloc(r() % 80);
  for (let i = 0; i < b.length; i++) b[i] = r() & 0xff;
  if (b.length && r() % 2) b[0] = 0x80 | (b[0]! & 0x3f); // version 2 more often than chance
  return b;
}

test('parsers return results for 20,000 random and mutated inputs, never throw', () => {
  const r = rng(0x5eed);
  const rtpBase = Buffer.from('b2e0ffffffffffff000000011111111122222222bede000110aa000001020000 03'.replace(/ /g, ''), 'hex');
  // The same packet with its extension in the RFC 8285 §4.3 two-byte form (id 1, length 1, level 127).
  const rtpBase2 = Buffer.from('b2e0ffffffffffff00000001111111112222222210000001 01017f00 01020000 03'.replace(/ /g, ''), 'hex');
  for (let i = 0; i < 20_000; i++) {
    const rtpIn = hostile(r, i % 2 ? rtpBase2 : rtpBase);
    const pr = parseRtp(rtpIn);
    if (pr.ok) {
      assert.ok(pr.packet.payloadOffset + pr.packet.payloadLength + pr.packet.paddingLength <= rtpIn.length);
      vp8IsKeyframeStart(rtpIn, pr.packet.payloadOffset, pr.packet.payloadLength);
      h264IsKeyframeStart(rtpIn, pr.packet.payloadOffset, pr.packet.payloadLength);
      void pr.packet.csrcs;
      void pr.packet.extensionData;
      // RFC 8285 elements / RFC 6464 level (the base packet carries one under id 1): a result or undefined.
      for (const id of [1, 2, 14, 200]) {
        const level = readAudioLevel(pr.packet.extensionProfile, pr.packet.extensionData, id);
        assert.ok(level === undefined || (Number.isInteger(level) && level >= 0 && level <= 127));
      }
    }
    const rtcpIn = hostile(r, SR_SDES);
    const c = parseRtcp(rtcpIn);
    assert.ok(Array.isArray(c.packets));
  }
});

test('a live endpoint takes 1,000 hostile datagrams, counts them, and still forwards good video after', async () => {
  const relay = await createMediaRelay({
    host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(),
    audioDriver: () => ({ addLeg() {}, updateLeg() {}, removeLeg() {}, push() {}, close() {} }),
  });
  const pubPeer = await RtpPeer.open();
  const subPeer = await RtpPeer.open();
  try {
    const pub = await relay.allocateEndpoint({ meetingId: 'f', participantId: 'A', kind: 'video', rtcpMux: true });
    const sub = await relay.allocateEndpoint({ meetingId: 'f', participantId: 'B', kind: 'video', videoRole: { subscribeTo: 'A' }, rtcpMux: true });
    await relay.setRemote(pub.endpointId, remoteOf(pubPeer, [vp8(96)]));
    await relay.setRemote(sub.endpointId, remoteOf(subPeer, [vp8(96)], { direction: 'recvonly' }));
    const cam = new VideoSender(pubPeer, pub.rtpPort, 0xf00d, 96);
    cam.frame(true);
    await until(() => subPeer.rtp().length === 3, 2000, 'first frame');
    const r = rng(42);
    const accounted = () => {
      const s = relay.endpointStats(pub.endpointId)!;
      return s.packetsIn + s.rtcpIn + Object.values(s.dropped).reduce((a, b) => a + b, 0);
    };
    // From the latched publisher socket (so the bytes reach the parsers): random and mutated RTP, mutated RTCP.
    const good = Buffer.from(subPeer.rtp()[0]!.buffer);
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 100; i++) pubPeer.send(hostile(r, i % 2 ? SR_SDES : good), pub.rtpPort);
      await until(() => accounted() === 3 + (batch + 1) * 100, 2000, 'every datagram accepted or counted');
    }
    // …and to the subscriber's port from a stranger.
    for (let i = 0; i < 200; i++) pubPeer.send(hostile(r), sub.rtpPort);
    cam.frame(true);
    await until(() => subPeer.rtp().filter((p) => p.ssrc === relay.endpointStats(sub.endpointId)!.localSsrc).length >= 6, 3000, 'video after the storm');
    const s = relay.endpointStats(pub.endpointId)!;
    const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
    assert.ok(dropped > 100, `hostile datagrams counted as drops: ${JSON.stringify(s.dropped)}`);
    assert.ok(Object.keys(s.dropped).every((k) => ['bad-header', 'unknown-pt', 'bad-rtcp', 'not-forwardable'].includes(k)), JSON.stringify(s.dropped));
    const strangerDrops = () => Object.values(relay.endpointStats(sub.endpointId)!.dropped).reduce((a, b) => a + b, 0);
    await until(() => strangerDrops() === 200, 2000, 'all 200 stranger datagrams counted at B');
    assert.equal(relay.endpointStats(sub.endpointId)!.packetsIn, 0);
  } finally {
    await relay.close();
    pubPeer.close();
    subPeer.close();
  }
});
