/**
 * Read-only views of the focus's state: what the HTTP API returns (`GET /api/conferences`), what the roster
 * (RFC 4575 conference-info) is built from, and what /metrics counts. JSON-serialisable.
 */
import type { Direction, MediaKind } from '../../media-relay/api.ts';

export type MeetingState = 'waiting' | 'active' | 'ended';
export type MeetingMode = 'cs' | 'p2p';

export interface MediaStreamView {
  readonly kind: MediaKind;
  /** SDP a=label / a=mid of the line, when any (video lines per publisher are labelled by the publisher's id). */
  readonly label: string | undefined;
  /** Encoding name as negotiated, e.g. 'opus', 'PCMU', 'VP8'; undefined for a rejected line. */
  readonly codec: string | undefined;
  /** From the participant's point of view: 'sendrecv', 'recvonly' (mic/camera off), … */
  readonly direction: Direction;
  readonly packetsIn: number;
  readonly bytesIn: number;
  readonly packetsOut: number;
  readonly bytesOut: number;
  /** RFC 3550 §6.4.1 figures of what the relay receives from the participant: cumulative loss, jitter. */
  readonly packetsLost: number;
  readonly jitterMs: number;
  /** Round-trip time from RTCP SR/RR (LSR/DLSR), once known. */
  readonly rttMs: number | undefined;
}

export interface ParticipantView {
  readonly id: string;
  readonly displayName: string;
  /** The participant's address of record, e.g. 'sip:alice@10.0.0.5'. */
  readonly aor: string;
  /** Where its media and signalling come from (RFC 4575 endpoint entity), e.g. 'sip:alice@10.0.0.7:5062'. */
  readonly contact: string;
  /** ISO 8601. */
  readonly joinedAt: string;
  readonly state: 'joining' | 'connected' | 'left';
  readonly media: readonly MediaStreamView[];
}

/** One change of a meeting's media mode, for a person watching (API, CLI, GUI). */
export interface ModeSwitch {
  /** ISO 8601. */
  readonly at: string;
  readonly from: MeetingMode;
  readonly to: MeetingMode;
  readonly reason: string;
  /** How long the signalling of the switch took (re-INVITEs), ms. */
  readonly tookMs: number;
}

export interface MeetingView {
  readonly id: string;
  readonly uri: string;
  readonly creator: { readonly aor: string; readonly displayName: string };
  readonly createdAt: string;
  readonly state: MeetingState;
  readonly mode: MeetingMode;
  /** The meeting's peer-to-peer policy: 'auto' (P2P while exactly two participants) or 'off'. */
  readonly p2p: 'auto' | 'off';
  readonly switches: readonly ModeSwitch[];
  readonly participants: readonly ParticipantView[];
}
