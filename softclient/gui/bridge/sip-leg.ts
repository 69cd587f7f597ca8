/**
 * One RTP session with the focus (RFC 3550) for the GUI bridge: an m= line of the SIP call on its own UDP port
 * pair, carrying media that is passed through, never decoded.
 *
 *   page ─(WebRTC, werift)─▶ forward(): our SSRC, negotiated PT, continuous seq/ts ─▶ focus     (mic, camera)
 *   focus ─▶ 'media' (the RTP datagram as received) ─▶ page                                      (mix, a publisher)
 *
 * It is a `MediaLine` of the call's offer/answer (softclient/media/media-session.ts): `configure()` applies what
 * was agreed (codec and PT, remote address, direction), `disable()` a rejected or dropped line.
 *
 * Rewriting (RFC 3550 §7.2, a translator may change SSRC/seq/timestamp consistently) is media-relay's
 * StreamRewriter: output numbers continue across a change of the page's source (a new camera track, a new SSRC
 * after the page reconnects), and for video a new source starts only at a keyframe (`keyframeNeeded` asks the
 * page for one). RTCP: the shared RtcpSession (media/rtcp/; SR while we send, RR otherwise, §6.3 schedule); RTCP
 * feedback from the focus (PLI, FIR: RFC 4585 §6.3.1, RFC 5104 §4.3.1) → `keyframeRequested`.
 *
 * Audio levels: when the focus agreed to read RFC 6464 client-to-mixer levels (`sendAudioLevelExtId`, RFC 8285
 * §7) and the page gave one with the packet, it goes out in the header extension under the focus's id (the
 * browser's own level, measured on the audio it encoded: RFC 6464 §5 leaves the level to the sender).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../../../registrar/log.ts';
import type { Clock } from '../../../registrar/sip/clock.ts';
import { vp8IsKeyframeStart } from '../../../media/video/vp8.ts';
import { StreamRewriter } from '../../../media/video/rewriter.ts';
import { writePli } from '../../../media/rtcp/feedback.ts';
import { writeBye } from '../../../media/rtcp/bye.ts';
import { isRtcp } from '../../../media/rtcp/header.ts';
import { parseRtcp } from '../../../media/rtcp/packet.ts';
import { rtcpForLine } from '../../media/rtcp-link.ts';
import { RtcpSession } from '../../../media/rtcp/session.ts';
import { OutboundStream, randomSsrc } from '../../../media/rtp/outbound.ts';
import { buildRtp, parseRtp, type RtpPacket } from '../../../media/rtp/packet.ts';
import { levelExtension } from '../../media/level-extension.ts';
import type { AcceptedMedia, CodecSpec, Direction } from '../../../sdp/index.ts';
import type { MediaLine } from '../../media/media-session.ts';
import type { UdpPair } from '../../media/udp-pair.ts';

export interface SipLegEvents {
  /** An RTP packet from the focus (the datagram as received, and its parsed view). */
  media: [Buffer, RtpPacket];
  /** The focus asked for a keyframe of what we send (PLI/FIR). */
  keyframeRequested: [];
  /** What we forward needs a keyframe to start (video): ask the page's encoder. */
  keyframeNeeded: [];
  /** The line was (re)configured or disabled. */
  changed: [];
}

export interface SipLegOptions {
  readonly pair: UdpPair;
  readonly kind: 'audio' | 'video';
  readonly codecs: readonly CodecSpec[];
  readonly direction: Direction;
  readonly clock: Clock;
  readonly logger: Logger;
  /** RFC 3550 §6.5.1 CNAME, "user@host". */
  readonly cname: string;
  /** The publisher a per-publisher line carries (its a=label), for logs. */
  readonly label?: string;
}

export interface LegCounters {
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
}

const PAGE_SOURCE = 'page';
/** Don't ask the page for keyframes more often than this (its encoder is already producing one). */
const KEYFRAME_ASK_MS = 500;

