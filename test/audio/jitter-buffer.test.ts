import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JitterBuffer, type JitterPop } from '../../media/jitter/jitter-buffer.ts';
import { Unwrapper, seqBefore, seqDiff, tsDiff } from '../../media/jitter/serial.ts';
import type { RtpIn } from '../../media-relay/audio/types.ts';

/** A 20 ms PCMU packet number `i` of a stream starting at `seq0` (payload[0] = i & 0xff marks it). */
function pkt(i: number, seq0 = 1000, ssrc = 0x1234): RtpIn {
  return {
    payloadType: 0,
    sequenceNumber: (seq0 + i) & 0xffff,
    timestamp: (5000 + i * 160) >>> 0,
    ssrc,
    marker: i === 0,
    payload: Uint8Array.of(i & 0xff, 0, 0, 0),
  };
}

interface Arrival {
  readonly at: number;
  readonly p: RtpIn;
}

/** Deliver `arrivals` and pop every 20 ms from t=0 to `untilMs`, as the mixer's tick does. */
function run(jb: JitterBuffer, arrivals: Arrival[], untilMs: number): JitterPop[] {
  const queue = [...arrivals].sort((a, b) => a.at - b.at);
  const out: JitterPop[] = [];
  for (let t = 0; t <= untilMs; t += 20) {
    while (queue.length > 0 && queue[0]!.at <= t) {
      const a = queue.shift()!;
      jb.push(a.p, a.at);
    }
    out.push(jb.pop(t));
  }
  return out;
}

/**
 * The packet indices played, 'M' for a concealed frame, 'E' for silence. Leading silence and the tail after the
 * last packet (a few concealed frames fading out, then silence) are trimmed.
 */
function played(out: JitterPop[]): Array<number | 'M' | 'E'> {
  const marks = out.map((r) => (r === 'missing' ? 'M' : r === 'empty' ? 'E' : r.payload[0]!));
  while (marks[0] === 'E') marks.shift();
  while (marks.length > 0 && typeof marks[marks.length - 1] !== 'number') marks.pop();
  return marks;
}

test('serial arithmetic: 16-bit sequence and 32-bit timestamp wrap (RFC 1982, RFC 3550 A.1)', () => {
  assert.equal(seqDiff(65535, 0), 1);
  assert.equal(seqDiff(0, 65535), -1);
  assert.ok(seqBefore(65534, 2));
  assert.ok(!seqBefore(2, 65534));
  assert.equal(tsDiff(0xffffff00, 0x100), 0x200);
  const u = new Unwrapper(16);
  const ext = [65534, 65535, 0, 65533, 1, 2].map((s) => u.unwrap(s));
  assert.deepEqual(
    ext.map((e) => e - ext[0]!),
    [0, 1, 2, -1, 3, 4],
    'reordering across the wrap keeps its place',
  );
});

test('in-order stream at steady 20 ms plays every packet with no concealment', () => {
  const jb = new JitterBuffer({ clockRate: 8000 });
  const arrivals = Array.from({ length: 50 }, (_, i) => ({ at: i * 20 + 3, p: pkt(i) }));
  const marks = played(run(jb, arrivals, 1200));
  assert.deepEqual(marks, Array.from({ length: 50 }, (_, i) => i));
});

test('reordered packets (pairs swapped) with ±8 ms jitter: all played in order, no gap, nothing concealed', () => {
  const jb = new JitterBuffer({ clockRate: 8000 });
  const arrivals: Arrival[] = [];
  for (let i = 0; i < 60; i++) {
    const swapped = i % 2 === 0 ? i + 1 : i - 1;
    arrivals.push({ at: swapped * 20 + 10 + ((i * 7) % 17) - 8, p: pkt(i) });
  }
  const marks = played(run(jb, arrivals, 1500));
  assert.deepEqual(marks, Array.from({ length: 60 }, (_, i) => i));
  assert.equal(jb.stats().lost, 0);
});

test('a merely late packet costs one concealed frame, never a silent gap, and is still played', () => {
  const jb = new JitterBuffer({ clockRate: 8000 });
  // Packet 20 and everything after it is held up 50 ms in the network (a delay spike).
  const arrivals = Array.from({ length: 40 }, (_, i) => ({ at: i * 20 + 2 + (i >= 20 ? 50 : 0), p: pkt(i) }));
  const marks = played(run(jb, arrivals, 1200));
  assert.ok(!marks.includes('E'), `no silent frame inside the stream: ${marks.join(',')}`);
  const numbers = marks.filter((m) => typeof m === 'number');
  assert.deepEqual(numbers, Array.from({ length: 40 }, (_, i) => i), 'nothing lost');
  assert.ok(marks.filter((m) => m === 'M').length >= 1, 'the wait is concealed');
});

