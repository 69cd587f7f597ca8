/**
 * The client's video line: one RTP session (RFC 3550) on its own UDP pair.
 *
 *   ffmpeg VP8 / H.264 RTP (loopback) ─▶ re-stamp SSRC/seq/ts/PT ─▶ focus      (camera on: sendrecv)
 *   focus ─▶ RTP ─▶ Vp8Depacketizer ─▶ IVF file `<dir>/<label>.ivf` (ffprobe reads it)
 *   focus ─▶ RTP ─▶ H264Depacketizer ─▶ Annex B file `<dir>/<label>.h264` (a line that accepts H.264, RFC 6184)
 *
 * The camera sends the negotiated codec (RFC 3264 §7: the offerer sends the answer's first format; §6.1: the
 * answerer the first of the offer's it accepts): VP8 (RFC 7741) or H.264 (RFC 6184 packetization-mode 1, the
 * negotiated profile and level). A re-negotiation to the other codec restarts ffmpeg with the other encoder; the
 * timestamps continue (RFC 3550 §5.1) and the new run starts with a key frame.
 *
 * Keyframes (RFC 4585 §6.3.1 PLI): asked for when the received stream starts without one or breaks (a loss), at most
 * once per PLI_INTERVAL_MS. RTCP SR/RR on the §6.3 schedule through the shared RtcpSession (media/rtcp/).
 *
 * The focus answers one video line ('main': the active speaker's camera, RFC 3550 §7.2 rewritten into one
 * stream), so there is one received stream per video line, named by its SDP a=label when the focus gives one,
 * else `main`.
 */
import { join } from 'node:path';
import type { Logger } from '../../registrar/log.ts';
import type { Clock } from '../../registrar/sip/clock.ts';
import type { AcceptedMedia, MediaDescription, NegotiatedCodec } from '../../sdp/index.ts';
import { writePli } from '../../media/rtcp/feedback.ts';
import { isRtcp } from '../../media/rtcp/header.ts';
import { parseRtcp } from '../../media/rtcp/packet.ts';
import { RtcpSession } from '../../media/rtcp/session.ts';
import { OutboundStream, randomSsrc } from '../../media/rtp/outbound.ts';
import { parseRtp, rewriteRtp, type RtpPacket } from '../../media/rtp/packet.ts';
import { type FfmpegVideoSource, sameEncoding, type VideoEncoding } from './ffmpeg-video-source.ts';
import { h264EncoderSettings } from './h264-codecs.ts';
import { IvfWriter } from './ivf-writer.ts';
import type { UdpPair } from './udp-pair.ts';
import { rtcpForLine } from './rtcp-link.ts';
import { Vp8Depacketizer } from './vp8-depacketizer.ts';
import { AnnexBWriter } from './annexb-writer.ts';
import { H264Depacketizer, parseSpropParameterSets } from './h264-depacketizer.ts';

const PLI_INTERVAL_MS = 1000;
const CLOCK_RATE = 90000;

/**
 * What ffmpeg must encode for the negotiated codec, or undefined when it cannot. H.264: RFC 6184 §8.2.2, the
 * configuration both sides agreed — the other side's fmtp (the answer's when we offered, the offer's when we
 * answered), whose level is what it decodes.
 */
export function encodingFor(codec: NegotiatedCodec): VideoEncoding | undefined {
  const encoding = codec.encoding.toUpperCase();
  if (encoding === 'VP8') return { codec: 'vp8' };
  if (encoding !== 'H264') return undefined;
  const h264 = h264EncoderSettings(codec.remoteFmtp ?? codec.localFmtp);
  return h264 ? { codec: 'h264', ...h264 } : undefined;
}

export interface VideoStreamOptions {
  readonly pair: UdpPair;
  /** The camera, or undefined for receive-only. */
  readonly source: FfmpegVideoSource | undefined;
  /** Where received streams are written (a directory), or undefined to discard. */
  readonly outDir: string | undefined;
  /** The file's name in `outDir` without `.ivf` / `.h264` (default: the line's a=label, else `main`). */
  readonly fileName?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly cname: string;
  /** The camera stopped by itself (ffmpeg died). */
  readonly onSourceError?: (why: string) => void;
}

export interface VideoStats {
  /** The line's a=label (a publisher's participant id), or `main`. */
  readonly label: string;
  readonly codec: string | undefined;
  readonly sending: boolean;
  readonly receiving: boolean;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly framesReceived: number;
  readonly keyframesReceived: number;
  readonly framesDropped: number;
  readonly pliSent: number;
  readonly keyframeRequests: number;
  /** The file received video goes to, once a key frame arrived. */
  readonly file: string | undefined;
}