export class SipLeg extends EventEmitter<SipLegEvents> implements MediaLine {
  readonly kind: 'audio' | 'video';
  readonly port: number;
  readonly codecs: readonly CodecSpec[];
  direction: Direction;
  readonly ssrc = randomSsrc();
  readonly counters: LegCounters = { packetsSent: 0, bytesSent: 0, packetsReceived: 0, bytesReceived: 0 };
  private media: AcceptedMedia | undefined;
  private rtcp: RtcpSession | undefined;
  private readonly outbound: OutboundStream;
  private readonly rewriter: StreamRewriter;
  private lastKeyframeAsk = -Infinity;
  private remoteSsrc: number | undefined;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly o: SipLegOptions) {
    super();
    this.kind = o.kind;
    this.port = o.pair.rtpPort;
    this.codecs = o.codecs;
    this.direction = o.direction;
    const clockRate = o.kind === 'audio' ? 48000 : 90000;
    this.outbound = new OutboundStream(this.ssrc, clockRate);
    this.rewriter = new StreamRewriter(this.outbound.nextSeq, this.outbound.nextTimestamp, clockRate);
    this.rewriter.want(PAGE_SOURCE);
    this.log = o.logger.child({ component: 'gui-leg', kind: o.kind, ...(o.label ? { label: o.label } : {}) });
    o.pair.rtp.on('message', (buf) => this.onRtp(buf));
    o.pair.rtcp.on('message', (buf) => this.onRtcp(buf));
  }

  /** The agreed line, or undefined while not agreed or disabled. */
  get agreed(): AcceptedMedia | undefined {
    return this.media;
  }

  get codecName(): string | undefined {
    return this.media ? `${this.media.codec.encoding}/${this.media.codec.clockRate}` : undefined;
  }

  private get sending(): boolean {
    const d = this.media?.direction;
    return d === 'sendrecv' || d === 'sendonly';
  }

  configure(media: AcceptedMedia): void {
    if (this.closed) return;
    const prev = this.media;
    this.media = media;
    this.rtcp = rtcpForLine(this.rtcp, prev, media, { clock: this.o.clock, ssrc: this.ssrc, cname: this.o.cname, outbound: this.outbound, pair: this.o.pair, sessionBandwidthBps: this.kind === 'audio' ? 64_000 : 1_000_000 });
    this.log.debug({ codec: this.codecName, direction: media.direction, remote: `${media.remoteRtp.address}:${media.remoteRtp.port}` }, 'line agreed');
    this.emit('changed');
  }

  disable(reason: string): void {
    if (this.media === undefined) return;
    this.log.debug({ reason }, 'line disabled');
    this.media = undefined;
    this.rtcp?.stop();
    this.rtcp = undefined;
    this.remoteSsrc = undefined;
    this.emit('changed');
  }

  /**
   * A packet from the page to the focus: payload and marker as the page's encoder made them, under our SSRC, the
   * negotiated payload type and continuous numbering. Dropped while the line does not send. `level` (audio): the
   * page's RFC 6464 level of this packet, −dBov 0…127, written when the focus agreed to read levels; anything
   * else (unknown, out of range, a video line, not agreed) sends the packet without an extension.
   */
  forward(p: { readonly ssrc: number; readonly sequenceNumber: number; readonly timestamp: number; readonly marker: boolean; readonly payload: Uint8Array }, level?: number): void {
    const m = this.media;
    if (this.closed || !m || !this.sending) return;
    const now = this.o.clock.now();
    const keyframe = this.kind === 'audio' || vp8IsKeyframeStart(p.payload, 0, p.payload.length);
    const verdict = this.rewriter.rewrite(PAGE_SOURCE, p.ssrc, p.sequenceNumber, p.timestamp, keyframe, now);
    if (verdict === 'need-keyframe') {
      if (now - this.lastKeyframeAsk >= KEYFRAME_ASK_MS) {
        this.lastKeyframeAsk = now;
        this.emit('keyframeNeeded');
      }
      return;
    }
    if (verdict !== 'forward') return;
    const levelId = this.kind === 'audio' ? m.sendAudioLevelExtId : undefined;
    // A negotiated RFC 8285 extension is carried per packet, not promised in each: no known level, no extension.
    const extension = levelId !== undefined && level !== undefined && Number.isInteger(level) && level >= 0 && level <= 127 ? levelExtension(levelId, level) : undefined;
    const pkt = buildRtp({ payloadType: m.codec.pt, sequenceNumber: this.rewriter.outSeq, timestamp: this.rewriter.outTs, ssrc: this.ssrc, marker: p.marker, ...(extension ? { extension } : {}) }, p.payload);
    this.o.pair.rtp.send(pkt, m.remoteRtp.port, m.remoteRtp.address);
    this.outbound.sent(p.payload.length, this.rewriter.outTs, now);
    this.counters.packetsSent++;
    this.counters.bytesSent += pkt.length;
  }

  /** Stop forwarding the current source (camera off): the next one starts at a keyframe. */
  detachSource(): void {
    this.rewriter.detach();
  }

  /** Ask the focus for a keyframe of what it sends us (RFC 4585 §6.3.1 PLI). */
  requestKeyframe(): void {
    const m = this.media;
    if (this.closed || !m || this.remoteSsrc === undefined) return;
    const to = m.remoteRtcp;
    const pli = Buffer.concat([this.rtcp?.buildReport() ?? Buffer.alloc(0), writePli(this.ssrc, this.remoteSsrc)]);
    (m.rtcpMux ? this.o.pair.rtp : this.o.pair.rtcp).send(pli, to.port, to.address);
  }

  private onRtp(buf: Buffer): void {
    if (this.closed) return;
    if (this.media?.rtcpMux && isRtcp(buf)) return this.onRtcp(buf);
    const r = parseRtp(buf);
    if (!r.ok || !this.media) return;
    const p = r.packet;
    const d = this.media.direction;
    if (d !== 'sendrecv' && d !== 'recvonly') return;
    if (!this.media.codecs.some((c) => c.pt === p.payloadType)) return;
    const first = this.remoteSsrc !== p.ssrc;
    this.remoteSsrc = p.ssrc;
    this.counters.packetsReceived++;
    this.counters.bytesReceived += buf.length;
    this.rtcp?.onRtp(p.ssrc, p.sequenceNumber, p.timestamp, this.media.codec.clockRate, this.o.clock.now());
    this.emit('media', buf, p);
    // A new stream from the focus: make sure it starts with a picture (the focus repeats this for new subscribers).
    if (first && this.kind === 'video') this.requestKeyframe();
  }

  private onRtcp(buf: Buffer): void {
    if (this.closed) return;
    const parsed = parseRtcp(buf);
    this.rtcp?.onRtcp(parsed.packets, this.o.clock.now(), buf.length);
    for (const p of parsed.packets) {
      if ((p.type === 'pli' && p.mediaSsrc === this.ssrc) || (p.type === 'fir' && p.entries.some((e) => e.ssrc === this.ssrc))) {
        this.emit('keyframeRequested');
      }
    }
  }

  /** RFC 3550 §6.4.1 loss of what the focus sends us, 0..1 of the packets expected. */
  get receiveLoss(): number {
    const lost = this.rtcp?.packetsLost ?? 0;
    const got = this.counters.packetsReceived;
    return got + lost > 0 ? Math.max(0, lost) / (got + Math.max(0, lost)) : 0;
  }

  /** RTCP BYE (RFC 3550 §6.6) and close the sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const m = this.media;
    this.rtcp?.stop();
    if (m && this.rtcp) {
      try {
        const bye = Buffer.concat([this.rtcp.buildReport(), writeBye([this.ssrc], 'leaving')]);
        (m.rtcpMux ? this.o.pair.rtp : this.o.pair.rtcp).send(bye, m.remoteRtcp.port, m.remoteRtcp.address, () => this.o.pair.close());
        return;
      } catch {
        // fall through
      }
    }
    this.o.pair.close();
  }
}