test('5 % loss: every lost packet is one concealed frame, the stream never goes silent', () => {
  const jb = new JitterBuffer({ clockRate: 8000 });
  const lostSet = new Set([7, 23, 41, 58, 77]);
  const arrivals = Array.from({ length: 100 }, (_, i) => ({ at: i * 20 + 5, p: pkt(i) })).filter((_, i) => !lostSet.has(i));
  const marks = played(run(jb, arrivals, 2200));
  assert.ok(!marks.includes('E'));
  assert.equal(marks.length, 100, 'one output per 20 ms of the stream');
  for (const i of lostSet) assert.equal(marks[i], 'M', `packet ${i} concealed in place`);
  assert.equal(jb.stats().lost, lostSet.size);
});

test('a packet arriving after its slot was played is counted late and dropped', () => {
  const jb = new JitterBuffer({ clockRate: 8000 });
  const arrivals = Array.from({ length: 30 }, (_, i) => ({ at: i * 20 + 2 + (i === 10 ? 120 : 0), p: pkt(i) }));
  const marks = played(run(jb, arrivals, 800));
  assert.equal(marks.filter((m) => m === 10).length, 0, 'not played out of order');
  assert.equal(jb.stats().late, 1);
  assert.equal(marks[10], 'M');
});

test('sequence numbers wrapping at 65535 play straight through', () => {
  const jb = new JitterBuffer({ clockRate: 8000 });
  const arrivals = Array.from({ length: 20 }, (_, i) => ({ at: i * 20 + 1, p: pkt(i, 65530) }));
  assert.deepEqual(played(run(jb, arrivals, 600)), Array.from({ length: 20 }, (_, i) => i));
  assert.equal(jb.stats().resets, 0);
});

test('duplicates are ignored and counted', () => {
  const jb = new JitterBuffer({ clockRate: 8000 });
  const arrivals = Array.from({ length: 20 }, (_, i) => [
    { at: i * 20 + 1, p: pkt(i) },
    { at: i * 20 + 4, p: pkt(i) },
  ]).flat();
  assert.deepEqual(played(run(jb, arrivals, 600)), Array.from({ length: 20 }, (_, i) => i));
  assert.equal(jb.stats().duplicates, 20);
});

test('the cap holds under a burst: one second arriving at once keeps at most 200 ms', () => {
  const jb = new JitterBuffer({ clockRate: 8000, maxDelayMs: 200 });
  for (let i = 0; i < 50; i++) jb.push(pkt(i), 100);
  assert.ok(jb.stats().depthMs <= 200, `depth ${jb.stats().depthMs}`);
  assert.equal(jb.stats().overflow, 40);
  const first = jb.pop(100);
  assert.ok(typeof first === 'object' && first.payload[0] === 40, 'plays the newest 200 ms');
});

test('target delay adapts to jitter (RFC 3550 A.8) and stays within [20, cap]', () => {
  const calm = new JitterBuffer({ clockRate: 8000 });
  run(calm, Array.from({ length: 100 }, (_, i) => ({ at: i * 20 + 1, p: pkt(i) })), 2100);
  assert.ok(calm.stats().targetMs <= 25, `calm target ${calm.stats().targetMs}`);
  const rough = new JitterBuffer({ clockRate: 8000, maxDelayMs: 150 });
  // Deterministic ±40 ms jitter.
  run(rough, Array.from({ length: 100 }, (_, i) => ({ at: i * 20 + 40 + (((i * 37) % 81) - 40), p: pkt(i) })), 2300);
  const s = rough.stats();
  assert.ok(s.jitterMs > 10, `jitter estimate ${s.jitterMs}`);
  assert.ok(s.targetMs > 50 && s.targetMs <= 150, `rough target ${s.targetMs}`);
});

test('a new SSRC or a sequence jump restarts the buffer instead of waiting for the old numbers', () => {
  const jb = new JitterBuffer({ clockRate: 8000 });
  const a = Array.from({ length: 10 }, (_, i) => ({ at: i * 20 + 1, p: pkt(i) }));
  // After a short pause (a re-INVITE to another source), a stream with another SSRC and unrelated numbers.
  const b = Array.from({ length: 10 }, (_, i) => ({ at: 300 + i * 20 + 1, p: pkt(i + 100, 30000, 0x9999) }));
  const marks = played(run(jb, [...a, ...b], 600));
  assert.deepEqual(marks.filter((m) => typeof m === 'number'), [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => (i + 100) & 0xff)]);
  assert.equal(jb.stats().resets, 1);
});

