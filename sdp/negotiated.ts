/**
 * The outcome of an offer/answer exchange for one m= line, from our side: what the media relay needs to send
 * and receive. Built by `answerOffer()` (we answered) and `processAnswer()` (we offered).
 */
import type { Bandwidth, Direction, MediaDescription, RtcpFeedback, SessionDescription } from './model.ts';
import { effectiveConnection } from './model.ts';

export interface NegotiatedCodec {
  /** The PT both sides use for it: the offer's number (RFC 3264 §6.1). */
  readonly pt: number;
  readonly encoding: string;
  readonly clockRate: number;
  readonly channels?: number;
  /** The remote side's a=fmtp for it: how it wants to receive. */
  readonly remoteFmtp: string | undefined;
  /** Our a=fmtp for it: how we want to receive. */
  readonly localFmtp: string | undefined;
  /** rtcp-fb both sides listed for it. */
  readonly rtcpFb: readonly RtcpFeedback[];
}

export interface TransportAddress {
  readonly address: string;
  readonly port: number;
}

export interface AcceptedMedia {
  readonly accepted: true;
  /** Position of the m= line (RFC 3264 §6: streams are matched by order). */
  readonly index: number;
  readonly type: string;
  /** The codec to send: the first format of the offer that both sides support. */
  readonly codec: NegotiatedCodec;
  /** Every codec of the answer's m= line, in the offer's order (the first is `codec`); may also arrive. */
  readonly codecs: readonly NegotiatedCodec[];
  /** RFC 4733 named events agreed alongside, if any. */
  readonly telephoneEvent: NegotiatedCodec | undefined;
  /** What WE do on this stream (sendonly = we send and do not receive). */
  readonly direction: Direction;
  /** Our RTP port in our description. */
  readonly localPort: number;
  readonly remoteRtp: TransportAddress;
  readonly remoteRtcp: TransportAddress;
  /** RFC 5761: RTP and RTCP share the RTP port both ways. */
  readonly rtcpMux: boolean;
  /** The remote a=ptime: the packetization it wants to receive (RFC 4566 §6), ms. */
  readonly ptime: number | undefined;
  /** The remote b= lines for this stream (what it wants us to stay under). */
  readonly remoteBandwidth: readonly Bandwidth[];
  /** Audio: the RFC 8285 id under which the remote sends its RFC 6464 audio level (sdp/extmap.ts), if agreed. */
  readonly audioLevelExtId?: number;
  /**
   * Audio: the RFC 8285 id under which WE may send RFC 6464 levels (the remote reads them), if agreed: we offered
   * the URI sending and the answer reads it under that id, or we answered an offer that reads it with a policy that
   * sends (sdp/extmap.ts).
   */
  readonly sendAudioLevelExtId?: number;
}

export interface RejectedMedia {
  readonly accepted: false;
  readonly index: number;
  readonly type: string;
  /** Why the stream carries port 0: for logs and for a 488 reason phrase. */
  readonly reason: string;
}

export type NegotiatedMedia = AcceptedMedia | RejectedMedia;

/**
 * Where to send RTP and RTCP for a remote stream.
 * RFC 3264 §5.1: "Unless there is an explicit indication otherwise, reports are sent to the port number one
 * higher than the number indicated." The explicit indications are RFC 3605 a=rtcp (port, optionally address)
 * and RFC 5761 rtcp-mux (the RTP port itself). Returns undefined when the stream has no connection address.
 */
export function remoteTransport(
  session: SessionDescription,
  media: MediaDescription,
  rtcpMux: boolean,
): { rtp: TransportAddress; rtcp: TransportAddress } | undefined {
  const connection = effectiveConnection(session, media);
  if (connection === undefined) return undefined;
  const rtp = { address: connection.address, port: media.port };
  if (rtcpMux) return { rtp, rtcp: rtp };
  if (media.rtcp !== undefined) {
    return { rtp, rtcp: { address: media.rtcp.connection?.address ?? connection.address, port: media.rtcp.port } };
  }
  return { rtp, rtcp: { address: connection.address, port: media.port + 1 } };
}

/** RFC 4566 §5.7: multicast c= addresses (224.0.0.0/4, ff00::/8); sipmeet does unicast only. */
export function isMulticast(address: string): boolean {
  const host = address.split('/')[0] ?? '';
  const first = /^(\d{1,3})\./.exec(host);
  if (first !== null) return Number(first[1]) >= 224 && Number(first[1]) <= 239;
  return /^ff/i.test(host);
}
