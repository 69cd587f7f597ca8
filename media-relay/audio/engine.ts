/**
 * The audio engine of one thread: the MeetingAudios assigned to it, all ticked together by one drift-free 20 ms
 * Ticker (tick k at start + k × 20 ms on a monotonic clock: media/clock/ticker.ts), which runs only while
 * the thread has meetings. Used inside each worker (worker.ts) and, with `inline: true`, on the caller's thread.
 *
 * Commands in (HostCommand), events out (EngineEvent) through `emit`. In a worker (with an EngineLink) packets are
 * read from the shared PacketRing at the start of each tick and all meetings' frames leave as one 'tick' batch. A meeting appears with its first leg and
 * goes away with its last one (or remove-meeting). A command for an unknown meeting or leg is reported as an
 * 'error' event, never thrown: the relay may race a removal with in-flight packets.
 */
import type { Clock } from '../../registrar/sip/clock.ts';
import type { Logger } from '../../registrar/log.ts';
import { Ticker } from '../../media/clock/ticker.ts';
import { createMeetingAudio } from '../mixer/meeting-audio.ts';
import { FrameBatchWriter } from './frame-batch.ts';
import type { EngineEvent, HostCommand } from './messages.ts';
import type { PacketRing } from './packet-ring.ts';
import type { MeetingAudio, RtpIn } from './types.ts';

export const TICK_MS = 20;
/**
 * Worker lanes: the 20 ms period is cut into SLOTS sub-ticks and each meeting is mixed in one of them (the slot
 * with the fewest meetings when it is created), so a worker's CPU is spent in four short bursts per period instead
 * of one long one: on a machine whose cores the worker shares (the main thread, the other worker, other
 * processes), a meeting's frame then waits for one quarter of the work, not all of it. Each meeting still ticks
 * exactly every 20 ms on the drift-free grid.
 */
export const SLOTS = 4;
/** Worker lanes: frames done are posted at least this often within a tick (ms of the tick's own processing). */
const FLUSH_MS = 2;

interface Meeting {
  readonly audio: MeetingAudio;
  readonly legs: Set<string>;
  /** participantId → the host's leg id (worker lanes: the packet ring and frame batches use numbers). */
  readonly legIds: Map<string, number>;
  readonly num: number;
  /** Worker lanes: the sub-tick of the period this meeting is mixed in. */
  readonly slot: number;
  speaker: string | undefined;
}

/** Worker lanes: packets come from a shared ring, frames go out batched once per tick. */
export interface EngineLink {
  readonly ring: PacketRing;
  /** Deliver commands already posted to this thread, synchronously (so a packet never overtakes its add-leg). */
  readonly pollCommands: () => void;
  /** Where in the 20 ms period this engine ticks (on the absolute clock): workers spread their ticks. */
  readonly tickPhaseMs?: number;
}

export type EngineEmit = (ev: EngineEvent, transfer?: ArrayBuffer[]) => void;

export class AudioEngine {
  private readonly meetings = new Map<string, Meeting>();
  private readonly ticker: Ticker;
  private readonly log: Logger;
  private closed = false;
  /** Leg id → its meeting and participant (worker lanes). */
  private readonly byLegId = new Map<number, { readonly m: Meeting; readonly participantId: string }>();
  private readonly batch: FrameBatchWriter | undefined;
  /** Sub-ticks per 20 ms (1 inline: tests tick every meeting at once on their ManualClock). */
  private readonly slots: number;
  private readonly perSlot: number[];
  private readonly onRingPacket = (legId: number, pkt: RtpIn, atMs: number): void => {
    const leg = this.byLegId.get(legId);
    // Unknown: a packet racing its leg's removal — dropped (leg ids are never reused).
    if (leg) leg.m.audio.push(leg.participantId, pkt, this.toLocalMs(atMs));
  };

  constructor(
    clock: Clock,
    logger: Logger,
    private readonly emit: EngineEmit,
    /** Converts a command's absolute `atMs` to this engine's clock (identity when inline). */
    private readonly toLocalMs: (atMs: number) => number = (atMs) => atMs,
    private readonly link?: EngineLink,
  ) {
    if (link) this.batch = new FrameBatchWriter();
    this.slots = link ? SLOTS : 1;
    this.perSlot = new Array<number>(this.slots).fill(0);
    this.log = logger.child({ component: 'audio-engine' });
    this.ticker = new Ticker(
      clock,
      TICK_MS / this.slots,
      (index, now) => this.tick(index, now),
      link?.tickPhaseMs === undefined ? undefined : { phaseMs: link.tickPhaseMs, originMs: performance.timeOrigin },
      // The same 100 ms of catch-up after a stall, counted in sub-ticks.
      5 * this.slots,
    );
  }

