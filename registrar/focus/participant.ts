/**
 * One participant of a meeting: a UAS dialog of the focus plus the relay endpoints of its media lines.
 */
import type { Direction, MediaKind } from '../../media-relay/api.ts';
import type { TimerHandle } from '../sip/clock.ts';
import type { Dialog } from '../sip/dialog/dialog.ts';
import type { Origin, SessionDescription } from '../../sdp/index.ts';
import type { SipRequest } from '../sip/message/types.ts';
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
  /** The relay endpoint's RTCP port (= rtpPort with rtcp-mux). */
  rtcpPort?: number | undefined;
  codec: string | undefined;
  /** The participant's direction (its a=recvonly = mic/camera off). */
  direction: Direction;
  /** A receive-only video line carrying this other participant's camera (multi-video participants). */
  subscribeTo?: string;
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
  /** Its Contact carries the `+sipmeet.video-streams` feature tag (RFC 3840): one video line per other participant. */
  multiVideo: boolean;
}

export class Participant {
  readonly id: string;
  readonly meetingId: string;
  readonly displayName: string;
  readonly aor: string;
  readonly contact: string;
  readonly joinedAt: number;
  readonly wantsCpim: boolean;
  readonly multiVideo: boolean;
  /** A re-INVITE of ours is in flight / another is needed after it (video line sync, one at a time). */
  syncing = false;
  syncAgain = false;
  private _state: ParticipantState = 'joining';
  dialog: Dialog | undefined;
  lines: MediaLine[] = [];
  /** Our last SDP (answer or offer) in this dialog: its o= version grows by one per new description (RFC 3264 §8). */
  localSdp: SessionDescription | undefined;
  localOrigin: Origin | undefined;
  /** The participant's last SDP. */
  remoteSdp: SessionDescription | undefined;
  /** Its INVITE had no offer: our 2xx carried the offer and the answer is due in the ACK (RFC 3261 §13.2.1). */
  answerDueInAck = false;
  /** Set when its INVITE was CANCELled while the focus was still preparing the answer. */
  cancelled = false;
  /** In peer-to-peer mode: our client-server description toward this participant, offered again to go back. */
  csSdp: SessionDescription | undefined;
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
    this.multiVideo = init.multiVideo;
  }

  /** The participant's own camera line (the first video line that is not a subscription). */
  mainVideo(): MediaLine | undefined {
    return this.lines.find((l) => l.kind === 'video' && l.subscribeTo === undefined && l.endpointId !== undefined);
  }

  /** Does its camera send (its main video line is sendrecv or sendonly)? */
  publishesVideo(): boolean {
    const v = this.mainVideo();
    return v !== undefined && (v.direction === 'sendrecv' || v.direction === 'sendonly');
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

/** RFC 3840 §9: a feature parameter on the Contact (`;+sipmeet.video-streams`). */
export function hasFeature(req: SipRequest, feature: string): boolean {
  const c = req.contacts();
  return c.ok && !c.value.star && c.value.contacts.some((x) => x.params.has(feature));
}

export function contactOf(req: SipRequest): string | undefined {
  const c = req.contacts();
  return c.ok && !c.value.star && c.value.contacts[0] ? c.value.contacts[0].uri.raw : undefined;
}
