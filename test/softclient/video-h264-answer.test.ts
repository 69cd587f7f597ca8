/**
 * The camera sends what the offer/answer agreed, without a server: the client answers an offer (a focus re-INVITE,
 * or the other client's offer in a peer-to-peer switch) listing H.264 first, and ffmpeg's RTP arriving at the
 * offerer is H.264 (RFC 6184: the offer's payload type, FU-A/STAP-A, an SPS of Constrained Baseline) — although
 * our own preference is VP8. A new offer listing VP8 first switches the camera to VP8 (ffmpeg restarted with
 * libvpx: the packets now depacketize as VP8 key frames of 320×240). Real ffmpeg.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRtp } from '../../media/rtp/packet.ts';
import { silentLogger } from '../../registrar/log.ts';
import { systemClock } from '../../registrar/sip/clock.ts';
import { parseSdp } from '../../sdp/index.ts';
import { videoCodecs } from '../../softclient/media/call-media.ts';
import { FfmpegVideoSource } from '../../softclient/media/ffmpeg-video-source.ts';
import { h264EncoderSettings } from '../../softclient/media/h264-codecs.ts';
import { H264Depacketizer } from '../../softclient/media/h264-depacketizer.ts';
import { MediaSession, type MediaLine } from '../../softclient/media/media-session.ts';
import { bindUdpPair } from '../../softclient/media/udp-pair.ts';
import { encodingFor, VideoStream } from '../../softclient/media/video-stream.ts';
import { Vp8Depacketizer } from '../../softclient/media/vp8-depacketizer.ts';

const H264_PT = 100;
const VP8_PT = 96;

function offer(version: number, videoPort: number, h264First: boolean): string {
  const pts = h264First ? `${H264_PT} ${VP8_PT}` : `${VP8_PT} ${H264_PT}`;
  return [
    'v=0',
    `o=peer 1 ${version} IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=audio 0 RTP/AVP 0',
    'a=rtpmap:0 PCMU/8000',
    `m=video ${videoPort} RTP/AVP ${pts}`,
    `a=rtpmap:${H264_PT} H264/90000`,
    `a=fmtp:${H264_PT} profile-level-id=42e01f;packetization-mode=1`,
    `a=rtpmap:${VP8_PT} VP8/90000`,
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** What arrives at the offerer's video port, read per payload type. */
class Peer {
  readonly h264 = new H264Depacketizer({ spropParameterSets: [] });
  readonly vp8 = new Vp8Depacketizer();
  readonly count = new Map<number, number>();
  h264Keyframes = 0;
  spsProfileIdc: number | undefined;
  vp8Keyframes: Array<{ width: number | undefined; height: number | undefined }> = [];