export class VideoStream {
  readonly ssrc: number;
  private readonly outbound: OutboundStream;
  private rtcp: RtcpSession | undefined;
  private media: AcceptedMedia | undefined;
  private cameraOn: boolean;
  private closed = false;
  private readonly depack = new Vp8Depacketizer();
  private writer: IvfWriter | undefined;
  /** H.264 (RFC 6184) received on this line: created at its first packet, with the offer's sprop-parameter-sets. */
  private h264: H264Depacketizer | undefined;
  private h264Writer: AnnexBWriter | undefined;
  private remoteSsrc: number | undefined;
  private label = 'main';
  private lastPliAt = -Infinity;
  /** A negotiated codec the camera cannot encode (told once). */
  private unsendable: NegotiatedCodec | undefined;
  /** Per ffmpeg run: its first timestamp and where our timeline stood then. */
  private mapping: { run: number; firstTs: number; base: number } | undefined;
  private lastSent: { ts: number; at: number } | undefined;
  private counters = { packetsSent: 0, packetsReceived: 0, framesReceived: 0, keyframesReceived: 0, pliSent: 0, keyframeRequests: 0 };
  private readonly log: Logger;

  constructor(private readonly o: VideoStreamOptions) {
    this.log = o.logger.child({ component: 'video' });
    this.ssrc = randomSsrc();
    this.outbound = new OutboundStream(this.ssrc, CLOCK_RATE);
    this.cameraOn = o.source !== undefined;
    o.pair.rtp.on('message', (buf) => this.onRtp(buf));
    o.pair.rtcp.on('message', (buf) => this.onRtcpPacket(buf));
  }

  get localPort(): number {
    return this.o.pair.rtpPort;
  }

  get camera(): boolean {
    return this.cameraOn;
  }

  get hasCamera(): boolean {
    return this.o.source !== undefined;
  }

  private get sending(): boolean {
    const d = this.media?.direction;
    return this.cameraOn && (d === 'sendrecv' || d === 'sendonly');
  }

  /** Apply the negotiated video line; starts or stops the camera to match. */
  configure(media: AcceptedMedia, remote?: MediaDescription): void {
    if (this.closed) return;
    const prev = this.media;
    this.media = media;
    // RFC 4574 a=label names the stream (the focus labels per-participant lines); the main line is `main`.
    this.label = remote?.label ?? this.label;
    this.rtcp = rtcpForLine(this.rtcp, prev, media, { clock: this.o.clock, ssrc: this.ssrc, cname: this.o.cname, outbound: this.outbound, pair: this.o.pair, sessionBandwidthBps: 1_000_000 });
    this.syncCamera();
  }

  /** Camera on/off now (the caller renegotiates the direction). */
  setCamera(on: boolean): void {
    this.cameraOn = on && this.o.source !== undefined;
    this.syncCamera();
  }

  private syncCamera(): void {
    const src = this.o.source;
    if (!src || this.closed) return;
    const want = this.sending && this.media ? encodingFor(this.media.codec) : undefined;
    if (this.sending && this.media && !want && this.unsendable !== this.media.codec) {
      this.unsendable = this.media.codec;
      this.o.onSourceError?.(`the camera cannot send ${this.media.codec.encoding} ${this.media.codec.remoteFmtp ?? ''}`.trim());
    }
    if (src.running && !sameEncoding(src.encoding, want)) {
      if (want) this.log.info({ from: src.encoding?.codec, to: want.codec }, 'video codec changed: restarting the camera');
      src.stop();
    }
    if (want && !src.running) {
      src.start(want, (p, run) => this.forward(p, run), (why) => this.o.onSourceError?.(why)).catch((e: Error) => this.o.onSourceError?.(e.message));
    }
  }

  /** One packet from ffmpeg: our SSRC, our sequence, a timestamp continuing our timeline, the negotiated PT. */
  private forward(p: RtpPacket, run: number): void {
    const media = this.media;
    if (!media || !this.sending || this.closed || run !== this.o.source?.runs) return;
    const now = this.o.clock.now();
    if (!this.mapping || this.mapping.run !== run) {
      // A new ffmpeg run restarts its clock: continue ours from where it was, plus the time since (§5.1).
      const base = this.lastSent ? (this.lastSent.ts + Math.round(((now - this.lastSent.at) * CLOCK_RATE) / 1000) + 1) >>> 0 : this.outbound.nextTimestamp;
      this.mapping = { run, firstTs: p.timestamp, base };
    }
    const ts = (this.mapping.base + ((p.timestamp - this.mapping.firstTs) >>> 0)) >>> 0;
    const buf = Buffer.from(p.buffer);
    const seq = this.outbound.nextSeq;
    this.outbound.nextSeq = (seq + 1) & 0xffff;
    rewriteRtp(buf, this.ssrc, seq, ts, media.codec.pt);
    this.o.pair.rtp.send(buf, media.remoteRtp.port, media.remoteRtp.address);
    this.outbound.sent(p.payloadLength, ts, now);
    this.lastSent = { ts, at: now };
    this.counters.packetsSent++;
  }

