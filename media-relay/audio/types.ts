/**
 * The audio pipeline's contract between the relay core (sockets, RTP, RTCP — media-relay/relay.ts) and the audio
 * stages (jitter buffer → decode → resample → N-1 mix → encode — media-relay/audio/).
 *
 * A `MeetingAudio` is a pure synchronous processor for one meeting: packets in with `push`, one 20 ms frame per
 * listener out of every `tick`. It owns no socket and no timer; the relay calls `tick` on a steady 20 ms clock
 * (in a worker thread, see `AudioWorkerHost`), wraps each output payload in RTP with continuous sequence numbers and
 * timestamps per listener, and sends it.
 */
import type { CodecSpec, RtpIn } from '../../media/types.ts';

/** A parsed RTP packet's fields the audio stages need (defined with the shared media stages, media/types.ts). */
export type { RtpIn } from '../../media/types.ts';

export interface AudioLegConfig {
  readonly participantId: string;
  /** Negotiated codecs of this leg; the FIRST is what the listener is sent. Any of them may arrive. */
  readonly codecs: readonly CodecSpec[];
  /** RFC 4733 telephone-event PT of this leg: such packets are never mixed (reported as DTMF). */
  readonly telephoneEventPt?: number;
  /** Does the participant send audio to us (sendrecv/sendonly from its side) / receive from us? */
  readonly sending: boolean;
  readonly receiving: boolean;
}

/** One 20 ms frame for one listener. */
export interface AudioOut {
  readonly participantId: string;
  readonly payloadType: number;
  /** Encoded payload (shared between listeners that get the same mix and codec: do not mutate). */
  readonly payload: Uint8Array;
  /** RTP timestamp units this frame spans (160 for PCMU/PCMA/G.722 at 8000 clock, 960 for Opus). */
  readonly samples: number;
  /** First packet after silence/a talk spurt start (RFC 3551 §4.1 marker for audio). */
  readonly marker: boolean;
}

export interface LegAudioStats {
  level: number;
  concealed: number;
  late: number;
  bufferMs: number;
  talking: boolean;
  decoded: number;
  decodesSkipped: number;
  vadSkipped: number;
}

export interface MeetingAudioStats {
  /**
   * participantId → level (0..1, RMS of its last frame: decoded, or its RFC 6464 level when skipped), loss concealed
   * frames, jitter buffer depth ms, packets decoded, packets not decoded because their RFC 6464 level was quiet,
   * and packets (without a level) not decoded because their Opus VAD flag said "no activity".
   */
  readonly legs: Readonly<Record<string, LegAudioStats>>;
  /** How many distinct encodes the last tick needed (Asterisk's shared-mix trick: talkers + 1 per codec). */
  readonly encodesLastTick: number;
}

export interface MeetingAudio {
  addLeg(leg: AudioLegConfig): void;
  /** Replace a leg's codecs/direction (re-INVITE, mic on/off). */
  updateLeg(leg: AudioLegConfig): void;
  removeLeg(participantId: string): void;
  /** A received RTP packet of `participantId`, at monotonic time `nowMs`. Never throws on bad payloads. */
  push(participantId: string, pkt: RtpIn, nowMs: number): void;
  /** Produce the next 20 ms frame for every receiving leg. */
  tick(nowMs: number): AudioOut[];
  /** The participant currently talking loudest (hysteresis inside), if anyone. */
  activeSpeaker(): string | undefined;
  /** DTMF digits detected since the last call (RFC 4733 end-of-event). */
  takeDtmf(): Array<{ participantId: string; digit: string }>;
  stats(): MeetingAudioStats;
}
