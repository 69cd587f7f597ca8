/**
 * The focus's two state machines.
 *
 * Meeting:                                      Participant:
 *
 *   waiting ──first join──▶ active                joining ──ACK──▶ connected
 *      │                      │                      │                 │
 *      │ nobody came within   │ last leaves /        │ CANCEL / fail   │ BYE, cancel, media
 *      │ the wait (5 min) /   │ host cancels         ▼                 │ or dialog timeout
 *      │ host cancels         ▼                    left ◀──────────────┘
 *      └──────────────────▶ ended
 */
export type MeetingState = 'waiting' | 'active' | 'ended';
export type ParticipantState = 'joining' | 'connected' | 'left';

const MEETING: Record<MeetingState, readonly MeetingState[]> = {
  waiting: ['active', 'ended'],
  active: ['ended'],
  ended: [],
};
const PARTICIPANT: Record<ParticipantState, readonly ParticipantState[]> = {
  joining: ['connected', 'left'],
  connected: ['left'],
  left: [],
};

export function meetingTransition(from: MeetingState, to: MeetingState): MeetingState {
  if (!MEETING[from].includes(to)) throw new Error(`meeting: illegal transition ${from} -> ${to}`);
  return to;
}

export function participantTransition(from: ParticipantState, to: ParticipantState): ParticipantState {
  if (!PARTICIPANT[from].includes(to)) throw new Error(`participant: illegal transition ${from} -> ${to}`);
  return to;
}
