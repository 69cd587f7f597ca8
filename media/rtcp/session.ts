/**
 * The RTCP side of one endpoint (one RTP session between the relay and one participant's media line).
 *
 * - Receiving: RFC 3550 §6.4.1 receiver statistics per source the participant sends (A.1/A.3/A.8 in stats.ts),
 *   LSR from its SRs, and from its report blocks about OUR stream: the loss it sees and the round-trip time
 *   (A − LSR − DLSR).
 * - Sending: a compound packet (§6.1: "SR or RR first, then SDES with CNAME") every interval (§6.3, A.7, on the
 *   injected clock). As an audio mixer (§7.3) the relay is a sender: SR for its own stream with report blocks for
 *   each input. As a video translator (§7.2) the publisher's SRs are forwarded (see forward/) and we send RR only.
 */
import type { Clock, TimerHandle } from '../../registrar/sip/clock.ts';
import type { OutboundStream } from '../rtp/outbound.ts';
import { ntpFromWallMs, ntpMiddle32, rttMs } from './ntp.ts';
import { rtcpInterval, updateAvgRtcpSize } from './interval.ts';
import type { RtcpPacket } from './packet.ts';
import type { ReportBlock } from './report-block.ts';
import { writeSdes } from './sdes.ts';
import { writeReceiverReport, writeSenderReport } from './sender-report.ts';
import { ReceiverStats } from './stats.ts';

/** Most sources tracked per leg (a participant sends one stream per line; SSRC changes on re-INVITE). */
const MAX_SOURCES = 4;
/** IPv4 + UDP header octets (§6.3.3: avg_rtcp_size includes lower-layer headers). */
const UDP_IP_OVERHEAD = 28;

export interface RtcpSessionOptions {
  readonly clock: Clock;
  readonly localSsrc: number;
  readonly cname: string;
  /** Our stream on this leg; SR is sent for it when `sendsSr` and it has sent packets. */
  readonly outbound: OutboundStream;
  readonly sendsSr: boolean;
  /** Session bandwidth in bits/s (RFC 3556 b=AS; defaults: 64 kbit/s audio, 1 Mbit/s video). */
  readonly sessionBandwidthBps: number;
  /** §6.2 minimum interval override in seconds (5 s by default). */
  readonly minIntervalS?: number;
  readonly send: (compound: Buffer) => void;
  readonly random?: () => number;
}

/** What the participant tells us about our stream in its report blocks. */
export interface RemoteReception {
  readonly fractionLost: number;
  readonly cumulativeLost: number;
  readonly jitter: number;
}

export class RtcpSession {
  readonly sources = new Map<number, ReceiverStats>();
  rttMs: number | undefined;
  remoteReception: RemoteReception | undefined;
  /**
   * The participant's latest RTCP report (wall ms) and how many of its report blocks were about sources other than
   * the relay: in peer-to-peer mode those are the other phone's stream, i.e. proof that direct media arrives.
   */
  lastReportAt: number | undefined;
  foreignBlocks = 0;
  reportsSent = 0;
  private avgRtcpSize = 100;
  private initial = true;
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(private readonly o: RtcpSessionOptions) {}

  /** An RTP packet from the participant (already accepted by the endpoint). */
  onRtp(ssrc: number, seq: number, timestamp: number, clockRate: number, nowMs: number): void {
    let s = this.sources.get(ssrc);
    if (s === undefined) {
      if (this.sources.size >= MAX_SOURCES) this.sources.delete(this.sources.keys().next().value!);
      s = new ReceiverStats(ssrc, clockRate, seq);
      this.sources.set(ssrc, s);
    }
    s.onPacket(seq, timestamp, nowMs);
  }

