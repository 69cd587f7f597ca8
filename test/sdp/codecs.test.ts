/**
 * The codec table and the small pieces the negotiation stands on: RFC 3551 static payload types, codec
 * identity, H.264 configurations, fmtp parameters, direction algebra, o= versions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sameCodec, staticPayloadTypeFor, staticRtpmap } from '../../sdp/codecs.ts';
import { answerDirection, answerDirectionAllowed, offererDirection } from '../../sdp/direction.ts';
import { parseFmtpParams } from '../../sdp/fmtp.ts';
import { parseH264Config } from '../../sdp/h264.ts';
import type { Direction } from '../../sdp/model.ts';
import { createOrigin, nextVersion } from '../../sdp/origin.ts';

describe('RFC 3551 static payload types', () => {
  it('gives PCMU, GSM, G723, PCMA, G722 at 8000 Hz (not 16000), CN, G729 and H263', () => {
    const names = [0, 3, 4, 8, 9, 13, 18, 34].map((pt) => {
      const r = staticRtpmap(pt);
      return r === undefined ? '?' : `${pt} ${r.encoding}/${r.clockRate}`;
    });
    assert.deepEqual(names, ['0 PCMU/8000', '3 GSM/8000', '4 G723/8000', '8 PCMA/8000', '9 G722/8000', '13 CN/8000', '18 G729/8000', '34 H263/90000']);
    assert.equal(staticRtpmap(96), undefined);
    assert.equal(staticRtpmap(2), undefined, 'PT 2 is no longer assigned');
  });

  it('finds the static PT of a codec, case-insensitively, and none for dynamic-only codecs', () => {
    assert.equal(staticPayloadTypeFor('audio', { encoding: 'pcma', clockRate: 8000 }), 8);
    assert.equal(staticPayloadTypeFor('audio', { encoding: 'G722', clockRate: 16000 }), undefined);
    assert.equal(staticPayloadTypeFor('audio', { encoding: 'opus', clockRate: 48000, channels: 2 }), undefined);
  });
});

describe('sameCodec', () => {
  it('compares encoding case-insensitively, clock rate, and audio channels (1 when omitted)', () => {
    assert.equal(sameCodec('audio', { encoding: 'PCMU', clockRate: 8000 }, { encoding: 'pcmu', clockRate: 8000, channels: 1 }), true);
    assert.equal(sameCodec('audio', { encoding: 'L16', clockRate: 44100, channels: 2 }, { encoding: 'L16', clockRate: 44100 }), false);
    assert.equal(sameCodec('audio', { encoding: 'PCMU', clockRate: 8000 }, { encoding: 'PCMU', clockRate: 16000 }), false);
  });

  it('treats opus as 2 channels always, and ignores channels for video', () => {
    assert.equal(sameCodec('audio', { encoding: 'opus', clockRate: 48000 }, { encoding: 'OPUS', clockRate: 48000, channels: 2 }), true);
    assert.equal(sameCodec('video', { encoding: 'VP8', clockRate: 90000, channels: 1 }, { encoding: 'VP8', clockRate: 90000 }), true);
  });
});

describe('H.264 configuration (RFC 6184 §8.1)', () => {
  it('reads profile, level and packetization-mode, with the defaults when absent', () => {
    assert.deepEqual(parseH264Config('packetization-mode=1;profile-level-id=42E01F'), {
      profile: 'constrained-baseline',
      profileIdc: 0x42,
      profileIop: 0xe0,
      level: 0x1f,
      packetizationMode: 1,
    });
    assert.deepEqual(parseH264Config(undefined), { profile: 'baseline', profileIdc: 0x42, profileIop: 0, level: 0x0a, packetizationMode: 0 });
    assert.equal(parseH264Config('profile-level-id=640032')?.profile, 'high');
    assert.equal(parseH264Config('packetization-mode=3'), undefined);
  });
});

describe('fmtp parameters', () => {
  it('splits name=value pairs, trims blanks, lowercases names', () => {
    assert.deepEqual([...parseFmtpParams('minptime=10; useinbandfec=1;Stereo = 1;flag')], [
      ['minptime', '10'],
      ['useinbandfec', '1'],
      ['stereo', '1'],
      ['flag', ''],
    ]);
  });
});

describe('direction algebra (RFC 3264 §6.1)', () => {
  const all: Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];
  it('every answer we generate is one the offerer must accept', () => {
    for (const offered of all) for (const wanted of all) assert.ok(answerDirectionAllowed(offered, answerDirection(offered, wanted)), `${offered}/${wanted}`);
  });

  it('refuses the answers RFC 3264 §6.1 forbids', () => {
    assert.equal(answerDirectionAllowed('sendonly', 'sendrecv'), false);
    assert.equal(answerDirectionAllowed('recvonly', 'recvonly'), false);
    assert.equal(answerDirectionAllowed('inactive', 'sendonly'), false);
  });

  it('the offerer ends up with the mirror of the answer', () => {
    assert.equal(offererDirection('sendrecv', 'recvonly'), 'sendonly');
    assert.equal(offererDirection('sendonly', 'recvonly'), 'sendonly');
    assert.equal(offererDirection('sendrecv', 'inactive'), 'inactive');
  });
});

describe('origin', () => {
  it('nextVersion increments by one and keeps the rest (RFC 3264 §8), beyond 2^53 exactly', () => {
    const o = createOrigin('::1', { sessionId: '9007199254740993' });
    assert.deepEqual([o.addressType, o.username, o.sessionVersion], ['IP6', '-', 9007199254740993n]);
    assert.deepEqual(nextVersion(nextVersion(o)), { ...o, sessionVersion: 9007199254740995n });
  });

  it('a random session id when none is given; throws on a non-numeric one', () => {
    assert.match(createOrigin('192.0.2.1').sessionId, /^\d+$/);
    assert.throws(() => createOrigin('192.0.2.1', { sessionId: 'abc' }), TypeError);
  });
});
