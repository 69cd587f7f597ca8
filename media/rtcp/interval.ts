/**
 * RTCP transmission interval: RFC 3550 §6.3.1 and Appendix A.7 `rtcp_interval()`, verbatim in structure.
 *
 * The relay is a separate RTP session with each participant (an RFC 3550 §7.3 mixer for audio, §7.2 translator
 * for video), so each endpoint computes its own interval with `members` = the participant's sources + us.
 * Deviation: no timer reconsideration (§6.3.3/§6.3.6): with two members per session the membership never grows
 * enough for it to matter, and BYE reconsideration only applies to large sessions.
 */

/** §6.2 "the recommended value for a fixed minimum interval is 5 seconds". */
export const RTCP_MIN_TIME_S = 5;
const RTCP_SENDER_BW_FRACTION = 0.25;
const RTCP_RCVR_BW_FRACTION = 1 - RTCP_SENDER_BW_FRACTION;
/** A.7: "To compensate for 'timer reconsideration' converging to a value below the intended average." */
const COMPENSATION = Math.E - 1.5;

export interface IntervalInput {
  readonly members: number;
  readonly senders: number;
  /** RTCP bandwidth in octets per second (§6.2: 5 % of the session bandwidth). */
  readonly rtcpBw: number;
  readonly weSent: boolean;
  /** Average compound RTCP packet size in octets, including UDP and IP overhead (§6.3.3 avg_rtcp_size). */
  readonly avgRtcpSize: number;
  readonly initial: boolean;
  /** Override of RTCP_MIN_TIME (seconds), e.g. §6.2's "reduced minimum" 360 / session-bandwidth-kbit/s. */
  readonly minTimeS?: number;
}

/** A.7 rtcp_interval(): seconds until the next compound RTCP packet. `random` ∈ [0,1) (drand48). */
export function rtcpInterval(p: IntervalInput, random: () => number = Math.random): number {
  let rtcpMinTime = p.minTimeS ?? RTCP_MIN_TIME_S;
  // "Very first call at application start-up uses half the min delay for quicker notification"
  if (p.initial) rtcpMinTime /= 2;
  let rtcpBw = p.rtcpBw;
  let n = p.members;
  // "Dedicate a fraction of the RTCP bandwidth to senders unless the number of senders is large enough"
  if (p.senders <= p.members * RTCP_SENDER_BW_FRACTION) {
    if (p.weSent) {
      rtcpBw *= RTCP_SENDER_BW_FRACTION;
      n = p.senders;
    } else {
      rtcpBw *= RTCP_RCVR_BW_FRACTION;
      n -= p.senders;
    }
  }
  // "The effective number of sites times the average packet size is the total number of octets sent when each
  // site sends a report. Dividing this by the effective bandwidth gives the time interval"
  let t = (p.avgRtcpSize * n) / rtcpBw;
  if (t < rtcpMinTime) t = rtcpMinTime;
  // "To avoid traffic bursts from unintended synchronization with other sites, we then pick our actual next report
  // interval as a random number uniformly distributed between 0.5*t and 1.5*t."
  t = t * (random() + 0.5);
  t = t / COMPENSATION;
  return t;
}

/** §6.3.3: "avg_rtcp_size = (1/16) * packet_size + (15/16) * avg_rtcp_size". */
export function updateAvgRtcpSize(avg: number, packetSize: number): number {
  return packetSize / 16 + (15 / 16) * avg;
}
