/**
 * Sample-rate conversion between a codec's rate (8 / 16 kHz) and the 48 kHz mix bus.
 *
 * Uses SpeexDSP's resampler (the one FreeSWITCH, PulseAudio and — for its jitter buffer's sake — Janus ship: a
 * windowed-sinc polyphase filter) compiled to WASM by @echogarden/speex-resampler-wasm: 28 kB, no native build,
 * Int16 in/out, a WASM SIMD build (2–4× the plain one here: ~6–10 µs per 20 ms frame), one WASM instance per thread shared by every resampler state. Chosen over
 * @alexanderolsen/libsamplerate-js (2 MB, Float32-only, async create() per instance) and wave-resampler (whole
 * buffers only, no streaming state). Quality 3 is SpeexDSP's own "VoIP" preset (SPEEX_RESAMPLER_QUALITY_VOIP).
 *
 * The WASM module loads once per thread at import (top-level await), so creating and running a Resampler is
 * synchronous, as the media stages must be. Each Resampler holds WASM memory: call destroy() when done.
 */
import SpeexResampler from '@echogarden/speex-resampler-wasm/simd';

const speex = await SpeexResampler();

export const RESAMPLER_QUALITY_VOIP = 3;

/** Largest input handled in one call (120 ms at 48 kHz: the longest Opus packet). */
const MAX_IN = 5760;

export class Resampler {
  private state: number;
  private readonly inPtr: number;
  private readonly outPtr: number;
  private readonly lenPtr: number;
  private readonly maxOut: number;

  constructor(
    readonly inRate: number,
    readonly outRate: number,
    quality: number = RESAMPLER_QUALITY_VOIP,
  ) {
    if (!(inRate > 0 && outRate > 0)) throw new TypeError(`bad resampler rates ${inRate} → ${outRate}`);
    this.maxOut = Math.ceil((MAX_IN * outRate) / inRate) + 64;
    this.lenPtr = speex._malloc(8);
    this.inPtr = speex._malloc(MAX_IN * 2);
    this.outPtr = speex._malloc(this.maxOut * 2);
    this.state = speex._speex_resampler_init(1, inRate, outRate, quality, this.lenPtr);
    if (this.state === 0) throw new TypeError(`speex_resampler_init failed (${inRate} → ${outRate})`);
  }

  /** Convert `input` (any length; longer than 120 ms at 48 kHz is processed in chunks). Streaming: state persists. */
  process(input: Int16Array): Int16Array {
    if (this.state === 0) throw new TypeError('resampler destroyed');
    if (input.length > MAX_IN) {
      const parts: Int16Array[] = [];
      for (let i = 0; i < input.length; i += MAX_IN) parts.push(this.process(input.subarray(i, i + MAX_IN)));
      return concat(parts);
    }
    // HEAP views can be replaced when WASM memory grows: read them from the module on every call.
    speex.HEAP16.set(input, this.inPtr >> 1);
    const u32 = speex.HEAPU32;
    u32[this.lenPtr >> 2] = input.length;
    u32[(this.lenPtr >> 2) + 1] = this.maxOut;
    speex._speex_resampler_process_int(this.state, 0, this.inPtr, this.lenPtr, this.outPtr, this.lenPtr + 4);
    const produced = speex.HEAPU32[(this.lenPtr >> 2) + 1]!;
    return speex.HEAP16.slice(this.outPtr >> 1, (this.outPtr >> 1) + produced);
  }

  /** Forget the filter history (a new talk spurt after a switch of source). */
  reset(): void {
    if (this.state !== 0) speex._speex_resampler_reset_mem(this.state);
  }

  destroy(): void {
    if (this.state === 0) return;
    speex._speex_resampler_destroy(this.state);
    speex._free(this.inPtr);
    speex._free(this.outPtr);
    speex._free(this.lenPtr);
    this.state = 0;
  }
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
