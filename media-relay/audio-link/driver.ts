/**
 * How the relay core drives one meeting's audio pipeline (the `MeetingAudio` contract of media-relay/audio/types.ts)
 * without caring where it runs: inline on this thread (tests, small servers) or in a worker thread
 * (`AudioWorkerHost`, meetings spread across cores so mixing stays off the SIP event loop).
 */
import type { AudioLegConfig, AudioOut, MeetingAudio, RtpIn } from '../audio/types.ts';
import type { Clock } from '../../registrar/sip/clock.ts';
import { Ticker } from './ticker.ts';

/** RFC 3551 §4.2 default packetization: 20 ms. */
export const FRAME_MS = 20;

export interface AudioDriverEvents {
  /** One 20 ms frame per receiving listener; `tick` counts frames since the pipeline started. */
  frames(outs: readonly AudioOut[], tick: number, nowMs: number): void;
  activeSpeaker(participantId: string | undefined): void;
  dtmf(participantId: string, digit: string): void;
}

export interface AudioDriver {
  addLeg(leg: AudioLegConfig): void;
  updateLeg(leg: AudioLegConfig): void;
  removeLeg(participantId: string): void;
  push(participantId: string, pkt: RtpIn, nowMs: number): void;
  close(): void;
}

export type AudioDriverFactory = (meetingId: string, events: AudioDriverEvents) => AudioDriver;

/**
 * Runs a MeetingAudio on this thread with a steady 20 ms Ticker on the injected clock; the ticker runs only while
 * the meeting has legs.
 */
export class InlineAudioDriver implements AudioDriver {
  private readonly ticker: Ticker;
  private readonly legs = new Set<string>();
  private speaker: string | undefined;

  constructor(private readonly audio: MeetingAudio, clock: Clock, private readonly events: AudioDriverEvents) {
    this.ticker = new Ticker(clock, FRAME_MS, (index, now) => this.tick(index, now));
  }

  addLeg(leg: AudioLegConfig): void {
    this.audio.addLeg(leg);
    this.legs.add(leg.participantId);
    this.ticker.begin();
  }

  updateLeg(leg: AudioLegConfig): void {
    this.audio.updateLeg(leg);
  }

  removeLeg(participantId: string): void {
    this.audio.removeLeg(participantId);
    this.legs.delete(participantId);
    if (this.legs.size === 0) this.ticker.stop();
  }

  push(participantId: string, pkt: RtpIn, nowMs: number): void {
    this.audio.push(participantId, pkt, nowMs);
  }

  private tick(index: number, now: number): void {
    const outs = this.audio.tick(now);
    if (outs.length) this.events.frames(outs, index, now);
    const speaker = this.audio.activeSpeaker();
    if (speaker !== this.speaker) {
      this.speaker = speaker;
      this.events.activeSpeaker(speaker);
    }
    for (const d of this.audio.takeDtmf()) this.events.dtmf(d.participantId, d.digit);
  }

  close(): void {
    this.ticker.stop();
    for (const p of this.legs) this.audio.removeLeg(p);
    this.legs.clear();
  }
}
