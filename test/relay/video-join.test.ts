/**
 * Video join on the real clock (no ManualClock): a camera sending VP8 at 30 frames/s that answers a PLI with a
 * keyframe on its next frame, like a phone does; two receivers join 300 ms apart. Each must get a keyframe within
 * 1 s of joining (the keyframe request is throttled to 1 per second per publisher, so the second receiver depends on
 * the repeat), nothing before it, and every frame after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMediaRelay } from '../../media-relay/relay.ts';
import { silentLogger } from '../../registrar/log.ts';
import { RtpPeer, VideoSender, remoteOf, sleep, tagOf, testPortRange, vp8 } from './helpers.ts';

const isKeyStart = (payload: Uint8Array) => (payload[0]! & 0x10) !== 0 && (payload[1]! & 0x01) === 0;

test('video from one publisher reaches two receivers, each with a keyframe within 1 s of joining', async () => {
  const relay = await createMediaRelay({ host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(), audio: 'inline' });
  const peers: RtpPeer[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    const pub = await relay.allocateEndpoint({ meetingId: 'vj', participantId: 'A', kind: 'video', videoRole: 'main', rtcpMux: true });
    const camPeer = await RtpPeer.open();
    peers.push(camPeer);
    await relay.setRemote(pub.endpointId, remoteOf(camPeer, [vp8(96, ['nack', 'nack pli', 'ccm fir'])], { direction: 'sendrecv' }));
    const cam = new VideoSender(camPeer, pub.rtpPort, 0xcafe0001, 96);
    // The camera: a frame every 33 ms, a keyframe when a PLI has come in since the last one (and at the start).
    let answered = 0;
    const sent: number[] = [];
    const tick = () => {
      const plis = camPeer.rtcp().filter((p) => p.type === 'pli').length;
      const key = sent.length === 0 || plis > answered;
      answered = plis;
      sent.push(...cam.frame(key));
      timer = setTimeout(tick, 33);
    };
    tick();
    await sleep(300); // the publisher is live and its first keyframe is long gone when anyone joins

    const join = async (id: string, pt: number) => {
      const alloc = await relay.allocateEndpoint({ meetingId: 'vj', participantId: id, kind: 'video', videoRole: { subscribeTo: 'A' }, rtcpMux: true });
      const peer = await RtpPeer.open();
      peers.push(peer);
      const at = performance.now();
      await relay.setRemote(alloc.endpointId, remoteOf(peer, [vp8(pt)], { direction: 'recvonly' }));
      return { peer, at };
    };
    const b = await join('B', 100);
    await sleep(300);
    const c = await join('C', 101);
    await sleep(c.at + 1500 - performance.now()); // until 1.5 s after the second join
    clearTimeout(timer);

    for (const [name, r, pt] of [['B', b, 100], ['C', c, 101]] as const) {
      const got = r.peer.rtp();
      assert.ok(got.length > 0, `${name} receives video`);
      const first = r.peer.received.find((d) => !(d.buf[1]! >= 200 && d.buf[1]! <= 206))!;
      assert.ok(isKeyStart(got[0]!.payload), `${name}'s first packet is a keyframe start (nothing undecodable before it)`);
      const waited = first.at - r.at;
      assert.ok(waited <= 1000, `${name} got its keyframe ${waited.toFixed(0)} ms after joining (≤ 1000)`);
      assert.ok(got.every((p) => p.payloadType === pt), `${name}'s own payload type`);
      for (let i = 1; i < got.length; i++) {
        assert.equal(got[i]!.sequenceNumber, (got[i - 1]!.sequenceNumber + 1) & 0xffff, `${name}: continuous sequence at ${i}`);
      }
      // From its keyframe on it gets every packet the camera sent (the tags are the source sequence numbers).
      const tags = got.map((p) => tagOf(p.payload));
      const from = sent.indexOf(tags[0]!);
      assert.deepEqual(tags, sent.slice(from, from + tags.length), `${name} gets every packet after its keyframe`);
    }
    const plis = camPeer.rtcp().filter((p) => p.type === 'pli').length;
    assert.ok(plis >= 1 && plis <= 3, `PLIs to the camera are throttled (${plis} in ~2 s)`);
  } finally {
    clearTimeout(timer);
    await relay.close();
    for (const p of peers) p.close();
  }
});
