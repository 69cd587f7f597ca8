/**
 * The softclient sends RFC 6464 client-to-mixer audio levels (RFC 8285 header extension) when the exchange agrees
 * them, and the relay's mixer then skips decoding a participant who is quiet:
 *   - the client's audio line against a hand-driven peer: levels go out under the agreed id (one-byte form for
 *     1–14, two-byte for a higher id the focus offered), a tone at its level, silence at 127, none when not agreed;
 *   - the real server and CLI: Ann talks (440 Hz), Ben and Cat are silent — the focus's answers carry the extmap,
 *     the mixer decodes Ann and skips nearly all of Ben's and Cat's packets, and Ben and Cat still hear Ann.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { join } from 'node:path';
import { silentLogger } from '../../registrar/log.ts';
import { systemClock } from '../../registrar/sip/clock.ts';
import type { MediaRelay } from '../../media-relay/relay.ts';
import { readAudioLevel } from '../../media/rtp/audio-level.ts';
import { parseRtp, type RtpPacket } from '../../media/rtp/packet.ts';
import { answerOffer, AUDIO_LEVEL_URI, createOffer, createOrigin, OFFERED_AUDIO_LEVEL, parseSdp, PCMU, writeSdp } from '../../sdp/index.ts';
import { AUDIO_CODECS } from '../../softclient/call.ts';
import { type AudioSource, SilenceSource, ToneSource } from '../../softclient/media/audio-source.ts';
import { AudioStream } from '../../softclient/media/audio-stream.ts';
import { MediaSession } from '../../softclient/media/media-session.ts';
import { bindUdpPair } from '../../softclient/media/udp-pair.ts';
import { readWavFile } from '../../softclient/media/wav.ts';
import { goertzelPower } from '../audio/spectrum.ts';
import { Cli, startTestServer, tempDir, type TestServer } from './helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

/**
 * One client audio line sending `source` for ~0.5 s to a peer socket, after `exchange` (given the line's session and
 * the peer's RTP port) set it up. Returns the RTP packets the peer got.
 */
async function sent(source: AudioSource, exchange: (session: MediaSession, peerPort: number) => Promise<void>): Promise<RtpPacket[]> {
  const pair = await bindUdpPair('127.0.0.1');
  const audio = new AudioStream({ pair, source, clock: systemClock, logger: silentLogger(), cname: 'test@127.0.0.1' });
  const peer = await udp();
  const got: RtpPacket[] = [];
  peer.on('message', (b) => {
    const p = parseRtp(b);
    if (p.ok) got.push(p.packet);
  });
  const session = new MediaSession('127.0.0.1', [
    { kind: 'audio', port: pair.rtpPort, codecs: AUDIO_CODECS, direction: 'sendrecv', configure: (m) => audio.configure(m), disable: () => undefined },
  ]);
  try {
    await exchange(session, peer.address().port);
    await sleep(500);
  } finally {
    audio.close();
    peer.close();
  }
  assert.ok(got.length >= 10, `the peer got our RTP (${got.length} packets)`);
  return got;
}

/** Our offer answered by a reader of levels (the focus's policy), optionally with its a=extmap lines cut out. */
function weOffer(stripExtmap = false) {
  return async (session: MediaSession, peerPort: number): Promise<void> => {
    const offer = parseSdp(session.createOffer());
    assert.ok(offer.ok);
    assert.match(writeSdp(offer.value), new RegExp(`\\r\\na=extmap:1 ${AUDIO_LEVEL_URI}\\r\\n`), 'the client offers the level, no direction');
    const answer = answerOffer(offer.value, { origin: createOrigin('127.0.0.1'), address: '127.0.0.1', ports: [peerPort], media: { audio: { codecs: [PCMU] } } });
    assert.ok(answer.ok);
    let text = writeSdp(answer.answer);
    assert.match(text, new RegExp(`\\r\\na=extmap:1/recvonly ${AUDIO_LEVEL_URI}\\r\\n`));
    if (stripExtmap) text = text.replace(/a=extmap:[^\r]*\r\n/g, '');
    const r = session.applyAnswer(text);
    assert.ok(r.ok, r.ok ? '' : r.error);
  };
}

/** The focus offers (late offer / re-INVITE) reading levels under `id`; the client answers. */
function focusOffers(id: number) {
  return async (session: MediaSession, peerPort: number): Promise<void> => {
    const offer = createOffer({
      origin: createOrigin('127.0.0.1'),
      address: '127.0.0.1',
      media: [{ type: 'audio', port: peerPort, codecs: [PCMU], extmaps: [{ ...OFFERED_AUDIO_LEVEL, id }] }],
    });
    const r = await session.answer(writeSdp(offer));
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.match(r.value, new RegExp(`\\r\\na=extmap:${id}/sendonly ${AUDIO_LEVEL_URI}\\r\\n`), 'the client answers that it sends');
  };
}

/** V|level of each packet's element `id` (undefined: no element). */
function levels(packets: readonly RtpPacket[], id: number): Array<{ voice: boolean; level: number } | undefined> {
  return packets.map((p) => {
    const level = readAudioLevel(p.extensionProfile, p.extensionData, id);
    if (level === undefined) return undefined;
    const data = p.extensionData!;
    // The V bit, read from the raw element: one-byte form (ID|L, V|level), two-byte form (ID, len, V|level).
    const v = p.extensionProfile === 0xbede ? data[1]! : data[2]!;
    return { voice: (v & 0x80) !== 0, level };
  });
}

