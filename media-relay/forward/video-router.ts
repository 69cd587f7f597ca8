/**
 * Video forwarding for one meeting (an SFU): VP8 / H.264 RTP from each participant's 'main' line to the receiver
 * legs that show it, without transcoding. RFC 3550 §7.2 translator: SSRC, sequence number, timestamp and payload
 * type are rewritten per receiver leg (StreamRewriter), the publisher's SRs are forwarded translated, and
 * keyframe/NACK feedback is answered or sent upstream.
 *
 * Which publisher a receiver leg shows:
 *   - a `{ subscribeTo: X }` line: X, always;
 *   - the 'main' line of a participant without subscribe lines (a phone): the active speaker (audio's talker
 *     detection), else the one it showed, else the most recent speaker, else any publisher — never itself, never a
 *     camera that is off.
 * Keyframes (PLI/FIR via KeyframeRequester, ≤ 1/s per publisher, repeated until one arrives) are asked for when a
 * receiver starts receiving, when the shown publisher changes, when a camera comes back, and when a receiver asks.
 *
 * Deviation (RFC 3550 §7.2 says a translator forwards RTCP): receivers' RRs are consumed here (RTT and loss per
 * leg go to stats) instead of forwarded — their report blocks describe the rewritten stream, not the publisher's,
 * and the relay sends its own RRs to each publisher (media/rtcp/session.ts), as SFUs such as mediasoup do.
 */
import type { Clock } from '../../registrar/sip/clock.ts';
import type { Logger } from '../../registrar/log.ts';
import type { Endpoint } from '../endpoint.ts';
import type { GenericNack } from '../../media/rtcp/feedback.ts';
import type { RtcpParseResult } from '../../media/rtcp/packet.ts';
import { writeSdes } from '../../media/rtcp/sdes.ts';
import { writeSenderReport, type SenderReport } from '../../media/rtcp/sender-report.ts';
import { parseRtp, rewriteRtp, type RtpPacket } from '../../media/rtp/packet.ts';
import { isForwardableVideo } from '../../media/video/keyframe.ts';
import { Publisher } from './publisher.ts';
import { VideoOut } from './video-out.ts';

export interface VideoRouterStats {
  readonly publishers: ReadonlyArray<{
    readonly participantId: string;
    readonly ssrc: number | undefined;
    readonly cameraOn: boolean;
    readonly keyframesSeen: number;
    readonly pliSent: number;
    readonly firSent: number;
    readonly nackHits: number;
    readonly nacksForwarded: number;
  }>;
  readonly outs: ReadonlyArray<{
    readonly endpointId: string;
    readonly participantId: string;
    readonly showing: string | undefined;
    readonly wanted: string | undefined;
    readonly switches: number;
  }>;
}

export class VideoRouter {
  private readonly publishers = new Map<string, Publisher>();
  private readonly pubByEndpoint = new Map<string, Publisher>();
  private readonly outs = new Map<string, VideoOut>();
  private readonly cameraWasOn = new Map<Publisher, boolean>();
  private readonly receivingWas = new Map<VideoOut, boolean>();
  private activeSpeaker: string | undefined;
  /** Participants who spoke, most recent first. */
  private speakers: string[] = [];
  private membershipDirty = false;
  private readonly log: Logger;

  constructor(readonly meetingId: string, private readonly clock: Clock, logger: Logger) {
    this.log = logger.child({ component: 'video-router', meeting: meetingId });
  }

  // ── control (focus commands) ─────────────────────────────────────────────────────────────────────────────────

  addEndpoint(ep: Endpoint): void {
    const role = ep.videoRole ?? 'main';
    if (role === 'main') {
      this.publishers.get(ep.participantId)?.close();
      const pub = new Publisher(ep.participantId, ep, this.clock);
      this.publishers.set(ep.participantId, pub);
      this.pubByEndpoint.set(ep.id, pub);
      this.outs.set(ep.id, new VideoOut(ep, { kind: 'speaker' }));
    } else {
      this.outs.set(ep.id, new VideoOut(ep, { kind: 'fixed', publisher: role.subscribeTo }));
    }
    this.update();
  }

  /** setRemote / setDirection happened on `ep`. */
  endpointChanged(ep: Endpoint): void {
    this.pubByEndpoint.get(ep.id)?.refreshCodecs();
    this.update();
  }

  removeEndpoint(ep: Endpoint): void {
    const pub = this.pubByEndpoint.get(ep.id);
    if (pub) {
      pub.close();
      this.pubByEndpoint.delete(ep.id);
      this.cameraWasOn.delete(pub);
      if (this.publishers.get(pub.participantId) === pub) this.publishers.delete(pub.participantId);
      for (const out of this.outs.values()) if (out.rewriter.currentSource === pub.participantId) out.rewriter.detach();
    }
    const out = this.outs.get(ep.id);
    if (out) {
      this.outs.delete(ep.id);
      this.receivingWas.delete(out);
    }
    this.update();
  }

