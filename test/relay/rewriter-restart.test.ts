/**
 * Regression (found by bench/video-vs-rtpengine.ts, where one generator's sequence counter feeds several targets):
 * a publisher whose RTP sequence numbers jump by more than RFC 3550 A.1's MAX_MISORDER backwards (or MAX_DROPOUT
 * forwards) under the same SSRC — a sender that restarts its numbering — froze the receiver's video: every packet
 * looked "older than the segment's start" and was dropped until the numbers wrapped round (tens of thousands of
 * packets). Now, as in A.1, two sequential packets confirm the jump and the output continues by one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamRewriter } from '../../media/video/rewriter.ts';

function started(): StreamRewriter {
  const rw = new StreamRewriter(5000, 100000);
  rw.want('A');
  assert.equal(rw.rewrite('A', 0xa, 50000, 9000, true, 0), 'forward');
  for (let i = 1; i < 10; i++) assert.equal(rw.rewrite('A', 0xa, 50000 + i, 9000 + 3000 * Math.floor(i / 3), false, i), 'forward');
  assert.equal(rw.outSeq, 5009);
  return rw;
}

test('a backward jump of the source sequence (same SSRC) is confirmed by the next packet, then forwarded continuing by one', () => {
  const rw = started();
  // The source restarts at 10000 (40000 back — in 16-bit serial arithmetic, far in the past).
  assert.equal(rw.rewrite('A', 0xa, 10000, 777, false, 20), 'drop', 'a lone packet that far off may be stray');
  assert.equal(rw.rewrite('A', 0xa, 10001, 777, false, 21), 'forward', 'the next in sequence confirms the restart');
  assert.equal(rw.outSeq, 5010, 'output continues by one');
  const ts = rw.outTs;
  const seqs: number[] = [];
  for (let i = 2; i < 200; i++) {
    assert.equal(rw.rewrite('A', 0xa, 10000 + i, 777 + 3000 * Math.floor(i / 3), false, 20 + i), 'forward', `packet ${i} after the restart`);
    seqs.push(rw.outSeq);
  }
  assert.deepEqual(seqs, Array.from({ length: 198 }, (_, k) => 5011 + k));
  assert.ok(((rw.outTs - ts) >>> 0) < 200 * 3000, 'timestamps continue from the re-based point');
  assert.equal(rw.switches, 1, 'a re-base is not a source switch');
});

test('a forward jump beyond MAX_DROPOUT is re-based the same way; ordinary loss and reordering are not', () => {
  const rw = started();
  assert.equal(rw.rewrite('A', 0xa, 50012, 9000, false, 11), 'forward'); // 2 lost: a real gap stays a gap
  assert.equal(rw.outSeq, 5012);
  assert.equal(rw.rewrite('A', 0xa, 50011, 9000, false, 12), 'forward'); // late by one: forwarded in its place
  assert.equal(rw.outSeq, 5011);
  assert.equal(rw.rewrite('A', 0xa, 60000, 9000, false, 13), 'drop');
  assert.equal(rw.rewrite('A', 0xa, 60001, 9000, false, 14), 'forward');
  assert.equal(rw.outSeq, 5013);
});

test('one stray far-off packet is dropped and the stream goes on undisturbed', () => {
  const rw = started();
  assert.equal(rw.rewrite('A', 0xa, 20000, 1, false, 11), 'drop');
  assert.equal(rw.rewrite('A', 0xa, 50010, 12000, false, 12), 'forward');
  assert.equal(rw.outSeq, 5010);
  assert.equal(rw.rewrite('A', 0xa, 20001, 1, false, 13), 'drop', 'an old probation does not survive normal packets');
});
