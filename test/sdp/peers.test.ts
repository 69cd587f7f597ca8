/**
 * Real SDP captured from Linphone 5.1.65 and baresip 1.0.0: every line survives parse → write → parse, and
 * our default answer to each offer picks what a conference focus needs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { H264_MODE1, OPUS, PCMU, TELEPHONE_EVENT } from '../../sdp/codecs.ts';
import type { SessionDescription } from '../../sdp/model.ts';
import { type AcceptedMedia, type NegotiatedMedia } from '../../sdp/negotiated.ts';
import { answerOffer, type AnswerPolicy } from '../../sdp/negotiate.ts';
import { processAnswer } from '../../sdp/offer.ts';
import { createOrigin } from '../../sdp/origin.ts';
import { writeSdp } from '../../sdp/write.ts';
import { mustParse, sipBody } from './vectors.ts';

const PEER_FILES = [
  'baresip-200-answer-default.txt',
  'baresip-invite-offer-default.txt',
  'baresip-invite-offer-opus-vp8.txt',
  'baresip-invite-offer-pcmu-h264.txt',
  'linphone-200-answer-default.txt',
  'linphone-invite-offer-default.txt',
  'linphone-invite-offer-pcmu-only.txt',
  'linphone-invite-offer-video-vp8.txt',
];

/** The lines of each section (session, then each m=), sorted: attribute order carries no meaning. */
function sections(sdp: string): string[][] {
  const out: string[][] = [[]];
  for (const line of sdp.split('\r\n').filter((l) => l !== '')) {
    if (line.startsWith('m=')) out.push([]);
    out[out.length - 1]!.push(line);
  }
  return out.map((s) => s.sort());
}

const RELAY = '127.0.0.1';

function policy(): AnswerPolicy {
  return { origin: createOrigin(RELAY, { username: 'sipmeet', sessionId: '1000' }), address: RELAY, ports: [40000, 40002] };
}

function answer(file: string, p: AnswerPolicy = policy()): { sdp: SessionDescription; media: readonly NegotiatedMedia[] } {
  const result = answerOffer(mustParse(sipBody(`peers/${file}`)), p);
  assert.ok(result.ok, result.ok ? '' : result.reason);
  // What goes on the wire is the written text: check that, parsed back.
  return { sdp: mustParse(writeSdp(result.answer)), media: result.media };
}

function accepted(m: NegotiatedMedia | undefined): AcceptedMedia {
  assert.ok(m?.accepted, `stream accepted${m !== undefined && !m.accepted ? ` (rejected: ${m.reason})` : ''}`);
  return m;
}

function rtpmapLines(sdp: SessionDescription, i: number): string[] {
  return writeSdp(sdp).split('\r\n').filter((l) => l.startsWith('a=rtpmap:')).filter((l) => sdp.media[i]!.formats.includes(l.slice(9).split(' ')[0]!));
}

describe('captured Linphone and baresip SDP: parse → write → parse keeps every line', () => {
  for (const file of PEER_FILES) {
    it(file, () => {
      const body = sipBody(`peers/${file}`);
      const first = mustParse(body);
      const written = writeSdp(first);
      assert.ok(written.endsWith('\r\n') && !/[^\r]\n/.test(written), 'CRLF line ends');
      assert.deepEqual(sections(written), sections(body));
      assert.deepEqual(mustParse(written), first);
    });
  }

  it('keeps static payload types that have no rtpmap (Linphone 0, 8, 18) with their RFC 3551 meaning', () => {
    const offer = mustParse(sipBody('peers/linphone-invite-offer-default.txt'));
    const audio = offer.media[0]!;
    assert.deepEqual(audio.formats, ['96', '97', '98', '0', '8', '18', '99', '100', '101']);
    const byPt = new Map(audio.payloads.map((p) => [p.pt, p]));
    assert.deepEqual(byPt.get(0)?.rtpmap, { encoding: 'PCMU', clockRate: 8000 });
    assert.equal(byPt.get(0)?.rtpmapInSdp, false);
    assert.deepEqual(byPt.get(18)?.rtpmap, { encoding: 'G729', clockRate: 8000 });
    assert.equal(byPt.get(18)?.fmtp, 'annexb=yes');
    assert.ok(!writeSdp(offer).includes('a=rtpmap:0 '), 'no rtpmap invented for PT 0');
  });
});

