/**
 * Video forwarding as pure stages: keyframe detection from payload bytes (VP8 RFC 7741 §4.2/§4.3, H.264 RFC 6184
 * single NAL / STAP-A / FU-A), the continuous-stream rewriter across source switches, and the keyframe-request
 * throttle on a manual clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vp8IsKeyframeStart } from '../../media/video/vp8.ts';
import { h264IsKeyframeStart } from '../../media/video/h264.ts';
import { StreamRewriter } from '../../media/video/rewriter.ts';
import { KeyframeRequester } from '../../media-relay/forward/keyframe-requester.ts';
import { RetransmitCache } from '../../media-relay/forward/retransmit-cache.ts';
import { ManualClock } from '../../registrar/sip/clock.ts';

const vp8 = (...b: number[]) => vp8IsKeyframeStart(Uint8Array.from(b), 0, b.length);
const h264 = (...b: number[]) => h264IsKeyframeStart(Uint8Array.from(b), 0, b.length);

test('VP8: S=1, PID=0 and P=0 in the payload header is a keyframe start; anything else is not', () => {
  assert.equal(vp8(0x10, 0x00, 0x00), true); //           X=0 S=1 PID=0 | Size0 H VER P=0
  assert.equal(vp8(0x10, 0x01, 0x00), false); //          P=1: interframe
  assert.equal(vp8(0x00, 0x00), false); //                S=0: continuation
  assert.equal(vp8(0x11, 0x00), false); //                PID=1
  assert.equal(vp8(0x90, 0x80, 0x81, 0x23, 0x00), true); // X: I=1; PictureID M=1 (15 bits); P=0
  assert.equal(vp8(0x90, 0x80, 0x12, 0x01), false); //    X: I=1; 7-bit PictureID; P=1
  assert.equal(vp8(0x90, 0xf0, 0x81, 0x23, 0x05, 0x40, 0x00), true); // I (M), L, T|K octets, then P=0
  assert.equal(vp8(0x90, 0xf0, 0x81, 0x23, 0x05, 0x40), false); // payload header missing (truncated)
  assert.equal(vp8(0x90), false);
  assert.equal(vp8(), false);
  // An offset into a larger buffer (the RTP payload inside a packet).
  assert.equal(vp8IsKeyframeStart(Uint8Array.from([0xff, 0xff, 0x10, 0x00]), 2, 2), true);
});

test('H.264: IDR or SPS as a single NAL, inside a STAP-A, or at the start of an FU-A', () => {
  assert.equal(h264(0x65, 0x88), true); //  NAL type 5 (IDR slice)
  assert.equal(h264(0x67, 0x42), true); //  NAL type 7 (SPS)
  assert.equal(h264(0x41, 0x9a), false); // NAL type 1 (non-IDR slice)
  assert.equal(h264(0x68, 0xce), false); // PPS alone
  // STAP-A (24): [size 2][SEI 0x06 ..] [size 2][SPS 0x67 ..]
  assert.equal(h264(0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x67, 0x42), true);
  assert.equal(h264(0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x68, 0xce), false);
  assert.equal(h264(0x78, 0x00, 0x09, 0x67), false); // size runs past the end
  // FU-A (28): FU header S=1 type 5 → start of an IDR; S=0 → a middle fragment; S=1 type 1 → not a keyframe.
  assert.equal(h264(0x7c, 0x85, 0x88), true);
  assert.equal(h264(0x7c, 0x05, 0x88), false);
  assert.equal(h264(0x7c, 0x81, 0x9a), false);
  assert.equal(h264(0x7c), false);
});

test('rewriter: starts at a keyframe, +1 per packet, switches only at the new source keyframe, continuous across it', () => {
  const rw = new StreamRewriter(1000, 5000);
  rw.want('A');
  assert.equal(rw.rewrite('A', 0xa, 40, 900, false, 0), 'need-keyframe');
  assert.equal(rw.rewrite('A', 0xa, 41, 900, true, 0), 'forward');
  assert.deepEqual([rw.outSeq, rw.outTs, rw.switched], [1000, 5001, true]);
  assert.equal(rw.rewrite('A', 0xa, 42, 900, false, 0), 'forward');
  assert.equal(rw.outSeq, 1001);
  assert.equal(rw.rewrite('A', 0xa, 43, 3900, false, 33), 'forward');
  assert.deepEqual([rw.outSeq, rw.outTs], [1002, 5001 + 3000]);
  // Switch to B: A keeps flowing until B's keyframe; B's deltas are refused.
  rw.want('B');
  assert.equal(rw.rewrite('B', 0xb, 7000, 10, false, 40), 'need-keyframe');
  assert.equal(rw.rewrite('A', 0xa, 44, 6900, false, 66), 'forward');
  assert.equal(rw.outSeq, 1003);
  assert.equal(rw.rewrite('B', 0xb, 7001, 20, true, 100), 'forward');
  assert.equal(rw.outSeq, 1004); // no jump
  assert.equal(rw.outTs, 5001 + 6000 + 34 * 90); // 34 ms after A's last packet, in 90 kHz units
  assert.equal(rw.switches, 2);
  assert.equal(rw.rewrite('A', 0xa, 45, 9900, false, 100), 'drop'); // old source now dropped
  assert.equal(rw.rewrite('B', 0xb, 7000, 10, false, 101), 'drop'); // older than B's segment start
  assert.equal(rw.rewrite('B', 0xb, 7003, 20, false, 102), 'forward');
  assert.equal(rw.outSeq, 1006); // a real gap (7002 lost upstream) stays a gap
  // NACK mapping: output numbers back to (source, source seq).
  assert.deepEqual(
    [rw.toSource(1002), rw.toSource(1004), rw.toSource(1005), rw.toSource(1007)].map((p) => p && [p.sourceId, p.seq]),
    [['A', 43], ['B', 7001], ['B', 7002], undefined],
  );
  assert.equal(rw.translateTimestamp('B', 0xb, 20), (5001 + 6000 + 34 * 90) >>> 0);
  assert.equal(rw.translateTimestamp('A', 0xa, 20), undefined);
});

test('rewriter: sequence and timestamp wrap; a new SSRC of the same source waits for a keyframe', () => {
  const rw = new StreamRewriter(65535, 0xffffff00);
  rw.want('A');
  rw.rewrite('A', 1, 10, 0, true, 0);
  assert.deepEqual([rw.outSeq, rw.outTs], [65535, 0xffffff01]);
  rw.rewrite('A', 1, 11, 3000, false, 33);
  assert.deepEqual([rw.outSeq, rw.outTs], [0, (0xffffff01 + 3000) >>> 0]);
  assert.equal(rw.rewrite('A', 2, 500, 0, false, 40), 'need-keyframe');
  assert.equal(rw.rewrite('A', 2, 501, 0, true, 40), 'forward');
  assert.equal(rw.outSeq, 1);
});

test('rewriter: a stream longer than 2^16 packets keeps flowing (no 16-bit "older than the switch" flip); NACK maps after wraps', () => {
  const rw = new StreamRewriter(0, 0);
  rw.want('A');
  assert.equal(rw.rewrite('A', 1, 0, 0, true, 0), 'forward');
  let forwarded = 1;
  for (let i = 1; i < 200_000; i++) if (rw.rewrite('A', 1, i & 0xffff, i * 30, false, i) === 'forward') forwarded++;
  assert.equal(forwarded, 200_000);
  assert.equal(rw.outSeq, (200_000 - 1) & 0xffff);
  assert.deepEqual(rw.toSource((200_000 - 10) & 0xffff)!.seq, (200_000 - 10) & 0xffff);
  // A switch after the wraps still numbers on by one and maps NACKs to the right segment.
  rw.want('B');
  rw.rewrite('B', 2, 777, 0, true, 200_001);
  assert.equal(rw.outSeq, 200_000 & 0xffff);
  assert.equal(rw.toSource(200_000 & 0xffff)!.sourceId, 'B');
  assert.equal(rw.toSource((200_000 - 1) & 0xffff)!.sourceId, 'A');
  assert.equal(rw.rewrite('B', 2, 776, 0, false, 200_002), 'drop', 'older than the switch');
});

test('keyframe requests: ≤ 1 per second, repeated each second until a keyframe arrives', () => {
  const clock = new ClockWithLog();
  const req = new KeyframeRequester(clock, (repeat) => clock.sent.push([clock.now(), repeat]) > 0);
  req.request(); // receiver 1 joins at t=0
  clock.advance(300);
  req.request(); // receiver 2 joins at t=300: throttled
  assert.deepEqual(clock.sent, [[0, false]]);
  clock.advance(700); // t=1000: no keyframe yet → repeat
  assert.deepEqual(clock.sent, [[0, false], [1000, true]]);
  clock.advance(200);
  req.keyframeArrived(); // t=1200
  clock.advance(3000);
  assert.equal(clock.sent.length, 2);
  req.request(); // t=4200: new want, last sent 3.2 s ago → at once, a new request (FIR seq++)
  assert.deepEqual(clock.sent[2], [4200, false]);
  req.keyframeArrived();
  clock.advance(100);
  req.request(); // t=4300: 100 ms after the last → waits until t=5200
  clock.advance(899);
  assert.equal(clock.sent.length, 3);
  clock.advance(1);
  assert.deepEqual(clock.sent[3], [5200, false]);
  req.close();
  clock.advance(10_000);
  assert.equal(clock.sent.length, 4);
});

test('keyframe requests: a publisher not heard yet is asked as soon as it is (poke)', () => {
  const clock = new ManualClock();
  let reachable = false;
  let sent = 0;
  const req = new KeyframeRequester(clock, () => reachable && ++sent > 0);
  req.request();
  assert.equal(sent, 0);
  clock.advance(5000);
  reachable = true;
  req.poke();
  assert.equal(sent, 1);
  req.keyframeArrived();
});

test('retransmission cache answers only the exact (SSRC, seq) it holds', () => {
  const cache = new RetransmitCache();
  cache.store(1, 100, Uint8Array.from([1, 2, 3]));
  cache.store(1, 100 + 512, Uint8Array.from([4, 5])); // same slot, later packet
  assert.equal(cache.get(1, 100), undefined);
  assert.deepEqual([...cache.get(1, 612)!], [4, 5]);
  assert.equal(cache.get(2, 612), undefined);
  const copy = cache.get(1, 612)!;
  copy[0] = 9; // the caller's copy: rewriting it leaves the cache intact
  assert.deepEqual([...cache.get(1, 612)!], [4, 5]);
});

class ClockWithLog extends ManualClock {
  readonly sent: Array<[number, boolean]> = [];
}
