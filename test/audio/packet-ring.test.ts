import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketRing } from '../../media-relay/audio/packet-ring.ts';
import { FrameBatchWriter, readFrameBatch } from '../../media-relay/audio/frame-batch.ts';
import type { RtpIn } from '../../media-relay/audio/types.ts';

function pkt(i: number, len = 60): RtpIn {
  const payload = new Uint8Array(len).fill(i & 0xff);
  // Every third packet carries an RFC 6464 level (0…127 and none both ride the ring).
  const audioLevel = i % 3 === 0 ? undefined : (i * 13) % 128;
  return { payloadType: 111, sequenceNumber: (65530 + i) & 0xffff, timestamp: (0xfffff000 + i * 960) >>> 0, ssrc: 0xdeadbeef, marker: i % 7 === 0, payload, audioLevel };
}

test('packet ring: packets come out in order with every field and their payload, across many wraps of the ring', () => {
  const ring = PacketRing.create(4096);
  const got: Array<{ leg: number; pkt: RtpIn; at: number }> = [];
  let next = 0;
  // Write a few, read them all, over and over: the write offset wraps many times.
  for (let round = 0; round < 200; round++) {
    for (let k = 0; k < 1 + (round % 5); k++, next++) assert.ok(ring.write(next % 9, pkt(next, 20 + (next % 80)), 1000.5 + next));
    ring.drain((leg, p, at) => got.push({ leg, pkt: { ...p, payload: p.payload.slice() }, at }));
  }
  assert.equal(got.length, next);
  got.forEach((g, i) => {
    const want = pkt(i, 20 + (i % 80));
    assert.equal(g.leg, i % 9);
    assert.equal(g.at, 1000.5 + i);
    assert.deepEqual(g.pkt, want);
  });
  assert.equal(ring.dropped, 0);
});

test('packet ring: a full ring drops and counts instead of overwriting what the worker has not read', () => {
  const ring = PacketRing.create(2048);
  let written = 0;
  while (ring.write(1, pkt(written, 100), 0)) written++;
  assert.ok(written >= 12 && written < 20, `${written} packets of ~136 bytes fit in 2 KB`);
  assert.equal(ring.dropped, 1);
  assert.equal(ring.write(1, pkt(99, 100), 0), false);
  assert.equal(ring.dropped, 2);
  const seen: number[] = [];
  ring.drain((_leg, p) => seen.push(p.payload[0]!));
  assert.deepEqual(seen, Array.from({ length: written }, (_, i) => i));
  // Room again after the read.
  assert.ok(ring.write(1, pkt(7, 100), 0));
});

test('packet ring: the hook between snapshot and read runs before any packet is handed out', () => {
  const ring = PacketRing.create(4096);
  ring.write(3, pkt(1), 0);
  const order: string[] = [];
  ring.drain(() => order.push('packet'), () => order.push('hook'));
  assert.deepEqual(order, ['hook', 'packet']);
});

test('frame batch: meetings and frames round-trip; a meeting with no frame leaves no section', () => {
  const w = new FrameBatchWriter();
  w.beginMeeting(1);
  w.add(10, { participantId: 'a', payloadType: 111, payload: Uint8Array.of(1, 2, 3), samples: 960, marker: true });
  w.add(11, { participantId: 'b', payloadType: 0, payload: new Uint8Array(160).fill(9), samples: 160, marker: false });
  w.beginMeeting(2);
  w.beginMeeting(3);
  // Bigger than the writer's initial buffer: it grows.
  for (let i = 0; i < 1000; i++) w.add(100 + i, { participantId: 'x', payloadType: 111, payload: new Uint8Array(90).fill(i & 0xff), samples: 960, marker: false });
  const buf = w.take()!;
  const seen: Array<[number, number]> = [];
  readFrameBatch(buf, (num, frames) => {
    seen.push([num, frames.length]);
    if (num === 1) {
      assert.deepEqual([...frames[0]!.payload], [1, 2, 3]);
      assert.equal(frames[0]!.marker, true);
      assert.equal(frames[1]!.samples, 160);
      assert.equal(frames[1]!.legId, 11);
    }
    if (num === 3) assert.equal(frames[999]!.payload[0], 999 & 0xff);
  });
  assert.deepEqual(seen, [[1, 2], [3, 1000]]);
  assert.equal(w.take(), undefined, 'the writer starts empty again');
});
