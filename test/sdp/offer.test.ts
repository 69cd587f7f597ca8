/**
 * createOffer() and processAnswer(): sipmeet as the offerer (softclient, re-INVITE, third-party call control).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CODECS, PCMU, TELEPHONE_EVENT } from '../../sdp/codecs.ts';
import type { SessionDescription } from '../../sdp/model.ts';
import type { AcceptedMedia, NegotiatedMedia } from '../../sdp/negotiated.ts';
import { answerOffer } from '../../sdp/negotiate.ts';
import { createOffer, type OfferInit, processAnswer } from '../../sdp/offer.ts';
import { createOrigin, nextVersion } from '../../sdp/origin.ts';
import { writeSdp } from '../../sdp/write.ts';
import { mustParse } from './vectors.ts';

const US = '127.0.0.1';
const ORIGIN = createOrigin(US, { username: 'sipmeet', sessionId: '3000' });

function defaultOffer(extra: Partial<OfferInit> = {}): SessionDescription {
  return createOffer({
    origin: ORIGIN,
    address: US,
    media: [
      { type: 'audio', port: 20000, codecs: DEFAULT_CODECS.audio, ptime: 20 },
      { type: 'video', port: 20002, codecs: DEFAULT_CODECS.video },
    ],
    ...extra,
  });
}

function accepted(m: NegotiatedMedia | undefined): AcceptedMedia {
  assert.ok(m?.accepted, m !== undefined && !m.accepted ? m.reason : 'missing');
  return m;
}

/** An answer built from text lines after the usual session header. */
function answerSdp(...media: string[]): SessionDescription {
  return mustParse(`${['v=0', 'o=bob 9 9 IN IP4 192.0.2.2', 's=-', 'c=IN IP4 192.0.2.2', 't=0 0', ...media].join('\r\n')}\r\n`);
}

describe('createOffer', () => {
  it('writes our codecs with RFC 3551 static PTs, dynamic ones from 96, telephone-event per clock rate', () => {
    const text = writeSdp(defaultOffer());
    const sdp = mustParse(text);
    assert.deepEqual(sdp.media[0]!.formats, ['96', '0', '8', '9', '97', '98']);
    assert.deepEqual(sdp.media[1]!.formats, ['96', '97', '98']);
    for (const line of [
      'o=sipmeet 3000 3000 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 20000 RTP/AVP 96 0 8 9 97 98',
      'a=rtpmap:96 opus/48000/2',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:9 G722/8000',
      'a=rtpmap:97 telephone-event/48000',
      'a=rtpmap:98 telephone-event/8000',
      'a=fmtp:98 0-16',
      'a=ptime:20',
      'a=sendrecv',
      'm=video 20002 RTP/AVP 96 97 98',
      'a=rtpmap:97 H264/90000',
      'a=fmtp:97 profile-level-id=42e01f;packetization-mode=1',
      'a=rtcp-fb:96 nack pli',
    ]) {
      assert.ok(text.includes(`${line}\r\n`), line);
    }
  });

  it('a re-offer keeps the previous PTs, a disabled stream keeps its place with port 0, hold is sendonly', () => {
    const first = defaultOffer();
    const again = createOffer({
      origin: nextVersion(ORIGIN),
      address: US,
      previous: first,
      media: [
        { type: 'audio', port: 20000, codecs: [PCMU, TELEPHONE_EVENT], direction: 'sendonly', payloadTypes: [{ pt: 101, codec: { encoding: 'telephone-event', clockRate: 8000 } }] },
        { type: 'video', port: 0, codecs: DEFAULT_CODECS.video },
      ],
    });
    assert.equal(again.origin.sessionVersion, 3001n);
    assert.deepEqual(again.media.map((m) => [m.port, m.formats.join(' '), m.direction]), [
      [20000, '0 101', 'sendonly'],
      [0, '96 97 98', undefined],
    ]);
  });

  it('throws on API misuse: fewer or retyped m= lines than before, a bad port, no codecs', () => {
    const first = defaultOffer();
    assert.throws(() => createOffer({ origin: ORIGIN, address: US, previous: first, media: [{ type: 'audio', port: 1, codecs: [PCMU] }] }), TypeError);
    assert.throws(
      () => createOffer({ origin: ORIGIN, address: US, previous: first, media: [{ type: 'audio', port: 1, codecs: [PCMU] }, { type: 'audio', port: 2, codecs: [PCMU] }] }),
      /was video, cannot become audio/,
    );
    assert.throws(() => createOffer({ origin: ORIGIN, address: US, media: [{ type: 'audio', port: 70000, codecs: [PCMU] }] }), /bad port/);
    assert.throws(() => createOffer({ origin: ORIGIN, address: US, media: [{ type: 'audio', port: 1, codecs: [] }] }), /at least one codec/);
  });
});

