/**
 * Load generator for bench/mixer-load.ts, run as a SEPARATE process (forked with tsx) so that the relay's CPU is
 * measured apart from it. It plays M meetings × 10 participants of real RTP audio and listens to what comes back.
 *
 * Per meeting (10 participants, one UDP socket each — the relay latches on each source, RFC 4961):
 *   #0 talker A   a 320 Hz tone, amplitude 5000 (−16 dBFS)
 *   #1 talker B   a 500 Hz tone, amplitude 3000, plus a 2 kHz burst (amplitude 8000, one 20 ms frame) every 500 ms:
 *                 the latency probe
 *   #2…#9 quiet   low-level white noise at ≈ −60 dBFS RMS: what an open microphone in a quiet room sends when the
 *                 client does not use DTX (Linphone's and baresip's default). Below the mixer's talk threshold
 *                 (−42 dBFS), so they are decoded every tick but never mixed — the load the issue describes.
 * Payloads: Opus (@evan/opus through the relay's own codec wrapper: 48 kHz mono, VOIP, 32 kbit/s, in-band FEC as
 * negotiated with useinbandfec=1) or PCMU, each role's 1 s loop encoded ONCE at start-up (two passes, so the encoder
 * state is settled where the loop starts) and replayed with continuous sequence numbers and timestamps.
 *
 * Pacing: a drift-free clock. Each participant has a fixed phase (its own millisecond within the 20 ms period,
 * spread over the period like independent phones); frame k of a participant is due at t0 + phase + 20·k whatever
 * the lateness of earlier timer wake-ups, so 50 packets/s exactly on average. The send lateness is recorded.
 *
 * Receive side, per listener: arrival time, RTP timestamp and sequence of every packet in the measurement window.
 * After the run: missing frames (timestamp gaps — the relay keeps the sequence continuous and jumps the timestamp
 * over ticks it skipped, RFC 3550 §5.1 — plus a shortfall at the end), late frames (arrival more than LATE_MS after
 * the listener's own schedule: t_first + 20 ms × frames since, measured from the earliest-arriving frame), packets
 * per second. Probe listeners (#9, on the shared mix, and #0, on its own N−1 mix) of the first `probeMeetings`
 * meetings decode what they get and detect the 2 kHz burst (single-bin DFT over each 20 ms frame); the latency is
 * the burst packet's send time to the arrival of the first output packet carrying it.
 *
 * Mode 'alone': every participant sends to a socket of the generator itself instead of the relay (#1 ↔ #9 swapped,
 * everyone else to itself), so it sends and receives exactly as many packets, decodes the same probes, and reports
 * its own CPU, timing and the latency floor of the method — the field notes' "measure the load generator alone".
 *
 * IPC (parent → child, one reply each):
 *   { cmd: 'prepare', codec, meetings, probeMeetings, audioLevel? }  → { ports }   (index = meeting × 10 + participant;
 *     audioLevel: every packet carries its RFC 6464 level, one-byte RFC 8285 extension id AUDIO_LEVEL_EXT_ID)
 *   { cmd: 'run', mode, targets?, warmupMs, measureMs } → GenReport   (events { event: 'measure-start' | 'measure-end' })
 *   { cmd: 'release' }                                  → { ok }
 *   { cmd: 'exit' }
 */
import { DgramSocket, MmsgSocket, type MediaSocket } from '../net/udp/socket.ts';
import type { CodecSpec } from '../media-relay/api.ts';
import { createCodec } from '../media/codec/create-codec.ts';
import type { AudioCodec } from '../media/codec/types.ts';
import {
  AUDIO_LEVEL_EXT_ID, BURST_FRAMES, BURST_HZ, FRAME_MS, LATE_MS, LOOP_FRAMES, OPUS_SPEC, PER_MEETING, encodeLoops, loopLevels, roleOf, specFor, type Role,
} from './lib/mixer-streams.ts';

