/**
 * The client's audio line: one RTP session (RFC 3550) with the focus on a UDP port pair.
 *
 *   source ─(20 ms tick)─▶ encode ─▶ RTP ──────────────────────────────▶ focus
 *   focus ─▶ RTP ─▶ JitterBuffer ─(20 ms tick: pop)─▶ decode | conceal | silence ─▶ 48 kHz ─▶ recorder, level
 *
 * One drift-free 20 ms Ticker (media/clock/ticker.ts) drives both directions. Every tick writes exactly
 * one 20 ms frame to the recording — decoded audio, concealment when a packet is missing or merely late (the
 * jitter buffer stretches rather than skip), silence when nothing is playing — so the recording is continuous.
 *
 * RTCP (RFC 3550 §6): the shared RtcpSession (media/rtcp/session.ts) sends SR (we send) or RR (mic off) with
 * report blocks on the §6.3 schedule, reads the focus's reports (its loss of our stream, round-trip time), and a BYE
 * (§6.6) when we leave. Codec, jitter buffer, RTP packet and RTCP code are the shared media stages in media/, the
 * same the media relay runs (see docs/architecture.md).
 */
import type { Logger } from '../../registrar/log.ts';
import type { Clock } from '../../registrar/sip/clock.ts';
import type { AcceptedMedia, NegotiatedCodec } from '../../sdp/index.ts';
import type { CodecSpec } from '../../media/types.ts';
import { Ticker } from '../../media/clock/ticker.ts';
import { Resampler } from '../../media/audio/resample.ts';
import { createCodec } from '../../media/codec/create-codec.ts';
import type { AudioCodec } from '../../media/codec/types.ts';
import { JitterBuffer } from '../../media/jitter/jitter-buffer.ts';
import { isRtcp } from '../../media/rtcp/header.ts';
import { writeBye } from '../../media/rtcp/bye.ts';
import { parseRtcp } from '../../media/rtcp/packet.ts';
import { RtcpSession } from '../../media/rtcp/session.ts';
import { OutboundStream, randomSsrc } from '../../media/rtp/outbound.ts';
import { pcmAudioLevel } from '../../media/rtp/audio-level.ts';
import { buildRtp, parseRtp } from '../../media/rtp/packet.ts';
import type { AudioSource } from './audio-source.ts';
import type { UdpPair } from './udp-pair.ts';
import { levelExtension } from './level-extension.ts';
import { rtcpForLine } from './rtcp-link.ts';

/** The recording's rate: every codec's audio is brought to 48 kHz (Opus's own rate). */
export const OUTPUT_RATE = 48000;
const FRAME_MS = 20;
const OUTPUT_FRAME = (OUTPUT_RATE * FRAME_MS) / 1000;

/** Where the received mix goes (a WAV writer, or nothing). */
export interface AudioSink {
  write(samples: Int16Array): void;
  close(): void;
}

export interface AudioStreamOptions {
  readonly pair: UdpPair;
  readonly source: AudioSource;
  readonly sink?: AudioSink;
  readonly clock: Clock;
  readonly logger: Logger;
  /** RFC 3550 §6.5.1 CNAME: "user@host". */
  readonly cname: string;
}

export interface AudioStats {
  /** Codec we send and expect, e.g. "opus/48000". */
  readonly codec: string | undefined;
  readonly sending: boolean;
  readonly receiving: boolean;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  /** RFC 3550 §6.4.1 cumulative lost, of what the focus sent us. */
  readonly packetsLost: number;
  /** What the focus reported losing of our stream (fraction 0..1), when it reported. */
  readonly remoteFractionLost: number | undefined;
  readonly jitterMs: number;
  readonly rttMs: number | undefined;
  /** Received (played-out) level over the last second, dBFS (-∞ → -120). */
  readonly levelDb: number;
  /** Frames concealed (missing or late packets). */
  readonly concealed: number;
  /** Frames of the recording written so far. */
  readonly framesPlayed: number;
}

interface Decoder {
  readonly codec: AudioCodec;
  readonly clockRate: number;
  readonly spec: NegotiatedCodec;
}

function toCodecSpec(c: NegotiatedCodec, fmtp: string | undefined): CodecSpec {
  return {
    payloadType: c.pt,
    name: c.encoding.toLowerCase(),
    clockRate: c.clockRate,
    ...(c.channels === undefined ? {} : { channels: c.channels }),
    ...(fmtp === undefined ? {} : { fmtp }),
  };
}

