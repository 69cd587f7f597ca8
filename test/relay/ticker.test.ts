/**
 * The 20 ms mix clock (media/clock/ticker.ts): tick k is due at start + k × 20 ms however late timers
 * fire (no drift), a short stall is caught up, a long one is skipped and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ticker } from '../../media/clock/ticker.ts';
import { ManualClock, type Clock, type TimerHandle } from '../../registrar/sip/clock.ts';

test('ticks at exact 20 ms multiples on a manual clock; stop and begin again continue the count', () => {
  const clock = new ManualClock(100);
  const ticks: Array<[number, number]> = [];
  const t = new Ticker(clock, 20, (i, now) => ticks.push([i, now]));
  t.begin();
  clock.advance(100);
  assert.deepEqual(ticks, [[1, 120], [2, 140], [3, 160], [4, 180], [5, 200]]);
  t.stop();
  clock.advance(100);
  assert.equal(ticks.length, 5);
  t.begin();
  clock.advance(40);
  assert.deepEqual(ticks.slice(5).map(([i]) => i), [6, 7]);
  t.stop();
});

/** A clock whose timers fire only when the test says, at whatever time it says (late timers). */
class LateClock implements Clock {
  t = 0;
  pending: Array<() => void> = [];
  now(): number {
    return this.t;
  }
  wallNow(): number {
    return this.t;
  }
  setTimer(_ms: number, fn: () => void): TimerHandle {
    this.pending.push(fn);
    return { cancel: () => { this.pending = this.pending.filter((f) => f !== fn); } };
  }
  fireAt(t: number): void {
    this.t = t;
    const fns = this.pending;
    this.pending = [];
    for (const f of fns) f();
  }
}

test('late timers do not drift the schedule; a 100 ms stall is caught up, a 1 s stall is skipped and counted', () => {
  const clock = new LateClock();
  const idx: number[] = [];
  const t = new Ticker(clock, 20, (i) => idx.push(i));
  t.begin();
  clock.fireAt(27); // 7 ms late: tick 1 only, next due at 40 (not 47)
  clock.fireAt(41);
  assert.deepEqual(idx, [1, 2]);
  clock.fireAt(140); // 100 ms stall: ticks 3..7 back to back (5 = MAX_CATCH_UP)
  assert.deepEqual(idx, [1, 2, 3, 4, 5, 6, 7]);
  clock.fireAt(1200); // 1 s stall: 5 ticks run, the rest skipped
  assert.equal(idx.length, 12);
  assert.equal(t.skipped, Math.floor(1200 / 20) - 12);
  clock.fireAt(1220);
  assert.equal(idx[idx.length - 1], 61, 'back on the 20 ms grid');
  t.stop();
});
