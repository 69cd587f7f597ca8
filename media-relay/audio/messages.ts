/**
 * Messages between AudioWorkerHost (relay thread) and the audio engine (worker thread). Plain structured-clone
 * data. In worker lanes packets do not travel as messages but through a shared PacketRing (packet-ring.ts), and a
 * tick's output frames of all meetings as one transferred buffer (frame-batch.ts); inline, 'push' and 'frames'.
 *
 * Times: `atMs` is absolute (performance.timeOrigin + performance.now() of the sender), because each thread's
 * performance.now() has its own origin; the receiver converts back to its own monotonic clock.
 */
import type { AudioLegConfig, AudioOut, MeetingAudioStats, RtpIn } from './types.ts';

export type HostCommand =
  // legId / meetingNum: the host's numbers for the packet ring and frame batches (worker lanes only; never reused).
  | { readonly type: 'add-leg'; readonly meetingId: string; readonly leg: AudioLegConfig; readonly legId?: number; readonly meetingNum?: number }
  | { readonly type: 'update-leg'; readonly meetingId: string; readonly leg: AudioLegConfig }
  | { readonly type: 'remove-leg'; readonly meetingId: string; readonly participantId: string }
  | { readonly type: 'remove-meeting'; readonly meetingId: string }
  | { readonly type: 'push'; readonly meetingId: string; readonly participantId: string; readonly pkt: RtpIn; readonly atMs: number }
  | { readonly type: 'stats'; readonly requestId: number; readonly meetingId: string }
  | { readonly type: 'close' };

export type EngineEvent =
  | { readonly type: 'frames'; readonly meetingId: string; readonly frames: AudioOut[]; readonly tick: number; readonly atMs: number }
  /** Worker lanes: every meeting's frames of one tick in one packed buffer (frame-batch.ts). */
  | { readonly type: 'tick'; readonly batch: ArrayBuffer; readonly tick: number; readonly atMs: number }
  | { readonly type: 'dtmf'; readonly meetingId: string; readonly participantId: string; readonly digit: string }
  | { readonly type: 'active-speaker'; readonly meetingId: string; readonly participantId: string | undefined }
  | { readonly type: 'stats'; readonly requestId: number; readonly stats: MeetingAudioStats | undefined }
  | { readonly type: 'error'; readonly meetingId: string | undefined; readonly message: string }
  | { readonly type: 'closed' };