export class AudioStream {
  readonly ssrc: number;
  private readonly ticker: Ticker;
  private readonly outbound: OutboundStream;
  private rtcp: RtcpSession | undefined;
  private media: AcceptedMedia | undefined;
  private encoder: AudioCodec | undefined;
  private encoderPt = -1;
  private decoders = new Map<number, Decoder>();
  private lastDecoder: Decoder | undefined;
  private readonly jitter: JitterBuffer;
  private jitterClock = 8000;
  private readonly resamplers = new Map<number, Resampler>();
  private micOn = true;
  private firstPacket = true;
  private closed = false;
  private packetsSent = 0;
  private packetsReceived = 0;
  private concealed = 0;
  private framesPlayed = 0;
  private dropped = 0;
  private energy: number[] = [];
  private readonly log: Logger;

  constructor(private readonly o: AudioStreamOptions) {
    this.log = o.logger.child({ component: 'audio' });
    this.ssrc = randomSsrc();
    this.outbound = new OutboundStream(this.ssrc, 8000);
    this.jitter = new JitterBuffer({ clockRate: this.jitterClock, minDelayMs: 40, maxDelayMs: 200 });
    this.ticker = new Ticker(o.clock, FRAME_MS, () => this.tick());
    o.pair.rtp.on('message', (buf) => this.onRtp(buf));
    o.pair.rtcp.on('message', (buf) => this.onRtcpPacket(buf));
  }

  get localPort(): number {
    return this.o.pair.rtpPort;
  }

  /** Apply a negotiated audio line (RFC 3264 outcome): codec, remote address, direction. Starts the tick. */
  configure(media: AcceptedMedia): void {
    if (this.closed) return;
    const prev = this.media;
    this.media = media;
    if (media.codec.pt !== this.encoderPt) {
      // Encode as the focus asked to receive it (its a=fmtp for the codec, RFC 7587 §7).
      this.encoder = createCodec(toCodecSpec(media.codec, media.codec.remoteFmtp));
      this.encoderPt = media.codec.pt;
      this.outbound.clockRate = media.codec.clockRate;
      this.firstPacket = true;
      if (!this.encoder) this.log.warn({ codec: media.codec.encoding }, 'no encoder for the negotiated codec: sending nothing');
    }
    const decoders = new Map<number, Decoder>();
    for (const c of media.codecs) {
      const existing = this.decoders.get(c.pt);
      if (existing && existing.spec.encoding === c.encoding) {
        decoders.set(c.pt, existing);
        continue;
      }
      const codec = createCodec(toCodecSpec(c, c.localFmtp));
      if (codec) decoders.set(c.pt, { codec, clockRate: c.clockRate, spec: c });
    }
    this.decoders = decoders;
    this.rtcp = rtcpForLine(this.rtcp, prev, media, { clock: this.o.clock, ssrc: this.ssrc, cname: this.o.cname, outbound: this.outbound, pair: this.o.pair, sessionBandwidthBps: 64_000 });
    this.ticker.begin();
  }

  /** Microphone on/off (the SDP direction is renegotiated by the caller; this stops or resumes sending now). */
  setMic(on: boolean): void {
    if (on && !this.micOn) this.firstPacket = true;
    this.micOn = on;
  }

  get mic(): boolean {
    return this.micOn;
  }

  private get sending(): boolean {
    const d = this.media?.direction;
    return this.micOn && (d === 'sendrecv' || d === 'sendonly');
  }

  private get receiving(): boolean {
    const d = this.media?.direction;
    return d === 'sendrecv' || d === 'recvonly';
  }

  private tick(): void {
    if (this.closed || !this.media) return;
    const now = this.o.clock.now();
    if (this.sending && this.encoder) this.sendFrame(now);
    this.playFrame(now);
  }

  private sendFrame(now: number): void {
    const enc = this.encoder!;
    const media = this.media!;
    const pcm = this.o.source.next(enc.frameSamples, enc.sampleRate);
    // RFC 6464 §3: the level of the audio in this packet, measured on what is encoded, when the exchange agreed it.
    const levelId = media.sendAudioLevelExtId;
    const extension = levelId === undefined ? undefined : levelExtension(levelId, pcmAudioLevel(pcm));
    const payload = enc.encode(pcm);
    const { seq, timestamp } = this.outbound.takeFrame(enc.rtpFrameSamples);
    // RFC 3551 §4.1: "the marker bit ... set to one in the first packet of a talkspurt".
    const pkt = buildRtp({ payloadType: media.codec.pt, sequenceNumber: seq, timestamp, ssrc: this.ssrc, marker: this.firstPacket, ...(extension ? { extension } : {}) }, payload);
    this.firstPacket = false;
    this.o.pair.rtp.send(pkt, media.remoteRtp.port, media.remoteRtp.address);
    this.outbound.sent(payload.length, timestamp, now);
    this.packetsSent++;
  }

