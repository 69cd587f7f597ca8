/**
 * The session description model (RFC 4566 §5) that sipmeet owns.
 *
 * `parseSdp()` (session.ts) builds it from text, `writeSdp()` (write.ts) turns it back into text,
 * `answerOffer()` (negotiate.ts) and `createOffer()` (offer.ts) build new ones. Values are read-only.
 *
 * What the offer/answer code needs is typed (origin, connection, bandwidth, m= lines, payload formats with
 * rtpmap/fmtp/rtcp-fb, direction, rtcp, rtcp-mux, ptime, mid, label, content, ssrc). Everything else that
 * sdp-transform understands (ICE, DTLS, extmap, framerate, rtcp-rsize, …) or keeps as `invalid` (unknown
 * attributes such as `a=rtcp-xr:` or `a=minptime:`) is carried in `other`, in sdp-transform's own shape,
 * and written back unchanged.
 */
import type {
  MediaDescription as TransformMedia,
  SessionDescription as TransformSession,
} from 'sdp-transform';

/** RFC 3264 §5.1 / RFC 4566 §6: a=sendrecv | sendonly | recvonly | inactive. */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** RFC 4566 §5.7 <addrtype>. */
export type AddressType = 'IP4' | 'IP6';

/** RFC 4566 §5.7: c=IN <addrtype> <connection-address>. Only nettype IN exists. */
export interface Connection {
  readonly addressType: AddressType;
  /** As written; a multicast address keeps its `/ttl[/count]` suffix. */
  readonly address: string;
}

/** RFC 4566 §5.2: o=<username> <sess-id> <sess-version> IN <addrtype> <unicast-address>. */
export interface Origin {
  readonly username: string;
  /** Digits, kept as text: RFC 3264 §5 allows 64-bit values, beyond what a JS number holds exactly. */
  readonly sessionId: string;
  /** RFC 3264 §8: incremented by one for every new description of the session (see `nextVersion`). */
  readonly sessionVersion: bigint;
  readonly addressType: AddressType;
  readonly address: string;
}

/** RFC 4566 §5.8: b=<bwtype>:<bandwidth> — AS, CT (kbit/s), TIAS (bit/s, RFC 3890), RR/RS (RFC 3556), X-…. */
export interface Bandwidth {
  readonly type: string;
  readonly value: number;
}

/** RFC 4566 §5.9: t=<start-time> <stop-time>. RFC 3264 §5: "0 0" for SIP sessions. */
export interface Timing {
  readonly start: number;
  readonly stop: number;
}

/** RFC 4566 §6 a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]. */
export interface Rtpmap {
  readonly encoding: string;
  readonly clockRate: number;
  /** Audio channels; RFC 4566 §6: "may be omitted if the number of channels is one". */
  readonly channels?: number;
}

/** RFC 4585 §4.2 a=rtcp-fb value: `nack`, `nack pli`, `ccm fir`, `trr-int 1000`, `goog-remb`… */
export interface RtcpFeedback {
  readonly type: string;
  readonly param?: string;
}

/** One RTP payload format of an m= line, in the m= line's order. */
export interface PayloadFormat {
  readonly pt: number;
  /**
   * The a=rtpmap for this PT, or the RFC 3551 §6 static assignment when the SDP has none (PT 0 → PCMU/8000);
   * undefined for a dynamic PT without rtpmap (unusable).
   */
  readonly rtpmap: Rtpmap | undefined;
  /** True when the SDP itself carried the a=rtpmap line (write it back only then). */
  readonly rtpmapInSdp: boolean;
  /** RFC 4566 §6 a=fmtp:<format> <format specific parameters>, verbatim. */
  readonly fmtp: string | undefined;
  /** a=rtcp-fb:<pt> lines for this PT (wildcard ones are on the media description). */
  readonly rtcpFb: readonly RtcpFeedback[];
}

/** RFC 3605 §2.1 a=rtcp:<port> [IN <addrtype> <connection-address>]. */
export interface RtcpAttribute {
  readonly port: number;
  readonly connection?: Connection;
}

