/**
 * Audio through the real relay (worker-thread mixing, real UDP on loopback) across codecs and under loss:
 * - a PCMU participant and an Opus participant hear each other (each decodes the other's tone in its own codec,
 *   and not its own tone);
 * - a talker whose packets arrive with 5 % loss still gives its listener continuous audio: laid out on the
 *   listener's RTP timeline, no silent stretch longer than 60 ms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CodecSpec } from '../../media-relay/api.ts';
import { createCodec } from '../../media/codec/create-codec.ts';
import { mulawDecode } from '../../media/codec/mulaw.ts';
import { createMediaRelay, type MediaRelay } from '../../media-relay/relay.ts';
import type { RtpPacket } from '../../media/rtp/packet.ts';
import { silentLogger } from '../../registrar/log.ts';
import { concat, rms, sine, toneAmplitude } from '../audio/spectrum.ts';
import { PCMU, RtpPeer, remoteOf, rtp, sleep, testPortRange, until } from './helpers.ts';

const OPUS: CodecSpec = { payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'useinbandfec=1' };

/** Sends a tone in any codec the relay mixes, 20 ms packets on a drift-free schedule; `drop(n)` loses packet n. */
class CodecToneSender {
  private readonly enc;
  private seq = 4000;
  private ts = 123456;
  private sample = 0;
  private n = 0;
  private timer: NodeJS.Timeout | undefined;
  sent = 0;
  dropped = 0;

  constructor(
    private readonly peer: RtpPeer,
    private readonly port: number,
    private readonly spec: CodecSpec,
    private readonly freq: number,
    private readonly drop: (n: number) => boolean = () => false,
  ) {
    this.enc = createCodec(spec)!;
  }

  private sendOne(): void {
    const pcm = sine(this.freq, this.enc.sampleRate, this.enc.frameSamples, 8000, this.sample);
    this.sample += this.enc.frameSamples;
    const payload = this.enc.encode(pcm); // encoded even when lost: the encoder's state runs on as a phone's would
    if (this.drop(this.n++)) this.dropped++;
    else {
      this.peer.send(rtp(this.spec.payloadType, this.seq, this.ts, 0x5151 + this.freq, payload), this.port);
      this.sent++;
    }
    this.seq++;
    this.ts += this.enc.rtpFrameSamples;
  }