  private playFrame(now: number): void {
    let out: Int16Array;
    const popped = this.jitter.pop(now);
    if (popped === 'empty') {
      out = new Int16Array(OUTPUT_FRAME);
    } else if (popped === 'missing') {
      this.concealed++;
      out = this.lastDecoder ? this.to48k(this.lastDecoder.codec.sampleRate, this.lastDecoder.codec.conceal()) : new Int16Array(OUTPUT_FRAME);
    } else {
      const d = this.decoders.get(popped.payloadType);
      const pcm = d?.codec.decode(popped.payload) ?? null;
      if (d && pcm) {
        this.lastDecoder = d;
        out = this.to48k(d.codec.sampleRate, pcm);
      } else {
        this.concealed++;
        out = this.lastDecoder ? this.to48k(this.lastDecoder.codec.sampleRate, this.lastDecoder.codec.conceal()) : new Int16Array(OUTPUT_FRAME);
      }
    }
    this.meter(out);
    this.framesPlayed++;
    this.o.sink?.write(out);
  }

  private to48k(rate: number, pcm: Int16Array): Int16Array {
    if (rate === OUTPUT_RATE) return pcm;
    let r = this.resamplers.get(rate);
    if (!r) {
      r = new Resampler(rate, OUTPUT_RATE);
      this.resamplers.set(rate, r);
    }
    return r.process(pcm);
  }

  private meter(frame: Int16Array): void {
    let sum = 0;
    for (let i = 0; i < frame.length; i++) sum += frame[i]! * frame[i]!;
    this.energy.push(frame.length ? sum / frame.length : 0);
    if (this.energy.length > 1000 / FRAME_MS) this.energy.shift();
  }

  private onRtp(buf: Buffer): void {
    if (this.closed) return;
    // RFC 5761 §4: with rtcp-mux, RTCP arrives on the RTP port (PT 200-204 range tells them apart).
    if (this.media?.rtcpMux && isRtcp(buf)) return this.onRtcpPacket(buf);
    const r = parseRtp(buf);
    if (!r.ok) {
      this.dropped++;
      this.log.debug({ reason: r.reason }, 'rtp dropped');
      return;
    }
    const p = r.packet;
    const d = this.decoders.get(p.payloadType);
    if (!d) {
      // telephone-event, comfort noise or a PT we did not negotiate: not played.
      this.dropped++;
      return;
    }
    if (!this.receiving) return;
    const now = this.o.clock.now();
    if (d.clockRate !== this.jitterClock) {
      this.jitterClock = d.clockRate;
      this.jitter.reset(d.clockRate);
    }
    this.packetsReceived++;
    this.rtcp?.onRtp(p.ssrc, p.sequenceNumber, p.timestamp, d.clockRate, now);
    this.jitter.push(p, now);
  }

  private onRtcpPacket(buf: Buffer): void {
    if (this.closed || !this.rtcp) return;
    const parsed = parseRtcp(buf);
    if (parsed.error) this.log.debug({ reason: parsed.error }, 'rtcp dropped');
    this.rtcp.onRtcp(parsed.packets, this.o.clock.now(), buf.length);
  }

  /** Send an RTCP report now, outside the §6.3 schedule (e.g. before reading the peer's view). */
  sendRtcpNow(): void {
    if (!this.closed) this.rtcp?.sendReport();
  }

  stats(): AudioStats {
    const meanSquare = this.energy.length ? this.energy.reduce((a, b) => a + b, 0) / this.energy.length : 0;
    const levelDb = meanSquare > 0 ? Math.max(-120, 10 * Math.log10(meanSquare / (32768 * 32768))) : -120;
    const c = this.media?.codec;
    return {
      codec: c ? `${c.encoding.toLowerCase()}/${c.clockRate}` : undefined,
      sending: this.sending,
      receiving: this.receiving,
      packetsSent: this.packetsSent,
      packetsReceived: this.packetsReceived,
      packetsLost: Math.max(0, this.rtcp?.packetsLost ?? 0),
      remoteFractionLost: this.rtcp?.remoteReception ? this.rtcp.remoteReception.fractionLost / 256 : undefined,
      jitterMs: this.rtcp?.jitterMs ?? 0,
      rttMs: this.rtcp?.rttMs,
      levelDb: Math.round(levelDb * 10) / 10,
      concealed: this.concealed,
      framesPlayed: this.framesPlayed,
    };
  }

  /** Stop sending, say RTCP BYE (RFC 3550 §6.6), close the recording and the sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    const media = this.media;
    if (media && this.rtcp) {
      try {
        const bye = Buffer.concat([this.rtcp.buildReport(), writeBye([this.ssrc], 'leaving')]);
        (media.rtcpMux ? this.o.pair.rtp : this.o.pair.rtcp).send(bye, media.remoteRtcp.port, media.remoteRtcp.address, () => this.o.pair.close());
      } catch {
        this.o.pair.close();
      }
    } else {
      this.o.pair.close();
    }
    this.closed = true;
    this.ticker.stop();
    this.rtcp?.stop();
    this.o.sink?.close();
    this.o.source.close();
    for (const r of this.resamplers.values()) r.destroy();
    this.resamplers.clear();
  }
}
