/**
 * The relay's UDP sockets (net/udp/socket.ts): the dgram fallback and, when the addon is built, the
 * native recvmmsg/sendmmsg socket — datagrams and their source delivered, sends reaching their destination (also
 * when a burst arrives in one batch and leaves from another socket, as forwarded video does), the "send then
 * close" packet going out, nothing delivered after close; the allocator's choice (native for audio and video on
 * IPv4, dgram on IPv6 or when switched off); and a video relay on the native path still latching, dropping and
 * counting foreign sources, and forwarding a burst intact to two receivers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMediaRelay } from '../../media-relay/relay.ts';
import { DgramSocket, MmsgSocket, ipv4ToUint, nativeUdpAvailable, type MediaSocket } from '../../net/udp/socket.ts';
import { PortAllocator } from '../../media-relay/ports.ts';
import { silentLogger } from '../../registrar/log.ts';
import { RtpPeer, VideoSender, remoteOf, rtp, sleep, tagOf, testPortRange, until, vp8 } from './helpers.ts';

const kinds: Array<[string, () => Promise<MediaSocket | undefined>]> = [
  ['dgram', () => DgramSocket.bind('127.0.0.1', 0, 1 << 20, () => {})],
  ...(nativeUdpAvailable ? [['native', async () => MmsgSocket.bind('127.0.0.1', 0, 1 << 20, () => {})] as [string, () => Promise<MediaSocket | undefined>]] : []),
];

test('ipv4ToUint parses dotted quads and rejects the rest', () => {
  assert.equal(ipv4ToUint('127.0.0.1'), 0x7f000001);
  assert.equal(ipv4ToUint('255.255.255.255'), 0xffffffff);
  assert.equal(ipv4ToUint('::1'), undefined);
  assert.equal(ipv4ToUint('1.2.3'), undefined);
  assert.equal(ipv4ToUint('1.2.3.256'), undefined);
  assert.equal(ipv4ToUint('example.org'), undefined);
});

for (const [name, open] of kinds) {
  test(`${name}: a datagram arrives with its source; a reply reaches the sender`, async () => {
    const s = (await open())!;
    const peer = await RtpPeer.open();
    try {
      const got: Array<{ data: string; address: string; port: number }> = [];
      s.onDatagram((buf, address, port) => {
        got.push({ data: buf.toString('latin1'), address, port });
        s.send(Buffer.from(`re:${buf.toString('latin1')}`), port, address);
      });
      peer.send(Buffer.from('hello'), s.port);
      await until(() => peer.received.length === 1, 2000, 'reply');
      assert.deepEqual(got, [{ data: 'hello', address: '127.0.0.1', port: peer.port }]);
      assert.equal(peer.received[0]!.buf.toString('latin1'), 're:hello');
      assert.equal(peer.received[0]!.from, s.port, 'sent from the port it receives on (symmetric RTP)');
    } finally {
      s.close();
      peer.close();
    }
  });

  test(`${name}: a burst received on one socket and re-sent from another arrives whole and in order`, async () => {
    const a = (await open())!;
    const b = (await open())!;
    const src = await RtpPeer.open();
    const dst = await RtpPeer.open();
    dst.socket.setRecvBufferSize(4 << 20); // the burst is all in flight before this process reads any of it
    try {
      // Rewrite in place before sending, as the video router does for the last receiver.
      a.onDatagram((buf) => {
        buf[0] = 0xee;
        b.send(buf, dst.port, '127.0.0.1');
      });
      const N = 300; // more than one native batch (64)
      for (let i = 0; i < N; i++) {
        const p = Buffer.alloc(200 + (i % 7), i & 0xff);
        p.writeUInt16BE(i, 1);
        src.send(p, a.port);
      }
      await until(() => dst.received.length === N, 3000, `${N} datagrams`);
      dst.received.forEach((d, i) => {
        assert.equal(d.buf.length, 200 + (i % 7));
        assert.equal(d.buf[0], 0xee);
        assert.equal(d.buf.readUInt16BE(1), i, 'in order');
        assert.equal(d.buf[d.buf.length - 1], i & 0xff, 'payload intact');
        assert.equal(d.from, b.port);
      });
    } finally {
      a.close();
      b.close();
      src.close();
      dst.close();
    }
  });

  test(`${name}: a datagram sent just before close goes out; nothing is delivered after close`, async () => {
    const s = (await open())!;
    const peer = await RtpPeer.open();
    try {
      let delivered = 0;
      s.onDatagram(() => delivered++);
      s.send(Buffer.from('last words'), peer.port, '127.0.0.1');
      s.close();
      await until(() => peer.received.length === 1, 2000, 'the last datagram');
      peer.send(Buffer.from('too late'), s.port);
      await sleep(100);
      assert.equal(delivered, 0);
      s.send(Buffer.from('after close'), peer.port, '127.0.0.1'); // ignored, never throws
      await sleep(50);
      assert.equal(peer.received.length, 1);
    } finally {
      peer.close();
    }
  });
}

test('the port allocator gives audio and video lines the native socket when it is built; IPv6 and SIPMEET_RELAY_UDP=dgram get dgram', async () => {
  const ports = new PortAllocator('127.0.0.1', testPortRange(20), silentLogger());
  const video = await ports.allocate(true, 'video');
  const audio = await ports.allocate(false, 'audio');
  try {
    assert.equal(video.rtp.borrowed, nativeUdpAvailable);
    assert.equal(audio.rtp.borrowed, nativeUdpAvailable);
    assert.equal(audio.rtcp!.borrowed, nativeUdpAvailable);
    assert.equal(audio.rtcp!.port, audio.rtpPort + 1);
    assert.equal(video.rtp.port, video.rtpPort);
  } finally {
    video.release();
    audio.release();
  }
  const v6 = await new PortAllocator('::1', testPortRange(20), silentLogger()).allocate(true, 'audio');
  try {
    assert.equal(v6.rtp.borrowed, false);
  } finally {
    v6.release();
  }
  const saved = process.env.SIPMEET_RELAY_UDP;
  process.env.SIPMEET_RELAY_UDP = 'dgram';
  try {
    const off = await new PortAllocator('127.0.0.1', testPortRange(20), silentLogger()).allocate(true, 'audio');
    assert.equal(off.rtp.borrowed, false);
    off.release();
  } finally {
    if (saved === undefined) delete process.env.SIPMEET_RELAY_UDP;
    else process.env.SIPMEET_RELAY_UDP = saved;
  }
});

test('video on the relay: latched publisher, a foreign source dropped and counted, a burst forwarded intact to two receivers', async () => {
  const relay = await createMediaRelay({ host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger() });
  const pubPeer = await RtpPeer.open();
  const intruder = await RtpPeer.open();
  const r1 = await RtpPeer.open();
  const r2 = await RtpPeer.open();
  try {
    const pub = await relay.allocateEndpoint({ meetingId: 'ms', participantId: 'pub', kind: 'video', rtcpMux: true });
    await relay.setRemote(pub.endpointId, remoteOf(pubPeer, [vp8(96)], { direction: 'sendonly' }));
    for (const [id, peer, pt] of [['r1', r1, 100], ['r2', r2, 101]] as const) {
      const a = await relay.allocateEndpoint({ meetingId: 'ms', participantId: id, kind: 'video', videoRole: { subscribeTo: 'pub' }, rtcpMux: true });
      await relay.setRemote(a.endpointId, remoteOf(peer, [vp8(pt)], { direction: 'recvonly' }));
    }
    const sender = new VideoSender(pubPeer, pub.rtpPort, 0x5eed);
    const seqs = [...sender.frame(true, 10)];
    for (let f = 0; f < 19; f++) seqs.push(...sender.frame(false, 10)); // 200 packets in one burst
    intruder.send(rtp(96, 5000, 1, 0x5eed, new Uint8Array(50)), pub.rtpPort);
    await until(() => r1.rtp().length === 200 && r2.rtp().length === 200, 3000, '200 packets at both receivers');
    await until(() => relay.endpointStats(pub.endpointId)!.dropped['wrong-source'] === 1, 2000, 'the intruder dropped');
    for (const [peer, pt] of [[r1, 100], [r2, 101]] as const) {
      const got = peer.rtp();
      assert.deepEqual(got.map((p) => tagOf(p.payload)), seqs, 'every packet, in order, payload intact');
      assert.ok(got.every((p) => p.payloadType === pt && p.ssrc !== 0x5eed), 'PT and SSRC rewritten per leg');
      for (let i = 1; i < got.length; i++) assert.equal(got[i]!.sequenceNumber, (got[i - 1]!.sequenceNumber + 1) & 0xffff);
    }
    const s = relay.endpointStats(pub.endpointId)!;
    assert.equal(s.packetsIn, 200);
    assert.deepEqual(s.latchedTo, { address: '127.0.0.1', port: pubPeer.port });
  } finally {
    await relay.close();
    for (const p of [pubPeer, intruder, r1, r2]) p.close();
  }
});
