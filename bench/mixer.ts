/**
 * Micro-benchmark of the audio mixer (media-relay/mixer): CPU per participant per 20 ms tick, for meetings of
 * N = 3, 10, 30 participants with 1–2 talkers, Opus (and one PCMU run), everything in one thread, no sockets.
 * Each participant pushes one real encoded 20 ms packet per tick (talkers a tone, the others encoded silence, as a
 * client without DTX sends), then the mixer ticks: jitter buffer, decode, resample, N−1 mix, shared encodes.
 *
 * Run: node --import tsx bench/mixer.ts   (prints figures, asserts nothing)
 *
 * Reference (shared/field-notes.md): FreeSWITCH spends ~4–5 % of a core per Opus participant; it encodes once per
 * participant. Here encodes grow with talkers (Asterisk's shared-mix trick), so per-participant cost should fall as
 * N grows. The codec cost measured in the same run shows how close the mixer is to "decode everyone + encode once
 * per talker + once per codec".
 */
import { silentLogger } from '../registrar/log.ts';
import { createMeetingAudio } from '../media-relay/mixer/meeting-audio.ts';
import { createCodec } from '../media/codec/create-codec.ts';
import type { CodecSpec } from '../media-relay/api.ts';
import type { RtpIn } from '../media-relay/audio/types.ts';

const OPUS: CodecSpec = { payloadType: 111, name: 'opus', clockRate: 48000, channels: 2 };
const PCMU: CodecSpec = { payloadType: 0, name: 'pcmu', clockRate: 8000 };
const TICKS = Number(process.env.TICKS ?? 500); // 10 s of audio per configuration
const FREESWITCH_PCT_PER_OPUS_PARTICIPANT = [4, 5];

function sine(freq: number, rate: number, n: number, start: number): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * freq * (start + i)) / rate));
  return out;
}

/** 50 pre-encoded frames (1 s, looped) of a tone or of silence. */
function frames(spec: CodecSpec, freq: number): Uint8Array[] {
  const c = createCodec(spec)!;
  const out: Uint8Array[] = [];
  for (let f = 0; f < 50; f++) out.push(c.encode(freq ? sine(freq, c.sampleRate, c.frameSamples, f * c.frameSamples) : new Int16Array(c.frameSamples)));
  return out;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function run(spec: CodecSpec, n: number, talkers: number): { usPerTick: number; encodes: number } {
  const audio = createMeetingAudio({ logger: silentLogger(), sampleRate: 48000 });
  const step = spec.clockRate / 50;
  const streams = Array.from({ length: n }, (_, i) => ({
    id: `p${i}`,
    payloads: frames(spec, i < talkers ? 300 + 110 * i : 0),
    seq: i * 1000,
    ts: i * 100000,
  }));
  for (const s of streams) audio.addLeg({ participantId: s.id, codecs: [spec], sending: true, receiving: true });
  const tickOnce = (k: number): void => {
    const t = k * 20;
    for (const s of streams) {
      const pkt: RtpIn = { payloadType: spec.payloadType, sequenceNumber: s.seq & 0xffff, timestamp: s.ts >>> 0, ssrc: 1, marker: false, payload: s.payloads[k % 50]! };
      s.seq++;
      s.ts += step;
      audio.push(s.id, pkt, t - 3);
    }
    audio.tick(t);
  };
  for (let k = 0; k < 100; k++) tickOnce(k); // warm up: JIT, jitter buffers filled, talkers detected
  const c0 = cpuUs();
  for (let k = 100; k < 100 + TICKS; k++) tickOnce(k);
  const usPerTick = (cpuUs() - c0) / TICKS;
  const encodes = audio.stats().encodesLastTick;
  for (const s of streams) audio.removeLeg(s.id);
  return { usPerTick, encodes };
}

function codecCost(spec: CodecSpec): { encodeUs: number; decodeUs: number } {
  const c = createCodec(spec)!;
  const d = createCodec(spec)!;
  const pcm = sine(440, c.sampleRate, c.frameSamples, 0);
  const payloads = frames(spec, 440);
  for (let i = 0; i < 200; i++) d.decode(c.encode(pcm));
  let t = cpuUs();
  for (let i = 0; i < 2000; i++) c.encode(pcm);
  const encodeUs = (cpuUs() - t) / 2000;
  t = cpuUs();
  for (let i = 0; i < 2000; i++) d.decode(payloads[i % 50]!);
  return { encodeUs, decodeUs: (cpuUs() - t) / 2000 };
}

const pct = (us: number): string => `${((100 * us) / 20000).toFixed(2)} %`;

const opus = codecCost(OPUS);
console.log(`Opus codec cost in this run: encode ${opus.encodeUs.toFixed(1)} µs, decode ${opus.decodeUs.toFixed(1)} µs per 20 ms`);
console.log(`(field notes: @evan/opus 150 µs encode / 28 µs decode; FreeSWITCH ${FREESWITCH_PCT_PER_OPUS_PARTICIPANT.join('–')} % of a core per Opus participant)\n`);
console.log('codec  N   talkers  encodes/tick  µs/tick   % of a core  per participant  ideal codec-only  vs FreeSWITCH (4–5 %)');
const rows: Array<[CodecSpec, number, number]> = [
  [OPUS, 3, 1], [OPUS, 3, 2], [OPUS, 10, 1], [OPUS, 10, 2], [OPUS, 30, 1], [OPUS, 30, 2], [PCMU, 30, 2],
];
for (const [spec, n, talkers] of rows) {
  const r = run(spec, n, talkers);
  const perParticipant = r.usPerTick / n;
  const ideal = spec === OPUS ? n * opus.decodeUs + r.encodes * opus.encodeUs : NaN;
  const better = spec === OPUS ? `${(FREESWITCH_PCT_PER_OPUS_PARTICIPANT[0]! / ((100 * perParticipant) / 20000)).toFixed(1)}× less CPU` : '—';
  console.log(
    `${spec.name.padEnd(6)} ${String(n).padEnd(3)} ${String(talkers).padEnd(8)} ${String(r.encodes).padEnd(13)} ` +
      `${r.usPerTick.toFixed(0).padStart(7)}   ${pct(r.usPerTick).padStart(9)}    ${pct(perParticipant).padStart(9)}        ` +
      `${Number.isNaN(ideal) ? '      —' : `${ideal.toFixed(0).padStart(5)} µs`}          ${better}`,
  );
}
