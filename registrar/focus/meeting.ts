/**
 * One meeting: its identity, creator, participants and life cycle. Pure state; the focus drives it.
 */
import type { TimerHandle } from '../sip/clock.ts';
import { type MeetingState, meetingTransition } from './state.ts';
import type { Participant } from './participant.ts';
import type { MeetingMode, ModeSwitch } from './views.ts';

export type P2pPolicy = 'auto' | 'off';

export type EndReason = 'cancelled' | 'empty' | 'never-joined' | 'shutdown';

export interface MeetingInit {
  id: string;
  uri: string;
  creatorAor: string;
  creatorName: string;
  createdAt: number;
}

export class Meeting {
  readonly id: string;
  readonly uri: string;
  readonly creatorAor: string;
  readonly creatorName: string;
  readonly createdAt: number;
  private _state: MeetingState = 'waiting';
  endReason: EndReason | undefined;
  readonly participants = new Map<string, Participant>();
  private nextParticipant = 1;
  /** Runs while the meeting waits for its first participant. */
  emptyTimer: TimerHandle | undefined;
  /** Client-server (media through the relay) or peer-to-peer (two endpoints send to each other). */
  mode: MeetingMode = 'cs';
  /** Per-meeting override of the server's --p2p policy (undefined: the server default). */
  p2pPolicy: P2pPolicy | undefined;
  readonly switches: ModeSwitch[] = [];
  /** A mode switch is in progress / the membership changed during it (evaluate again afterwards). */
  switching = false;
  switchAgain = false;
  /** The participant talking loudest now (from the relay's mixer), if anyone. */
  activeSpeaker: string | undefined;
  /** The pair (participant ids) whose direct media was found not to flow: no P2P for them again. */
  p2pFailedPair: string | undefined;

  constructor(init: MeetingInit) {
    this.id = init.id;
    this.uri = init.uri;
    this.creatorAor = init.creatorAor;
    this.creatorName = init.creatorName;
    this.createdAt = init.createdAt;
  }

  get state(): MeetingState {
    return this._state;
  }

  transition(to: MeetingState): void {
    this._state = meetingTransition(this._state, to);
  }

  newParticipantId(): string {
    return `p${this.nextParticipant++}`;
  }

  /** Participants that have not left (joining or connected). */
  present(): Participant[] {
    return [...this.participants.values()].filter((p) => p.state !== 'left');
  }

  /** A present participant by AOR (for out-of-dialog chat and commands). */
  byAor(aor: string): Participant | undefined {
    return this.present().find((p) => p.aor === aor);
  }
}
