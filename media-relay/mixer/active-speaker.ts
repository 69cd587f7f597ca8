/**
 * Who is the active speaker (roster highlight; video follows it for single-video endpoints), with hysteresis so
 * crosstalk and coughs do not flip the choice every frame.
 *
 *   - Each talking leg has a smoothed level (exponential average, ~100 ms).
 *   - Nobody current: the loudest talker becomes current at once.
 *   - A challenger replaces the current speaker after being SWITCH_RATIO louder for SWITCH_MS without a break,
 *     or as soon as the current one has been silent for SILENCE_HANDOVER_MS.
 *   - Nobody talking for CLEAR_MS: no active speaker.
 */

const SWITCH_RATIO = 1.5; // ≈ +3.5 dB
const SWITCH_MS = 400;
const SILENCE_HANDOVER_MS = 600;
const CLEAR_MS = 2000;
const ALPHA = 0.2;

export interface SpeakerSample {
  readonly id: string;
  readonly level: number;
  readonly talking: boolean;
}

export class ActiveSpeakerDetector {
  private current: string | undefined;
  private readonly smooth = new Map<string, number>();
  private challenger: { id: string; since: number } | undefined;
  private lastTalkAt = new Map<string, number>();
  private lastAnyTalkAt = -Infinity;

  /** Feed one tick's levels; returns the active speaker after this tick. */
  update(samples: readonly SpeakerSample[], nowMs: number): string | undefined {
    let loudest: string | undefined;
    let loudestLevel = 0;
    const seen = new Set<string>();
    for (const s of samples) {
      seen.add(s.id);
      const prev = this.smooth.get(s.id) ?? 0;
      const level = prev + ALPHA * ((s.talking ? s.level : 0) - prev);
      this.smooth.set(s.id, level);
      if (s.talking) {
        this.lastTalkAt.set(s.id, nowMs);
        this.lastAnyTalkAt = nowMs;
        if (level > loudestLevel) {
          loudest = s.id;
          loudestLevel = level;
        }
      }
    }
    for (const id of [...this.smooth.keys()]) {
      if (!seen.has(id)) {
        this.smooth.delete(id);
        this.lastTalkAt.delete(id);
      }
    }
    if (this.current !== undefined && !seen.has(this.current)) this.current = undefined;

    if (nowMs - this.lastAnyTalkAt >= CLEAR_MS) {
      this.current = undefined;
      this.challenger = undefined;
      return undefined;
    }
    if (this.current === undefined) {
      this.current = loudest;
      this.challenger = undefined;
      return this.current;
    }
    if (loudest === undefined || loudest === this.current) {
      this.challenger = undefined;
      return this.current;
    }
    const currentSilentFor = nowMs - (this.lastTalkAt.get(this.current) ?? -Infinity);
    const currentLevel = this.smooth.get(this.current) ?? 0;
    if (currentSilentFor >= SILENCE_HANDOVER_MS) {
      this.current = loudest;
      this.challenger = undefined;
    } else if (loudestLevel > currentLevel * SWITCH_RATIO) {
      if (this.challenger?.id !== loudest) this.challenger = { id: loudest, since: nowMs };
      else if (nowMs - this.challenger.since >= SWITCH_MS) {
        this.current = loudest;
        this.challenger = undefined;
      }
    } else {
      this.challenger = undefined;
    }
    return this.current;
  }
}