  handle(cmd: HostCommand): void {
    if (this.closed) return;
    switch (cmd.type) {
      case 'add-leg': {
        let m = this.meetings.get(cmd.meetingId);
        if (!m) {
          const slot = this.perSlot.indexOf(Math.min(...this.perSlot));
          this.perSlot[slot]!++;
          m = { audio: createMeetingAudio({ logger: this.log, sampleRate: 48000 }), legs: new Set(), legIds: new Map(), num: cmd.meetingNum ?? 0, slot, speaker: undefined };
          this.meetings.set(cmd.meetingId, m);
        }
        if (m.legs.has(cmd.leg.participantId)) return this.fail(cmd.meetingId, `leg ${cmd.leg.participantId} exists`);
        m.audio.addLeg(cmd.leg);
        m.legs.add(cmd.leg.participantId);
        if (cmd.legId !== undefined) {
          m.legIds.set(cmd.leg.participantId, cmd.legId);
          this.byLegId.set(cmd.legId, { m, participantId: cmd.leg.participantId });
        }
        this.ticker.begin();
        return;
      }
      case 'update-leg': {
        const m = this.meetings.get(cmd.meetingId);
        if (!m?.legs.has(cmd.leg.participantId)) return this.fail(cmd.meetingId, `unknown leg ${cmd.leg.participantId}`);
        m.audio.updateLeg(cmd.leg);
        return;
      }
      case 'remove-leg': {
        const m = this.meetings.get(cmd.meetingId);
        if (!m) return;
        m.audio.removeLeg(cmd.participantId);
        m.legs.delete(cmd.participantId);
        this.forgetLegId(m, cmd.participantId);
        if (m.legs.size === 0) this.removeMeeting(cmd.meetingId);
        return;
      }
      case 'remove-meeting':
        this.removeMeeting(cmd.meetingId);
        return;
      case 'push':
        // Unknown meeting: a packet racing a removal — dropped silently (MeetingAudio counts unknown legs).
        this.meetings.get(cmd.meetingId)?.audio.push(cmd.participantId, cmd.pkt, this.toLocalMs(cmd.atMs));
        return;
      case 'stats':
        this.emit({ type: 'stats', requestId: cmd.requestId, stats: this.meetings.get(cmd.meetingId)?.audio.stats() });
        return;
      case 'close':
        this.close();
        return;
    }
  }

  get meetingCount(): number {
    return this.meetings.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ticker.stop();
    for (const id of [...this.meetings.keys()]) this.removeMeeting(id);
    this.emit({ type: 'closed' });
  }

  /** Sub-tick `sub` (counted from 1): the meetings of its slot are mixed; their tick is the 20 ms period's number. */
  private tick(sub: number, now: number): void {
    const atMs = performance.timeOrigin + now;
    const batch = this.batch;
    const slot = (sub - 1) % this.slots;
    const index = Math.floor((sub - 1) / this.slots) + 1;
    let flushedAt = performance.now();
    if (this.link) this.link.ring.drain(this.onRingPacket, this.link.pollCommands);
    for (const [meetingId, m] of this.meetings) {
      if (m.slot !== slot) continue;
      const frames = m.audio.tick(now);
      if (batch) {
        batch.beginMeeting(m.num);
        for (const f of frames) {
          const legId = m.legIds.get(f.participantId);
          if (legId !== undefined) batch.add(legId, f);
        }
        // Meetings done early in a long tick do not wait for the last one: a batch leaves every FLUSH_MS.
        if (performance.now() - flushedAt >= FLUSH_MS) {
          this.flush(index, atMs);
          flushedAt = performance.now();
        }
      } else if (frames.length > 0) {
        this.emit({ type: 'frames', meetingId, frames, tick: index, atMs });
      }
      const speaker = m.audio.activeSpeaker();
      if (speaker !== m.speaker) {
        m.speaker = speaker;
        this.emit({ type: 'active-speaker', meetingId, participantId: speaker });
      }
      for (const d of m.audio.takeDtmf()) this.emit({ type: 'dtmf', meetingId, participantId: d.participantId, digit: d.digit });
    }
    this.flush(index, atMs);
  }

  private flush(index: number, atMs: number): void {
    const packed = this.batch?.take();
    if (packed) this.emit({ type: 'tick', batch: packed, tick: index, atMs }, [packed]);
  }

  private forgetLegId(m: Meeting, participantId: string): void {
    const id = m.legIds.get(participantId);
    if (id === undefined) return;
    m.legIds.delete(participantId);
    this.byLegId.delete(id);
  }

  private removeMeeting(meetingId: string): void {
    const m = this.meetings.get(meetingId);
    if (!m) return;
    for (const p of m.legs) {
      m.audio.removeLeg(p);
      this.forgetLegId(m, p);
    }
    this.meetings.delete(meetingId);
    this.perSlot[m.slot]!--;
    if (this.meetings.size === 0) this.ticker.stop();
  }

  private fail(meetingId: string, message: string): void {
    this.log.warn({ meetingId, message }, 'audio command refused');
    this.emit({ type: 'error', meetingId, message });
  }
}
