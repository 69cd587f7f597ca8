/**
 * The page's video receive slots: publishers take the lowest free slot, wait in arrival order when all are taken,
 * and take over a released slot.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlotMap } from '../../softclient/gui/bridge/slot-map.ts';

test('slots: lowest free slot first, a queue when full, a released slot goes to the first in the queue', () => {
  const s = new SlotMap(2);
  assert.equal(s.add('p1'), 0);
  assert.equal(s.add('p2'), 1);
  assert.equal(s.add('p1'), 0, 'adding again keeps the slot');
  assert.equal(s.add('p3'), undefined, 'full: p3 waits');
  assert.equal(s.add('p4'), undefined);
  assert.deepEqual(s.queued, ['p3', 'p4']);

  assert.deepEqual(s.remove('p1'), { slot: 0, label: 'p3' }, "p1's camera off: p3 takes its slot");
  assert.deepEqual(s.entries(), [{ slot: 0, label: 'p3' }, { slot: 1, label: 'p2' }]);
  assert.equal(s.remove('p4'), undefined, 'a waiting publisher leaves the queue without moving anyone');
  assert.deepEqual(s.queued, []);
  assert.equal(s.remove('p2'), undefined);
  assert.equal(s.labelAt(1), undefined);
  assert.equal(s.add('p5'), 1, 'the freed slot is reused');
  assert.equal(s.slotOf('p3'), 0);
});
