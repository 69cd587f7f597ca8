/**
 * How the relay core drives one meeting's audio pipeline (the `MeetingAudio` contract of media-relay/audio/types.ts)
 * without caring where it runs: in worker threads or inline on this thread, both through the audio engineer's
 * `AudioWorkerHost` (host-driver.ts), or a stand-in that tests and benchmarks inject.
 */
import type { AudioLegConfig, AudioOut, RtpIn } from '../audio/types.ts';

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
