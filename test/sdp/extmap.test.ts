/**
 * RFC 8285 a=extmap offer/answer for the RFC 6464 audio level, both sides, on annotated SDP:
 *   - the focus as answerer reads levels (answer /recvonly with the offer's id) and never asks for them when the
 *     offerer will not send; its policy has no sendAudioLevel;
 *   - the softclient as answerer (sendAudioLevel) sends them when the offer reads them;
 *   - processAnswer() after our offer: which id each side sends under;
 *   - malformed a=extmap lines are ignored without throwing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CODECS, PCMU } from '../../sdp/codecs.ts';
import { AUDIO_LEVEL_URI, extmapsOf, OFFERED_AUDIO_LEVEL, SENDING_AUDIO_LEVEL, type Extmap } from '../../sdp/extmap.ts';
import type { SessionDescription } from '../../sdp/model.ts';
import type { AcceptedMedia, NegotiatedMedia } from '../../sdp/negotiated.ts';
import { type AnswerPolicy, answerOffer } from '../../sdp/negotiate.ts';
import { createOffer, processAnswer } from '../../sdp/offer.ts';
import { createOrigin } from '../../sdp/origin.ts';
import { writeSdp } from '../../sdp/write.ts';
import { mustParse } from './vectors.ts';

const US = '198.51.100.7';
const LEVEL = AUDIO_LEVEL_URI;

/** A description with the usual session header and these media lines. */
function sdp(...media: string[]): SessionDescription {
  return mustParse(`${['v=0', 'o=peer 5 5 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', ...media].join('\r\n')}\r\n`);
}

/** The focus's answer policy: reads levels, sends none (no sendAudioLevel). */
const FOCUS: AnswerPolicy = { origin: createOrigin(US, { sessionId: '42' }), address: US, ports: [30000, 30002] };
/** The softclient's: sends levels when asked. */
const CLIENT: AnswerPolicy = { ...FOCUS, sendAudioLevel: true };

function accepted(m: NegotiatedMedia | undefined): AcceptedMedia {
  assert.ok(m?.accepted, m !== undefined && !m.accepted ? m.reason : 'missing');
  return m;
}

/** Answer `offer`; return the a=extmap lines of the written answer's m= line `i` and what was agreed. */
function answer(offer: SessionDescription, policy: AnswerPolicy, i = 0): { lines: string[]; media: AcceptedMedia } {
  const r = answerOffer(offer, policy);
  if (!r.ok) assert.fail(`488: ${r.reason}`);
  const text = writeSdp(r.answer);
  const section = text.split(/\r\nm=/)[i + 1] ?? '';
  return { lines: section.split('\r\n').filter((l) => l.startsWith('a=extmap:')), media: accepted(r.media[i]) };
}

function levelIds(m: AcceptedMedia): { receive: number | undefined; send: number | undefined } {
  return { receive: m.audioLevelExtId, send: m.sendAudioLevelExtId };
}

describe('the focus answers (reads levels, sends none)', () => {
  it('echoes an offered level extmap /recvonly with the offer\'s id', () => {
    // Linphone/WebRTC style: "a=extmap:3 urn:…" — the offerer sends levels (sendrecv).
    const { lines, media } = answer(sdp('m=audio 4000 RTP/AVP 0', `a=extmap:3 ${LEVEL}`), FOCUS);
    assert.deepEqual(lines, [`a=extmap:3/recvonly ${LEVEL}`]);
    assert.deepEqual(levelIds(media), { receive: 3, send: undefined });
  });

  it('reads levels from an offer that only sends them (/sendonly → /recvonly)', () => {
    const { lines, media } = answer(sdp('m=audio 4000 RTP/AVP 0', `a=extmap:7/sendonly ${LEVEL} vad=on`), FOCUS);
    assert.deepEqual(lines, [`a=extmap:7/recvonly ${LEVEL}`]);
    assert.deepEqual(levelIds(media), { receive: 7, send: undefined });
  });

  it('no extmap in the offer → none in the answer (RFC 8285 §7: never added)', () => {
    const { lines, media } = answer(sdp('m=audio 4000 RTP/AVP 0'), FOCUS);
    assert.deepEqual(lines, []);
    assert.deepEqual(levelIds(media), { receive: undefined, send: undefined });
  });

  it('an offerer that will not send levels (/recvonly) is not asked for them', () => {
    const { lines, media } = answer(sdp('m=audio 4000 RTP/AVP 0', `a=extmap:1/recvonly ${LEVEL}`), FOCUS);
    assert.deepEqual(lines, []);
    assert.deepEqual(levelIds(media), { receive: undefined, send: undefined });
  });

  it('other extensions and the URI on a video line are left out', () => {
    const offer = sdp(
      'm=audio 4000 RTP/AVP 0',
      'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
      `a=extmap:4 ${LEVEL}`,
      'm=video 4002 RTP/AVP 96',
      'a=rtpmap:96 VP8/90000',
      `a=extmap:4 ${LEVEL}`,
    );
    assert.deepEqual(answer(offer, FOCUS).lines, [`a=extmap:4/recvonly ${LEVEL}`]);
    const video = answer(offer, FOCUS, 1);
    assert.deepEqual(video.lines, []);
    assert.deepEqual(levelIds(video.media), { receive: undefined, send: undefined });
  });
});