describe('processAnswer', () => {
  it('our offer answered by our own answerer: both sides agree on codecs, PTs and directions', () => {
    const offer = defaultOffer();
    const answered = answerOffer(mustParse(writeSdp(offer)), { origin: createOrigin('192.0.2.2'), address: '192.0.2.2', ports: [40000, 40002] });
    assert.ok(answered.ok);
    const r = processAnswer(offer, mustParse(writeSdp(answered.answer)));
    assert.ok(r.ok, r.ok ? '' : r.error);
    const [audio, video] = r.value;
    assert.deepEqual([accepted(audio).codec.encoding, accepted(audio).codec.pt, accepted(audio).telephoneEvent?.pt], ['opus', 96, 97]);
    assert.deepEqual([accepted(video).codec.encoding, accepted(video).codec.pt], ['VP8', 96]);
    assert.deepEqual(accepted(audio).remoteRtp, { address: '192.0.2.2', port: 40000 });
    assert.deepEqual([accepted(audio).localPort, accepted(audio).direction], [20000, 'sendrecv']);
    answered.media.forEach((m, i) => assert.equal(accepted(m).codec.pt, accepted(r.value[i]).codec.pt));
  });

  it('a stream answered with port 0 is rejected; the others are used', () => {
    const r = processAnswer(defaultOffer(), answerSdp('m=audio 5000 RTP/AVP 0', 'm=video 0 RTP/AVP 96'));
    assert.ok(r.ok);
    assert.deepEqual(r.value.map((m) => (m.accepted ? m.codec.encoding : m.reason)), ['PCMU', 'rejected by the answerer (port 0)']);
  });

  it('our direction follows the answer: recvonly answer to sendrecv → we only send', () => {
    const r = processAnswer(defaultOffer(), answerSdp('m=audio 5000 RTP/AVP 8', 'a=recvonly', 'm=video 0 RTP/AVP 96'));
    assert.ok(r.ok);
    assert.equal(accepted(r.value[0]).direction, 'sendonly');
  });

  it('skips answered formats we never offered or that the answer maps to another codec', () => {
    const r = processAnswer(defaultOffer(), answerSdp('m=audio 5000 RTP/AVP 18 96 8', 'a=rtpmap:96 iLBC/8000', 'm=video 0 RTP/AVP 96'));
    assert.ok(r.ok);
    assert.deepEqual(accepted(r.value[0]).codecs.map((c) => `${c.pt} ${c.encoding}`), ['8 PCMA']);
    const none = processAnswer(defaultOffer(), answerSdp('m=audio 5000 RTP/AVP 18', 'm=video 0 RTP/AVP 96'));
    assert.ok(none.ok);
    assert.deepEqual(none.value.map((m) => m.accepted), [false, false]);
    assert.equal(none.value[0]!.accepted ? '' : none.value[0]!.reason, 'the answer lists none of the offered formats');
  });

  it('errors on an answer that breaks RFC 3264: m= count, media type, direction, a disabled stream revived', () => {
    const offer = defaultOffer();
    const error = (a: SessionDescription, o: SessionDescription = offer): string => {
      const r = processAnswer(o, a);
      assert.equal(r.ok, false);
      return r.ok ? '' : r.error;
    };
    assert.match(error(answerSdp('m=audio 5000 RTP/AVP 0')), /answer has 1 m= lines, the offer 2/);
    assert.match(error(answerSdp('m=audio 5000 RTP/AVP 0', 'm=audio 5002 RTP/AVP 0')), /m= line 2 \(video\): answered as audio/);
    const held = createOffer({ origin: ORIGIN, address: US, media: [{ type: 'audio', port: 20000, codecs: [PCMU], direction: 'sendonly' }] });
    assert.match(error(answerSdp('m=audio 5000 RTP/AVP 0', 'a=sendrecv'), held), /sendrecv is not a legal answer to sendonly/);
    const disabled = createOffer({ origin: ORIGIN, address: US, media: [{ type: 'audio', port: 0, codecs: [PCMU] }] });
    assert.match(error(answerSdp('m=audio 5000 RTP/AVP 0'), disabled), /disabled in the offer but answered with port 5000/);
  });
});