  /** The audio pipeline's loudest talker changed (undefined: nobody talks). */
  setActiveSpeaker(participantId: string | undefined): void {
    if (participantId === this.activeSpeaker) return;
    this.activeSpeaker = participantId;
    if (participantId !== undefined) this.speakers = [participantId, ...this.speakers.filter((p) => p !== participantId)].slice(0, 16);
    this.update();
  }

  /** Recompute what every leg shows and ask for the keyframes that requires. */
  private update(): void {
    // Cameras that went off: their video is removed for everyone (the rewriters resume at a keyframe later).
    for (const pub of this.publishers.values()) {
      const on = pub.cameraOn;
      if (this.cameraWasOn.get(pub) === true && !on) {
        for (const out of this.outs.values()) if (out.rewriter.currentSource === pub.participantId) out.rewriter.detach();
        this.log.debug({ participant: pub.participantId }, 'camera off');
      }
      this.cameraWasOn.set(pub, on);
    }
    for (const out of this.outs.values()) {
      const receiving = out.endpoint.participantReceives;
      if (this.receivingWas.get(out) === true && !receiving) out.rewriter.detach();
      this.receivingWas.set(out, receiving);
      const target = this.targetFor(out);
      if (target !== out.rewriter.wanted) {
        this.log.debug({ endpoint: out.endpoint.id, from: out.rewriter.wanted, to: target }, 'video source');
        out.rewriter.want(target);
      }
    }
    this.rebuildMembership();
    for (const out of this.outs.values()) {
      if (!out.endpoint.participantReceives || !out.rewriter.waitingForKeyframe) continue;
      const pub = this.publishers.get(out.rewriter.wanted!);
      if (pub?.cameraOn) pub.keyframes.request();
    }
  }

  private targetFor(out: VideoOut): string | undefined {
    if (out.mode.kind === 'fixed') return out.mode.publisher;
    const self = out.endpoint.participantId;
    for (const o of this.outs.values()) {
      if (o.mode.kind === 'fixed' && o.endpoint.participantId === self) return undefined; // not a phone
    }
    const usable = (p: string | undefined): p is string => p !== undefined && p !== self && this.publishers.get(p)?.cameraOn === true;
    if (usable(this.activeSpeaker)) return this.activeSpeaker;
    if (usable(out.rewriter.wanted)) return out.rewriter.wanted;
    for (const p of this.speakers) if (usable(p)) return p;
    for (const p of this.publishers.keys()) if (usable(p)) return p;
    return undefined;
  }

  private rebuildMembership(): void {
    this.membershipDirty = false;
    for (const pub of this.publishers.values()) pub.outs = [];
    for (const out of this.outs.values()) {
      const w = out.rewriter.wanted;
      const c = out.rewriter.currentSource;
      if (w !== undefined) this.publishers.get(w)?.outs.push(out);
      if (c !== undefined && c !== w) this.publishers.get(c)?.outs.push(out);
    }
  }

  // ── media (hot path) ─────────────────────────────────────────────────────────────────────────────────────────

  onRtp(ep: Endpoint, pkt: RtpPacket, nowMs: number): void {
    const pub = this.pubByEndpoint.get(ep.id);
    if (pub === undefined) {
      ep.dropped['not-published'] = (ep.dropped['not-published'] ?? 0) + 1; // RTP on a subscribe line
      return;
    }
    const name = pub.codecNameFor(pkt.payloadType);
    const detector = pub.detectorFor(pkt.payloadType);
    if (name === undefined || detector === undefined || !isForwardableVideo(name)) {
      ep.dropped['not-forwardable'] = (ep.dropped['not-forwardable'] ?? 0) + 1;
      return;
    }
    const buf = pkt.buffer;
    const key = detector(buf, pkt.payloadOffset, pkt.payloadLength);
    if (pub.ssrc !== pkt.ssrc) {
      pub.ssrc = pkt.ssrc;
      pub.keyframes.poke();
    }
    pub.cache.store(pkt.ssrc, pkt.sequenceNumber, buf);
    if (key) {
      pub.keyframesSeen++;
      pub.keyframes.keyframeArrived();
    }
    const outs = pub.outs;
    const last = outs.length - 1;
    for (let i = 0; i <= last; i++) this.forwardTo(outs[i]!, pub, pkt, name, key, nowMs, i === last);
    if (this.membershipDirty) this.rebuildMembership();
  }

  private forwardTo(out: VideoOut, pub: Publisher, pkt: RtpPacket, name: string, key: boolean, nowMs: number, inPlace: boolean): void {
    const oep = out.endpoint;
    if (!oep.participantReceives) return;
    const pt = out.payloadTypeFor(name);
    if (pt === undefined) {
      out.codecMismatch++;
      oep.dropped['no-common-codec'] = (oep.dropped['no-common-codec'] ?? 0) + 1;
      return;
    }
    const rw = out.rewriter;
    const verdict = rw.rewrite(pub.participantId, pkt.ssrc, pkt.sequenceNumber, pkt.timestamp, key, nowMs);
    if (verdict === 'drop') return;
    if (verdict === 'need-keyframe') {
      pub.keyframes.request();
      return;
    }
    if (rw.switched) this.membershipDirty = true;
    // The last receiver gets the received buffer itself (it is ours: dgram hands each datagram a fresh Buffer, and
    // the cache holds its own copy); the others get copies.
    const src = pkt.buffer;
    const out_ = inPlace ? src : Buffer.from(src);
    rewriteRtp(out_, oep.localSsrc, rw.outSeq, rw.outTs, pt);
    oep.sendRtp(out_, pkt.payloadLength, rw.outTs, nowMs);
  }

