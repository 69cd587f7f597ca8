/**
 * parseSdp() on good and bad input: the model it builds, and a clear error (never an exception) for SDP that
 * breaks RFC 4566.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectiveConnection, effectiveDirection } from '../../sdp/model.ts';
import { answerOffer } from '../../sdp/negotiate.ts';
import { createOrigin } from '../../sdp/origin.ts';
import { MAX_SDP_LENGTH, parseSdp } from '../../sdp/session.ts';
import { writeSdp } from '../../sdp/write.ts';
import { mustParse, sipBody } from './vectors.ts';

const crlf = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;

const HEAD = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'];

function error(text: string | Buffer): string {
  const r = parseSdp(text);
  assert.equal(r.ok, false, 'parse must fail');
  return r.ok ? '' : r.error;
}

describe('parseSdp: the typed model', () => {
  it('reads o=, c=, b=, m= with port count, a=rtcp, rtcp-mux, ptime, mid, label, content, ssrc, session direction', () => {
    const s = mustParse(
      crlf([
        'v=0',
        'o=jdoe 9223372036854775807 9223372036854775806 IN IP6 2001:db8::1',
        's=Meeting',
        'c=IN IP6 2001:db8::2',
        'b=AS:512',
        't=0 0',
        'a=sendonly',
        'm=audio 49170/2 RTP/AVPF 111 0',
        'b=TIAS:64000',
        'b=X-YZ:128',
        'a=rtpmap:111 OPUS/48000/2',
        'a=rtcp:53020 IN IP4 192.0.2.9',
        'a=rtcp-mux',
        'a=ptime:20',
        'a=maxptime:60',
        'a=mid:a1',
        'a=label:7',
        'a=ssrc:12345 cname:user@example',
        'm=video 51372 RTP/AVP 96',
        'c=IN IP4 192.0.2.3',
        'a=rtpmap:96 VP8/90000',
        'a=recvonly',
        'a=content:slides',
      ]),
    );
    assert.deepEqual(s.origin, {
      username: 'jdoe',
      sessionId: '9223372036854775807',
      sessionVersion: 9223372036854775806n,
      addressType: 'IP6',
      address: '2001:db8::1',
    });
    assert.deepEqual(s.bandwidth, [{ type: 'AS', value: 512 }]);
    const [audio, video] = s.media;
    assert.ok(audio && video);
    assert.deepEqual([audio.port, audio.portCount, audio.proto], [49170, 2, 'RTP/AVPF']);
    assert.deepEqual(audio.bandwidth, [{ type: 'TIAS', value: 64000 }, { type: 'X-YZ', value: 128 }]);
    assert.deepEqual(audio.rtcp, { port: 53020, connection: { addressType: 'IP4', address: '192.0.2.9' } });
    assert.deepEqual([audio.rtcpMux, audio.ptime, audio.maxptime, audio.mid, audio.label], [true, 20, 60, 'a1', '7']);
    assert.deepEqual(audio.ssrcs, [{ id: 12345, attribute: 'cname', value: 'user@example' }]);
    assert.deepEqual(audio.payloads.map((p) => p.rtpmap?.encoding), ['OPUS', 'PCMU']);
    // RFC 3264 §5.1: the session-level direction applies to a stream without its own.
    assert.equal(effectiveDirection(s, audio), 'sendonly');
    assert.equal(effectiveDirection(s, video), 'recvonly');
    assert.deepEqual(effectiveConnection(s, audio), { addressType: 'IP6', address: '2001:db8::2' });
    assert.deepEqual(effectiveConnection(s, video), { addressType: 'IP4', address: '192.0.2.3' });
    assert.equal(video.content, 'slides');

    const again = writeSdp(s);
    assert.match(again, /\r\nm=audio 49170\/2 RTP\/AVPF 111 0\r\n/);
    assert.match(again, /\r\no=jdoe 9223372036854775807 9223372036854775806 IN IP6 2001:db8::1\r\n/);
    assert.match(again, /\r\nb=X-YZ:128\r\n/);
    assert.deepEqual(mustParse(again), s);
  });

  it('accepts LF-only line ends (RFC 4566 §5: parsers SHOULD be tolerant) and a Buffer', () => {
    const s = mustParse([...HEAD, 'm=audio 4000 RTP/AVP 8'].join('\n'));
    assert.equal(s.media[0]?.payloads[0]?.rtpmap?.encoding, 'PCMA');
    assert.equal(parseSdp(Buffer.from(crlf([...HEAD, 'm=audio 4000 RTP/AVP 8']))).ok, true);
  });

  it('keeps unknown attributes, repeated ones and formats of non-RTP media', () => {
    const text = crlf([...HEAD, 'a=tool:x', 'm=application 5000 UDP/BFCP *', 'a=floorctrl:c-s', 'a=x-foo:1', 'a=x-foo:2']);
    const s = mustParse(text);
    assert.deepEqual(s.media[0]?.formats, ['*']);
    assert.deepEqual(s.media[0]?.payloads, []);
    const written = writeSdp(s);
    for (const line of ['a=tool:x', 'm=application 5000 UDP/BFCP *', 'a=floorctrl:c-s', 'a=x-foo:1', 'a=x-foo:2']) {
      assert.ok(written.includes(`${line}\r\n`), line);
    }
  });

  it('keeps typed attributes it cannot use (rtpmap for an unlisted PT, bad ptime, rtcp, ssrc, rtpmap) exactly as written', () => {
    const odd = ['a=rtpmap:97 iLBC/8000', 'a=fmtp:97 mode=30', 'a=ptime:abc', 'a=rtcp:port', 'a=ssrc:99999999999 cname:x', 'a=rtpmap:0 PCMU/8000/x'];
    const s = mustParse(crlf([...HEAD, 'm=audio 4000 RTP/AVP 0', ...odd]));
    const audio = s.media[0]!;
    assert.deepEqual([audio.ptime, audio.rtcp, audio.ssrcs, audio.payloads[0]?.rtpmapInSdp], [undefined, undefined, [], false]);
    assert.deepEqual(audio.payloads.map((p) => p.pt), [0]);
    const written = writeSdp(s);
    for (const line of odd) assert.ok(written.includes(`${line}\r\n`), line);
    assert.equal(written.split('\r\n').length, HEAD.length + 1 + odd.length + 1, 'nothing added');
  });
});

describe('parseSdp: bad SDP gives a clear error, never an exception', () => {
  const cases: ReadonlyArray<readonly [string, string | Buffer, RegExp]> = [
    ['empty input', '', /empty/],
    ['missing v=', crlf(HEAD.slice(1)), /starts with "v="/],
    ['v=1', crlf(['v=1', ...HEAD.slice(1)]), /unsupported SDP version/],
    ['garbage text', 'hello world\r\n', /line 1: "hello world" is not <type>=<value>/],
    ['binary garbage', Buffer.from([0xff, 0x00, 0x3d, 0x0a, 0x80, 0x81]), /line 1/],
    ['HTML instead of SDP', '<html><body>502</body></html>', /not <type>=<value>/],
    ['m= with no formats', crlf([...HEAD, 'm=audio 49170 RTP/AVP']), /m=audio lists no media formats/],
    ['m= with too few fields', crlf([...HEAD, 'm=audio 49170']), /needs <media> <port> <proto>/],
    ['port out of range', crlf([...HEAD, 'm=audio 70000 RTP/AVP 0']), /port 70000 is out of range/],
    ['port not a number', crlf([...HEAD, 'm=audio -1 RTP/AVP 0']), /port "-1" is not a number/],
    ['port count 0', crlf([...HEAD, 'm=audio 4000/0 RTP/AVP 0']), /port count 0/],
    ['RTP payload type above 127', crlf([...HEAD, 'm=audio 4000 RTP/AVP 0 128']), /"128" is not an RTP payload type/],
    ['RTP payload type not a number', crlf([...HEAD, 'm=audio 4000 RTP/AVP PCMU']), /"PCMU" is not an RTP payload type/],
    ['no o=', crlf(['v=0', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0']), /no "o=" line/],
    ['two o=', crlf([...HEAD, 'o=- 2 2 IN IP4 192.0.2.1']), /second "o="/],
    ['o= version not numeric', crlf(['v=0', 'o=- 1 x IN IP4 192.0.2.1', 's=-', 't=0 0']), /session id and version must be numbers/],
    ['o= version over 64 bits', crlf(['v=0', 'o=- 1 99999999999999999999 IN IP4 h', 's=-', 't=0 0']), /exceeds 64 bits/],
    ['o= network not IN', crlf(['v=0', 'o=- 1 1 ATM NSAP x', 's=-', 't=0 0']), /not IN IP4\/IP6/],
    ['no s=', crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 'c=IN IP4 192.0.2.1', 't=0 0']), /no "s=" line/],
    ['unknown type letter', crlf([...HEAD, 'x=foo']), /unknown type letter "x="/],
    ['o= inside a media description', crlf([...HEAD, 'm=audio 4000 RTP/AVP 0', 'o=- 1 1 IN IP4 h']), /"o=" is not allowed inside a media description/],
    ['stream without any c=', crlf(['v=0', 'o=- 1 1 IN IP4 h', 's=-', 't=0 0', 'm=audio 4000 RTP/AVP 0']), /has no "c="/],
    ['malformed c=', crlf([...HEAD, 'm=audio 4000 RTP/AVP 0', 'c=IN IP4']), /c= "IN IP4" is not/],
    ['malformed b=', crlf([...HEAD, 'b=AS:lots']), /b= "AS:lots"/],
    ['malformed t=', crlf(['v=0', 'o=- 1 1 IN IP4 h', 's=-', 't=now']), /t= "now"/],
    ['space before "="', crlf(['v=0', 'o =- 1 1 IN IP4 h']), /line 2/],
    ['bare CR inside a line', crlf([...HEAD, 'm=audio 4000 RTP/AVP 0\rm=video 4002 RTP/AVP 96']), /bare CR/],
    ['oversized', `${crlf(HEAD)}${'a=x\r\n'.repeat(MAX_SDP_LENGTH / 5 + 1)}`, /longer than/],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => assert.match(error(text), expected));
  }

  it('survives thousands of mutated captured offers: parse, write and answer never throw', () => {
    const seeds = ['linphone-invite-offer-video-vp8.txt', 'baresip-invite-offer-pcmu-h264.txt'].map((f) => sipBody(`peers/${f}`));
    // Deterministic xorshift32, so a failure reproduces.
    let x = 0x2545f491;
    const rand = (n: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const alphabet = ' =:/\r\n0123456789abcmtvoa*-;.';
    let parsed = 0;
    for (let i = 0; i < 1500; i++) {
      const chars = [...(seeds[i % seeds.length] as string)];
      for (let k = 1 + rand(4); k > 0; k--) {
        const at = rand(chars.length);
        const op = rand(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, alphabet[rand(alphabet.length)] as string);
        else chars[at] = alphabet[rand(alphabet.length)] as string;
      }
      const r = parseSdp(chars.join(''));
      if (!r.ok) {
        assert.ok(r.error.length > 0);
        continue;
      }
      parsed++;
      mustParse(writeSdp(r.value));
      answerOffer(r.value, { origin: createOrigin('127.0.0.1'), address: '127.0.0.1', ports: [40000, 40002] });
    }
    assert.ok(parsed > 100, `some mutants still parse (${parsed})`);
  });
});
