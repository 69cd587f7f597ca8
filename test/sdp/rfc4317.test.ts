/**
 * RFC 4317 offer/answer examples: Bob is sipmeet's answerer, configured with the codecs Bob supports in each
 * section; its answer must match Bob's answer in the RFC where it matters (m= count, ports, port 0 where
 * refused, payload types and their order, direction, t=, o= version). The RFC's answers are also fed to our
 * offerer side (processAnswer) as if we were Alice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CodecSpec, PCMA, PCMU, TELEPHONE_EVENT } from '../../sdp/codecs.ts';
import { effectiveDirection, type Origin, type SessionDescription } from '../../sdp/model.ts';
import { answerOffer, type MediaPolicy } from '../../sdp/negotiate.ts';
import { processAnswer } from '../../sdp/offer.ts';
import { createOrigin, nextVersion } from '../../sdp/origin.ts';
import { writeSdp } from '../../sdp/write.ts';
import { mustParse, vectorText } from './vectors.ts';

const ILBC: CodecSpec = { encoding: 'iLBC', clockRate: 8000 };
const H261: CodecSpec = { encoding: 'H261', clockRate: 90000 };
const MPV: CodecSpec = { encoding: 'MPV', clockRate: 90000 };

interface Section {
  readonly name: string;
  readonly prefix: string;
  /** Bob's codecs per media type. */
  readonly bob: Readonly<Record<string, MediaPolicy>>;
  readonly answerAllCommonCodecs?: boolean;
  readonly exchanges: number;
}

const SECTIONS: readonly Section[] = [
  { name: '§2.1 Audio and Video 1: one codec kept per stream', prefix: '2.1', bob: { audio: { codecs: [PCMU] }, video: { codecs: [MPV] } }, exchanges: 1 },
  {
    name: '§2.2 Audio and Video 2: video refused with port 0, audio narrowed to PCMU by a re-offer',
    prefix: '2.2',
    bob: { audio: { codecs: [PCMU, PCMA] } },
    answerAllCommonCodecs: true,
    exchanges: 2,
  },
  {
    name: '§2.4 Two Audio Streams: a sendonly telephone-event stream is answered recvonly',
    prefix: '2.4',
    bob: { audio: { codecs: [ILBC, TELEPHONE_EVENT] } },
    exchanges: 1,
  },
  { name: '§3.1 Hold and Unhold 1: sendonly → recvonly, then sendrecv again', prefix: '3.1', bob: { audio: { codecs: [ILBC] } }, exchanges: 3 },
  {
    name: '§3.2 Hold with Two Streams: both streams held sendonly, both answered recvonly',
    prefix: '3.2',
    bob: { audio: { codecs: [ILBC] }, video: { codecs: [H261] } },
    exchanges: 2,
  },
  { name: 'RFC 3264 §8.4: recvonly answered sendonly, then its hold (inactive) answered inactive', prefix: 'hold-inactive', bob: { audio: { codecs: [ILBC] } }, exchanges: 2 },
];

function file(prefix: string, kind: 'offer' | 'answer', n: number): string {
  return `rfc4317/${prefix}-${kind}${n === 1 ? '' : `-${n}`}.sdp`;
}

function encodingOf(s: SessionDescription, i: number, pt: number): string {
  const r = s.media[i]?.payloads.find((p) => p.pt === pt)?.rtpmap;
  return r === undefined ? '?' : `${r.encoding.toLowerCase()}/${r.clockRate}`;
}

/** Our answer (written and parsed back) against the RFC's answer. */
function assertEquivalent(ours: SessionDescription, rfc: SessionDescription, offer: SessionDescription): void {
  assert.equal(ours.media.length, rfc.media.length, 'm= line count');
  assert.deepEqual(ours.timing, offer.timing, 't= equals the offer (RFC 3264 §6)');
  ours.media.forEach((m, i) => {
    const theirs = rfc.media[i]!;
    assert.equal(m.type, theirs.type, `m= ${i + 1} type`);
    assert.equal(m.port, theirs.port, `m= ${i + 1} port`);
    if (theirs.port === 0) {
      for (const fmt of m.formats) assert.ok(offer.media[i]!.formats.includes(fmt), `rejected m= ${i + 1} lists offered formats only`);
      return;
    }
    assert.deepEqual(m.formats, theirs.formats, `m= ${i + 1} payload types and order`);
    for (const p of m.payloads) assert.equal(encodingOf(ours, i, p.pt), encodingOf(rfc, i, p.pt), `m= ${i + 1} PT ${p.pt}`);
    assert.equal(effectiveDirection(ours, m), effectiveDirection(rfc, theirs), `m= ${i + 1} direction`);
  });
}

describe('RFC 4317 offer/answer examples, sipmeet as Bob', () => {
  for (const section of SECTIONS) {
    it(section.name, () => {
      let origin: Origin | undefined;
      for (let n = 1; n <= section.exchanges; n++) {
        const offer = mustParse(vectorText(file(section.prefix, 'offer', n)));
        const rfcAnswer = mustParse(vectorText(file(section.prefix, 'answer', n)));
        // Bob's o= line: created once, then incremented by one per answer (RFC 3264 §8).
        origin = origin === undefined ? createOrigin('host.biloxi.example.com', { username: 'bob', sessionId: rfcAnswer.origin.sessionId }) : nextVersion(origin);
        const result = answerOffer(offer, {
          origin,
          address: 'host.biloxi.example.com',
          ports: rfcAnswer.media.map((m) => m.port),
          media: section.bob,
          answerAllCommonCodecs: section.answerAllCommonCodecs ?? false,
        });
        assert.ok(result.ok, `exchange ${n} answered`);
        const ours = mustParse(writeSdp(result.answer));
        assertEquivalent(ours, rfcAnswer, offer);
        assert.equal(ours.origin.sessionVersion, rfcAnswer.origin.sessionVersion, `exchange ${n} o= version`);

        // Alice's side: the RFC's answer agrees with what our answerer decided, stream by stream.
        const alice = processAnswer(offer, rfcAnswer);
        assert.ok(alice.ok, alice.ok ? '' : alice.error);
        alice.value.forEach((m, i) => {
          const bob = result.media[i]!;
          assert.equal(m.accepted, bob.accepted, `exchange ${n} m= ${i + 1} accepted on both sides`);
          if (m.accepted && bob.accepted) assert.equal(m.codec.pt, bob.codec.pt, `exchange ${n} m= ${i + 1} codec`);
        });
      }
    });
  }

  it('§2.4: the events-only stream carries telephone-event as its codec and Bob only receives it', () => {
    const offer = mustParse(vectorText('rfc4317/2.4-offer.sdp'));
    const result = answerOffer(offer, {
      origin: createOrigin('192.0.2.2'),
      address: '192.0.2.2',
      ports: [49172, 49174],
      media: { audio: { codecs: [ILBC, TELEPHONE_EVENT] } },
    });
    assert.ok(result.ok);
    const [voice, events] = result.media;
    assert.ok(voice?.accepted && events?.accepted);
    assert.equal(voice.codec.encoding, 'iLBC');
    assert.equal(voice.telephoneEvent, undefined, 'no telephone-event offered on the first stream');
    assert.deepEqual([events.codec.encoding, events.codec.pt, events.direction], ['telephone-event', 98, 'recvonly']);
    assert.deepEqual(events.remoteRtp, { address: 'host.atlanta.example.com', port: 49172 });
  });
});
