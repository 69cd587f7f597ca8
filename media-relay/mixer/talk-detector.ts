/**
 * Energy-based talker detection with hysteresis and an adaptive noise floor.
 *
 *              level ≥ max(START, floor × 4)                       HANGOVER frames below max(STOP, floor × 2)
 *   SILENT ───────────────────────────────────▶ TALKING ───────────────────────────────────────────────────▶ SILENT
 *
 * The attack is immediate (the frame that crosses the threshold is already mixed: no clipped word onsets); the
 * release waits HANGOVER frames so pauses between words do not flap the talker in and out of the mix. The noise
 * floor follows quiet frames down at once and creeps up ~0.9 dB/s, so a steady fan or hum is learnt as noise.
 */

/** −42 dBFS: start talking. */
const START = 0.008;
/** The lowest RMS level (0…1) that can start a talk spurt: anything quieter is never mixed while the leg is silent. */
export const TALK_START_LEVEL = START;
/** −48 dBFS: below this (or 6 dB over the floor) counts as a pause. */
const STOP = 0.004;
const HANGOVER_FRAMES = 15; // 300 ms at 20 ms
const FLOOR_RISE = 1.002; // per frame

export class TalkDetector {
  private talking = false;
  private quietFrames = 0;
  private floor = STOP;

  /** Feed one frame's RMS level (0…1); returns whether the participant is talking now. */
  update(level: number): boolean {
    this.floor = level < this.floor ? Math.max(level, 1e-5) : this.floor * FLOOR_RISE;
    if (!this.talking) {
      if (level >= Math.max(START, this.floor * 4)) {
        this.talking = true;
        this.quietFrames = 0;
      }
    } else if (level < Math.max(STOP, this.floor * 2)) {
      if (++this.quietFrames >= HANGOVER_FRAMES) this.talking = false;
    } else {
      this.quietFrames = 0;
    }
    return this.talking;
  }

  /** The leg stopped sending (muted, left, stream ended): silent at once. */
  silence(): void {
    this.talking = false;
    this.quietFrames = 0;
  }

  get isTalking(): boolean {
    return this.talking;
  }
}
