/**
 * AudioWorkerHost: runs meetings' audio pipelines (MeetingAudio) off the SIP/relay event loop, in worker threads.
 *
 *   relay thread                                   worker thread k (of N)
 *   ────────────                                   ──────────────────────
 *   addLeg / updateLeg / removeLeg ──postMessage──▶ AudioEngine: MeetingAudio per meeting
 *   push(pkt) ──▶ PacketRing (SharedArrayBuffer) ──▶ read at each tick → jitter buffer …
 *                                                   Ticker: tick k at start + k × 20 ms (monotonic, no drift)
 *   onFrames / onDtmf / onActiveSpeaker ◀──────────  ONE message per tick: every meeting's frames packed
 *
 * No message per packet and none per meeting: at 500 participants the per-packet postMessage (a structured clone
 * and a wake-up of the worker) cost more than the relay's socket work (docs/benchmarks.md, mixer capacity).
 *
 * A meeting lives on one worker (chosen with the fewest meetings when its first leg is added) and stays there;
 * meetings spread over N workers, N = defaultAudioWorkers() unless given. Workers start on
 * first use. `inline: true` runs the same engine on this thread (tests, tiny deployments), optionally on an
 * injected clock (ManualClock) — in worker mode the clock is always the real monotonic one.
 *
 * A worker that dies (an uncaught error in a tick) is started again at once with a fresh ring, and every meeting
 * placed on it gets its legs back (same leg ids, latest configs): its audio resumes within a few ticks, jitter
 * buffers and mixes starting empty; the other worker's meetings never notice. More than RESTART_LIMIT deaths within
 * RESTART_WINDOW_MS: that lane stays down (logged) rather than crash-looping.
 *
 * Teardown: close() stops every engine (each removes its meetings) and terminates the workers; idempotent.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Clock } from '../../registrar/sip/clock.ts';
import { systemClock } from '../../registrar/sip/clock.ts';
import type { Logger } from '../../registrar/log.ts';
import { AudioEngine } from './engine.ts';
import { processCodecLocks } from '../../media/codec/codec-lock.ts';
import { readFrameBatch } from './frame-batch.ts';
import type { EngineEvent, HostCommand } from './messages.ts';
import { PacketRing } from './packet-ring.ts';
import type { AudioLegConfig, AudioOut, MeetingAudioStats, RtpIn } from './types.ts';

export interface AudioWorkerHostOptions {
  readonly logger: Logger;
  /** Worker threads to spread meetings over. Default defaultAudioWorkers(). */
  readonly workers?: number;
  /** Run on this thread, no workers (tests). */
  readonly inline?: boolean;
  /** Inline mode only: the clock driving the ticks and stamping packets (default: the real monotonic clock). */
  readonly clock?: Clock;
  /** The mix bus rate: 48000 (the only one supported). */
  readonly sampleRate?: 48000;
}

/**
 * Default audio worker count: one per core up to 2 cores, then cores − 1 (a core left to the relay's main thread:
 * sockets, RTP in/out, video forwarding, SIP when in one process). On 2 cores both workers are needed: the codec
 * work of 500 Opus participants is ≈ 0.9 of a core on its own, and the main thread no longer takes a packet hop
 * per packet (packet-ring.ts), so it needs far less than a core (docs/benchmarks.md, mixer capacity).
 */
export function defaultAudioWorkers(cores: number = availableParallelism()): number {
  return Math.max(1, cores <= 2 ? cores : cores - 1);
}

const RESTART_LIMIT = 5;
const RESTART_WINDOW_MS = 10_000;

export type FramesHandler = (meetingId: string, frames: AudioOut[], tick: number, nowMs: number) => void;
export type DtmfHandler = (meetingId: string, participantId: string, digit: string) => void;
export type ActiveSpeakerHandler = (meetingId: string, participantId: string | undefined) => void;

/** Where commands for one engine go (a worker, or the inline engine). */
interface Lane {
  send(cmd: HostCommand, transfer?: ArrayBuffer[]): void;
  /** Worker lanes: where packets go (inline lanes take 'push' commands); a new ring when the worker restarts. */
  readonly ring: PacketRing | undefined;
  /** Worker lanes: times the worker was started again after dying. */
  readonly restarts: number;
  /** Fault injection (tests): terminate the worker as a crash would. */
  kill(): Promise<void>;
  meetings: number;
  stop(): Promise<void>;
}

