/**
 * One participant of a meeting: a UAS dialog of the focus plus the relay endpoints of its media lines.
 */
import type { Direction, MediaKind } from '../../media-relay/api.ts';
import type { TimerHandle } from '../sip/clock.ts';
import type { Dialog } from '../sip/dialog/dialog.ts';
import type { Origin, SessionDescription } from '../../sdp/index.ts';
import { type ParticipantState, participantTransition } from './state.ts';

/** One m= line of the participant's session, as negotiated. */
export interface MediaLine {
  readonly index: number;
  readonly kind: MediaKind | string;
  readonly label: string | undefined;
  /** Undefined for a rejected line (port 0). */
  endpointId: string | undefined;
  /** The relay endpoint's RTP port (what our SDP says for this line). */
  rtpPort: number | undefined;
  codec: string | undefined;
  /** The participant's direction (its a=recvonly = mic/camera off). */
  direction: Direction;
}

export interface ParticipantInit {
  id: string;
  meetingId: string;
  displayName: string;
  aor: string;
  contact: string;
  joinedAt: number;
  /** The participant asked for structured chat (`Accept: message/cpim`, RFC 3862): the bundled client does. */
  wantsCpim: boolean;
}

export class Participant {
  readonly id: string;
  readonly meetingId: string;
  readonly displayName: string;
  readonly aor: string;
  readonly contact: string;
  readonly joinedAt: number;
  readonly wantsCpim: boolean;
  private _state: ParticipantState = 'joining';
  dialog: Dialog | undefined;
  lines: MediaLine[] = [];
  /** Our last SDP (answer or offer) in this dialog: its o= version grows by one per new description (RFC 3264 §8). */
  localSdp: SessionDescription | undefined;
  localOrigin: Origin | undefined;
  /** The participant's last SDP. */
  remoteSdp: SessionDescription | undefined;
  /** Set when its INVITE was CANCELled while the focus was still preparing the answer. */
  cancelled = false;
  /** Next in-dialog OPTIONS liveness probe. */
  probeTimer: TimerHandle | undefined;

  constructor(init: ParticipantInit) {
    this.id = init.id;
    this.meetingId = init.meetingId;
    this.displayName = init.displayName;
    this.aor = init.aor;
    this.contact = init.contact;
    this.joinedAt = init.joinedAt;
    this.wantsCpim = init.wantsCpim;
  }

  get state(): ParticipantState {
    return this._state;
  }

  transition(to: ParticipantState): void {
    this._state = participantTransition(this._state, to);
  }

  endpointIds(): string[] {
    return this.lines.flatMap((l) => (l.endpointId ? [l.endpointId] : []));
  }
}