  // ── RTCP ─────────────────────────────────────────────────────────────────────────────────────────────────────

  onRtcp(ep: Endpoint, rtcp: RtcpParseResult): void {
    for (const p of rtcp.packets) {
      switch (p.type) {
        case 'sr': {
          const pub = this.pubByEndpoint.get(ep.id);
          if (pub !== undefined && p.ssrc === pub.ssrc) this.forwardSr(pub, p);
          break;
        }
        case 'pli':
          // RFC 4585 §6.3.1: the receiver lost the picture of OUR stream on its leg → ask the publisher it shows.
          if (p.mediaSsrc === ep.localSsrc) this.receiverWantsKeyframe(ep);
          break;
        case 'fir':
          if (p.entries.some((e) => e.ssrc === ep.localSsrc)) this.receiverWantsKeyframe(ep);
          break;
        case 'nack':
          if (p.mediaSsrc === ep.localSsrc) this.onNack(ep, p);
          break;
        default:
          break;
      }
    }
  }

  private receiverWantsKeyframe(ep: Endpoint): void {
    const out = this.outs.get(ep.id);
    const source = out?.rewriter.currentSource ?? out?.rewriter.wanted;
    if (source === undefined) return;
    this.publishers.get(source)?.keyframes.request();
  }

  /**
   * RFC 4585 §6.2.1 Generic NACK from a receiver: each lost output sequence number is mapped back to its source
   * packet; a cached one is resent rewritten exactly as it was first sent, the rest are NACKed upstream.
   */
  private onNack(ep: Endpoint, nack: GenericNack): void {
    const out = this.outs.get(ep.id);
    if (out === undefined || !ep.participantReceives) return;
    const misses = new Map<Publisher, { ssrc: number; seqs: number[] }>();
    for (const outSeq of nack.lost) {
      const pos = out.rewriter.toSource(outSeq);
      if (pos === undefined) continue;
      const pub = this.publishers.get(pos.sourceId);
      if (pub === undefined) continue;
      const cached = pub.cache.get(pos.ssrc, pos.seq);
      const parsed = cached ? parseRtp(cached) : undefined;
      const name = parsed?.ok ? pub.codecNameFor(parsed.packet.payloadType) : undefined;
      const pt = name === undefined ? undefined : out.payloadTypeFor(name);
      if (cached && parsed?.ok && pt !== undefined) {
        rewriteRtp(cached, ep.localSsrc, outSeq, (parsed.packet.timestamp + pos.tsOffset) >>> 0, pt);
        ep.resendRtp(cached);
        continue;
      }
      let m = misses.get(pub);
      if (!m) misses.set(pub, (m = { ssrc: pos.ssrc, seqs: [] }));
      m.seqs.push(pos.seq);
    }
    for (const [pub, m] of misses) pub.forwardNack(m.ssrc, m.seqs);
  }

  /** RFC 3550 §7.2: forward the publisher's SR to each leg showing it, SSRC and RTP timestamp translated. */
  private forwardSr(pub: Publisher, sr: SenderReport): void {
    for (const out of pub.outs) {
      const oep = out.endpoint;
      if (!oep.participantReceives) continue;
      const ts = out.rewriter.translateTimestamp(pub.participantId, sr.ssrc, sr.rtpTimestamp);
      if (ts === undefined) continue;
      // Counts are this leg's (what the receiver can check its loss against), not the publisher's.
      const fwd = writeSenderReport({
        ssrc: oep.localSsrc,
        ntpSeconds: sr.ntpSeconds,
        ntpFraction: sr.ntpFraction,
        rtpTimestamp: ts,
        packetCount: oep.outbound.packets,
        octetCount: oep.outbound.octets,
        reports: [],
      });
      oep.sendRtcp(Buffer.concat([fwd, writeSdes([{ ssrc: oep.localSsrc, cname: oep.cname }])]));
    }
  }

  stats(): VideoRouterStats {
    return {
      publishers: [...this.publishers.values()].map((p) => ({
        participantId: p.participantId,
        ssrc: p.ssrc,
        cameraOn: p.cameraOn,
        keyframesSeen: p.keyframesSeen,
        pliSent: p.pliSent,
        firSent: p.firSent,
        nackHits: p.cache.hits,
        nacksForwarded: p.nacksForwarded,
      })),
      outs: [...this.outs.values()].map((o) => ({
        endpointId: o.endpoint.id,
        participantId: o.endpoint.participantId,
        showing: o.rewriter.currentSource,
        wanted: o.rewriter.wanted,
        switches: o.rewriter.switches,
      })),
    };
  }

  close(): void {
    for (const pub of this.publishers.values()) pub.close();
    this.publishers.clear();
    this.pubByEndpoint.clear();
    this.outs.clear();
  }
}