  start(): void {
    const t0 = performance.now();
    let k = 0;
    const step = () => {
      while (t0 + k * 20 <= performance.now()) {
        this.sendOne();
        k++;
      }
      this.timer = setTimeout(step, Math.max(1, t0 + k * 20 - performance.now()));
    };
    step();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** The listener's audio laid out by RTP timestamp (a packet never received is silence), at the codec's rate. */
function timeline(pkts: readonly RtpPacket[], spec: CodecSpec): { pcm: Int16Array; rate: number } {
  const dec = createCodec(spec)!;
  const tsPerSample = spec.clockRate / dec.sampleRate;
  const sorted = [...pkts].sort((a, b) => ((a.timestamp - pkts[0]!.timestamp) | 0) - ((b.timestamp - pkts[0]!.timestamp) | 0));
  const first = sorted[0]!.timestamp;
  const last = ((sorted[sorted.length - 1]!.timestamp - first) | 0) / tsPerSample + dec.frameSamples;
  const pcm = new Int16Array(last);
  for (const p of sorted) {
    const at = ((p.timestamp - first) | 0) / tsPerSample;
    const frame = spec.name === 'pcmu' ? mulawDecode(p.payload) : dec.decode(p.payload);
    if (frame) pcm.set(frame.subarray(0, Math.min(frame.length, pcm.length - at)), at);
  }
  return { pcm, rate: dec.sampleRate };
}

/** Longest run of 5 ms windows whose RMS is below `floor`, in ms. */
function longestSilenceMs(pcm: Int16Array, rate: number, floor: number): number {
  const win = rate / 200;
  let run = 0;
  let longest = 0;
  for (let i = 0; i + win <= pcm.length; i += win) {
    run = rms(pcm.subarray(i, i + win)) < floor ? run + 5 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

async function twoParty(relay: MediaRelay, meetingId: string, specA: CodecSpec, specB: CodecSpec) {
  const a = await relay.allocateEndpoint({ meetingId, participantId: 'a', kind: 'audio', rtcpMux: true });
  const b = await relay.allocateEndpoint({ meetingId, participantId: 'b', kind: 'audio', rtcpMux: true });
  const pa = await RtpPeer.open();
  const pb = await RtpPeer.open();
  await relay.setRemote(a.endpointId, remoteOf(pa, [specA]));
  await relay.setRemote(b.endpointId, remoteOf(pb, [specB]));
  return { a, b, pa, pb };
}

test('a PCMU participant and an Opus participant hear each other through the relay, each in its own codec', async () => {
  const relay = await createMediaRelay({ host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(), audio: 'worker', audioWorkers: 1 });
  const { a, b, pa, pb } = await twoParty(relay, 'mixed-codecs', PCMU, OPUS);
  const sa = new CodecToneSender(pa, a.rtpPort, PCMU, 440);
  const sb = new CodecToneSender(pb, b.rtpPort, OPUS, 880);
  try {
    sa.start();
    sb.start();
    // The audio worker may take a while to start on a busy machine: wait for 1.5 s of output either way.
    await until(() => pa.rtp().length >= 75 && pb.rtp().length >= 75, 15_000, '1.5 s of output to both');
    sa.stop();
    sb.stop();
    const atA = pa.rtp();
    const atB = pb.rtp();
    assert.ok(atA.length > 40 && atB.length > 40, `both hear something (${atA.length}, ${atB.length} packets)`);
    assert.ok(atA.every((p) => p.payloadType === 0), 'the PCMU participant is sent PCMU');
    assert.ok(atB.every((p) => p.payloadType === 111), 'the Opus participant is sent Opus');

    const heardByA = timeline(atA.slice(-40), PCMU); // the last 800 ms: both talking for a while
    const heardByB = timeline(atB.slice(-40), OPUS);
    const a880 = toneAmplitude(heardByA.pcm, heardByA.rate, 880);
    const a440 = toneAmplitude(heardByA.pcm, heardByA.rate, 440);
    const b440 = toneAmplitude(heardByB.pcm, heardByB.rate, 440);
    const b880 = toneAmplitude(heardByB.pcm, heardByB.rate, 880);
    assert.ok(a880 > 2000, `PCMU participant hears the Opus participant's 880 Hz (amplitude ${a880.toFixed(0)})`);
    assert.ok(a440 < 0.05 * a880, `and not its own 440 Hz (${a440.toFixed(0)})`);
    assert.ok(b440 > 2000, `Opus participant hears the PCMU participant's 440 Hz (amplitude ${b440.toFixed(0)})`);
    assert.ok(b880 < 0.05 * b440, `and not its own 880 Hz (${b880.toFixed(0)})`);
  } finally {
    sa.stop();
    sb.stop();
    await relay.close();
    pa.close();
    pb.close();
  }
});

test('5 % packet loss on an Opus talker: the listener\'s audio has no silent gap longer than 60 ms', async () => {
  const relay = await createMediaRelay({ host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(), audio: 'worker', audioWorkers: 1 });
  const { a, pa, pb } = await twoParty(relay, 'lossy', OPUS, PCMU);
  // A fixed pseudo-random 5 % of packets lost, plus one burst of four in a row (80 ms: without concealment that
  // alone would be a gap over 60 ms), repeating every 200 packets.
  let s = 0x2545f491;
  const lost = new Set<number>([30, 31, 32, 33]);
  for (let n = 0; n < 200; n++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    if (s / 2 ** 32 < 0.05) lost.add(n);
  }
  const talker = new CodecToneSender(pa, a.rtpPort, OPUS, 440, (n) => lost.has(n % 200));
  try {
    talker.start();
    await until(() => pb.rtp().length >= 175, 15_000, '3.5 s of output to the listener');
    talker.stop();
    await sleep(100);
    assert.ok(talker.dropped >= 0.04 * (talker.sent + talker.dropped), `about 5 % lost (${talker.dropped} of ${talker.sent + talker.dropped})`);
    const got = pb.rtp();
    for (let i = 1; i < got.length; i++) {
      assert.equal(got[i]!.sequenceNumber, (got[i - 1]!.sequenceNumber + 1) & 0xffff, `the listener's stream has no hole (packet ${i})`);
    }
    // From when the tone is established (jitter buffer started, talker detected) to just before it stops.
    const { pcm, rate } = timeline(got, PCMU);
    const body = pcm.subarray(Math.round(0.6 * rate), pcm.length - Math.round(0.3 * rate));
    assert.ok(body.length > 1.8 * rate, `enough audio to judge (${(body.length / rate).toFixed(2)} s)`);
    assert.ok(toneAmplitude(body, rate, 440) > 2000, 'the listener hears the talker');
    const gap = longestSilenceMs(body, rate, 300);
    assert.ok(gap <= 60, `longest silent stretch ${gap} ms (must be ≤ 60)`);
    const stats = await relay.audioStats('lossy');
    assert.ok((stats?.legs.a?.concealed ?? 0) >= talker.dropped - 2, `the losses were concealed (${stats?.legs.a?.concealed} concealed, ${talker.dropped} lost)`);
  } finally {
    talker.stop();
    await relay.close();
    pa.close();
    pb.close();
  }
});

test('the timeline helper shows a real gap as silence (the check above can fail)', () => {
  // Two PCMU packets 100 ms apart on the RTP clock: 80 ms of nothing between them.
  const tone = (ts: number) => ({ payloadType: 0, sequenceNumber: 0, timestamp: ts, ssrc: 1, marker: false, payload: new Uint8Array(160).fill(0x80), payloadOffset: 12, payloadLength: 160 }) as unknown as RtpPacket;
  const { pcm, rate } = timeline([tone(0), tone(800)], PCMU);
  assert.equal(pcm.length, 960);
  assert.ok(longestSilenceMs(concat([pcm]), rate, 300) >= 80);
});
