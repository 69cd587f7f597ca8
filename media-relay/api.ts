/**
 * The media relay's command API: the ONLY way the conference focus talks to the relay.
 *
 * Shaped like mediasoup's channel: every command is an async request with a JSON-serialisable argument and
 * result, every notification a JSON-serialisable event. The in-process relay implements it directly; a relay in
 * another process or on another host can implement it over a socket without the focus changing.
 *
 * Life cycle (per participant media line):
 *
 *   allocateEndpoint ──▶ (SDP answer carries the endpoint's address/ports)
 *        │
 *        ▼
 *   setRemote (negotiated codecs, the peer's address from SDP) ──▶ media flows; latched on the first valid packet
 *        │            ▲
 *        ▼            │ setRemote again on a re-INVITE (new address/codec), setDirection on mic/camera off/on
 *   releaseEndpoint   (or releaseMeeting for all of a meeting's endpoints)
 *
 * Isolation: an endpoint belongs to exactly one meeting; media never crosses meetings.
 */
import type { CodecSpec } from '../media/types.ts';

export type MediaKind = 'audio' | 'video';
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** One negotiated payload format (defined with the shared media stages, media/types.ts). */
export type { CodecSpec } from '../media/types.ts';

/**
 * What a video endpoint carries:
 * - 'main': the participant's own camera (published to the meeting) and, toward a participant that takes a single
 *   video stream (a phone), the active speaker's video rewritten into one continuous stream.
 * - { subscribeTo }: a receive-only line for the participant carrying one other publisher's video (the focus
 *   offers one such line per other participant, labelled and tied to the roster).
 */
export type VideoRole = 'main' | { readonly subscribeTo: string };

export interface AllocateEndpointRequest {
  readonly meetingId: string;
  readonly participantId: string;
  readonly kind: MediaKind;
  /** Video only; default 'main'. */
  readonly videoRole?: VideoRole;
  /** Offer/accept RTP and RTCP on one port (RFC 5761). */
  readonly rtcpMux: boolean;
}

export interface EndpointAllocation {
  readonly endpointId: string;
  /** Address to put in the SDP c= line. */
  readonly address: string;
  readonly rtpPort: number;
  /** = rtpPort when rtcpMux. */
  readonly rtcpPort: number;
}

/** The participant's side of the negotiated media line (from its SDP, RFC 3264). */
export interface RemoteDescription {
  /** Address and ports from the SDP; the relay latches onto the real source of the first valid packet. */
  readonly address: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly rtcpMux: boolean;
  /** Negotiated codecs; the first is the one the relay sends. */
  readonly codecs: readonly CodecSpec[];
  /** RFC 4733 telephone-event, when negotiated (never mixed). */
  readonly telephoneEvent?: CodecSpec;
  /** Direction from the participant's point of view (its a=sendonly means: it sends, we only receive). */
  readonly direction: Direction;
  readonly ptimeMs?: number;
  /**
   * Audio: the RFC 8285 extension id the participant's packets carry their RFC 6464 audio level under (its
   * a=extmap for urn:ietf:params:rtp-hdrext:ssrc-audio-level, echoed in our answer). The mixer then skips decoding
   * the leg while that level says it is quiet.
   */
  readonly audioLevelExtId?: number;
}

export interface StreamStats {
  readonly endpointId: string;
  readonly participantId: string;
  readonly kind: MediaKind;
  readonly codec: string | undefined;
  readonly direction: Direction;
  readonly packetsIn: number;
  readonly bytesIn: number;
  readonly packetsOut: number;
  readonly bytesOut: number;
  /** Packets dropped: wrong source, bad header, unknown payload type, … by reason. */
  readonly dropped: Readonly<Record<string, number>>;
  /** RFC 3550 §6.4.1 cumulative lost and interarrival jitter of what we receive. */
  readonly packetsLost: number;
  readonly jitterMs: number;
  /** From RTCP RR/SR exchange (RFC 3550 §6.4.1 LSR/DLSR), when known. */
  readonly rttMs?: number;
  /** Wall-clock ms of the last packet received, if any. */
  readonly lastPacketAt?: number;
  /** Wall-clock ms of the participant's last RTCP SR/RR, if any. */
  readonly lastReportAt?: number;
  /**
   * Report blocks the participant sent about sources other than the relay (RFC 3550 §6.4: only for sources it
   * heard). In peer-to-peer mode, where its RTCP still comes to the relay (RFC 3605 a=rtcp), they prove that the
   * other phone's media reaches it.
   */
  readonly peerReportBlocks?: number;
  /** Where media is latched (symmetric RTP), once it is. */
  readonly latchedTo?: { readonly address: string; readonly port: number };
}

export interface MeetingMediaStats {
  readonly meetingId: string;
  readonly streams: readonly StreamStats[];
  /** Totals for the meeting (what /metrics and the P2P proof read). */
  readonly packetsIn: number;
  readonly packetsOut: number;
}

export type RelayEvent =
  /** No media received on this endpoint for `silentMs` (liveness: the focus removes the participant at 30 s). */
  | { readonly type: 'media-timeout'; readonly meetingId: string; readonly participantId: string; readonly endpointId: string; readonly silentMs: number }
  /** The loudest talker changed (the focus highlights it in the roster; video follows it for single-video endpoints). */
  | { readonly type: 'active-speaker'; readonly meetingId: string; readonly participantId: string | undefined }
  /** A DTMF digit arrived (RFC 4733), e.g. for phone menus. */
  | { readonly type: 'dtmf'; readonly meetingId: string; readonly participantId: string; readonly digit: string };

export interface MediaRelayApi {
  allocateEndpoint(req: AllocateEndpointRequest): Promise<EndpointAllocation>;
  setRemote(endpointId: string, remote: RemoteDescription): Promise<void>;
  /** Mic/camera off and on without a new call: 'recvonly' from the participant takes it out of the mixes. */
  setDirection(endpointId: string, direction: Direction): Promise<void>;
  releaseEndpoint(endpointId: string): Promise<void>;
  releaseMeeting(meetingId: string): Promise<void>;
  stats(meetingId: string): Promise<MeetingMediaStats>;
  /** Packets received/sent/dropped by the relay since it started, all meetings (only ever grows). */
  mediaTotals(): Promise<{ readonly packetsIn: number; readonly packetsOut: number; readonly dropped: number }>;
  onEvent(handler: (ev: RelayEvent) => void): void;
  close(): Promise<void>;
}

/** Errors a relay command rejects with (the focus maps them to SIP: no ports → 503, bad request → 488/500). */
export class RelayError extends Error {
  constructor(
    readonly code: 'no-ports' | 'unknown-endpoint' | 'unsupported-codec' | 'bad-request' | 'closed',
    message: string,
  ) {
    super(message);
    this.name = 'RelayError';
  }
}
