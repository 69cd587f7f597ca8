/**
 * Soft limiter for the mix bus: a sum of several full-scale talkers must not wrap or hard-clip.
 *
 * Memoryless (no look-ahead, so no added delay): linear up to the knee, above it a tanh curve that approaches full
 * scale asymptotically. libre's aumix and Janus hard-clip instead, which turns two loud talkers into square-wave
 * buzz; a soft knee keeps overlapping speech intelligible.
 *
 *   |y|
 *   32767 ┤                 ______________   ← tanh tail, never reaches 32767 + 1
 *   KNEE  ┤            ____/
 *         ┤        ___/  linear (y = x) below KNEE
 *         └────────┴──────────────────────── |x|
 */

/** Knee at 0.7 full scale (−3.1 dBFS): ordinary single-talker levels pass untouched. */
export const KNEE = Math.round(0.7 * 32767);
const RANGE = 32767 - KNEE;

/** Limit the float bus `mix` (int16 scale) into `out` (same length). Returns `out`. */
export function softLimit(mix: Float32Array, out: Int16Array = new Int16Array(mix.length)): Int16Array {
  for (let i = 0; i < mix.length; i++) {
    const x = mix[i]!;
    if (x <= KNEE && x >= -KNEE) {
      out[i] = x; // Int16Array truncates toward zero: |x| ≤ KNEE fits
    } else {
      const m = KNEE + RANGE * Math.tanh(((x < 0 ? -x : x) - KNEE) / RANGE);
      out[i] = x < 0 ? -m : m;
    }
  }
  return out;
}