const BURST_ON = 1000; // amplitude (int16 scale) of the 2 kHz bin that counts as "burst heard"
const BURST_OFF = 300; // below this for 3 frames re-arms the detector
const PROBE_LISTENERS = [9, 0];
/** The generator's switch to Node's dgram (`SIPMEET_BENCH_GEN_UDP=dgram`); default: the native batched socket. */
const GEN_UDP_SWITCH = 'SIPMEET_BENCH_GEN_UDP';
const RCVBUF = 256 * 1024;

export interface GenReport {
  mode: 'relay' | 'alone';
  participants: number;
  measureMs: number;
  /** Frames each listener should have had in the window. */
  expectedPerListener: number;
  received: number;
  missing: number;
  late: number;
  /** Frames later than 40 ms and 60 ms on the same scale (what a phone's usual 40–60 ms jitter buffer would lose). */
  late40: number;
  late60: number;
  /** Listeners that got nothing at all in the window. */
  deadListeners: number;
  /** Lowest and mean packets/s over the listeners. */
  minRate: number;
  meanRate: number;
  /** Arrival minus the listener's schedule (ms, over all frames): p50, p99, p99.9, max. */
  jitter: { p50: number; p99: number; p999: number; max: number };
  /** The generator's own send lateness vs the drift-free schedule (ms). */
  sendLate: { p50: number; p99: number; max: number };
  /** Added latency samples (ms) from the probes: shared-mix listeners and talkers' own N−1 mixes. */
  latency: { shared: number[]; own: number[]; burstsSent: number; missed: number };
  /** The generator's CPU over the window, % of one core. */
  cpuPct: number;
  sent: number;
}

interface Participant {
  readonly index: number;
  readonly meeting: number;
  readonly role: Role;
  readonly socket: MediaSocket;
  readonly port: number;
  /** Where it sends (the relay's endpoint port, or a generator socket in 'alone' mode). */
  dest: number;
  /** Millisecond of the 20 ms period this participant sends in. */
  readonly phase: number;
  readonly ssrc: number;
  readonly seq0: number;
  readonly ts0: number;
  readonly loop: readonly Buffer[];
  /** RFC 6464 −dBov per loop frame, when the run sends levels. */
  readonly levels: readonly number[] | undefined;
  // receive side
  n: number;
  arrivals: Float64Array;
  stamps: Float64Array;
  lastTs: number;
  tsBase: number;
  probe: Probe | undefined;
}

interface Probe {
  readonly decoder: AudioCodec;
  readonly own: boolean;
  armed: boolean;
  quiet: number;
  detections: number[];
}

let codecSpec: CodecSpec = OPUS_SPEC;
let frameTs = 960;
let participants: Participant[] = [];
/** Send times of talker B's burst frames, per meeting (only while measuring). */
let burstTimes: number[][] = [];
let measuring = false;
let windowStart = 0;
let windowEnd = 0;