/** RFC 4566 §5.14 media description: m=<media> <port>[/<number of ports>] <proto> <fmt> ... and its lines. */
export interface MediaDescription {
  /** audio, video, text, application, message, image… (compare lowercase). */
  readonly type: string;
  /** 0 = stream rejected / disabled (RFC 3264 §5.1, §6). */
  readonly port: number;
  /** The `/<number of ports>` suffix, when present. */
  readonly portCount: number | undefined;
  /** RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVPF, udptl, TCP/BFCP…, as written. */
  readonly proto: string;
  /** The <fmt> list exactly as on the m= line. */
  readonly formats: readonly string[];
  /** For RTP protos: one entry per format, in m= order. Empty for non-RTP media. */
  readonly payloads: readonly PayloadFormat[];
  /** Media-level c=; the session-level one applies when absent (`effectiveConnection`). */
  readonly connection: Connection | undefined;
  readonly bandwidth: readonly Bandwidth[];
  /** Media-level direction attribute; the session-level one, then sendrecv, apply when absent. */
  readonly direction: Direction | undefined;
  readonly rtcp: RtcpAttribute | undefined;
  /** RFC 5761 §5.1.1 a=rtcp-mux. */
  readonly rtcpMux: boolean;
  /** RFC 4566 §6 a=ptime / a=maxptime, milliseconds. */
  readonly ptime: number | undefined;
  readonly maxptime: number | undefined;
  /** RFC 5888 a=mid, RFC 4574 a=label, RFC 4796 a=content. */
  readonly mid: string | undefined;
  readonly label: string | undefined;
  readonly content: string | undefined;
  /** RFC 5576 a=ssrc:<ssrc-id> <attribute>[:<value>]. */
  readonly ssrcs: readonly Ssrc[];
  /** a=rtcp-fb:* lines (apply to every PT of this m= line). */
  readonly rtcpFbAll: readonly RtcpFeedback[];
  /** Every other media-level line sdp-transform keeps (its MediaAttributes shape), written back as is. */
  readonly other: MediaExtras;
}

export interface Ssrc {
  readonly id: number;
  readonly attribute: string;
  readonly value?: string;
}

/** A whole session description. */
export interface SessionDescription {
  readonly origin: Origin;
  /** s=; RFC 4566 says non-empty ("s= " or "s=-" when there is no name) but empty ones are accepted. */
  readonly name: string;
  readonly connection: Connection | undefined;
  readonly bandwidth: readonly Bandwidth[];
  readonly timing: Timing;
  /** Session-level direction attribute: the default for every m= line without one (RFC 3264 §5.1). */
  readonly direction: Direction | undefined;
  readonly media: readonly MediaDescription[];
  /** Every other session-level line sdp-transform keeps (i=, u=, e=, p=, r=, z=, a=group, a=tool…). */
  readonly other: SessionExtras;
}

type SessionTyped = 'version' | 'origin' | 'name' | 'timing' | 'connection' | 'bandwidth' | 'direction' | 'media';
type MediaTyped =
  | 'type' | 'port' | 'protocol' | 'payloads' | 'connection' | 'bandwidth' | 'direction'
  | 'rtp' | 'fmtp' | 'rtcpFb' | 'rtcpFbTrrInt' | 'rtcp' | 'rtcpMux' | 'ptime' | 'maxptime'
  | 'mid' | 'label' | 'ssrcs';

/** sdp-transform session fields the typed model does not cover. */
export type SessionExtras = Readonly<Omit<Partial<TransformSession>, SessionTyped>>;
/** sdp-transform media fields the typed model does not cover (`content` is typed although @types lacks it). */
export type MediaExtras = Readonly<Omit<Partial<TransformMedia>, MediaTyped>>;

/** RFC 3264 §5.1: "sendrecv is the default"; a media-level attribute overrides the session-level one. */
export function effectiveDirection(session: SessionDescription, media: MediaDescription): Direction {
  return media.direction ?? session.direction ?? 'sendrecv';
}

/** RFC 4566 §5.7: a media-level c= overrides the session-level one. */
export function effectiveConnection(session: SessionDescription, media: MediaDescription): Connection | undefined {
  return media.connection ?? session.connection;
}

/** The rtcp-fb values that apply to one PT: the wildcard ones, then the PT's own. */
export function rtcpFeedbackFor(media: MediaDescription, payload: PayloadFormat): readonly RtcpFeedback[] {
  return [...media.rtcpFbAll, ...payload.rtcpFb];
}

/** rtcp-fb values compare case-insensitively (RFC 4585 §4.2 tokens). */
export function sameFeedback(a: RtcpFeedback, b: RtcpFeedback): boolean {
  return a.type.toLowerCase() === b.type.toLowerCase() && (a.param ?? '').toLowerCase() === (b.param ?? '').toLowerCase();
}

/** RFC 3550 / RFC 3551 §2: the RTP/AVP family (AVP, AVPF, SAVP, SAVPF and their DTLS/TCP variants). */
export function isRtpProto(proto: string): boolean {
  return /(^|\/)RTP\/S?AVPF?$/i.test(proto);
}
