/**
 * Messages between AudioWorkerHost (relay thread) and the audio engine (worker thread). Plain structured-clone
 * data; packet payloads travel as their own transferred ArrayBuffer.
 *
 * Times: `atMs` is absolute (performance.timeOrigin + performance.now() of the sender), because each thread's
 * performance.now() has its own origin; the receiver converts back to its own monotonic clock.
 */
import type { AudioLegConfig, AudioOut, MeetingAudioStats, RtpIn } from './types.ts';

export type HostCommand =
  | { readonly type: 'add-leg'; readonly meetingId: string; readonly leg: AudioLegConfig }
  | { readonly type: 'update-leg'; readonly meetingId: string; readonly leg: AudioLegConfig }
  | { readonly type: 'remove-leg'; readonly meetingId: string; readonly participantId: string }
  | { readonly type: 'remove-meeting'; readonly meetingId: string }
  | { readonly type: 'push'; readonly meetingId: string; readonly participantId: string; readonly pkt: RtpIn; readonly atMs: number }
  | { readonly type: 'stats'; readonly requestId: number; readonly meetingId: string }
  | { readonly type: 'close' };

export type EngineEvent =
  | { readonly type: 'frames'; readonly meetingId: string; readonly frames: AudioOut[]; readonly tick: number; readonly atMs: number }
  | { readonly type: 'dtmf'; readonly meetingId: string; readonly participantId: string; readonly digit: string }
  | { readonly type: 'active-speaker'; readonly meetingId: string; readonly participantId: string | undefined }
  | { readonly type: 'stats'; readonly requestId: number; readonly stats: MeetingAudioStats | undefined }
  | { readonly type: 'error'; readonly meetingId: string | undefined; readonly message: string }
  | { readonly type: 'closed' };