/** Amplitude of the `hz` component of a frame (rectangular single-bin DFT: a partial burst still counts). */
function binAmplitude(x: Int16Array, rate: number, hz: number): number {
  const w = (2 * Math.PI * hz) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s0 = x[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / x.length;
}

async function prepare(codec: 'opus' | 'pcmu', meetings: number, probeMeetings: number, audioLevel: boolean): Promise<number[]> {
  await release();
  codecSpec = specFor(codec);
  frameTs = codec === 'opus' ? 960 : 160;
  const loops = encodeLoops(codecSpec);
  const levels = audioLevel ? loopLevels(codecSpec) : undefined;
  const total = meetings * PER_MEETING;
  const capacity = 64; // frames stored per listener beyond the window (catch-up bursts)
  for (let p = 0; p < total; p++) {
    const socket = await openSocket();
    const meeting = Math.floor(p / PER_MEETING);
    const idx = p % PER_MEETING;
    const role = roleOf(idx);
    const probe =
      meeting < probeMeetings && PROBE_LISTENERS.includes(idx)
        ? { decoder: createCodec(codecSpec)!, own: idx === 0, armed: true, quiet: 0, detections: [] }
        : undefined;
    const part: Participant = {
      index: p,
      meeting,
      role,
      socket,
      port: socket.port,
      dest: 0,
      phase: (p * 7) % FRAME_MS, // spread over the period, neighbours apart
      ssrc: (0x5e000000 + p) >>> 0,
      seq0: (p * 977) & 0xffff,
      ts0: (p * 7919 * 960) >>> 0,
      loop: loops[role],
      levels: levels?.[role],
      n: 0,
      arrivals: new Float64Array(capacity),
      stamps: new Float64Array(capacity),
      lastTs: -1,
      tsBase: 0,
      probe,
    };
    // A native socket's datagram is valid only during this call: onPacket reads (and decodes) it at once.
    socket.onDatagram((msg) => onPacket(part, msg));
    participants.push(part);
  }
  burstTimes = Array.from({ length: meetings }, () => []);
  return participants.map((q) => q.port);
}

function onPacket(p: Participant, msg: Buffer): void {
  const now = performance.now();
  if (msg.length < 12 || (msg[0]! & 0xc0) !== 0x80) return;
  const pt = msg[1]! & 0x7f;
  if (pt >= 72 && pt <= 79) return; // RTCP (RFC 5761 §4: PT 200–207 with the marker bit)
  if (!measuring || now < windowStart || now > windowEnd) return;
  const ts32 = msg.readUInt32BE(4);
  // Unwrap the 32-bit timestamp (RFC 3550 A.1 style) into a float.
  if (p.lastTs >= 0) {
    const d = (ts32 - p.lastTs) | 0;
    p.tsBase += d;
  } else p.tsBase = 0;
  p.lastTs = ts32;
  if (p.n === p.arrivals.length) {
    const a = new Float64Array(p.n * 2);
    a.set(p.arrivals);
    p.arrivals = a;
    const s = new Float64Array(p.n * 2);
    s.set(p.stamps);
    p.stamps = s;
  }
  p.arrivals[p.n] = now;
  p.stamps[p.n] = p.tsBase;
  p.n++;
  const probe = p.probe;
  if (!probe) return;
  let hlen = 12 + 4 * (msg[0]! & 0x0f);
  if (msg[0]! & 0x10 && msg.length >= hlen + 4) hlen += 4 + 4 * msg.readUInt16BE(hlen + 2);
  const pcm = probe.decoder.decode(msg.subarray(hlen));
  if (!pcm) return;
  const amp = binAmplitude(pcm, probe.decoder.sampleRate, BURST_HZ);
  if (probe.armed && amp > BURST_ON) {
    probe.armed = false;
    probe.quiet = 0;
    probe.detections.push(now);
  } else if (!probe.armed) {
    probe.quiet = amp < BURST_OFF ? probe.quiet + 1 : 0;
    if (probe.quiet >= 3) probe.armed = true;
  }
}

function pct(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * One participant's socket: the native batched socket (net/udp/socket.ts, what the relay uses) unless the addon is
 * missing or SIPMEET_BENCH_GEN_UDP=dgram — the generator's own I/O cost is CPU the relay does not get on this
 * machine (field notes: measure the generator alone), so it takes the cheapest path there is.
 */
async function openSocket(): Promise<MediaSocket> {
  let failure: Error | undefined;
  const fail = (err: Error): void => {
    failure = err;
  };
  const socket = MmsgSocket.bind('127.0.0.1', 0, RCVBUF, fail, GEN_UDP_SWITCH) ?? (await DgramSocket.bind('127.0.0.1', 0, RCVBUF, fail));
  if (!socket) throw new Error(`cannot bind a generator socket: ${failure?.message ?? 'unknown error'}`);
  return socket;
}

function setTargets(targets: readonly number[]): void {
  participants.forEach((p, i) => {
    p.dest = targets[i]!;
  });
}

async function run(mode: 'relay' | 'alone', targets: readonly number[] | undefined, warmupMs: number, measureMs: number): Promise<GenReport> {
  const dest =
    mode === 'alone'
      ? participants.map((p) => {
          const idx = p.index % PER_MEETING;
          const partner = idx === 1 ? 9 : idx === 9 ? 1 : idx;
          return participants[p.meeting * PER_MEETING + partner]!.port;
        })
      : targets!;
  setTargets(dest);
  for (const p of participants) {
    p.n = 0;
    p.lastTs = -1;
    if (p.probe) {
      p.probe.detections = [];
      p.probe.armed = true;
    }
  }
  for (const b of burstTimes) b.length = 0;
  // Buckets by phase: bucket[ms] = participants sending in that millisecond of the period.
  const buckets: Participant[][] = Array.from({ length: FRAME_MS }, () => []);
  for (const p of participants) buckets[p.phase]!.push(p);
  const pt = codecSpec.payloadType;
  const lateness: number[] = [];
  let sent = 0;
  const t0 = performance.now() + 5;
  windowStart = t0 + warmupMs;
  windowEnd = windowStart + measureMs;
  const stopAt = windowEnd + 200; // keep the load steady until the window's output has arrived
  let cpuStart = process.cpuUsage();
  let cpuEnd = cpuStart;
  let lastSlot = -1;
  measuring = true;
  let startedWindow = false;
  let endedWindow = false;
  await new Promise<void>((resolve) => {
    const step = (): void => {
      const now = performance.now();
      if (!startedWindow && now >= windowStart) {
        startedWindow = true;
        cpuStart = process.cpuUsage();
        process.send!({ event: 'measure-start' });
      }
      if (!endedWindow && now >= windowEnd) {
        endedWindow = true;
        cpuEnd = process.cpuUsage(cpuStart);
        process.send!({ event: 'measure-end' });
      }
      if (now >= stopAt) return resolve();
      const slot = Math.floor(now - t0);
      for (let s = lastSlot + 1; s <= slot; s++) {
        if (s < 0) continue;
        const due = t0 + s;
        const k = Math.floor(s / FRAME_MS);
        const f = k % LOOP_FRAMES;
        for (const p of buckets[s % FRAME_MS]!) {
          const payload = p.loop[f]!;
          const ext = p.levels === undefined ? 0 : 8;
          const pkt = Buffer.allocUnsafe(12 + ext + payload.length);
          pkt[0] = ext ? 0x90 : 0x80; // V=2, X when the level rides along
          pkt[1] = pt;
          pkt.writeUInt16BE((p.seq0 + k) & 0xffff, 2);
          pkt.writeUInt32BE((p.ts0 + k * frameTs) >>> 0, 4);
          pkt.writeUInt32BE(p.ssrc, 8);
          if (ext) {
            // RFC 8285 §4.2 one-byte block of one word: 0xBEDE, length 1; element ID|L=0, V=0|level (RFC 6464 §3), padding.
            pkt.writeUInt32BE(0xbede0001, 12);
            pkt.writeUInt32BE((((AUDIO_LEVEL_EXT_ID << 4) << 24) | (p.levels![f]! << 16)) >>> 0, 16);
          }
          payload.copy(pkt, 12 + ext);
          p.socket.send(pkt, p.dest, '127.0.0.1');
          sent++;
          if (p.role === 'talkerB' && BURST_FRAMES.has(f) && due >= windowStart && due <= windowEnd) {
            burstTimes[p.meeting]!.push(performance.now());
          }
        }
        if (due >= windowStart && due <= windowEnd) lateness.push(now - due);
      }
      lastSlot = Math.max(lastSlot, slot);
      setTimeout(step, 1);
    };
    step();
  });
  measuring = false;
  return report(mode, measureMs, sent, lateness, cpuEnd);
}

function report(mode: 'relay' | 'alone', measureMs: number, sent: number, lateness: number[], cpu: NodeJS.CpuUsage): GenReport {
  const expected = Math.round(measureMs / FRAME_MS);
  let received = 0;
  let missing = 0;
  let late = 0;
  let late40 = 0;
  let late60 = 0;
  let dead = 0;
  let minRate = Infinity;
  let rateSum = 0;
  const jitter: number[] = [];
  for (const p of participants) {
    received += p.n;
    const rate = (p.n * 1000) / measureMs;
    minRate = Math.min(minRate, rate);
    rateSum += rate;
    if (p.n === 0) {
      dead++;
      missing += expected;
      continue;
    }
    let gaps = 0;
    let base = Infinity;
    const offsets = new Float64Array(p.n);
    for (let i = 0; i < p.n; i++) {
      const frames = (p.stamps[i]! - p.stamps[0]!) / frameTs;
      if (i > 0) {
        const d = Math.round((p.stamps[i]! - p.stamps[i - 1]!) / frameTs);
        if (d > 1) gaps += d - 1;
      }
      offsets[i] = p.arrivals[i]! - p.arrivals[0]! - frames * FRAME_MS;
      if (offsets[i]! < base) base = offsets[i]!;
    }
    for (let i = 0; i < p.n; i++) {
      const o = offsets[i]! - base;
      jitter.push(o);
      if (o > LATE_MS) late++;
      if (o > 40) late40++;
      if (o > 60) late60++;
    }
    missing += gaps + Math.max(0, expected - 1 - (p.n + gaps));
  }
  jitter.sort((a, b) => a - b);
  lateness.sort((a, b) => a - b);
  // Latency: each detection against the latest burst sent before it in that meeting.
  const shared: number[] = [];
  const own: number[] = [];
  let detected = 0;
  let burstsSent = 0;
  for (const b of burstTimes) burstsSent += b.length;
  for (const p of participants) {
    if (!p.probe) continue;
    const bursts = burstTimes[p.meeting]!;
    for (const t of p.probe.detections) {
      let best = -1;
      for (const s of bursts) if (s <= t) best = s;
      if (best < 0 || t - best > 300) continue;
      (p.probe.own ? own : shared).push(t - best);
      detected++;
    }
  }
  const probesPerMeeting = mode === 'alone' ? 1 : PROBE_LISTENERS.length; // alone: only #9 hears #1's bursts
  const probeMeetings = new Set(participants.filter((p) => p.probe).map((p) => p.meeting)).size;
  const probeBursts = burstTimes.slice(0, probeMeetings).reduce((n, b) => n + b.length, 0);
  return {
    mode,
    participants: participants.length,
    measureMs,
    expectedPerListener: expected,
    received,
    missing,
    late,
    late40,
    late60,
    deadListeners: dead,
    minRate: participants.length ? minRate : 0,
    meanRate: participants.length ? rateSum / participants.length : 0,
    jitter: { p50: pct(jitter, 0.5), p99: pct(jitter, 0.99), p999: pct(jitter, 0.999), max: jitter[jitter.length - 1] ?? NaN },
    sendLate: { p50: pct(lateness, 0.5), p99: pct(lateness, 0.99), max: lateness[lateness.length - 1] ?? NaN },
    latency: { shared, own, burstsSent, missed: Math.max(0, probeBursts * probesPerMeeting - detected) },
    cpuPct: ((cpu.user + cpu.system) / (measureMs * 1000)) * 100,
    sent,
  };
}

async function release(): Promise<void> {
  measuring = false;
  for (const p of participants) p.socket.close();
  participants = [];
}

type Command =
  | { cmd: 'prepare'; codec: 'opus' | 'pcmu'; meetings: number; probeMeetings: number; audioLevel?: boolean }
  | { cmd: 'run'; mode: 'relay' | 'alone'; targets?: number[]; warmupMs: number; measureMs: number }
  | { cmd: 'release' }
  | { cmd: 'exit' };

process.on('message', async (m: Command) => {
  if (m.cmd === 'prepare') process.send!({ ports: await prepare(m.codec, m.meetings, m.probeMeetings, m.audioLevel === true) });
  else if (m.cmd === 'run') process.send!(await run(m.mode, m.targets, m.warmupMs, m.measureMs));
  else if (m.cmd === 'release') {
    await release();
    process.send!({ ok: true });
  } else if (m.cmd === 'exit') {
    await release();
    process.disconnect?.();
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
