/**
 * The bridge's RTP line toward the focus, on real UDP sockets: the page's packets go out under our SSRC, the
 * negotiated payload type and numbering that stays continuous when the page's source changes (new SSRC, new
 * random sequence/timestamp base); video starts only at a keyframe and asks the page for one; the focus's PLI
 * for our stream is reported; the focus's packets come back as they were received; nothing is sent while the
 * line is recvonly (camera off). RFC 6464 levels: the page's level of each mic packet goes out under the id the
 * focus agreed (one-byte form, two-byte for ids > 14), and no extension at all when the focus did not agree, the
 * level is unknown or not a level; the page's level as werift parsed it is read under the id agreed with the page.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { test } from 'node:test';
import { silentLogger } from '../../registrar/log.ts';
import { systemClock } from '../../registrar/sip/clock.ts';
import { writePli } from '../../media/rtcp/feedback.ts';
import { readAudioLevel } from '../../media/rtp/audio-level.ts';
import { ONE_BYTE_PROFILE, TWO_BYTE_PROFILE } from '../../media/rtp/header-extension.ts';
import { buildRtp, parseRtp, type RtpPacket } from '../../media/rtp/packet.ts';
import type { AcceptedMedia, Direction } from '../../sdp/index.ts';
import { OPUS, VP8 } from '../../sdp/index.ts';
import { SipLeg } from '../../softclient/gui/bridge/sip-leg.ts';
import { levelFromExtensions } from '../../softclient/gui/bridge/webrtc-peer.ts';
import { bindUdpPair } from '../../softclient/media/udp-pair.ts';

function bound(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

function agreed(kind: 'audio' | 'video', pt: number, focusRtp: Socket, focusRtcp: Socket, direction: Direction, sendAudioLevelExtId?: number): AcceptedMedia {
  const codec = { pt, encoding: kind === 'audio' ? 'opus' : 'VP8', clockRate: kind === 'audio' ? 48000 : 90000, remoteFmtp: undefined, localFmtp: undefined, rtcpFb: [] };
  return {
    accepted: true, index: kind === 'audio' ? 0 : 1, type: kind, codec, codecs: [codec], telephoneEvent: undefined, direction, localPort: 0,
    remoteRtp: { address: '127.0.0.1', port: focusRtp.address().port }, remoteRtcp: { address: '127.0.0.1', port: focusRtcp.address().port },
    rtcpMux: false, ptime: undefined, remoteBandwidth: [],
    ...(sendAudioLevelExtId === undefined ? {} : { sendAudioLevelExtId }),
  };
}

function collect(s: Socket): RtpPacket[] {
  const got: RtpPacket[] = [];
  s.on('message', (b) => {
    const r = parseRtp(b);
    if (r.ok) got.push(r.packet);
  });
  return got;
}

const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));

/** A VP8 payload: descriptor with S=1 PID=0, then a frame header whose P bit says key (0) or inter (1). */
const vp8 = (key: boolean) => Uint8Array.from([0x10, key ? 0x00 : 0x01, 0, 0, 0x9d, 0x01, 0x2a]);

test('audio from the page: our SSRC and PT, numbering continuous across a change of the page source', async () => {
  const [rtp, rtcp] = [await bound(), await bound()];
  const got = collect(rtp);
  const leg = new SipLeg({ pair: await bindUdpPair('127.0.0.1'), kind: 'audio', codecs: [OPUS], direction: 'sendrecv', clock: systemClock, logger: silentLogger(), cname: 'ann@127.0.0.1' });
  try {
    const opus = Uint8Array.from([0xfc, 1, 2, 3]);
    leg.forward({ ssrc: 1, sequenceNumber: 100, timestamp: 5000, marker: true, payload: opus }); // not agreed yet: dropped
    leg.configure(agreed('audio', 111, rtp, rtcp, 'sendrecv'));
    for (let i = 0; i < 3; i++) leg.forward({ ssrc: 1, sequenceNumber: 100 + i, timestamp: 5000 + 960 * i, marker: i === 0, payload: opus });
    // The page reconnected: a new SSRC with its own random bases.
    for (let i = 0; i < 2; i++) leg.forward({ ssrc: 2, sequenceNumber: 40000 + i, timestamp: 9_000_000 + 960 * i, marker: false, payload: opus });
    await settle();
    assert.equal(got.length, 5);
    assert.ok(got.every((p) => p.ssrc === leg.ssrc && p.payloadType === 111));
    assert.deepEqual(Buffer.from(got[0]!.payload), Buffer.from(opus), 'the Opus payload is passed through untouched');
    for (let i = 1; i < 5; i++) assert.equal(got[i]!.sequenceNumber, (got[i - 1]!.sequenceNumber + 1) & 0xffff, `seq continues at ${i}`);
    assert.equal(got[1]!.timestamp - got[0]!.timestamp, 960);
    assert.ok(got[3]!.timestamp > got[2]!.timestamp, 'timestamps keep advancing across the source change');
    assert.equal(got[0]!.marker, true);
    assert.equal(leg.counters.packetsSent, 5);

    // Mic off → recvonly: nothing is sent.
    leg.configure(agreed('audio', 111, rtp, rtcp, 'recvonly'));
    leg.forward({ ssrc: 2, sequenceNumber: 40002, timestamp: 9_001_920, marker: false, payload: opus });
    await settle();
    assert.equal(got.length, 5);
  } finally {
    leg.close();
    rtp.close();
    rtcp.close();
  }
});

