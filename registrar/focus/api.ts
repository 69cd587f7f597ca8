/**
 * What the conference focus offers the rest of the server (HTTP API, metrics, roster subscriptions).
 * Implemented by `Focus` (focus.ts).
 */
import type { MeetingView } from './views.ts';

export type CancelOutcome = 'ended' | 'not-found' | 'forbidden' | 'already-ended';

export type CreateOutcome =
  | { readonly ok: true; readonly meeting: MeetingView }
  | { readonly ok: false; readonly status: 400 | 409 | 410; readonly reason: string };

export interface FocusEvents {
  /** Anything in a meeting's roster changed (join, leave, media on/off, end): the roster NOTIFYs follow it. */
  onRosterChange(cb: (meetingId: string) => void): void;
}

export interface FocusApi extends FocusEvents {
  /** Every meeting that has not ended, with live media counters from the relay. */
  list(): Promise<MeetingView[]>;
  get(id: string): Promise<MeetingView | undefined>;
  /**
   * Create a meeting that waits for its first participant (`id` omitted: a fresh one is chosen).
   * 400: the id does not follow the meeting-id pattern; 409: it exists; 410: it was ended by its host.
   */
  create(opts: { readonly id?: string; readonly creator: { readonly aor: string; readonly displayName?: string } }): CreateOutcome;
  /** End a meeting for everyone: only its creator may (same AOR). Every participant gets BYE with a Reason. */
  cancel(id: string, by: { readonly aor: string }): Promise<CancelOutcome>;
  /** Override the server's peer-to-peer policy for one meeting; false when there is no such meeting. */
  setP2pPolicy(id: string, policy: 'auto' | 'off'): boolean;
  /** Counts for /metrics. */
  counters(): { readonly meetings: number; readonly participants: number; readonly meetingsCreated: number; readonly meetingsEnded: number; readonly chatMessages: number };
}
