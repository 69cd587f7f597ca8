/**
 * What one decode and one encode cost the mixer, measured in the benchmark's own run on the payloads its load
 * generator sends (bench/lib/mixer-streams.ts) — the yardstick for the mixer's efficiency.
 *
 *   opus: libopus via @evan/opus through the relay's OpusCodec (48 kHz mono; the encoder with the settings the
 *         relay uses for a useinbandfec=1 listener). No resampling: the bus is 48 kHz.
 *   pcmu: G.711 µ-law plus the SpeexDSP resampler the mixer uses: decode = µ-law → 8 kHz PCM → 48 kHz bus;
 *         encode = 48 kHz mix → 8 kHz → µ-law.
 * CPU time (process.cpuUsage) per call, best of 3 rounds (the machine is shared).
 */
import { Resampler } from '../../media/audio/resample.ts';
import { createCodec } from '../../media/codec/create-codec.ts';
import { LOOP_FRAMES, encodeLoops, mixFor, specFor } from './mixer-streams.ts';

export interface CodecCost {
  readonly codec: 'opus' | 'pcmu';
  readonly decodeTalkerUs: number;
  readonly decodeQuietUs: number;
  readonly encodeUs: number;
  readonly note: string;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function best(rounds: number, n: number, fn: (i: number) => void): number {
  for (let i = 0; i < 200; i++) fn(i); // warm-up (JIT, codec state)
  let min = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = cpuUs();
    for (let i = 0; i < n; i++) fn(i);
    min = Math.min(min, (cpuUs() - t) / n);
  }
  return min;
}

function cost(codec: 'opus' | 'pcmu'): CodecCost {
  const spec = specFor(codec);
  const loops = encodeLoops(spec);
  const mixes = Array.from({ length: LOOP_FRAMES }, (_, f) => mixFor(f));
  const dec = createCodec(spec)!;
  const enc = createCodec(spec)!;
  const up = codec === 'opus' ? undefined : new Resampler(8000, 48000);
  const down = codec === 'opus' ? undefined : new Resampler(48000, 8000);
  const decode = (payload: Uint8Array) => {
    const pcm = dec.decode(payload)!;
    return up ? up.process(pcm) : pcm;
  };
  const talker = [...loops.talkerA, ...loops.talkerB];
  let sink = 0;
  const decodeTalkerUs = best(3, 1000, (i) => (sink += decode(talker[i % talker.length]!).length));
  const decodeQuietUs = best(3, 1000, (i) => (sink += decode(loops.quiet[i % LOOP_FRAMES]!).length));
  const encodeUs = best(3, 500, (i) => {
    const mix = mixes[i % LOOP_FRAMES]!;
    sink += enc.encode(down ? down.process(mix) : mix).length;
  });
  up?.destroy();
  down?.destroy();
  if (sink < 0) console.log(sink);
  const note = codec === 'opus' ? '@evan/opus, 48 kHz mono, 32 kbit/s VOIP, in-band FEC' : 'µ-law + SpeexDSP resampler 8↔48 kHz, quality 3';
  return { codec, decodeTalkerUs, decodeQuietUs, encodeUs, note };
}

export function costCodecs(): Record<'opus' | 'pcmu', CodecCost> {
  return { opus: cost('opus'), pcmu: cost('pcmu') };
}
