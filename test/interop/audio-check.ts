/**
 * Judging what a peer heard: the recording is cut into 1-s windows; in each, the amplitude of every tone of interest
 * is measured by Goertzel (test/audio/spectrum.ts: a sine of amplitude A reads ≈ A), and the window's RMS tells
 * whether it was silent. "Hears X and not itself" = in every analysed window each expected tone is above
 * `minAmplitude`, and its own tone is at least `ownRatio` below the weakest expected one.
 */
import assert from 'node:assert/strict';
import { rms, toneAmplitude } from '../audio/spectrum.ts';

export interface WindowLevels {
  /** Start of the window, seconds from the start of the analysed samples. */
  readonly t: number;
  readonly rms: number;
  /** Tone frequency → amplitude (int16 scale). */
  readonly tones: ReadonlyMap<number, number>;
}

/** RMS below this (int16 scale, ≈ −50 dBFS) counts as a silent window. */
export const SILENT_RMS = 100;

export function windows(samples: Int16Array, rate: number, freqs: readonly number[], windowS = 1): WindowLevels[] {
  const n = Math.round(rate * windowS);
  const out: WindowLevels[] = [];
  for (let off = 0; off + n <= samples.length; off += n) {
    const w = samples.subarray(off, off + n);
    out.push({ t: off / rate, rms: rms(w), tones: new Map(freqs.map((f) => [f, toneAmplitude(w, rate, f)])) });
  }
  return out;
}

export function silentWindows(samples: Int16Array, rate: number, windowS = 1): number {
  return windows(samples, rate, [], windowS).filter((w) => w.rms < SILENT_RMS).length;
}

/** A one-line-per-window table for failure messages and diagnostics. */
export function describe(ws: readonly WindowLevels[]): string {
  return ws
    .map((w) => `  t=${w.t.toFixed(1)}s rms=${w.rms.toFixed(0)} ${[...w.tones].map(([f, a]) => `${f}Hz=${a.toFixed(0)}`).join(' ')}`)
    .join('\n');
}

export interface HearingExpectation {
  /** Who is listening (for messages). */
  who: string;
  /** Tones that must be heard in every window. */
  hears: readonly number[];
  /** The listener's own tone: must be absent. */
  own: number;
  /** Tones that must be absent besides its own (e.g. someone who left). */
  notHears?: readonly number[];
  /** Minimum amplitude of a heard tone (int16 scale). Default 300 (the senders use 8000). */
  minAmplitude?: number;
  /** Own tone at most this fraction of the weakest heard tone's amplitude. Default 0.1 (−20 dB). */
  ownRatio?: number;
}

export interface HearingReport {
  readonly windows: WindowLevels[];
  readonly silent: number;
  readonly table: string;
}

/**
 * Assert the expectation on every 1-s window of `samples` (pass only the span where everyone was talking).
 * Returns the measurements (with the count of silent windows) for diagnostics.
 */
export function assertHearing(samples: Int16Array, rate: number, e: HearingExpectation): HearingReport {
  const absent = [e.own, ...(e.notHears ?? [])];
  const ws = windows(samples, rate, [...e.hears, ...absent]);
  const table = describe(ws);
  const silent = ws.filter((w) => w.rms < SILENT_RMS).length;
  assert.ok(ws.length >= 1, `${e.who}: no full 1-s window to analyse (${samples.length} samples at ${rate} Hz)`);
  const min = e.minAmplitude ?? 300;
  const ratio = e.ownRatio ?? 0.1;
  for (const w of ws) {
    const heard = e.hears.map((f) => w.tones.get(f)!);
    for (const [i, f] of e.hears.entries()) {
      assert.ok(heard[i]! >= min, `${e.who} should hear ${f} Hz in the window at ${w.t}s (amplitude ${heard[i]!.toFixed(0)} < ${min}; ${silent} silent windows)\n${table}`);
    }
    const weakest = Math.min(...heard);
    for (const f of absent) {
      const a = w.tones.get(f)!;
      assert.ok(a <= weakest * ratio, `${e.who} should not hear ${f} Hz (${f === e.own ? 'its own tone' : 'absent'}) in the window at ${w.t}s: ${a.toFixed(0)} vs weakest heard ${weakest.toFixed(0)}\n${table}`);
    }
  }
  return { windows: ws, silent, table };
}

/** The samples of `seconds` ending `endMarginS` before the end of the recording (its steady tail). */
export function tail(samples: Int16Array, rate: number, seconds: number, endMarginS = 0.5): Int16Array {
  const end = Math.max(0, samples.length - Math.round(endMarginS * rate));
  const start = Math.max(0, end - Math.round(seconds * rate));
  return samples.subarray(start, end);
}

/** The samples between `fromS` and `toS` seconds of the recording. */
export function span(samples: Int16Array, rate: number, fromS: number, toS: number): Int16Array {
  return samples.subarray(Math.max(0, Math.round(fromS * rate)), Math.min(samples.length, Math.round(toS * rate)));
}
