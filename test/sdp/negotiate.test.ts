/**
 * answerOffer(): RFC 3264 §6 answers to hand-made offers, one rule at a time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { H264_MODE1, OPUS, PCMA, PCMU, TELEPHONE_EVENT, VP8 } from '../../sdp/codecs.ts';
import type { SessionDescription } from '../../sdp/model.ts';
import type { AcceptedMedia, NegotiatedMedia } from '../../sdp/negotiated.ts';
import { type AnswerPolicy, answerOffer, type AnswerResult } from '../../sdp/negotiate.ts';
import { createOrigin, nextVersion } from '../../sdp/origin.ts';
import { writeSdp } from '../../sdp/write.ts';
import { mustParse } from './vectors.ts';

const US = '198.51.100.7';

function offer(...media: string[]): SessionDescription {
  return mustParse(`${['v=0', 'o=alice 5 5 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', ...media].join('\r\n')}\r\n`);
}

function policy(extra: Partial<AnswerPolicy> = {}): AnswerPolicy {
  return { origin: createOrigin(US, { sessionId: '42' }), address: US, ports: [30000, 30002, 30004, 30006], ...extra };
}

function ok(r: AnswerResult): { answer: SessionDescription; media: readonly NegotiatedMedia[] } {
  if (!r.ok) assert.fail(`488: ${r.reason}`);
  // Check what would be sent: the written answer, parsed back.
  return { answer: mustParse(writeSdp(r.answer)), media: r.media };
}

function accepted(m: NegotiatedMedia | undefined): AcceptedMedia {
  assert.ok(m?.accepted, m !== undefined && !m.accepted ? m.reason : 'missing');
  return m;
}

describe('answerOffer: codecs and payload types', () => {
  it('takes the first codec of the OFFER\'s order, not ours, and answers it alone by default', () => {
    const { answer, media } = ok(answerOffer(offer('m=audio 4000 RTP/AVP 8 0 96', 'a=rtpmap:96 opus/48000/2'), policy()));
    assert.equal(accepted(media[0]).codec.encoding, 'PCMA');
    assert.deepEqual(answer.media[0]!.formats, ['8']);
  });

  it('answers every common codec in the offer\'s order when asked to, the chosen one first', () => {
    const { answer, media } = ok(
      answerOffer(offer('m=audio 4000 RTP/AVP 18 8 0 96 101', 'a=rtpmap:96 opus/48000/2', 'a=rtpmap:101 telephone-event/8000'), policy({ answerAllCommonCodecs: true })),
    );
    assert.deepEqual(answer.media[0]!.formats, ['8', '0', '96', '101'], 'G729 (18) not supported, left out');
    assert.deepEqual(accepted(media[0]).codecs.map((c) => c.pt), [8, 0, 96, 101]);
  });

  it('keeps the offer\'s dynamic PT numbers and matches encoding names case-insensitively', () => {
    const { answer, media } = ok(answerOffer(offer('m=audio 4000 RTP/AVP 111', 'a=rtpmap:111 OPUS/48000/2'), policy()));
    assert.equal(accepted(media[0]).codec.pt, 111);
    assert.deepEqual(answer.media[0]!.payloads[0]!.rtpmap, { encoding: 'OPUS', clockRate: 48000, channels: 2 });
  });

  it('matches opus/48000 without a channel count and answers opus/48000/2 (RFC 7587 §7)', () => {
    const { answer } = ok(answerOffer(offer('m=audio 4000 RTP/AVP 120', 'a=rtpmap:120 opus/48000'), policy()));
    assert.deepEqual(answer.media[0]!.payloads[0]!.rtpmap, { encoding: 'opus', clockRate: 48000, channels: 2 });
  });

  it('does not take a codec at another clock rate or channel count, nor a dynamic PT without rtpmap', () => {
    const r = answerOffer(offer('m=audio 4000 RTP/AVP 96 97 98', 'a=rtpmap:96 PCMU/16000', 'a=rtpmap:97 PCMA/8000/2'), policy());
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /audio: no common codec \(offered PCMU\/16000, PCMA\/8000, PT 98 without rtpmap\)/);
  });

  it('answers telephone-event at the chosen codec\'s clock rate, else the 8000 Hz one', () => {
    const events = ['a=rtpmap:100 telephone-event/8000', 'a=rtpmap:101 telephone-event/48000'];
    const opus = ok(answerOffer(offer('m=audio 4000 RTP/AVP 96 100 101', 'a=rtpmap:96 opus/48000/2', ...events), policy()));
    assert.deepEqual([accepted(opus.media[0]).telephoneEvent?.pt, opus.answer.media[0]!.formats], [101, ['96', '101']]);
    const pcmu = ok(answerOffer(offer('m=audio 4000 RTP/AVP 0 101 100', ...events), policy()));
    assert.deepEqual([accepted(pcmu.media[0]).telephoneEvent?.pt, pcmu.answer.media[0]!.formats], [100, ['0', '100']]);
    const none = ok(answerOffer(offer('m=audio 4000 RTP/AVP 0'), policy()));
    assert.equal(accepted(none.media[0]).telephoneEvent, undefined);
  });

  it('puts the chosen codec first even when the offer lists telephone-event before it', () => {
    const { answer } = ok(answerOffer(offer('m=audio 4000 RTP/AVP 101 0', 'a=rtpmap:101 telephone-event/8000'), policy()));
    assert.deepEqual(answer.media[0]!.formats, ['0', '101']);
  });

  it('writes an rtpmap for static PTs too and our fmtp for the codec (RFC 3264 §6.1)', () => {
    const o = offer('m=audio 4000 RTP/AVP 96 0 101', 'a=rtpmap:96 opus/48000/2', 'a=rtpmap:101 telephone-event/48000', 'a=fmtp:101 0-15');
    const text = writeSdp(ok(answerOffer(o, policy({ answerAllCommonCodecs: true }))).answer);
    for (const line of ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:96 opus/48000/2', `a=fmtp:96 ${OPUS.fmtp}`, `a=fmtp:101 ${TELEPHONE_EVENT.fmtp}`]) {
      assert.ok(text.includes(`${line}\r\n`), line);
    }
  });
});

describe('answerOffer: directions (RFC 3264 §6.1)', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['sendrecv', 'sendrecv'],
    ['sendonly', 'recvonly'],
    ['recvonly', 'sendonly'],
    ['inactive', 'inactive'],
  ];
  for (const [offered, answered] of cases) {
    it(`${offered} offer → ${answered} answer`, () => {
      const { answer, media } = ok(answerOffer(offer('m=audio 4000 RTP/AVP 0', `a=${offered}`), policy()));
      assert.equal(answer.media[0]!.direction, answered);
      assert.equal(accepted(media[0]).direction, answered);
    });
  }

  it('a session-level a=sendonly applies to streams without their own direction', () => {
    const o = mustParse('v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\na=sendonly\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\na=sendrecv\r\n');
    const { answer } = ok(answerOffer(o, policy()));
    assert.deepEqual(answer.media.map((m) => m.direction), ['recvonly', 'sendrecv']);
  });

  it('our policy decides for a sendrecv offer; a sendonly offer to a sendonly policy is inactive', () => {
    const media = { audio: { codecs: [PCMU], direction: 'sendonly' as const } };
    const a = ok(answerOffer(offer('m=audio 4000 RTP/AVP 0'), policy({ media })));
    assert.equal(a.answer.media[0]!.direction, 'sendonly');
    const b = ok(answerOffer(offer('m=audio 4000 RTP/AVP 0', 'a=sendonly'), policy({ media })));
    assert.equal(b.answer.media[0]!.direction, 'inactive');
  });
});

describe('answerOffer: refused streams and 488', () => {
  it('refuses SRTP, unknown media and port-0 streams with port 0 and the offered formats, keeping m= count and order', () => {
    const { answer, media } = ok(
      answerOffer(
        offer(
          'm=audio 4000 RTP/SAVP 0',
          'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz',
          'm=application 5000 UDP/BFCP *',
          'm=audio 4004 RTP/AVP 0 8',
          'm=video 0 RTP/AVP 96',
          'a=rtpmap:96 VP8/90000',
        ),
        policy(),
      ),
    );
    assert.deepEqual(answer.media.map((m) => [m.type, m.port, m.formats.join(' ')]), [
      ['audio', 0, '0'],
      ['application', 0, '*'],
      ['audio', 30004, '0'],
      ['video', 0, '96'],
    ]);
    assert.deepEqual(media.map((m) => (m.accepted ? 'ok' : m.reason)), [
      'SRTP (RTP/SAVP) not supported',
      'media type application not supported',
      'ok',
      'disabled in the offer (port 0)',
    ]);
    assert.equal(answer.media[0]!.payloads.length, 1);
    assert.ok(!writeSdp(answer).includes('a=crypto'), 'nothing of a refused stream but its m= line');
  });

  it('488 when every stream is refused, with a reason naming each', () => {
    const r = answerOffer(offer('m=audio 4000 RTP/SAVPF 0', 'm=video 4002 RTP/AVP 31', 'a=rtpmap:31 H261/90000'), policy());
    assert.deepEqual(r, {
      ok: false,
      status: 488,
      reason: 'no acceptable media (audio: SRTP (RTP/SAVPF) not supported; video: no common codec (offered H261/90000))',
    });
  });

  it('refuses multicast streams and streams we have no port for', () => {
    const mc = answerOffer(offer('m=audio 4000 RTP/AVP 0', 'c=IN IP4 224.2.1.1/127'), policy());
    assert.match(mc.ok ? '' : mc.reason, /multicast not supported/);
    const { media } = ok(answerOffer(offer('m=audio 4000 RTP/AVP 0', 'm=audio 4002 RTP/AVP 0'), policy({ ports: [30000] })));
    assert.deepEqual(media.map((m) => (m.accepted ? m.localPort : m.reason)), [30000, 'no local port available']);
  });

  it('answers an offer whose streams are all disabled, and one with no streams (RFC 3264 §6)', () => {
    const { answer } = ok(answerOffer(offer('m=audio 0 RTP/AVP 0'), policy()));
    assert.deepEqual(answer.media.map((m) => m.port), [0]);
    assert.deepEqual(ok(answerOffer(offer(), policy())).answer.media, []);
  });

  it('asks the port allocator only for accepted streams, in m= order', () => {
    const asked: string[] = [];
    const ports = ({ index, type }: { index: number; type: string }): number => {
      asked.push(`${index}:${type}`);
      return 31000 + index * 2;
    };
    const { answer } = ok(answerOffer(offer('m=video 4000 RTP/AVP 96', 'a=rtpmap:96 VP8/90000', 'm=text 4002 RTP/AVP 98', 'm=audio 4004 RTP/AVP 0'), policy({ ports })));
    assert.deepEqual(asked, ['0:video', '2:audio']);
    assert.deepEqual(answer.media.map((m) => m.port), [31000, 0, 31004]);
  });
});

describe('answerOffer: transport, rtcp, ptime, bandwidth, session fields', () => {
  it('a=rtcp (RFC 3605) gives the remote RTCP port and address; without it, RTP port + 1', () => {
    const { media } = ok(answerOffer(offer('m=audio 4000 RTP/AVP 0', 'a=rtcp:53020 IN IP4 192.0.2.9', 'm=audio 4010 RTP/AVP 0', 'a=rtcp:4013'), policy()));
    assert.deepEqual([accepted(media[0]).remoteRtp, accepted(media[0]).remoteRtcp], [{ address: '192.0.2.1', port: 4000 }, { address: '192.0.2.9', port: 53020 }]);
    assert.deepEqual(accepted(media[1]).remoteRtcp, { address: '192.0.2.1', port: 4013 });
  });

  it('accepts rtcp-mux (RFC 5761) when offered and allowed: RTCP to the RTP port; never when not offered', () => {
    const muxed = ok(answerOffer(offer('m=audio 4000 RTP/AVP 0', 'a=rtcp-mux'), policy()));
    assert.deepEqual([accepted(muxed.media[0]).rtcpMux, muxed.answer.media[0]!.rtcpMux], [true, true]);
    assert.deepEqual(accepted(muxed.media[0]).remoteRtcp, { address: '192.0.2.1', port: 4000 });
    const refused = ok(answerOffer(offer('m=audio 4000 RTP/AVP 0', 'a=rtcp-mux'), policy({ rtcpMux: false })));
    assert.deepEqual([refused.answer.media[0]!.rtcpMux, accepted(refused.media[0]).remoteRtcp.port], [false, 4001]);
    const plain = ok(answerOffer(offer('m=audio 4000 RTP/AVP 0'), policy()));
    assert.equal(plain.answer.media[0]!.rtcpMux, false);
  });

  it('echoes the offer\'s ptime unless our policy sets one; reports the remote ptime and bandwidth', () => {
    const echoed = ok(answerOffer(offer('m=audio 4000 RTP/AVP 0', 'b=AS:64', 'a=ptime:30'), policy()));
    assert.deepEqual([echoed.answer.media[0]!.ptime, accepted(echoed.media[0]).ptime], [30, 30]);
    assert.deepEqual(accepted(echoed.media[0]).remoteBandwidth, [{ type: 'AS', value: 64 }]);
    const ours = ok(answerOffer(offer('m=audio 4000 RTP/AVP 0', 'a=ptime:30'), policy({ media: { audio: { codecs: [PCMU], ptime: 20, bandwidth: [{ type: 'TIAS', value: 64000 }] } } })));
    assert.equal(ours.answer.media[0]!.ptime, 20);
    assert.deepEqual(ours.answer.media[0]!.bandwidth, [{ type: 'TIAS', value: 64000 }]);
  });

  it('writes our o=, s=, c= and the offer\'s t=, and keeps each a=mid', () => {
    const o = mustParse('v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 192.0.2.1\r\nt=3034423619 3042462419\r\nm=audio 4000 RTP/AVP 0\r\na=mid:a\r\n');
    const origin = nextVersion(createOrigin('2001:db8::7', { username: 'focus', sessionId: '77' }));
    const { answer } = ok(answerOffer(o, { origin, address: '2001:db8::7', ports: [30000], sessionName: 'conf-42' }));
    assert.deepEqual(answer.origin, { username: 'focus', sessionId: '77', sessionVersion: 78n, addressType: 'IP6', address: '2001:db8::7' });
    assert.deepEqual([answer.name, answer.connection, answer.timing], ['conf-42', { addressType: 'IP6', address: '2001:db8::7' }, { start: 3034423619, stop: 3042462419 }]);
    assert.equal(answer.media[0]!.mid, 'a');
  });
});

describe('answerOffer: video', () => {
  it('H.264: packetization-mode must match, the profile must be compatible, the level may differ (RFC 6184 §8.2.2)', () => {
    const video = { video: { codecs: [H264_MODE1] } };
    const h264 = (fmtp: string): boolean =>
      answerOffer(offer('m=video 4000 RTP/AVP 97', 'a=rtpmap:97 H264/90000', `a=fmtp:97 ${fmtp}`), policy({ media: video })).ok;
    assert.equal(h264('profile-level-id=42e01f;packetization-mode=1'), true);
    assert.equal(h264('profile-level-id=42e00a;packetization-mode=1'), true, 'lower level');
    assert.equal(h264('profile-level-id=42c01f;packetization-mode=1'), true, 'constrained baseline written with constraint_set0 too');
    assert.equal(h264('profile-level-id=4d801f;packetization-mode=1'), true, 'Main with constraint_set0 is constrained baseline');
    assert.equal(h264('profile-level-id=42e01f'), false, 'packetization-mode absent = 0');
    assert.equal(h264('profile-level-id=4d001f;packetization-mode=1'), false, 'Main profile');
    assert.equal(h264('profile-level-id=640c1f;packetization-mode=1'), false, 'Constrained High');
    assert.equal(h264('profile-level-id=zz;packetization-mode=1'), false, 'garbage profile-level-id');
  });

  it('answers H.264 with the offer\'s own configuration and keeps the rtcp-fb both sides list', () => {
    const { answer, media } = ok(
      answerOffer(
        offer('m=video 4000 RTP/AVPF 97 96', 'a=rtpmap:97 H264/90000', 'a=fmtp:97 profile-level-id=42e01e;packetization-mode=1;level-asymmetry-allowed=1', 'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:* nack', 'a=rtcp-fb:97 goog-remb', 'a=rtcp-fb:97 nack pli'),
        policy({ media: { video: { codecs: [VP8, H264_MODE1] } } }),
      ),
    );
    const v = accepted(media[0]);
    assert.deepEqual([v.codec.encoding, v.codec.pt, answer.media[0]!.proto], ['H264', 97, 'RTP/AVPF']);
    assert.equal(answer.media[0]!.payloads[0]!.fmtp, 'profile-level-id=42e01e;packetization-mode=1;level-asymmetry-allowed=1');
    assert.deepEqual(answer.media[0]!.payloads[0]!.rtcpFb, [{ type: 'nack' }, { type: 'nack', param: 'pli' }]);
  });

  it('with our policy lacking video, a video stream is refused and audio still answered', () => {
    const { answer } = ok(answerOffer(offer('m=audio 4000 RTP/AVP 0', 'm=video 4002 RTP/AVP 96', 'a=rtpmap:96 VP8/90000'), policy({ media: { audio: { codecs: [PCMA, PCMU] } } })));
    assert.deepEqual(answer.media.map((m) => m.port), [30000, 0]);
  });
});
