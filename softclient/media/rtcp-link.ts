/**
 * The RTCP session of one media line (RFC 3550 §6): started when the line is first agreed, and started afresh when a
 * new offer/answer moves the remote RTCP address (RFC 3264 §8: a re-INVITE may change it); otherwise kept, so the
 * statistics and the SR schedule carry on across re-negotiations that do not move it.
 */
import type { Clock } from '../../registrar/sip/clock.ts';
import type { AcceptedMedia } from '../../sdp/index.ts';
import { RtcpSession } from '../../media/rtcp/session.ts';
import type { OutboundStream } from '../../media/rtp/outbound.ts';
import type { UdpPair } from './udp-pair.ts';

export interface RtcpLinkOptions {
  readonly clock: Clock;
  readonly ssrc: number;
  readonly cname: string;
  readonly outbound: OutboundStream;
  readonly pair: UdpPair;
  /** RFC 3550 §6.2 session bandwidth used for the report interval. */
  readonly sessionBandwidthBps: number;
}

export function rtcpForLine(current: RtcpSession | undefined, prev: AcceptedMedia | undefined, media: AcceptedMedia, o: RtcpLinkOptions): RtcpSession {
  if (current && prev && prev.remoteRtcp.address === media.remoteRtcp.address && prev.remoteRtcp.port === media.remoteRtcp.port) return current;
  current?.stop();
  const to = media.remoteRtcp;
  // RFC 5761: with rtcp-mux RTCP shares the RTP socket.
  const sock = media.rtcpMux ? o.pair.rtp : o.pair.rtcp;
  const session = new RtcpSession({
    clock: o.clock,
    localSsrc: o.ssrc,
    cname: o.cname,
    outbound: o.outbound,
    sendsSr: true,
    sessionBandwidthBps: o.sessionBandwidthBps,
    send: (compound) => sock.send(compound, to.port, to.address),
  });
  session.start();
  return session;
}