/** A meeting placed on a lane, with the numbers the ring and the frame batches use. */
interface Placed {
  readonly lane: Lane;
  readonly meetingId: string;
  readonly num: number;
  /** participantId → leg id. */
  readonly legs: Map<string, number>;
  /** participantId → its latest config (replayed into a restarted worker). */
  readonly configs: Map<string, AudioLegConfig>;
}

export class AudioWorkerHost {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly lanes: Lane[] = [];
  private readonly maxLanes: number;
  private readonly placement = new Map<string, Placed>();
  private readonly byNum = new Map<number, Placed>();
  /** Leg id → participantId (frames come back by leg id). */
  private readonly legNames = new Map<number, string>();
  private nextMeetingNum = 1;
  private nextLegId = 1;
  /** Shared by every worker in this process and its main thread (codec-lock.ts: the native Opus binding is not thread-safe). */
  private readonly codecLocks = processCodecLocks();
  private readonly framesHandlers: FramesHandler[] = [];
  private readonly dtmfHandlers: DtmfHandler[] = [];
  private readonly speakerHandlers: ActiveSpeakerHandler[] = [];
  private readonly pendingStats = new Map<number, (s: MeetingAudioStats | undefined) => void>();
  private nextRequestId = 1;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: AudioWorkerHostOptions) {
    if (opts.sampleRate !== undefined && opts.sampleRate !== 48000) throw new TypeError('mix bus rate must be 48000');
    if (opts.clock && !opts.inline) throw new TypeError('an injected clock needs inline: true');
    this.log = opts.logger.child({ component: 'audio-host' });
    this.clock = opts.clock ?? systemClock;
    this.maxLanes = opts.inline ? 1 : Math.max(1, Math.floor(opts.workers ?? defaultAudioWorkers()));
  }

  onFrames(cb: FramesHandler): void {
    this.framesHandlers.push(cb);
  }

  onDtmf(cb: DtmfHandler): void {
    this.dtmfHandlers.push(cb);
  }

  onActiveSpeaker(cb: ActiveSpeakerHandler): void {
    this.speakerHandlers.push(cb);
  }

  /** Add a participant's leg; the meeting is created (and placed on a worker) with its first leg. */
  addLeg(meetingId: string, leg: AudioLegConfig): void {
    if (this.closing) return;
    const placed = this.place(meetingId);
    const legId = this.nextLegId++;
    const old = placed.legs.get(leg.participantId);
    // A duplicate is refused by the engine; keep routing the existing leg.
    if (old === undefined) {
      placed.legs.set(leg.participantId, legId);
      this.legNames.set(legId, leg.participantId);
      placed.configs.set(leg.participantId, leg);
    }
    placed.lane.send({ type: 'add-leg', meetingId, leg, legId, meetingNum: placed.num });
  }

  updateLeg(meetingId: string, leg: AudioLegConfig): void {
    const placed = this.placement.get(meetingId);
    if (!placed || this.closing) return;
    if (placed.configs.has(leg.participantId)) placed.configs.set(leg.participantId, leg);
    placed.lane.send({ type: 'update-leg', meetingId, leg });
  }

  removeLeg(meetingId: string, participantId: string): void {
    const placed = this.placement.get(meetingId);
    if (!placed || this.closing) return;
    placed.lane.send({ type: 'remove-leg', meetingId, participantId });
    const legId = placed.legs.get(participantId);
    if (legId !== undefined) {
      placed.legs.delete(participantId);
      placed.configs.delete(participantId);
      this.legNames.delete(legId);
    }
    // The engine drops a meeting with its last leg; the host mirrors that.
    if (placed.legs.size === 0) this.forget(placed);
  }

  removeMeeting(meetingId: string): void {
    const placed = this.placement.get(meetingId);
    if (!placed || this.closing) return;
    placed.lane.send({ type: 'remove-meeting', meetingId });
    this.forget(placed);
  }

  /**
   * A received RTP packet. The payload (a view into the relay's receive buffer) is copied into a buffer of its
   * own, which is transferred to the worker. `nowMs`: arrival on this thread's monotonic clock (default now).
   */
  push(meetingId: string, participantId: string, pkt: RtpIn, nowMs: number = this.clock.now()): void {
    const placed = this.placement.get(meetingId);
    if (!placed || this.closing) return;
    const ring = placed.lane.ring;
    if (ring) {
      const legId = placed.legs.get(participantId);
      if (legId !== undefined) ring.write(legId, pkt, performance.timeOrigin + nowMs);
      return;
    }
    // A copy, not `pkt.payload.slice()`: on a Buffer (what the sockets deliver) slice() is a view, and a native
    // socket's datagram is overwritten by its next batch. Only RtpIn's fields go (no view of the datagram rides along).
    const payload = Uint8Array.prototype.slice.call(pkt.payload);
    const copy: RtpIn = { payloadType: pkt.payloadType, sequenceNumber: pkt.sequenceNumber, timestamp: pkt.timestamp, ssrc: pkt.ssrc, marker: pkt.marker, payload, audioLevel: pkt.audioLevel };
    placed.lane.send({ type: 'push', meetingId, participantId, pkt: copy, atMs: nowMs });
  }

  /** Packets dropped because a worker's ring was full (the worker fell that far behind). */
  get ringDropped(): number {
    return this.lanes.reduce((n, l) => n + (l.ring?.dropped ?? 0), 0);
  }

  /** The meeting's audio stats (undefined for an unknown meeting). */
  stats(meetingId: string): Promise<MeetingAudioStats | undefined> {
    const placed = this.placement.get(meetingId);
    if (!placed || this.closing) return Promise.resolve(undefined);
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      this.pendingStats.set(requestId, resolve);
      placed.lane.send({ type: 'stats', requestId, meetingId });
    });
  }

  /** Meetings per worker (for /metrics and tests of the spreading). */
  load(): number[] {
    return this.lanes.map((l) => l.meetings);
  }

  /** Times each worker was started again after dying. */
  restarts(): number[] {
    return this.lanes.map((l) => l.restarts);
  }

  /** Fault injection for tests: worker `index` dies as an uncaught error would kill it. */
  killWorker(index: number): Promise<void> {
    const lane = this.lanes[index];
    if (!lane) throw new RangeError(`no audio worker ${index}`);
    return lane.kill();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.lanes.map((l) => l.stop()));
      for (const resolve of this.pendingStats.values()) resolve(undefined);
      this.pendingStats.clear();
      this.placement.clear();
      this.byNum.clear();
      this.legNames.clear();
    })();
    return this.closing;
  }

  private forget(placed: Placed): void {
    if (this.placement.get(placed.meetingId) !== placed) return;
    placed.lane.meetings--;
    this.placement.delete(placed.meetingId);
    this.byNum.delete(placed.num);
    for (const legId of placed.legs.values()) this.legNames.delete(legId);
  }

  /** The meeting's lane; a new meeting goes to the lane with the fewest meetings (a new worker while < N). */
  private place(meetingId: string): Placed {
    const found = this.placement.get(meetingId);
    if (found) return found;
    let lane: Lane;
    if (this.lanes.length < this.maxLanes && this.lanes.every((l) => l.meetings > 0)) {
      lane = this.startLane(this.lanes.length);
      this.lanes.push(lane);
    } else {
      lane = this.lanes.reduce((a, b) => (b.meetings < a.meetings ? b : a));
    }
    lane.meetings++;
    const placed: Placed = { lane, meetingId, num: this.nextMeetingNum++, legs: new Map(), configs: new Map() };
    this.placement.set(meetingId, placed);
    this.byNum.set(placed.num, placed);
    return placed;
  }

  private startLane(index: number): Lane {
    if (this.opts.inline) {
      const engine = new AudioEngine(this.clock, this.opts.logger, (ev) => this.dispatch(ev));
      return {
        meetings: 0,
        ring: undefined,
        restarts: 0,
        send: (cmd) => engine.handle(cmd),
        stop: async () => engine.close(),
        kill: async () => engine.close(),
      };
    }
    let worker: Worker;
    let exited = false;
    let exit: Promise<void>;
    const deaths: number[] = [];
    const lane = {
      meetings: 0,
      ring: PacketRing.create(),
      restarts: 0,
      send: (cmd: HostCommand, transfer?: ArrayBuffer[]) => {
        if (!exited) worker.postMessage(cmd, transfer);
      },
      stop: async () => {
        if (exited) return;
        worker.postMessage({ type: 'close' } satisfies HostCommand);
        const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 1000).unref());
        if ((await Promise.race([exit, timeout])) === 'timeout') await worker.terminate();
      },
      kill: async () => {
        if (!exited) await worker.terminate();
      },
    };
    const spawn = (): void => {
      exited = false;
      worker = new Worker(new URL('./worker-entry.js', import.meta.url), {
        workerData: { index, workers: this.maxLanes, logLevel: this.opts.logger.level, ring: lane.ring.buffer, codecLocks: this.codecLocks },
      });
      exit = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.on('message', (ev: EngineEvent) => this.dispatch(ev));
      worker.on('error', (err) => this.log.error({ worker: index, err }, 'audio worker failed'));
      worker.once('exit', (code) => {
        exited = true;
        if (this.closing) return;
        const now = performance.now();
        deaths.push(now);
        while (deaths.length > 0 && deaths[0]! < now - RESTART_WINDOW_MS) deaths.shift();
        if (deaths.length > RESTART_LIMIT) {
          this.log.error({ worker: index, code, deaths: deaths.length }, 'audio worker keeps dying: its meetings stay without audio');
          return;
        }
        this.log.error({ worker: index, code }, 'audio worker exited: starting it again');
        // A fresh ring: the dead thread may have stopped halfway through reading the old one.
        lane.ring = PacketRing.create();
        lane.restarts++;
        spawn();
        this.replay(lane);
      });
    };
    spawn();
    this.log.info({ worker: index }, 'audio worker started');
    return lane;
  }

  /** A restarted worker gets back every leg of the meetings placed on it (same ids, latest configs). */
  private replay(lane: Lane): void {
    for (const placed of this.placement.values()) {
      if (placed.lane !== lane) continue;
      for (const [participantId, legId] of placed.legs) {
        const leg = placed.configs.get(participantId);
        if (leg) lane.send({ type: 'add-leg', meetingId: placed.meetingId, leg, legId, meetingNum: placed.num });
      }
    }
  }

  private dispatch(ev: EngineEvent): void {
    switch (ev.type) {
      case 'frames': {
        // Back to this thread's monotonic clock (the injected clock's own time when inline).
        const nowMs = ev.atMs - performance.timeOrigin;
        for (const cb of this.framesHandlers) cb(ev.meetingId, ev.frames, ev.tick, nowMs);
        return;
      }
      case 'tick': {
        const nowMs = ev.atMs - performance.timeOrigin;
        readFrameBatch(ev.batch, (num, frames) => {
          const placed = this.byNum.get(num);
          if (!placed) return; // the meeting went away while its frames were on their way
          const outs: AudioOut[] = [];
          for (const f of frames) {
            const participantId = this.legNames.get(f.legId);
            if (participantId === undefined) continue;
            outs.push({ participantId, payloadType: f.payloadType, payload: f.payload, samples: f.samples, marker: f.marker });
          }
          if (outs.length === 0) return;
          for (const cb of this.framesHandlers) cb(placed.meetingId, outs, ev.tick, nowMs);
        });
        return;
      }
      case 'dtmf':
        for (const cb of this.dtmfHandlers) cb(ev.meetingId, ev.participantId, ev.digit);
        return;
      case 'active-speaker':
        for (const cb of this.speakerHandlers) cb(ev.meetingId, ev.participantId);
        return;
      case 'stats': {
        const resolve = this.pendingStats.get(ev.requestId);
        this.pendingStats.delete(ev.requestId);
        resolve?.(ev.stats);
        return;
      }
      case 'error':
        this.log.warn({ meetingId: ev.meetingId, message: ev.message }, 'audio engine refused a command');
        return;
      case 'closed':
        return;
    }
  }
}