describe('the softclient answers (sendAudioLevel: sends levels when the offerer reads them)', () => {
  it('the focus\'s offer reads levels (/recvonly) → answer /sendonly, same id; we send under it', () => {
    const { lines, media } = answer(sdp('m=audio 4000 RTP/AVP 0', `a=extmap:1/recvonly ${LEVEL}`), CLIENT);
    assert.deepEqual(lines, [`a=extmap:1/sendonly ${LEVEL}`]);
    assert.deepEqual(levelIds(media), { receive: undefined, send: 1 });
  });

  it('an offer that sends and reads (no direction) → answer with no direction: both ways, one id', () => {
    const { lines, media } = answer(sdp('m=audio 4000 RTP/AVP 0', `a=extmap:5 ${LEVEL}`), CLIENT);
    assert.deepEqual(lines, [`a=extmap:5 ${LEVEL}`]);
    assert.deepEqual(levelIds(media), { receive: 5, send: 5 });
  });

  it('an offer that only sends (/sendonly) → /recvonly: we must not send to an offerer that reads none', () => {
    const { lines, media } = answer(sdp('m=audio 4000 RTP/AVP 0', `a=extmap:6/sendonly ${LEVEL}`), CLIENT);
    assert.deepEqual(lines, [`a=extmap:6/recvonly ${LEVEL}`]);
    assert.deepEqual(levelIds(media), { receive: 6, send: undefined });
  });

  it('an /inactive mapping, or none, agrees nothing', () => {
    for (const offer of [sdp('m=audio 4000 RTP/AVP 0', `a=extmap:2/inactive ${LEVEL}`), sdp('m=audio 4000 RTP/AVP 0')]) {
      const { lines, media } = answer(offer, CLIENT);
      assert.deepEqual(lines, []);
      assert.deepEqual(levelIds(media), { receive: undefined, send: undefined });
    }
  });
});

