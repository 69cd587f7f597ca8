/**
 * Which remote publisher each of the page's video receive slots shows. The page offers a fixed number of
 * receiving video transceivers (no renegotiation with the page); the focus adds a per-publisher line whenever a
 * camera comes on and disables it when it goes off. A publisher takes the lowest free slot; when none is free it
 * waits, in arrival order, and takes the first slot released. Pure: no media, no timers.
 */
export class SlotMap {
  private readonly bySlot: Array<string | undefined>;
  private readonly waiting: string[] = [];

  constructor(readonly size: number) {
    this.bySlot = Array.from({ length: size }, () => undefined);
  }

  /** Give `label` a slot (or queue it); returns its slot, or undefined while it waits. Idempotent. */
  add(label: string): number | undefined {
    const have = this.slotOf(label);
    if (have !== undefined) return have;
    const free = this.bySlot.indexOf(undefined);
    if (free < 0) {
      if (!this.waiting.includes(label)) this.waiting.push(label);
      return undefined;
    }
    this.bySlot[free] = label;
    return free;
  }

  /**
   * `label` is gone: free its slot (or drop it from the queue). Returns the publisher that took the slot over, if
   * one was waiting.
   */
  remove(label: string): { slot: number; label: string } | undefined {
    const q = this.waiting.indexOf(label);
    if (q >= 0) this.waiting.splice(q, 1);
    const slot = this.slotOf(label);
    if (slot === undefined) return undefined;
    this.bySlot[slot] = undefined;
    const next = this.waiting.shift();
    if (next === undefined) return undefined;
    this.bySlot[slot] = next;
    return { slot, label: next };
  }

  slotOf(label: string): number | undefined {
    const i = this.bySlot.indexOf(label);
    return i >= 0 ? i : undefined;
  }

  labelAt(slot: number): string | undefined {
    return this.bySlot[slot];
  }

  /** Occupied slots, in slot order. */
  entries(): Array<{ slot: number; label: string }> {
    return this.bySlot.flatMap((label, slot) => (label === undefined ? [] : [{ slot, label }]));
  }

  get queued(): readonly string[] {
    return this.waiting;
  }
}
