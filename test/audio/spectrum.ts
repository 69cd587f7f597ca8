/**
 * Small spectrum helpers for audio tests: "does this recording contain that tone?".
 *
 * Goertzel evaluates one DFT bin at an arbitrary frequency in O(N); the power is normalised so that a pure sine of
 * amplitude A yields ≈ A² whatever N (a Hann window keeps leakage from neighbouring tones low).
 */

export type Samples = ArrayLike<number>;

/** Power of `freq` in `x` (sampled at `sampleRate`), normalised: a sine of amplitude A gives ≈ A². */
export function goertzelPower(x: Samples, sampleRate: number, freq: number): number {
  const n = x.length;
  if (n === 0) return 0;
  const coeff = 2 * Math.cos((2 * Math.PI * freq) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  let windowSum = 0;
  for (let i = 0; i < n; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1 || 1)); // Hann
    windowSum += w;
    const s0 = x[i]! * w + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2; // |X(f)|²
  return (4 * power) / (windowSum * windowSum);
}

/** Amplitude estimate of the tone at `freq` (√ of goertzelPower). */
export function toneAmplitude(x: Samples, sampleRate: number, freq: number): number {
  return Math.sqrt(goertzelPower(x, sampleRate, freq));
}

/**
 * The tone's amplitude judged per window of `windowSamples` (median over the windows): robust to a few frames whose
 * phase was broken by concealment or re-timing, which sink a single long window's estimate.
 */
export function medianToneAmplitude(x: Int16Array, sampleRate: number, freq: number, windowSamples = Math.round(sampleRate / 10)): number {
  const n = Math.floor(x.length / windowSamples);
  const levels = Array.from({ length: n }, (_, k) => toneAmplitude(x.subarray(k * windowSamples, (k + 1) * windowSamples), sampleRate, freq)).sort((a, b) => a - b);
  return n === 0 ? 0 : levels[Math.floor(n / 2)]!;
}

/** The frequency with the most power in [minHz, maxHz], scanned every `stepHz`. */
export function dominantFrequency(
  x: Samples,
  sampleRate: number,
  opts: { minHz?: number; maxHz?: number; stepHz?: number } = {},
): number {
  const min = opts.minHz ?? 50;
  const max = opts.maxHz ?? Math.min(sampleRate / 2 - 50, 8000);
  const step = opts.stepHz ?? 10;
  let best = min;
  let bestPower = -1;
  for (let f = min; f <= max; f += step) {
    const p = goertzelPower(x, sampleRate, f);
    if (p > bestPower) {
      bestPower = p;
      best = f;
    }
  }
  return best;
}

/** Root mean square of `x` (int16 scale stays int16 scale). */
export function rms(x: Samples): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
  return x.length === 0 ? 0 : Math.sqrt(sum / x.length);
}

/** `n` samples of a sine at `freq`, amplitude `amplitude`, starting at sample index `start` (for continuity). */
export function sine(freq: number, sampleRate: number, n: number, amplitude = 8000, start = 0): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * (start + i)) / sampleRate));
  return out;
}

/** Concatenate recordings. */
export function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