describe('processAnswer: the ids agreed after our offer', () => {
  /** Our audio offer with these extmaps, and the answer's audio line with these a= lines. */
  function agreed(ours: readonly Extmap[], ...answered: string[]): { receive: number | undefined; send: number | undefined } {
    const offer = createOffer({ origin: createOrigin(US), address: US, media: [{ type: 'audio', port: 20000, codecs: [PCMU], extmaps: ours }] });
    const r = processAnswer(offer, sdp('m=audio 4000 RTP/AVP 0', ...answered));
    assert.ok(r.ok, r.ok ? '' : r.error);
    return levelIds(accepted(r.value[0]));
  }

  it('the focus offered a=extmap:1/recvonly: a /sendonly answer under id 1 sends levels to us', () => {
    assert.deepEqual(agreed([OFFERED_AUDIO_LEVEL], `a=extmap:1/sendonly ${LEVEL}`), { receive: 1, send: undefined });
    assert.deepEqual(agreed([OFFERED_AUDIO_LEVEL], `a=extmap:1 ${LEVEL}`), { receive: 1, send: undefined }, 'sendrecv: it sends; we offered to send none');
    assert.deepEqual(agreed([OFFERED_AUDIO_LEVEL], `a=extmap:2/sendonly ${LEVEL}`), { receive: undefined, send: undefined }, 'not the offered id');
    assert.deepEqual(agreed([OFFERED_AUDIO_LEVEL]), { receive: undefined, send: undefined }, 'left out');
  });

  it('the softclient offered a=extmap:1 (sends and reads): the focus\'s /recvonly answer lets us send under 1', () => {
    assert.deepEqual(agreed([SENDING_AUDIO_LEVEL], `a=extmap:1/recvonly ${LEVEL}`), { receive: undefined, send: 1 });
    assert.deepEqual(agreed([SENDING_AUDIO_LEVEL], `a=extmap:1 ${LEVEL}`), { receive: 1, send: 1 });
    assert.deepEqual(agreed([SENDING_AUDIO_LEVEL], `a=extmap:1/sendonly ${LEVEL}`), { receive: 1, send: undefined }, 'it reads none of ours');
    assert.deepEqual(agreed([SENDING_AUDIO_LEVEL], `a=extmap:1/inactive ${LEVEL}`), { receive: undefined, send: undefined });
    assert.deepEqual(agreed([SENDING_AUDIO_LEVEL], `a=extmap:9/recvonly ${LEVEL}`), { receive: undefined, send: undefined }, 'a different id');
    assert.deepEqual(agreed([SENDING_AUDIO_LEVEL]), { receive: undefined, send: undefined }, 'left out: nothing agreed');
    assert.deepEqual(agreed([], `a=extmap:1/recvonly ${LEVEL}`), { receive: undefined, send: undefined }, 'not offered');
  });

  it('end to end: client offer → focus answer, and focus offer → client answer, agree the same id on both sides', () => {
    // Softclient offers, the focus answers.
    const clientOffer = createOffer({ origin: createOrigin(US), address: US, media: [{ type: 'audio', port: 20000, codecs: DEFAULT_CODECS.audio, extmaps: [SENDING_AUDIO_LEVEL] }] });
    const focusAnswer = answerOffer(mustParse(writeSdp(clientOffer)), FOCUS);
    assert.ok(focusAnswer.ok);
    assert.deepEqual(levelIds(accepted(focusAnswer.media[0])), { receive: 1, send: undefined }, 'the focus reads under 1');
    const atClient = processAnswer(clientOffer, mustParse(writeSdp(focusAnswer.answer)));
    assert.ok(atClient.ok);
    assert.deepEqual(levelIds(accepted(atClient.value[0])), { receive: undefined, send: 1 }, 'the client sends under 1');

    // The focus offers (late offer, re-INVITE), the softclient answers.
    const focusOffer = createOffer({ origin: createOrigin(US), address: US, media: [{ type: 'audio', port: 20000, codecs: DEFAULT_CODECS.audio, extmaps: [OFFERED_AUDIO_LEVEL] }] });
    const clientAnswer = answerOffer(mustParse(writeSdp(focusOffer)), CLIENT);
    assert.ok(clientAnswer.ok);
    assert.deepEqual(levelIds(accepted(clientAnswer.media[0])), { receive: undefined, send: 1 });
    const atFocus = processAnswer(focusOffer, mustParse(writeSdp(clientAnswer.answer)));
    assert.ok(atFocus.ok);
    assert.deepEqual(levelIds(accepted(atFocus.value[0])), { receive: 1, send: undefined });
  });
});

describe('malformed a=extmap lines', () => {
  it('id 0, 15, 300, no URI, an unknown direction, a non-numeric id: ignored, the good line kept, nothing throws', () => {
    const offer = sdp(
      'm=audio 4000 RTP/AVP 0',
      `a=extmap:0 ${LEVEL}`, // §4.2: 0 is padding, never an id
      `a=extmap:15 ${LEVEL}`, // §4.2: reserved
      `a=extmap:300 ${LEVEL}`, // above 255: no form can carry it
      'a=extmap:4', // no URI
      'a=extmap:5 ', // empty URI
      `a=extmap:6/sideways ${LEVEL}`, // not a §5 direction
      `a=extmap:x ${LEVEL}`,
      `a=extmap:12 ${LEVEL}`,
    );
    assert.deepEqual(extmapsOf(offer.media[0]!), [{ id: 12, uri: LEVEL }]);
    const focus = answer(offer, FOCUS);
    assert.deepEqual(focus.lines, [`a=extmap:12/recvonly ${LEVEL}`]);
    const client = answer(offer, CLIENT);
    assert.deepEqual(client.lines, [`a=extmap:12 ${LEVEL}`]);
    assert.deepEqual(levelIds(client.media), { receive: 12, send: 12 });
  });

  it('an offer with only malformed level lines is answered without any', () => {
    const { lines, media } = answer(sdp('m=audio 4000 RTP/AVP 0', `a=extmap:15 ${LEVEL}`, `a=extmap:0/recvonly ${LEVEL}`), CLIENT);
    assert.deepEqual(lines, []);
    assert.deepEqual(levelIds(media), { receive: undefined, send: undefined });
  });
});
