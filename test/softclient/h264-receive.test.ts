/**
 * H.264 on a received video line, without a server: a focus-style re-INVITE adds an `a=sendonly` publisher line
 * offering H.264 packetization-mode 0 first (as baresip does), then mode 1, then VP8. The client answers that line
 * with the offer's first format (RFC 3264 §6.1) and its fmtp kept (RFC 6184 §8.2.2), while its own main line stays
 * VP8 only; RTP sent to the line's port (single NAL units, STAP-A, FU-A) lands in `<label>.h264` as Annex B with
 * the offer's sprop-parameter-sets in front.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRtp } from '../../media/rtp/packet.ts';
import { silentLogger } from '../../registrar/log.ts';
import { systemClock } from '../../registrar/sip/clock.ts';
import { RECEIVE_VIDEO_CODECS, VIDEO_CODECS } from '../../softclient/media/call-media.ts';
import { MediaSession, type MediaLine } from '../../softclient/media/media-session.ts';
import { bindUdpPair } from '../../softclient/media/udp-pair.ts';
import { VideoStream } from '../../softclient/media/video-stream.ts';
import { parseSdp } from '../../sdp/index.ts';
import { tempDir } from './helpers.ts';

const SPS = Buffer.from('6742e01fda0280f6c044', 'hex');
const PPS = Buffer.from('68ce3c80', 'hex');
const SPROP = `${SPS.toString('base64')},${PPS.toString('base64')}`;

function focusOffer(version: number, publisherPort: number): string {
  const lines = [
    'v=0',
    `o=sipmeet 1 ${version} IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=audio 40000 RTP/AVP 0',
    'a=rtpmap:0 PCMU/8000',
    'a=sendrecv',
    'm=video 40002 RTP/AVP 96',
    'a=rtpmap:96 VP8/90000',
    'a=sendrecv',
    `m=video ${publisherPort} RTP/AVP 97 98 96`,
    'a=rtpmap:97 H264/90000',
    `a=fmtp:97 packetization-mode=0;profile-level-id=42e01f;sprop-parameter-sets=${SPROP}`,
    'a=rtpmap:98 H264/90000',
    'a=fmtp:98 packetization-mode=1;profile-level-id=42e01f',
    'a=rtcp-fb:97 nack pli',
    'a=rtpmap:96 VP8/90000',
    'a=sendonly',
    'a=label:p7',
  ];
  return lines.join('\r\n') + '\r\n';
}

test('a publisher line offering H.264 mode 0 first is answered H.264 mode 0 and its RTP is written to <label>.h264', async () => {
  const dir = tempDir();
  const sender = createSocket('udp4');
  await new Promise<void>((res) => sender.bind(0, '127.0.0.1', () => res()));
  const senderPort = sender.address().port;
  const streams: VideoStream[] = [];
  const noop = { configure: () => undefined, disable: () => undefined };
  const audio: MediaLine = { kind: 'audio', port: 41000, codecs: [{ encoding: 'PCMU', clockRate: 8000 }], direction: 'sendrecv', ...noop };
  const video: MediaLine = { kind: 'video', port: 41002, codecs: VIDEO_CODECS, direction: 'recvonly', ...noop };
  const session = new MediaSession('127.0.0.1', [audio, video], async (m) => {
    const pair = await bindUdpPair('127.0.0.1');
    const s = new VideoStream({ pair, source: undefined, outDir: dir, clock: systemClock, logger: silentLogger(), cname: 'test' });
    streams.push(s);
    return { kind: 'video', port: pair.rtpPort, codecs: RECEIVE_VIDEO_CODECS, direction: 'recvonly', configure: (am, remote) => s.configure(am, remote), disable: () => s.close() };
  });
  try {
    const r = await session.answer(focusOffer(2, senderPort));
    assert.ok(r.ok, r.ok ? '' : r.error);
    const answer = parseSdp(r.value);
    assert.ok(answer.ok);
    const [, main, pub] = answer.value.media;
    assert.deepEqual(main!.payloads.map((p) => p.rtpmap?.encoding), ['VP8'], 'our main line stays VP8');
    assert.deepEqual(pub!.payloads.map((p) => [p.pt, p.rtpmap?.encoding]), [[97, 'H264']], 'the offer’s first format');
    assert.match(pub!.payloads[0]!.fmtp ?? '', /packetization-mode=0/);
    assert.equal(pub!.direction, 'recvonly');
    const stream = streams[0]!;

    // Two access units: an IDR in two FU-A fragments; a P slice in a STAP-A (mode 1 structures, read whatever
    // the mode), then a P slice as a single NAL unit.
    const send = (seq: number, ts: number, marker: boolean, payload: Buffer) =>
      new Promise<void>((res) => sender.send(buildRtp({ payloadType: 97, sequenceNumber: seq, timestamp: ts, ssrc: 0x1234, marker }, payload), pub!.port, '127.0.0.1', () => res()));
    await send(1, 1000, false, Buffer.from('7c8588840033', 'hex'));
    await send(2, 1000, true, Buffer.from('7c45ff', 'hex'));
    await send(3, 7000, true, Buffer.from('780004419a0204', 'hex'));
    await send(4, 13000, true, Buffer.from('419a0205', 'hex'));
    const deadline = Date.now() + 3000;
    while (stream.stats().framesReceived < 3 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    const st = stream.stats();
    assert.deepEqual([st.codec, st.framesReceived, st.keyframesReceived, st.packetsReceived], ['h264/90000', 3, 1, 4]);
    assert.equal(st.file, join(dir, 'p7.h264'));
    stream.close();
    const sc = '00000001';
    assert.equal(
      readFileSync(join(dir, 'p7.h264')).toString('hex'),
      `${sc}${SPS.toString('hex')}${sc}${PPS.toString('hex')}${sc}6588840033ff${sc}419a0204${sc}419a0205`,
    );
  } finally {
    for (const s of streams) s.close();
    sender.close();
  }
});
