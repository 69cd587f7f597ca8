/**
 * What the mixer load generator sends (bench/mixer-gen.ts), shared with the driver (bench/mixer-load.ts) so that the
 * codec cost it measures is the cost of decoding exactly these payloads and encoding the mix they make.
 *
 * Per meeting of 10: #0 talker A (320 Hz, amplitude 5000), #1 talker B (500 Hz, amplitude 3000, plus a 2 kHz burst of
 * amplitude 8000 in loop frames 0 and 25: the latency probe), #2…#9 quiet (white noise ≈ −60 dBFS RMS). Loops are
 * 1 s (50 frames of 20 ms): both tones have a whole number of periods per second, so the loop is seamless.
 */
import type { CodecSpec } from '../../media-relay/api.ts';
import { createCodec } from '../../media/codec/create-codec.ts';
import { pcmAudioLevel } from '../../media/rtp/audio-level.ts';

/** The RFC 8285 id the generator sends RFC 6464 levels under when the run uses them (--audio-level on). */
export const AUDIO_LEVEL_EXT_ID = 1;

export const PER_MEETING = 10;
/** Linphone's Opus offer (field notes): opus/48000/2 with useinbandfec=1. */
export const OPUS_SPEC: CodecSpec = { payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'useinbandfec=1' };
export const PCMU_SPEC: CodecSpec = { payloadType: 0, name: 'pcmu', clockRate: 8000 };
export const FRAME_MS = 20;
export const LOOP_FRAMES = 50;
export const BURST_FRAMES: ReadonlySet<number> = new Set([0, 25]);
export const BURST_HZ = 2000;
export const TALKERS_PER_MEETING = 2;
/** A frame arriving more than this after its slot on the listener's schedule is late (a 1-frame receive buffer misses it). */
export const LATE_MS = 20;

export type Role = 'talkerA' | 'talkerB' | 'quiet';
export const ROLES: readonly Role[] = ['talkerA', 'talkerB', 'quiet'];
export const roleOf = (i: number): Role => (i === 0 ? 'talkerA' : i === 1 ? 'talkerB' : 'quiet');

export function specFor(codec: 'opus' | 'pcmu'): CodecSpec {
  return codec === 'opus' ? OPUS_SPEC : PCMU_SPEC;
}

/** A small deterministic PRNG (LCG), so every run sends the same noise. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** One role's PCM for loop frame `f` at `rate` (one 20 ms frame). */
export function pcmFor(role: Role, rate: number, f: number, rnd: () => number): Int16Array {
  const n = (rate * FRAME_MS) / 1000;
  const perMs = rate / 1000;
  const out = new Int16Array(n);
  const start = f * n;
  for (let i = 0; i < n; i++) {
    const t = (start + i) / rate;
    let v: number;
    if (role === 'talkerA') v = 5000 * Math.sin(2 * Math.PI * 320 * t);
    else if (role === 'talkerB') {
      v = 3000 * Math.sin(2 * Math.PI * 500 * t);
      if (BURST_FRAMES.has(f)) {
        const ramp = Math.min(1, i / perMs, (n - 1 - i) / perMs); // 1 ms ramps: no broadband click
        v += 8000 * ramp * Math.sin(2 * Math.PI * BURST_HZ * t);
      }
    } else v = (rnd() * 2 - 1) * 57; // uniform ±57 → RMS 33 ≈ −60 dBFS
    out[i] = Math.round(v);
  }
  return out;
}

/** Each role's loop, encoded once with the relay's own codec wrapper; the second pass is kept (settled encoder). */
export function encodeLoops(spec: CodecSpec): Record<Role, Buffer[]> {
  const loops = {} as Record<Role, Buffer[]>;
  for (const role of ROLES) {
    const enc = createCodec(spec)!;
    const rnd = prng(12345);
    let frames: Buffer[] = [];
    for (let pass = 0; pass < 2; pass++) {
      frames = [];
      for (let f = 0; f < LOOP_FRAMES; f++) frames.push(Buffer.from(enc.encode(pcmFor(role, enc.sampleRate, f, rnd))));
    }
    loops[role] = frames;
  }
  return loops;
}

/**
 * Each role's RFC 6464 level (−dBov) per loop frame, measured on the PCM it encodes — what a client that sends the
 * extension (WebRTC, the bundled softclient) puts in each packet: talkers ≈ 19–24, the quiet legs ≈ 60.
 */
export function loopLevels(spec: CodecSpec): Record<Role, number[]> {
  const rate = createCodec(spec)!.sampleRate;
  const out = {} as Record<Role, number[]>;
  for (const role of ROLES) {
    const rnd = prng(12345);
    out[role] = Array.from({ length: LOOP_FRAMES }, (_, f) => pcmAudioLevel(pcmFor(role, rate, f, rnd)));
  }
  return out;
}

/** The shared mix a non-talker hears (talker A + talker B) at 48 kHz, loop frame `f`. */
export function mixFor(f: number): Int16Array {
  const a = pcmFor('talkerA', 48000, f, () => 0);
  const b = pcmFor('talkerB', 48000, f, () => 0);
  const out = new Int16Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  return out;
}