test('video: starts at a keyframe (asking the page for one), PLI from the focus reported, focus packets delivered as received', async () => {
  const [rtp, rtcp] = [await bound(), await bound()];
  const got = collect(rtp);
  const leg = new SipLeg({ pair: await bindUdpPair('127.0.0.1'), kind: 'video', codecs: [VP8], direction: 'sendrecv', clock: systemClock, logger: silentLogger(), cname: 'ann@127.0.0.1' });
  let asked = 0;
  let requested = 0;
  const received: Buffer[] = [];
  leg.on('keyframeNeeded', () => asked++);
  leg.on('keyframeRequested', () => requested++);
  leg.on('media', (buf) => received.push(buf));
  try {
    leg.configure(agreed('video', 96, rtp, rtcp, 'sendrecv'));
    leg.forward({ ssrc: 7, sequenceNumber: 1, timestamp: 90_000, marker: true, payload: vp8(false) });
    await settle();
    assert.equal(got.length, 0, 'an inter frame cannot start the stream');
    assert.equal(asked, 1, 'the page is asked for a keyframe');
    leg.forward({ ssrc: 7, sequenceNumber: 2, timestamp: 93_000, marker: true, payload: vp8(true) });
    leg.forward({ ssrc: 7, sequenceNumber: 3, timestamp: 96_000, marker: true, payload: vp8(false) });
    await settle();
    assert.deepEqual(got.map((p) => [p.payloadType, p.ssrc === leg.ssrc]), [[96, true], [96, true]]);

    // The focus asks for a keyframe of our stream (RFC 4585 PLI to our SSRC), and sends us a publisher's packet.
    const ourPort = leg.port;
    rtcp.send(writePli(0x1234, leg.ssrc), ourPort + 1, '127.0.0.1');
    const fromFocus = buildRtp({ payloadType: 96, sequenceNumber: 77, timestamp: 1, ssrc: 0xabc, marker: true }, vp8(true));
    rtp.send(fromFocus, ourPort, '127.0.0.1');
    await settle();
    assert.equal(requested, 1);
    assert.deepEqual(received, [fromFocus]);
  } finally {
    leg.close();
    rtp.close();
    rtcp.close();
  }
});

test('audio levels: the page\'s RFC 6464 level goes out under the id the focus agreed, nothing when not agreed or unknown', async () => {
  const [rtp, rtcp] = [await bound(), await bound()];
  const got = collect(rtp);
  const leg = new SipLeg({ pair: await bindUdpPair('127.0.0.1'), kind: 'audio', codecs: [OPUS], direction: 'sendrecv', clock: systemClock, logger: silentLogger(), cname: 'ann@127.0.0.1' });
  const opus = Uint8Array.from([0xfc, 9, 9]);
  let seq = 500;
  const send = (level: number | undefined) => leg.forward({ ssrc: 3, sequenceNumber: seq++, timestamp: seq * 960, marker: false, payload: opus }, level);
  try {
    // The focus reads levels under id 3: a beep (level 20, V set) and a pause (level 127).
    leg.configure(agreed('audio', 111, rtp, rtcp, 'sendrecv', 3));
    send(20);
    send(127);
    await settle();
    assert.equal(got.length, 2);
    assert.deepEqual(got.map((p) => p.extensionProfile), [ONE_BYTE_PROFILE, ONE_BYTE_PROFILE], 'ids 1–14: the RFC 8285 one-byte form');
    assert.deepEqual(got.map((p) => readAudioLevel(p.extensionProfile, p.extensionData, 3)), [20, 127]);
    assert.equal(got[0]!.extensionData![1]! & 0x80, 0x80, 'V set for a level above −42 dBov');
    assert.equal(got[1]!.extensionData![1]! & 0x80, 0, 'V clear in silence');
    assert.deepEqual(Buffer.from(got[0]!.payload), Buffer.from(opus), 'the payload is untouched behind the extension');

    // Unknown, or not a level at all (the page's packet is untrusted): sent, but without an extension.
    got.length = 0;
    for (const bad of [undefined, 128, -1, 1.5, Number.NaN]) send(bad);
    await settle();
    assert.equal(got.length, 5);
    assert.ok(got.every((p) => p.extensionProfile === undefined), 'no extension without a valid level');

    // An id above 14 can only be written in the two-byte form.
    got.length = 0;
    leg.configure(agreed('audio', 111, rtp, rtcp, 'sendrecv', 20));
    send(33);
    await settle();
    assert.equal(got[0]!.extensionProfile, TWO_BYTE_PROFILE);
    assert.equal(readAudioLevel(got[0]!.extensionProfile, got[0]!.extensionData, 20), 33);

    // The focus did not agree (e.g. a re-INVITE answered without the extmap): the level is dropped.
    got.length = 0;
    leg.configure(agreed('audio', 111, rtp, rtcp, 'sendrecv'));
    send(20);
    await settle();
    assert.equal(got.length, 1);
    assert.equal(got[0]!.extensionProfile, undefined);
  } finally {
    leg.close();
    rtp.close();
    rtcp.close();
  }
});

test('the page\'s level as werift parsed it: read under the id agreed with the page, else none', () => {
  const ext = [{ id: 2, payload: Buffer.of(0x0a) }, { id: 1, payload: Buffer.of(0x80 | 25) }];
  assert.equal(levelFromExtensions(ext, 1), 25, 'the V bit is not part of the level');
  assert.equal(levelFromExtensions(ext, 2), 10);
  assert.equal(levelFromExtensions(ext, 3), undefined, 'no element under the agreed id');
  assert.equal(levelFromExtensions(ext, undefined), undefined, 'not agreed with the page');
  assert.equal(levelFromExtensions([{ id: 1, payload: Buffer.alloc(0) }], 1), undefined, 'an empty element is no level');
  assert.equal(levelFromExtensions(undefined, 1), undefined);
});