test('a timestamp jump over suppressed silence (RFC 3551 §4.1) plays straight through, nothing dropped', () => {
  const jb = new JitterBuffer({ clockRate: 8000 });
  // Packets 0–9, then the sender stops for 1 s (timestamp jumps 8000, sequence goes on by one), packets 10–19.
  const arrivals = Array.from({ length: 20 }, (_, i) => {
    const p = pkt(i);
    return i < 10 ? { at: i * 20 + 2, p } : { at: 1000 + i * 20 + 2, p: { ...p, timestamp: p.timestamp + 8000, marker: i === 10 } };
  });
  const out = run(jb, arrivals, 1600);
  const numbers = out.flatMap((r) => (typeof r === 'object' ? [r.payload[0]!] : []));
  assert.deepEqual(numbers, Array.from({ length: 20 }, (_, i) => i));
  const s = jb.stats();
  assert.equal(s.overflow + s.shrunk + s.lost + s.late, 0);
});

/**
 * Pop times minus arrival times of the packets played (ms), for a buffer ticking every 20 ms from t=0, and the
 * frames concealed between the first and the last packet played.
 */
function waits(jb: JitterBuffer, arrivals: Arrival[], untilMs: number): number[] & { concealed: number } {
  const at = new Map(arrivals.map((a) => [a.p.sequenceNumber, a.at]));
  const queue = [...arrivals].sort((a, b) => a.at - b.at);
  const out = Object.assign([] as number[], { concealed: 0 });
  let pending = 0;
  for (let t = 0; t <= untilMs; t += 20) {
    while (queue.length > 0 && queue[0]!.at <= t) {
      const a = queue.shift()!;
      jb.push(a.p, a.at);
    }
    const r = jb.pop(t);
    if (r === 'missing' && out.length > 0) pending++;
    if (typeof r === 'object') {
      out.push(t - at.get(r.sequenceNumber)!);
      out.concealed += pending;
      pending = 0;
    }
  }
  return out;
}

const MIXER_OPTS = { clockRate: 8000, minDelayMs: 10, slackMs: 10, shrink: 'wait' } as const;

test('mixer settings (slack 10 ms, min 10): a calm stream is played 10–30 ms after arrival whatever its phase, nothing concealed or shrunk', () => {
  for (const phase of [1, 5, 9, 11, 15, 19]) {
    const jb = new JitterBuffer(MIXER_OPTS);
    // A calm line: ±1 ms of jitter.
    const arrivals = Array.from({ length: 200 }, (_, i) => ({ at: i * 20 + phase + ((i * 7) % 3) - 1, p: pkt(i) }));
    const w = waits(jb, arrivals, 4100);
    assert.equal(w.length, 200, `phase ${phase}: every packet played`);
    assert.ok(Math.min(...w) >= 8 && Math.max(...w) < 33, `phase ${phase}: waits ${Math.min(...w)}–${Math.max(...w)} ms`);
    const s = jb.stats();
    assert.equal(s.shrunk + s.lost + w.concealed, 0, `phase ${phase}: ${JSON.stringify(s)}`);
    assert.ok(s.targetMs < 16, `phase ${phase}: target ${s.targetMs}`);
  }
  // The defaults (the softclient's buffer) keep a target of at least 20 ms.
  const plain = new JitterBuffer({ clockRate: 8000 });
  const w = waits(plain, Array.from({ length: 100 }, (_, i) => ({ at: i * 20 + 5, p: pkt(i) })), 2100);
  assert.ok(Math.min(...w) >= 20, `default buffer waits ≥ 20 (${Math.min(...w)})`);
});

test("shrink 'wait': a buffer that started 60 ms deep drains to within a frame of its target in under a second", () => {
  const jb = new JitterBuffer(MIXER_OPTS);
  // The first 4 packets arrive in a burst (a stall upstream), then the line is steady.
  const arrivals = Array.from({ length: 150 }, (_, i) => ({ at: i < 4 ? 63 : i * 20 + 3, p: pkt(i) }));
  const w = waits(jb, arrivals, 3100);
  const late = w.slice(-100);
  assert.ok(Math.max(...late) < 33, `settled waits ${Math.min(...late)}–${Math.max(...late)} ms`);
  const s = jb.stats();
  assert.ok(s.shrunk >= 1 && s.shrunk <= 4, `shrunk ${s.shrunk}`);
  assert.equal(w.concealed, 0, 'shrinking never starved the buffer');
});
