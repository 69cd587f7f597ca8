/**
 * The client's audio line against a hand-driven peer on loopback: our offer (MediaSession) answered with PCMU,
 * a 440 Hz tone arriving with jitter — late packets, swapped pairs — must play out as one continuous tone (the
 * jitter buffer waits or conceals, never leaves a silent hole), our own tone must go out as PCMU RTP to the
 * answered port, and RTCP goes to port + 1. Plus the WAV writer: header right on close, readable when cut short.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../registrar/log.ts';
import { systemClock } from '../../registrar/sip/clock.ts';
import { mulawDecode, mulawEncode } from '../../media/codec/mulaw.ts';
import { parseRtp, buildRtp } from '../../media/rtp/packet.ts';
import { answerOffer, createOrigin, parseSdp, PCMU, writeSdp } from '../../sdp/index.ts';
import { AUDIO_CODECS } from '../../softclient/call.ts';
import { ToneSource, WavFileSource } from '../../softclient/media/audio-source.ts';
import { AudioStream, OUTPUT_RATE } from '../../softclient/media/audio-stream.ts';
import { MediaSession } from '../../softclient/media/media-session.ts';
import { bindUdpPair } from '../../softclient/media/udp-pair.ts';
import { parseWav, WavWriter } from '../../softclient/media/wav.ts';
import { concat, goertzelPower, rms, sine } from '../audio/spectrum.ts';
import { tempDir } from './helpers.ts';

async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('late and reordered packets play out as a continuous tone; our tone goes out as PCMU with RTCP to port + 1', async () => {
  const pair = await bindUdpPair('127.0.0.1');
  const frames: Int16Array[] = [];
  const audio = new AudioStream({
    pair,
    source: new ToneSource(1000),
    sink: { write: (f) => frames.push(f.slice()), close: () => undefined },
    clock: systemClock,
    logger: silentLogger(),
    cname: 'test@127.0.0.1',
  });
  const peerRtp = await udp();
  const peerRtcp = createSocket('udp4');
  peerRtcp.bind(peerRtp.address().port + 1, '127.0.0.1');
  await once(peerRtcp, 'listening');
  const heard: Int16Array[] = [];
  let rtcpPackets = 0;
  peerRtp.on('message', (b) => {
    const p = parseRtp(b);
    if (p.ok && p.packet.payloadType === 0) heard.push(mulawDecode(p.packet.payload));
  });
  peerRtcp.on('message', () => rtcpPackets++);
  const session = new MediaSession('127.0.0.1', [
    { kind: 'audio', port: pair.rtpPort, codecs: AUDIO_CODECS, direction: 'sendrecv', configure: (m) => audio.configure(m), disable: () => undefined },
  ]);
  try {
    const offer = parseSdp(session.createOffer());
    assert.ok(offer.ok);
    assert.deepEqual(offer.value.media[0]!.payloads.map((p) => p.rtpmap?.encoding.toLowerCase()), ['opus', 'pcmu', 'pcma', 'telephone-event', 'telephone-event']);
    // The peer answers PCMU only (a G.711 phone).
    const answer = answerOffer(offer.value, {
      origin: createOrigin('127.0.0.1'),
      address: '127.0.0.1',
      ports: [peerRtp.address().port],
      media: { audio: { codecs: [PCMU] } },
    });
    assert.ok(answer.ok);
    const applied = session.applyAnswer(writeSdp(answer.answer));
    assert.ok(applied.ok, applied.ok ? '' : applied.error);

    // 2 s of 440 Hz: every 7th packet 35 ms late, every 23rd 90 ms late (beyond the buffer's delay: concealed,
    // then played — never a hole), every 11th pair swapped.
    const packets = Array.from({ length: 100 }, (_, i) =>
      buildRtp({ payloadType: 0, sequenceNumber: 1000 + i, timestamp: 5000 + i * 160, ssrc: 0x1234 }, mulawEncode(sine(440, 8000, 160, 8000, i * 160))),
    );
    const start = Date.now();
    for (let i = 0; i < packets.length; i++) {
      const due = start + i * 20;
      await sleep(Math.max(0, due - Date.now()));
      if (i % 11 === 5 && i + 1 < packets.length) {
        peerRtp.send(packets[i + 1]!, pair.rtpPort, '127.0.0.1');
        peerRtp.send(packets[i]!, pair.rtpPort, '127.0.0.1');
        i++;
        continue;
      }
      const p = packets[i]!;
      if (i % 7 === 3 || i % 23 === 12) setTimeout(() => peerRtp.send(p, pair.rtpPort, '127.0.0.1'), i % 23 === 12 ? 90 : 35);
      else peerRtp.send(p, pair.rtpPort, '127.0.0.1');
    }
    await sleep(300);
    audio.sendRtcpNow();
    await sleep(100);
    const stats = audio.stats();
    assert.equal(stats.codec, 'pcmu/8000');
    assert.equal(stats.packetsReceived, 100);

    // Continuity: from the first audible frame, 1.8 s without holes. (At most 2 silent frames are tolerated for a
    // scheduling stall of this shared machine; the late packets alone would make 4 or more if they left holes.)
    const first = frames.findIndex((f) => rms(f) > 1000);
    assert.ok(first >= 0, 'the tone played');
    const run = frames.slice(first, first + 90);
    assert.equal(run.length, 90);
    const holes = run.flatMap((f, k) => (rms(f) > 1000 ? [] : [k]));
    assert.ok(holes.length <= 2, `no holes in the played tone (silent frames at ${holes.join(', ')})`);
    const played = concat(run);
    assert.ok(goertzelPower(played, OUTPUT_RATE, 440) > 100 * goertzelPower(played, OUTPUT_RATE, 1000), 'it is the 440 Hz tone');
    assert.ok(stats.concealed >= 1 && stats.concealed <= 20, `some, not much, concealment (${stats.concealed} frames)`);

    // What we sent: PCMU, our 1000 Hz tone; and RTCP (SR) reached port + 1.
    assert.ok(heard.length > 80, `our RTP arrived (${heard.length} packets)`);
    const ours = concat(heard.slice(-50));
    assert.ok(goertzelPower(ours, 8000, 1000) > 100 * goertzelPower(ours, 8000, 440));
    assert.ok(rtcpPackets >= 1, 'RTCP to the answered port + 1');
  } finally {
    audio.close();
    peerRtp.close();
    peerRtcp.close();
  }
});

test('WAV writer: correct sizes after close, and a file cut short still reads', () => {
  const dir = tempDir();
  const path = join(dir, 'a.wav');
  const w = new WavWriter(path, 48000, 100);
  w.write(sine(440, 48000, 4800));
  w.write(sine(440, 48000, 4800, 8000, 4800));
  // Not closed yet: the header was refreshed at 100 ms, so a killed process leaves a readable file.
  const cut = parseWav(readFileSync(path));
  assert.ok(cut.ok);
  assert.ok(cut.value.samples.length >= 4800);
  w.close();
  const buf = readFileSync(path);
  assert.equal(buf.readUInt32LE(4), 36 + 9600 * 2, 'RIFF size');
  assert.equal(buf.readUInt32LE(40), 9600 * 2, 'data size');
  const done = parseWav(buf);
  assert.ok(done.ok);
  assert.equal(done.value.sampleRate, 48000);
  assert.equal(done.value.samples.length, 9600);
  assert.deepEqual(parseWav(Buffer.from('RIFF0000WAVEjunk')), { ok: false, error: 'no data chunk' });
});

test('--audio-in FILE.wav: the file loops, converted to the codec rate', () => {
  const path = join(tempDir(), 'tone.wav');
  const w = new WavWriter(path, 16000);
  w.write(sine(300, 16000, 16000 * 0.25, 8000)); // 250 ms at 16 kHz
  w.close();
  const src = WavFileSource.open(path);
  assert.ok(src.ok);
  const frames = Array.from({ length: 50 }, () => src.value.next(160, 8000)); // 1 s of 20 ms frames at 8 kHz
  const all = concat(frames);
  assert.equal(all.length, 8000);
  assert.ok(goertzelPower(all, 8000, 300) > 1e7, 'the 300 Hz tone, resampled to 8 kHz');
  for (let q = 0; q < 4; q++) assert.ok(rms(all.subarray(q * 2000, (q + 1) * 2000)) > 3000, `loop ${q + 1} plays`);
  assert.equal(WavFileSource.open(join(tempDir(), 'missing.wav')).ok, false);
});