  /** Typed RTCP from the participant. */
  onRtcp(packets: readonly RtcpPacket[], nowMs: number, size: number): void {
    this.avgRtcpSize = updateAvgRtcpSize(this.avgRtcpSize, size + UDP_IP_OVERHEAD);
    for (const p of packets) {
      if (p.type === 'sr') {
        this.sources.get(p.ssrc)?.onSenderReport(ntpMiddle32({ seconds: p.ntpSeconds, fraction: p.ntpFraction }), nowMs);
        this.onReports(p.reports);
      } else if (p.type === 'rr') {
        this.onReports(p.reports);
      } else if (p.type === 'bye') {
        // §6.6 / §6.3.7: the source leaves; forget its statistics.
        for (const s of p.ssrcs) this.sources.delete(s);
      }
    }
  }

  private onReports(reports: readonly ReportBlock[]): void {
    this.lastReportAt = this.o.clock.wallNow();
    for (const b of reports) {
      if (b.ssrc !== this.o.localSsrc) {
        // RFC 3550 §6.4: a block is only sent for a source heard since the last report.
        this.foreignBlocks++;
        continue;
      }
      this.remoteReception = { fractionLost: b.fractionLost, cumulativeLost: b.cumulativeLost, jitter: b.jitter };
      const a = ntpMiddle32(ntpFromWallMs(this.o.clock.wallNow()));
      const rtt = rttMs(a, b.lastSr, b.delaySinceLastSr);
      if (rtt !== undefined) this.rttMs = rtt;
    }
  }

  /** RFC 3550 §6.4.1 cumulative lost over the participant's sources. */
  get packetsLost(): number {
    let n = 0;
    for (const s of this.sources.values()) n += s.cumulativeLost;
    return n;
  }

  /** Interarrival jitter of the most recent source, in ms. */
  get jitterMs(): number {
    let last: ReceiverStats | undefined;
    for (const s of this.sources.values()) last = s;
    return last?.jitterMs ?? 0;
  }

  /** Build the compound report for now (advances the A.3 interval counters). */
  buildReport(): Buffer {
    const now = this.o.clock.now();
    const blocks = [...this.sources.values()].filter((s) => s.validPackets > 0).map((s) => s.reportBlock(now));
    const out = this.o.outbound;
    let first: Buffer;
    if (this.o.sendsSr && out.packets > 0) {
      const ntp = ntpFromWallMs(this.o.clock.wallNow());
      first = writeSenderReport({
        ssrc: this.o.localSsrc,
        ntpSeconds: ntp.seconds,
        ntpFraction: ntp.fraction,
        rtpTimestamp: out.timestampAt(now),
        packetCount: out.packets,
        octetCount: out.octets,
        reports: blocks,
      });
    } else {
      first = writeReceiverReport({ ssrc: this.o.localSsrc, reports: blocks });
    }
    return Buffer.concat([first, writeSdes([{ ssrc: this.o.localSsrc, cname: this.o.cname }])]);
  }

  /** Send one report now (also used on demand by tests and on release). */
  sendReport(): void {
    const buf = this.buildReport();
    this.avgRtcpSize = updateAvgRtcpSize(this.avgRtcpSize, buf.length + UDP_IP_OVERHEAD);
    this.reportsSent++;
    this.o.send(buf);
  }

  /** Start the §6.3 schedule. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    const weSent = this.o.sendsSr && this.o.outbound.packets > 0;
    const members = 1 + Math.max(1, this.sources.size);
    const senders = (weSent ? 1 : 0) + this.sources.size;
    const seconds = rtcpInterval(
      {
        members,
        senders,
        // §6.2: "the fraction of the session bandwidth added for RTCP be fixed at 5%" (octets/s here)
        rtcpBw: (this.o.sessionBandwidthBps * 0.05) / 8,
        weSent,
        avgRtcpSize: this.avgRtcpSize,
        initial: this.initial,
        ...(this.o.minIntervalS === undefined ? {} : { minTimeS: this.o.minIntervalS }),
      },
      this.o.random,
    );
    this.initial = false;
    this.timer = this.o.clock.setTimer(seconds * 1000, () => {
      if (!this.running) return;
      this.sendReport();
      this.schedule();
    });
  }
}