  private onRtp(buf: Buffer): void {
    if (this.closed || !this.media) return;
    if (this.media.rtcpMux && isRtcp(buf)) return this.onRtcpPacket(buf);
    const r = parseRtp(buf);
    if (!r.ok) return;
    const p = r.packet;
    const codec = this.media.codecs.find((c) => c.pt === p.payloadType);
    const encoding = codec?.encoding.toUpperCase();
    if (!codec || (encoding !== 'VP8' && encoding !== 'H264')) return;
    const now = this.o.clock.now();
    this.counters.packetsReceived++;
    this.remoteSsrc = p.ssrc;
    this.rtcp?.onRtp(p.ssrc, p.sequenceNumber, p.timestamp, CLOCK_RATE, now);
    if (encoding === 'H264') return this.onH264(p, codec.remoteFmtp, now);
    const out = this.depack.push(p.sequenceNumber, p.timestamp, p.marker, p.payload);
    if (out.needKeyframe) this.requestKeyframe(now);
    const f = out.frame;
    if (!f) return;
    this.counters.framesReceived++;
    if (f.keyframe) this.counters.keyframesReceived++;
    if (this.o.outDir === undefined) return;
    if (!this.writer) {
      const name = this.o.fileName ?? this.label;
      this.writer = new IvfWriter(join(this.o.outDir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.ivf`), f.width ?? 0, f.height ?? 0);
    }
    this.writer.write(f.data, f.timestamp, f.width !== undefined && f.height !== undefined ? { width: f.width, height: f.height } : undefined);
  }

  /** RFC 6184: access units to `<name>.h264` (Annex B, which ffprobe reads as raw H.264). */
  private onH264(p: RtpPacket, fmtp: string | undefined, now: number): void {
    // RFC 6184 §8.1: sprop-parameter-sets in the offer's fmtp (the sender's) carry SPS/PPS out of band.
    this.h264 ??= new H264Depacketizer({ spropParameterSets: parseSpropParameterSets(fmtp) });
    const out = this.h264.push(p.sequenceNumber, p.timestamp, p.marker, p.payload);
    if (out.needKeyframe) this.requestKeyframe(now);
    for (const u of out.units) {
      this.counters.framesReceived++;
      if (u.keyframe) this.counters.keyframesReceived++;
      if (this.o.outDir === undefined) continue;
      this.h264Writer ??= new AnnexBWriter(join(this.o.outDir, `${(this.o.fileName ?? this.label).replace(/[^A-Za-z0-9._-]/g, '_')}.h264`));
      this.h264Writer.write(u.data);
    }
  }

  /** RFC 4585 §6.3.1 PLI in a compound packet (§3.1: after the RR/SR and SDES), throttled. */
  private requestKeyframe(now: number): void {
    const media = this.media;
    if (!media || !this.rtcp || this.remoteSsrc === undefined || now - this.lastPliAt < PLI_INTERVAL_MS) return;
    this.lastPliAt = now;
    const sock = media.rtcpMux ? this.o.pair.rtp : this.o.pair.rtcp;
    sock.send(Buffer.concat([this.rtcp.buildReport(), writePli(this.ssrc, this.remoteSsrc)]), media.remoteRtcp.port, media.remoteRtcp.address);
    this.counters.pliSent++;
    this.log.debug({ ssrc: this.remoteSsrc }, 'PLI sent');
  }

  private onRtcpPacket(buf: Buffer): void {
    if (this.closed || !this.rtcp) return;
    const parsed = parseRtcp(buf);
    for (const p of parsed.packets) {
      if ((p.type === 'pli' && p.mediaSsrc === this.ssrc) || (p.type === 'fir' && p.entries.some((e) => e.ssrc === this.ssrc))) {
        this.counters.keyframeRequests++; // see ffmpeg-video-source.ts: the GOP answers it
      }
    }
    this.rtcp.onRtcp(parsed.packets, this.o.clock.now(), buf.length);
  }

  stats(): VideoStats {
    const c = this.media?.codec;
    const d = this.media?.direction;
    return {
      label: this.label,
      codec: c ? `${c.encoding.toLowerCase()}/${c.clockRate}` : undefined,
      sending: this.sending,
      receiving: d === 'sendrecv' || d === 'recvonly',
      ...this.counters,
      framesDropped: this.depack.framesDropped + (this.h264?.framesDropped ?? 0),
      file: this.writer?.path ?? this.h264Writer?.path,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.o.source?.stop();
    this.rtcp?.stop();
    this.writer?.close();
    this.h264Writer?.close();
    this.o.pair.close();
  }
}
