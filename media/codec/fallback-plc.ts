/**
 * Packet loss concealment for codecs without their own (G.711, G.722).
 *
 * Deviation: ITU-T G.711 Appendix I describes pitch-period repetition with overlap-add; this is the simpler
 * fallback many servers ship: repeat the last good frame, attenuated further for every consecutive loss, then
 * silence. It bridges one or two lost 20 ms frames without a hard gap and fades out a longer outage instead of
 * buzzing. (Opus uses the decoder's own PLC, see opus-codec.ts.)
 */

/** Gain of the 1st, 2nd, 3rd consecutive concealed frame; silence after that. */
const GAINS = [0.8, 0.5, 0.25] as const;

export class FrameRepeatPlc {
  private last: Int16Array;
  private losses = 0;

  constructor(private readonly frameSamples: number) {
    this.last = new Int16Array(frameSamples);
  }

  /** Remember the tail of good decoded audio (the last `frameSamples`). */
  remember(pcm: Int16Array): void {
    this.losses = 0;
    if (pcm.length >= this.frameSamples) {
      this.last.set(pcm.subarray(pcm.length - this.frameSamples));
    } else {
      this.last.copyWithin(0, pcm.length);
      this.last.set(pcm, this.frameSamples - pcm.length);
    }
  }

  conceal(): Int16Array {
    const gain = GAINS[this.losses] ?? 0;
    this.losses++;
    const out = new Int16Array(this.frameSamples);
    if (gain > 0) for (let i = 0; i < out.length; i++) out[i] = Math.round(this.last[i]! * gain);
    return out;
  }
}
