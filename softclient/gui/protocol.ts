/**
 * What the GUI page and the local softclient process say to each other (types only: the page's bundle and the
 * Node side both import this file).
 *
 *   page ──fetch POST /api/…──────────────────▶ local process (127.0.0.1)      commands: join, chat, mic, …
 *   page ◀─GET /api/events (Server-Sent Events)─ local process                  state snapshots, chat, stats
 *   page ──POST /api/rtc/offer {sdp}──────────▶ werift RTCPeerConnection        WebRTC media over loopback
 *
 * The state is small, so every change sends the whole `GuiState` (the page renders it); chat lines are separate
 * `chat` events (the page appends them) so a long chat is not re-sent on every change.
 */

/** Where the page is. */
export type GuiPhase = 'lobby' | 'joining' | 'meeting';

/** A message the page shows prominently (lobby or meeting), with a kind for its icon/colour. */
export interface GuiNotice {
  readonly kind: 'ended' | 'unreachable' | 'refused' | 'camera' | 'error' | 'info';
  readonly text: string;
  /** ms since the epoch, so the page can tell a new notice from the one it already showed. */
  readonly at: number;
}

export interface LobbyMeeting {
  readonly id: string;
  readonly uri: string;
  readonly creator: string;
  readonly createdAt: string;
  readonly participants: number;
  readonly names: readonly string[];
  readonly mode?: string;
}

export interface GuiParticipant {
  /** The focus's participant id (`p3`), when the roster told it. */
  readonly id: string | undefined;
  readonly aor: string;
  readonly name: string;
  readonly host: boolean;
  readonly mic: boolean;
  readonly camera: boolean;
  readonly self: boolean;
}

/** A remote video: one receiving transceiver of the page (by its index among the receive slots). */
export interface GuiTile {
  readonly slot: number;
  readonly participantId: string;
  readonly name: string;
  readonly aor: string | undefined;
}

export interface GuiMediaStatus {
  /** 'cs' (through the server's relay) or 'p2p' (direct), from the roster's <media-mode>. */
  readonly mode: string | undefined;
  readonly audioCodec: string | undefined;
  readonly videoCodec: string | undefined;
  /** What we send toward the server, kbit/s, over the last stats period. */
  readonly sendKbps: number;
  /** What we receive from the server, kbit/s. */
  readonly recvKbps: number;
  /** Loss of the audio we receive (RFC 3550 cumulative lost / expected), percent. */
  readonly lossPct: number;
}

export interface GuiMeeting {
  readonly uri: string;
  readonly id: string;
  /** We created it: "end meeting for all" is offered. */
  readonly host: boolean;
  readonly mic: boolean;
  readonly camera: boolean;
  readonly participants: readonly GuiParticipant[];
  /** AOR of the participant talking now, when the focus says. */
  readonly activeSpeaker: string | undefined;
  readonly tiles: readonly GuiTile[];
  readonly media: GuiMediaStatus;
}

export interface GuiState {
  readonly phase: GuiPhase;
  /** SIP server host:port. */
  readonly server: string;
  /** The server's HTTP API base URL. */
  readonly api: string;
  readonly name: string;
  readonly aor: string;
  /** The number of video receive slots the page must offer (recvonly video transceivers). */
  readonly slots: number;
  readonly meeting: GuiMeeting | undefined;
  readonly notice: GuiNotice | undefined;
}

export interface GuiChat {
  readonly from: string;
  readonly name: string;
  /** RFC 3339. */
  readonly at: string;
  readonly text: string;
  readonly self: boolean;
  /** A notice from the focus (the /who answer) rather than somebody's chat. */
  readonly system?: boolean;
}

/** Server-Sent Events: `event: <name>` + `data: <JSON>`. */
export interface GuiEvents {
  state: GuiState;
  chat: GuiChat;
  meetings: { readonly meetings: readonly LobbyMeeting[]; readonly error: string | undefined };
}

/** Bodies of the POST commands. */
export interface JoinRequest {
  /** A meeting URI or a bare id (`conf-42`); empty: create a new meeting (the factory URI). */
  readonly target: string;
  readonly create?: boolean;
}

export interface SettingsRequest {
  readonly name?: string;
  readonly server?: string;
}

export interface OfferRequest {
  readonly sdp: string;
}

export interface OfferAnswer {
  readonly sdp: string;
}

/** Any command's answer: ok, or one readable line. */
export type CommandResult = { readonly ok: true } | { readonly ok: false; readonly error: string };