test('the audio line sends its RFC 6464 level under the agreed id, only when agreed', async () => {
  // A 6000-amplitude sine: RMS 6000/√2 of 32768 = −17.8 dBov → 18, voice.
  const tone = levels(await sent(new ToneSource(440), weOffer()), 1);
  assert.ok(tone.every((l) => l !== undefined && l.level >= 17 && l.level <= 19 && l.voice), `tone levels ${JSON.stringify(tone.slice(0, 5))}…`);
  // Digital silence: 127 (−127 dBov), no voice.
  const silence = levels(await sent(new SilenceSource(), weOffer()), 1);
  assert.ok(silence.every((l) => l?.level === 127 && !l.voice), `silence levels ${JSON.stringify(silence.slice(0, 5))}…`);
  // The answer left the extmap out: nothing agreed, no header extension at all.
  const none = await sent(new ToneSource(440), weOffer(true));
  assert.ok(none.every((p) => p.extensionProfile === undefined), 'no header extension when the answer has no extmap');
  // The focus offers: answered /sendonly; id 3 in the one-byte form, id 20 in the two-byte form (RFC 8285 §4.3).
  const one = await sent(new ToneSource(440), focusOffers(3));
  assert.ok(one.every((p) => p.extensionProfile === 0xbede));
  assert.ok(levels(one, 3).every((l) => l?.level === 18));
  const two = await sent(new ToneSource(440), focusOffers(20));
  assert.ok(two.every((p) => p.extensionProfile === 0x1000), 'two-byte form for id 20');
  assert.ok(levels(two, 20).every((l) => l?.level === 18 && l.voice));
});

let srv: TestServer;
before(async () => {
  srv = await startTestServer('39600-39799');
});
after(() => srv?.close());

test('a silent softclient is not decoded by the mixer (RFC 6464 levels), the talker is, and the listeners hear the talker', async () => {
  const trace: Array<{ dir: string; text: string }> = [];
  srv.server.transport.onTrace((ev) => trace.push({ dir: ev.direction, text: ev.bytes.toString('utf8') }));
  const dir = tempDir();
  const meetingId = 'conf-levels';
  const meeting = srv.uri(meetingId);
  const cli = (name: string, audioIn: string) => new Cli(['join', meeting, '--name', name, '--audio-in', audioIn, '--audio-out', join(dir, `${name}.wav`), '--json']);
  const ann = cli('Ann', 'tone:440');
  const ben = cli('Ben', 'none');
  const cat = cli('Cat', 'none');
  try {
    await Promise.all([ann, ben, cat].map((c) => c.waitEvent('joined', undefined, 30_000)));
    await ann.waitEvent('roster', (e) => (e.participants as unknown[]).length === 3);
    await sleep(3000); // everyone in, Ann talking

    // (b) The mixer: Ann's packets decoded, Ben's and Cat's almost all skipped by their level.
    const m = srv.server.focus.meeting(meetingId);
    assert.ok(m, 'the meeting exists');
    const idOf = (name: string) => m.present().find((p) => p.aor === `sip:${name}@127.0.0.1`)?.id;
    const stats = await (srv.server.relay as MediaRelay).audioStats(meetingId);
    assert.ok(stats, 'audio stats of the meeting');
    const leg = (name: string) => {
      const l = stats.legs[idOf(name) ?? ''];
      assert.ok(l, `${name}'s leg in ${JSON.stringify(Object.keys(stats.legs))}`);
      return l;
    };
    const a = leg('ann');
    assert.ok(a.decoded > 50 && a.decodesSkipped <= a.decoded / 20, `the talker is decoded: ${a.decoded} decoded, ${a.decodesSkipped} skipped`);
    for (const name of ['ben', 'cat']) {
      const l = leg(name);
      assert.ok(l.decodesSkipped > 50 && l.decodesSkipped > 10 * l.decoded, `${name} is silent and skipped: ${l.decodesSkipped} skipped, ${l.decoded} decoded`);
    }

    for (const c of [ann, ben, cat]) c.send('/leave');
    for (const e of await Promise.all([ann, ben, cat].map((c) => c.waitExit()))) assert.equal(e.code, 0, e.stderr);

    // (a) Each client offered the level and the focus's 200 OK read it (a=extmap:1/recvonly).
    const invites = trace.filter((t) => t.dir === 'in' && t.text.startsWith('INVITE ') && t.text.includes('m=audio'));
    assert.ok(invites.length >= 3, `${invites.length} INVITEs with SDP`);
    for (const t of invites) assert.match(t.text, new RegExp(`\\r\\na=extmap:1 ${AUDIO_LEVEL_URI}\\r\\n`));
    const answers = trace.filter((t) => t.dir === 'out' && /^SIP\/2\.0 200 /.test(t.text) && /\r\nCSeq: *\d+ INVITE\r\n/i.test(t.text) && t.text.includes('m=audio'));
    assert.ok(answers.length >= 3, `${answers.length} 200 OKs with SDP`);
    for (const t of answers) assert.match(t.text, new RegExp(`\\r\\na=extmap:1/recvonly ${AUDIO_LEVEL_URI}\\r\\n`));

    // (c) Ben and Cat hear Ann's tone, loud (the skipped legs took nothing from the mix).
    for (const name of ['Ben', 'Cat']) {
      const wav = readWavFile(join(dir, `${name}.wav`));
      assert.ok(wav.ok, `${name}'s recording`);
      const { sampleRate, samples } = wav.value;
      const window = samples.subarray(samples.length - Math.round(2 * sampleRate), samples.length - Math.round(0.5 * sampleRate));
      const p440 = goertzelPower(window, sampleRate, 440);
      assert.ok(p440 > 1e5, `${name} hears Ann (${p440.toExponential(2)})`);
      assert.ok(p440 > 100 * goertzelPower(window, sampleRate, 880), `${name}: 440 Hz stands out`);
    }
  } finally {
    srv.server.transport.onTrace(undefined);
    for (const c of [ann, ben, cat]) c.kill();
  }
});