  onPacket(buf: Buffer): void {
    const r = parseRtp(buf);
    if (!r.ok) return;
    const p = r.packet;
    this.count.set(p.payloadType, (this.count.get(p.payloadType) ?? 0) + 1);
    if (p.payloadType === H264_PT) {
      for (const u of this.h264.push(p.sequenceNumber, p.timestamp, p.marker, p.payload).units) {
        if (!u.keyframe) continue;
        this.h264Keyframes++;
        // The first NAL unit after the start code: SPS (type 7) carries profile_idc in its next octet.
        if ((u.data[4]! & 0x1f) === 7) this.spsProfileIdc = u.data[5];
      }
    } else if (p.payloadType === VP8_PT) {
      const f = this.vp8.push(p.sequenceNumber, p.timestamp, p.marker, p.payload).frame;
      if (f?.keyframe) this.vp8Keyframes.push({ width: f.width, height: f.height });
    }
  }
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('answering an offer that lists H.264 first, the camera sends H.264; a new offer with VP8 first switches it to VP8', { timeout: 60_000 }, async () => {
  const peerPair = await bindUdpPair('127.0.0.1');
  const peer = new Peer();
  peerPair.rtp.on('message', (b) => peer.onPacket(b));
  const camera = new FfmpegVideoSource({ kind: 'testsrc' }, silentLogger()); // our preference: VP8
  const warnings: string[] = [];
  const stream = new VideoStream({ pair: await bindUdpPair('127.0.0.1'), source: camera, outDir: undefined, clock: systemClock, logger: silentLogger(), cname: 'test', onSourceError: (w) => warnings.push(w) });
  const noop = { configure: () => undefined, disable: () => undefined };
  const audio: MediaLine = { kind: 'audio', port: 41000, codecs: [{ encoding: 'PCMU', clockRate: 8000 }], direction: 'sendrecv', ...noop };
  const video: MediaLine = { kind: 'video', port: stream.localPort, codecs: videoCodecs(camera.preferred), direction: 'sendrecv', configure: (m, r) => stream.configure(m, r), disable: () => stream.close() };
  const session = new MediaSession('127.0.0.1', [audio, video]);
  try {
    const r1 = await session.answer(offer(1, peerPair.rtpPort, true));
    assert.ok(r1.ok, r1.ok ? '' : r1.error);
    const a1 = parseSdp(r1.value);
    assert.ok(a1.ok);
    assert.deepEqual(a1.value.media[1]!.payloads.map((p) => [p.pt, p.rtpmap?.encoding]), [[H264_PT, 'H264']], 'answered with the offer’s first codec');
    assert.equal(stream.stats().codec, 'h264/90000');

    await until(() => peer.h264Keyframes >= 1 && (peer.count.get(H264_PT) ?? 0) >= 20, 20_000, 'H.264 key frames at the offerer');
    assert.equal(peer.count.get(VP8_PT) ?? 0, 0, 'nothing sent as VP8');
    assert.equal(peer.spsProfileIdc, 0x42, 'the in-band SPS says Baseline (profile_idc 66)');
    assert.equal(camera.encoding?.codec, 'h264');

    // RFC 3264 §8: a new offer in the dialog, VP8 first now.
    const r2 = await session.answer(offer(2, peerPair.rtpPort, false));
    assert.ok(r2.ok, r2.ok ? '' : r2.error);
    assert.equal(stream.stats().codec, 'vp8/90000');
    await until(() => peer.vp8Keyframes.length >= 1, 20_000, 'a VP8 key frame at the offerer');
    assert.deepEqual(peer.vp8Keyframes[0], { width: 320, height: 240 }, 'libvpx key frame of the camera’s size');
    const h264After = peer.count.get(H264_PT) ?? 0;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(peer.count.get(H264_PT) ?? 0, h264After, 'no H.264 after the switch');
    assert.equal(camera.runs, 2, 'ffmpeg restarted once, with the other encoder');
    assert.deepEqual(warnings, []);
  } finally {
    stream.close();
    peerPair.close();
  }
});

test('the encoder follows the negotiated H.264 profile and level; what it cannot send is refused', () => {
  assert.deepEqual(h264EncoderSettings('profile-level-id=42e01f;packetization-mode=1'), { profile: 'baseline', level: '3.1' });
  assert.deepEqual(h264EncoderSettings('packetization-mode=1;profile-level-id=4d0028'), { profile: 'main', level: '4.0' });
  assert.deepEqual(h264EncoderSettings('profile-level-id=640c1e;packetization-mode=1'), undefined, 'constrained high: x264 cannot write it');
  assert.equal(h264EncoderSettings('profile-level-id=42e01f;packetization-mode=0'), undefined, 'mode 0 is not sent');
  assert.equal(h264EncoderSettings('profile-level-id=42e01f'), undefined, 'no packetization-mode means mode 0 (RFC 6184 §8.1)');
  const codec = { pt: 100, encoding: 'H264', clockRate: 90000, localFmtp: 'profile-level-id=42e01f;packetization-mode=1', remoteFmtp: 'profile-level-id=42e016;packetization-mode=1', rtcpFb: [] };
  assert.deepEqual(encodingFor(codec), { codec: 'h264', profile: 'baseline', level: '2.2' }, 'the other side’s level');
  assert.deepEqual(encodingFor({ ...codec, encoding: 'VP8', remoteFmtp: undefined, localFmtp: undefined }), { codec: 'vp8' });
});