describe('our default answer to captured offers', () => {
  it('Linphone default offer → opus/48000/2 on PT 96 with telephone-event/48000 on PT 99', () => {
    const { sdp, media } = answer('linphone-invite-offer-default.txt');
    const audio = accepted(media[0]);
    assert.deepEqual([audio.codec.encoding, audio.codec.clockRate, audio.codec.channels, audio.codec.pt], ['opus', 48000, 2, 96]);
    assert.equal(audio.codec.remoteFmtp, 'useinbandfec=1');
    assert.deepEqual([audio.telephoneEvent?.pt, audio.telephoneEvent?.clockRate], [99, 48000]);
    assert.equal(audio.direction, 'sendrecv');
    assert.deepEqual(audio.remoteRtp, { address: '127.0.0.1', port: 7078 });
    assert.deepEqual(audio.remoteRtcp, { address: '127.0.0.1', port: 7079 }, 'RTCP on port + 1 (no a=rtcp, no rtcp-mux)');
    assert.equal(audio.rtcpMux, false);
    assert.equal(audio.localPort, 40000);
    assert.deepEqual(sdp.media[0]!.formats, ['96', '99']);
    assert.deepEqual(rtpmapLines(sdp, 0), ['a=rtpmap:96 opus/48000/2', 'a=rtpmap:99 telephone-event/48000']);
    assert.equal(sdp.media[0]!.port, 40000);
    assert.deepEqual(sdp.connection, { addressType: 'IP4', address: RELAY });
    assert.equal(sdp.media[0]!.direction, 'sendrecv');
  });

  it('Linphone PCMU-only offer (PT 0 without rtpmap) → PCMU on PT 0, telephone-event on its PT 96', () => {
    const { sdp, media } = answer('linphone-invite-offer-pcmu-only.txt');
    const audio = accepted(media[0]);
    assert.deepEqual([audio.codec.encoding, audio.codec.clockRate, audio.codec.pt], ['PCMU', 8000, 0]);
    assert.deepEqual([audio.telephoneEvent?.pt, audio.telephoneEvent?.clockRate], [96, 8000]);
    assert.deepEqual(sdp.media[0]!.formats, ['0', '96']);
    // RFC 3264 §6.1: the answer SHOULD carry mappings for static payload types too.
    assert.deepEqual(rtpmapLines(sdp, 0), ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:96 telephone-event/8000']);
  });

  it('Linphone VP8 offer → audio opus and video VP8 on PT 96 with the rtcp-fb both sides want', () => {
    const { sdp, media } = answer('linphone-invite-offer-video-vp8.txt');
    assert.equal(accepted(media[0]).codec.encoding, 'opus');
    const video = accepted(media[1]);
    assert.deepEqual([video.codec.encoding, video.codec.pt, video.localPort], ['VP8', 96, 40002]);
    assert.deepEqual(video.remoteRtp, { address: '127.0.0.1', port: 7080 });
    assert.deepEqual(video.codec.rtcpFb, [{ type: 'nack', param: 'pli' }, { type: 'ccm', param: 'fir' }]);
    assert.equal(video.telephoneEvent, undefined);
    assert.deepEqual(sdp.media.map((m) => [m.type, m.port]), [['audio', 40000], ['video', 40002]]);
  });

  it('baresip default offer → opus with baresip\'s fmtp, telephone-event/8000 (no 48 kHz one offered), ptime 20 echoed', () => {
    const { sdp, media } = answer('baresip-invite-offer-default.txt');
    const audio = accepted(media[0]);
    assert.deepEqual([audio.codec.encoding, audio.codec.pt], ['opus', 96]);
    assert.equal(audio.codec.remoteFmtp, 'stereo=1;sprop-stereo=1;maxaveragebitrate=32000');
    assert.equal(audio.codec.localFmtp, OPUS.fmtp);
    assert.deepEqual([audio.telephoneEvent?.pt, audio.telephoneEvent?.clockRate], [101, 8000]);
    assert.equal(audio.ptime, 20);
    assert.equal(sdp.media[0]!.ptime, 20);
    assert.deepEqual(sdp.media[0]!.formats, ['96', '101']);
  });

  it('baresip opus+VP8 offer → both streams accepted on baresip\'s payload types', () => {
    const { media } = answer('baresip-invite-offer-opus-vp8.txt');
    assert.deepEqual([accepted(media[0]).codec.pt, accepted(media[0]).telephoneEvent?.pt], [96, 101]);
    assert.deepEqual([accepted(media[1]).codec.encoding, accepted(media[1]).codec.pt, accepted(media[1]).remoteRtp.port], ['VP8', 96, 10008]);
  });

  it('baresip PCMU+H.264 offer → H.264 packetization-mode 0 matched and its configuration kept in the answer', () => {
    const { sdp, media } = answer('baresip-invite-offer-pcmu-h264.txt');
    assert.deepEqual([accepted(media[0]).codec.encoding, accepted(media[0]).codec.pt], ['PCMU', 0]);
    const video = accepted(media[1]);
    assert.deepEqual([video.codec.encoding, video.codec.pt], ['H264', 96]);
    assert.equal(sdp.media[1]!.payloads[0]!.fmtp, 'packetization-mode=0;profile-level-id=42e01f');
  });

  it('baresip H.264 packetization-mode 0 is refused by a policy with mode 1 only: video port 0, audio kept', () => {
    const p: AnswerPolicy = { ...policy(), media: { audio: { codecs: [PCMU, TELEPHONE_EVENT] }, video: { codecs: [H264_MODE1] } } };
    const { sdp, media } = answer('baresip-invite-offer-pcmu-h264.txt', p);
    assert.equal(accepted(media[0]).codec.encoding, 'PCMU');
    assert.equal(media[1]!.accepted, false);
    assert.match(media[1]!.accepted ? '' : media[1]!.reason, /no common codec.*H264\/90000/);
    assert.deepEqual([sdp.media[1]!.port, sdp.media[1]!.formats], [0, ['96']]);
  });
});

describe('captured answers, read by our offerer side', () => {
  it('Linphone 200 OK answer to the Linphone offer: opus on 96, RTP to 7088', () => {
    const offer = mustParse(sipBody('peers/linphone-invite-offer-default.txt'));
    const r = processAnswer(offer, mustParse(sipBody('peers/linphone-200-answer-default.txt')));
    assert.ok(r.ok);
    const audio = accepted(r.value[0]);
    assert.deepEqual([audio.codec.encoding, audio.codec.pt, audio.telephoneEvent?.pt], ['opus', 96, 99]);
    assert.deepEqual(audio.remoteRtp, { address: '127.0.0.1', port: 7088 });
    assert.equal(audio.localPort, 7078);
  });

  it('baresip 200 OK answer to the baresip offer: opus on 96, telephone-event on 101', () => {
    const offer = mustParse(sipBody('peers/baresip-invite-offer-default.txt'));
    const r = processAnswer(offer, mustParse(sipBody('peers/baresip-200-answer-default.txt')));
    assert.ok(r.ok);
    const audio = accepted(r.value[0]);
    assert.deepEqual([audio.codec.encoding, audio.codec.pt, audio.telephoneEvent?.pt, audio.remoteRtp.port], ['opus', 96, 101, 10026]);
    assert.equal(audio.codec.remoteFmtp, 'stereo=1;sprop-stereo=1;maxaveragebitrate=32000');
  });
});
