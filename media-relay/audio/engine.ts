/**
 * The audio engine of one thread: the MeetingAudios assigned to it, all ticked together by one drift-free 20 ms
 * Ticker (tick k at start + k × 20 ms on a monotonic clock: media-relay/audio-link/ticker.ts), which runs only while
 * the thread has meetings. Used inside each worker (worker.ts) and, with `inline: true`, on the caller's thread.
 *
 * Commands in (HostCommand), events out (EngineEvent) through `emit`. A meeting appears with its first leg and
 * goes away with its last one (or remove-meeting). A command for an unknown meeting or leg is reported as an
 * 'error' event, never thrown: the relay may race a removal with in-flight packets.
 */
import type { Clock } from '../../registrar/sip/clock.ts';
import type { Logger } from '../../registrar/log.ts';
import { Ticker } from '../audio-link/ticker.ts';
import { createMeetingAudio } from '../mixer/meeting-audio.ts';
import type { EngineEvent, HostCommand } from './messages.ts';
import type { MeetingAudio } from './types.ts';

export const TICK_MS = 20;

interface Meeting {
  readonly audio: MeetingAudio;
  readonly legs: Set<string>;
  speaker: string | undefined;
}

export class AudioEngine {
  private readonly meetings = new Map<string, Meeting>();
  private readonly ticker: Ticker;
  private readonly log: Logger;
  private closed = false;

  constructor(
    clock: Clock,
    logger: Logger,
    private readonly emit: (ev: EngineEvent) => void,
    /** Converts a command's absolute `atMs` to this engine's clock (identity when inline). */
    private readonly toLocalMs: (atMs: number) => number = (atMs) => atMs,
  ) {
    this.log = logger.child({ component: 'audio-engine' });
    this.ticker = new Ticker(clock, TICK_MS, (index, now) => this.tick(index, now));
  }

  handle(cmd: HostCommand): void {
    if (this.closed) return;
    switch (cmd.type) {
      case 'add-leg': {
        let m = this.meetings.get(cmd.meetingId);
        if (!m) {
          m = { audio: createMeetingAudio({ logger: this.log, sampleRate: 48000 }), legs: new Set(), speaker: undefined };
          this.meetings.set(cmd.meetingId, m);
        }
        if (m.legs.has(cmd.leg.participantId)) return this.fail(cmd.meetingId, `leg ${cmd.leg.participantId} exists`);
        m.audio.addLeg(cmd.leg);
        m.legs.add(cmd.leg.participantId);
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

  private tick(index: number, now: number): void {
    const atMs = performance.timeOrigin + now;
    for (const [meetingId, m] of this.meetings) {
      const frames = m.audio.tick(now);
      if (frames.length > 0) this.emit({ type: 'frames', meetingId, frames, tick: index, atMs });
      const speaker = m.audio.activeSpeaker();
      if (speaker !== m.speaker) {
        m.speaker = speaker;
        this.emit({ type: 'active-speaker', meetingId, participantId: speaker });
      }
      for (const d of m.audio.takeDtmf()) this.emit({ type: 'dtmf', meetingId, participantId: d.participantId, digit: d.digit });
    }
  }

  private removeMeeting(meetingId: string): void {
    const m = this.meetings.get(meetingId);
    if (!m) return;
    for (const p of m.legs) m.audio.removeLeg(p);
    this.meetings.delete(meetingId);
    if (this.meetings.size === 0) this.ticker.stop();
  }

  private fail(meetingId: string, message: string): void {
    this.log.warn({ meetingId, message }, 'audio command refused');
    this.emit({ type: 'error', meetingId, message });
  }
}
