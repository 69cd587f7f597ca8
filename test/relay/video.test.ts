/**
 * Video forwarding on real UDP sockets, with the relay on a manual clock so throttles are exact:
 * publisher → subscriber with the subscriber's PT and the relay's SSRC, PLI on join (throttled to 1/s, repeated
 * until a keyframe), NACK answered from the cache, FIR when only 'ccm fir' was negotiated, camera off/on, and a
 * phone's single video line following the active speaker with a continuous sequence, switching at a keyframe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMediaRelay, type MediaRelay } from '../../media-relay/relay.ts';
import type { AudioDriverEvents } from '../../media-relay/audio-link/driver.ts';
import { writeNack, writePli } from '../../media/rtcp/feedback.ts';
import { ManualClock } from '../../registrar/sip/clock.ts';
import { silentLogger } from '../../registrar/log.ts';
import { RtpPeer, VideoSender, remoteOf, rtp, sleep, tagOf, testPortRange, until, vp8 } from './helpers.ts';
import { writeSenderReport } from '../../media/rtcp/sender-report.ts';

interface Rig {
  relay: MediaRelay;
  clock: ManualClock;
  peers: RtpPeer[];
  speaker(p: string | undefined): void;
  join(participantId: string, role: 'main' | { subscribeTo: string }, pt: number, rtcpFb?: string[]): Promise<{ id: string; port: number; peer: RtpPeer }>;
  close(): Promise<void>;
}

async function rig(): Promise<Rig> {
  const clock = new ManualClock(1000);
  const events: AudioDriverEvents[] = [];
  const relay = await createMediaRelay({
    host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(), clock,
    // Audio is not under test: a driver whose only job is to report the active speaker when told.
    audioDriver: (_id, ev) => {
      events.push(ev);
      return { addLeg() {}, updateLeg() {}, removeLeg() {}, push() {}, close() {} };
    },
  });
  const peers: RtpPeer[] = [];
  return {
    relay,
    clock,
    peers,
    speaker: (p) => events.forEach((e) => e.activeSpeaker(p)),
    async join(participantId, role, pt, rtcpFb) {
      const alloc = await relay.allocateEndpoint({ meetingId: 'v', participantId, kind: 'video', videoRole: role, rtcpMux: true });
      const peer = await RtpPeer.open();
      peers.push(peer);
      await relay.setRemote(alloc.endpointId, remoteOf(peer, [vp8(pt, rtcpFb)], { direction: role === 'main' ? 'sendrecv' : 'recvonly' }));
      return { id: alloc.endpointId, port: alloc.rtpPort, peer };
    },
    async close() {
      await relay.close();
      for (const p of peers) p.close();
    },
  };
}

const plis = (peer: RtpPeer) => peer.rtcp().filter((p) => p.type === 'pli');

test('subscriber gets the publisher\'s VP8 from a keyframe on, with its own PT and the relay\'s SSRC; PLI on join', async () => {
  const r = await rig();
  try {
    const a = await r.join('A', 'main', 96);
    const cam = new VideoSender(a.peer, a.port, 0xaaaa0001, 96);
    cam.frame(false); // A is live (its SSRC is known) before anyone watches
    await until(() => r.relay.endpointStats(a.id)!.packetsIn === 3, 2000, 'A heard');
    assert.equal(plis(a.peer).length, 0, 'nobody watches yet: no PLI');

    const b = await r.join('B', { subscribeTo: 'A' }, 100);
    await until(() => plis(a.peer).length === 1, 2000, 'PLI to A when B joins');
    const pli = plis(a.peer)[0]!;
    assert.equal(pli.type === 'pli' && pli.mediaSsrc, 0xaaaa0001);
    assert.equal(pli.type === 'pli' && pli.senderSsrc, r.relay.endpointStats(a.id)!.localSsrc);

    cam.frame(false); // a delta frame: B cannot decode it yet, so it is held back
    const keySeqs = cam.frame(true);
    const nextSeqs = cam.frame(false);
    await until(() => b.peer.rtp().length === 6, 2000, 'keyframe and next frame at B');
    const got = b.peer.rtp();
    const bSsrc = r.relay.endpointStats(b.id)!.localSsrc;
    assert.deepEqual(got.map((p) => tagOf(p.payload)), [...keySeqs, ...nextSeqs], 'starts at the keyframe, nothing before');
    assert.ok(got.every((p) => p.payloadType === 100 && p.ssrc === bSsrc), 'B\'s PT and the relay\'s SSRC');
    for (let i = 1; i < got.length; i++) assert.equal(got[i]!.sequenceNumber, (got[i - 1]!.sequenceNumber + 1) & 0xffff);
    assert.equal(got[2]!.marker, true, 'marker (end of frame) kept');
    assert.equal(got[3]!.timestamp - got[0]!.timestamp, 3000, 'timestamps keep their spacing');
    assert.equal(a.peer.rtp().length, 0, 'A is not sent its own video');
  } finally {
    await r.close();
  }
});

test('a second receiver within 1 s does not trigger a second PLI; one follows after 1 s without a keyframe', async () => {
  const r = await rig();
  try {
    const a = await r.join('A', 'main', 96);
    const cam = new VideoSender(a.peer, a.port, 0xaaaa0002, 96);
    cam.frame(false);
    await until(() => r.relay.endpointStats(a.id)!.packetsIn === 3, 2000, 'A heard');
    const b = await r.join('B', { subscribeTo: 'A' }, 96);
    await until(() => plis(a.peer).length === 1, 2000, 'first PLI');
    r.clock.advance(400);
    const c = await r.join('C', { subscribeTo: 'A' }, 97);
    r.clock.advance(500); // t = 900 ms after the first PLI
    await sleep(100);
    assert.equal(plis(a.peer).length, 1, 'throttled: C\'s join within 1 s sends nothing');
    r.clock.advance(100); // t = 1000 ms, still no keyframe → repeat
    await until(() => plis(a.peer).length === 2, 2000, 'repeated PLI after 1 s');
    cam.frame(true);
    await until(() => b.peer.rtp().length === 3 && c.peer.rtp().length === 3, 2000, 'keyframe reaches both receivers');
    assert.ok(c.peer.rtp().every((p) => p.payloadType === 97));
    r.clock.advance(5000);
    await sleep(50);
    assert.equal(plis(a.peer).length, 2, 'no more PLIs once the keyframe came');
    assert.equal(r.relay.videoStats('v')!.publishers.find((p) => p.participantId === 'A')!.pliSent, 2);
  } finally {
    await r.close();
  }
});

test('a receiver\'s NACK is answered from the cache with the packet exactly as first sent; its PLI goes upstream', async () => {
  const r = await rig();
  try {
    const a = await r.join('A', 'main', 96);
    const cam = new VideoSender(a.peer, a.port, 0xaaaa0003, 96);
    cam.frame(false);
    await until(() => r.relay.endpointStats(a.id)!.packetsIn === 3, 2000, 'A heard');
    const b = await r.join('B', { subscribeTo: 'A' }, 100);
    cam.frame(true);
    cam.frame(false);
    await until(() => b.peer.rtp().length === 6, 2000, 'B receives');
    const sent = b.peer.rtp();
    const bSsrc = r.relay.endpointStats(b.id)!.localSsrc;
    // B lost its 2nd and 5th packet.
    const lost = [sent[1]!.sequenceNumber, sent[4]!.sequenceNumber];
    b.peer.clear();
    b.peer.send(writeNack(0x0b0b, bSsrc, lost), b.port);
    await until(() => b.peer.rtp().length === 2, 2000, 'retransmissions');
    const re = b.peer.rtp();
    assert.deepEqual(re.map((p) => p.sequenceNumber), lost);
    assert.deepEqual(re.map((p) => Buffer.from(p.buffer).toString('hex')), [sent[1]!, sent[4]!].map((p) => Buffer.from(p.buffer).toString('hex')));
    assert.equal(r.relay.videoStats('v')!.publishers[0]!.nackHits, 2);
    assert.equal(a.peer.rtcp().filter((p) => p.type === 'nack').length, 0, 'served from the cache, not asked upstream');

    // A NACK for a packet the relay never got (lost upstream) goes to the publisher with the source number.
    const gap = cam.seq; // the relay will never see this one
    cam.seq++;
    cam.frame(false);
    await until(() => b.peer.rtp().length === 5, 2000, 'next frame');
    const afterGap = b.peer.rtp()[2]!.sequenceNumber;
    b.peer.send(writeNack(0x0b0b, bSsrc, [(afterGap - 1) & 0xffff]), b.port);
    await until(() => a.peer.rtcp().some((p) => p.type === 'nack'), 2000, 'NACK forwarded upstream');
    const up = a.peer.rtcp().find((p) => p.type === 'nack')!;
    assert.deepEqual(up.type === 'nack' && [up.mediaSsrc, up.lost], [0xaaaa0003, [gap & 0xffff]]);

    // B's PLI (about the relay's SSRC on its leg) becomes a PLI to A; throttled like the others.
    r.clock.advance(2000);
    const before = plis(a.peer).length;
    b.peer.send(writePli(0x0b0b, bSsrc), b.port);
    await until(() => plis(a.peer).length === before + 1, 2000, 'PLI forwarded upstream');
    b.peer.send(writePli(0x0b0b, 0x12345678), b.port); // about some other SSRC: ignored
    await sleep(100);
    assert.equal(plis(a.peer).length, before + 1);
  } finally {
    await r.close();
  }
});

test('FIR (RFC 5104) instead of PLI when the publisher negotiated only ccm fir; repeats keep the FIR sequence number', async () => {
  const r = await rig();
  try {
    const a = await r.join('A', 'main', 96, ['ccm fir']);
    const cam = new VideoSender(a.peer, a.port, 0xaaaa0004, 96);
    cam.frame(false);
    await until(() => r.relay.endpointStats(a.id)!.packetsIn === 3, 2000, 'A heard');
    await r.join('B', { subscribeTo: 'A' }, 96);
    await until(() => a.peer.rtcp().some((p) => p.type === 'fir'), 2000, 'FIR');
    r.clock.advance(1000);
    await until(() => a.peer.rtcp().filter((p) => p.type === 'fir').length === 2, 2000, 'repeated FIR');
    const firs = a.peer.rtcp().filter((p) => p.type === 'fir');
    assert.deepEqual(firs.map((f) => f.type === 'fir' && f.entries), [[{ ssrc: 0xaaaa0004, seqNr: 1 }], [{ ssrc: 0xaaaa0004, seqNr: 1 }]]);
    assert.equal(plis(a.peer).length, 0);
  } finally {
    await r.close();
  }
});

test('a phone\'s single video line follows the active speaker: one continuous sequence, switching at the new speaker\'s keyframe', async () => {
  const r = await rig();
  try {
    const a = await r.join('A', 'main', 96);
    const d = await r.join('D', 'main', 98);
    const phone = await r.join('P', 'main', 120); // no subscribe lines: a phone
    const camA = new VideoSender(a.peer, a.port, 0xa, 96, 100);
    const camD = new VideoSender(d.peer, d.port, 0xd, 98, 50000);
    r.speaker('A');
    camA.frame(true);
    camD.frame(true);
    camA.frame(false);
    await until(() => phone.peer.rtp().length === 6, 2000, 'A\'s video at the phone');

    r.clock.advance(2000);
    r.speaker('D'); // switch: D is asked for a keyframe; A keeps flowing until it comes
    await until(() => plis(d.peer).length >= 2, 2000, 'PLI to the new speaker'); // (1st was when the phone joined)
    camD.frame(false); // D's delta: not shown yet
    camA.frame(false); // A still shown
    await until(() => phone.peer.rtp().length === 9, 2000, 'A still shown until D\'s keyframe');
    const dKey = camD.frame(true);
    const dNext = camD.frame(false);
    camA.frame(false); // A no longer shown
    await until(() => phone.peer.rtp().length === 15, 2000, 'D shown after its keyframe');
    await sleep(50);
    const got = phone.peer.rtp();
    assert.equal(got.length, 15);
    assert.deepEqual(got.slice(9).map((p) => tagOf(p.payload)), [...dKey, ...dNext], 'switch happens at D\'s keyframe');
    const pSsrc = r.relay.endpointStats(phone.id)!.localSsrc;
    assert.ok(got.every((p) => p.ssrc === pSsrc && p.payloadType === 120), 'one SSRC, the phone\'s PT');
    for (let i = 1; i < got.length; i++) {
      assert.equal(got[i]!.sequenceNumber, (got[i - 1]!.sequenceNumber + 1) & 0xffff, `no jump at ${i}`);
      assert.ok(((got[i]!.timestamp - got[i - 1]!.timestamp) >>> 0) < 0x80000000, `timestamp goes forward at ${i}`);
    }
    assert.equal(r.relay.videoStats('v')!.outs.find((o) => o.participantId === 'P')!.showing, 'D');
    // A and D (they have no subscribe lines in this meeting either) follow the speaker too, never themselves.
    assert.ok(d.peer.rtp().every((p) => tagOf(p.payload) < 50000), 'D is never sent its own video');
  } finally {
    await r.close();
  }
});

test('camera off removes the video for everyone; back on without a new call, continuing the sequence', async () => {
  const r = await rig();
  try {
    const a = await r.join('A', 'main', 96);
    const cam = new VideoSender(a.peer, a.port, 0xaaaa0005, 96);
    const b = await r.join('B', { subscribeTo: 'A' }, 96);
    cam.frame(true);
    await until(() => b.peer.rtp().length === 3, 2000, 'B receives');
    await r.relay.setDirection(a.id, 'recvonly'); // camera off (A still receives)
    assert.equal(r.relay.videoStats('v')!.publishers[0]!.cameraOn, false);
    cam.frame(true); // a client that keeps sending anyway: dropped
    await sleep(100);
    assert.equal(b.peer.rtp().length, 3);
    assert.equal(r.relay.endpointStats(a.id)!.dropped['not-sending'], 3);
    r.clock.advance(2000);
    const pliBefore = plis(a.peer).length;
    await r.relay.setDirection(a.id, 'sendrecv'); // camera on
    await until(() => plis(a.peer).length === pliBefore + 1, 2000, 'PLI when the camera comes back');
    cam.frame(false); // not decodable alone: held back
    cam.frame(true);
    await until(() => b.peer.rtp().length === 6, 2000, 'video again');
    const got = b.peer.rtp();
    assert.equal(got[3]!.sequenceNumber, (got[2]!.sequenceNumber + 1) & 0xffff, 'sequence continues across the pause');
  } finally {
    await r.close();
  }
});

test('translator RTCP: the publisher\'s SR reaches the receiver with the relay\'s SSRC and the RTP timestamp mapped', async () => {
  const r = await rig();
  try {
    const a = await r.join('A', 'main', 96);
    const b = await r.join('B', { subscribeTo: 'A' }, 100);
    const cam = new VideoSender(a.peer, a.port, 0xaaaa0006, 96);
    cam.frame(true);
    await until(() => b.peer.rtp().length === 3, 2000, 'B receives');
    const first = b.peer.rtp()[0]!;
    // A's SR: NTP time T corresponds to A's RTP timestamp 90000 + 4500 (the keyframe's + 50 ms).
    a.peer.send(writeSenderReport({ ssrc: 0xaaaa0006, ntpSeconds: 3_900_000_000, ntpFraction: 0x40000000, rtpTimestamp: 94500, packetCount: 3, octetCount: 300, reports: [] }), a.port);
    await until(() => b.peer.rtcp().some((p) => p.type === 'sr'), 2000, 'forwarded SR');
    const sr = b.peer.rtcp().find((p) => p.type === 'sr')!;
    if (sr.type !== 'sr') return;
    const bSsrc = r.relay.endpointStats(b.id)!.localSsrc;
    assert.equal(sr.ssrc, bSsrc);
    assert.deepEqual([sr.ntpSeconds, sr.ntpFraction], [3_900_000_000, 0x40000000], 'NTP time kept (lip sync)');
    assert.equal(sr.rtpTimestamp, (first.timestamp + 4500) >>> 0, 'timestamp in the rewritten stream');
    assert.equal(sr.packetCount, 3, 'counts are what this leg was sent');
    const sdes = b.peer.rtcp().find((p) => p.type === 'sdes');
    assert.ok(sdes?.type === 'sdes' && sdes.chunks[0]!.ssrc === bSsrc && sdes.chunks[0]!.cname!.startsWith('sipmeet-'));
  } finally {
    await r.close();
  }
});

test('H.264 is forwarded too: switch-in at an IDR (FU-A start), PT mapped per leg', async () => {
  const r = await rig();
  try {
    const h264 = (pt: number) => ({ payloadType: pt, name: 'h264', clockRate: 90000, fmtp: 'packetization-mode=1' });
    const allocA = await r.relay.allocateEndpoint({ meetingId: 'v', participantId: 'A', kind: 'video', rtcpMux: true });
    const pa = await RtpPeer.open();
    r.peers.push(pa);
    await r.relay.setRemote(allocA.endpointId, remoteOf(pa, [h264(97)]));
    const allocB = await r.relay.allocateEndpoint({ meetingId: 'v', participantId: 'B', kind: 'video', videoRole: { subscribeTo: 'A' }, rtcpMux: true });
    const pb = await RtpPeer.open();
    r.peers.push(pb);
    await r.relay.setRemote(allocB.endpointId, remoteOf(pb, [vp8(96), h264(126)], { direction: 'recvonly' }));
    const send = (seq: number, payload: number[]) => pa.send(rtp(97, seq, 1000, 0x264, Uint8Array.from([...payload, seq])), allocA.rtpPort);
    send(1, [0x41, 0x9a]); // non-IDR slice: held back
    send(2, [0x7c, 0x85, 0x88]); // FU-A start of an IDR
    send(3, [0x7c, 0x45, 0x88]); // FU-A end
    await until(() => pb.rtp().length === 2, 2000, 'IDR at B');
    assert.deepEqual(pb.rtp().map((p) => [p.payloadType, p.payload[p.payload.length - 1]]), [[126, 2], [126, 3]]);
  } finally {
    await r.close();
  }
});
