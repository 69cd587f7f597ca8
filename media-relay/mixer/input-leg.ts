/**
 * One participant's audio INTO the mix: RTP → jitter buffer → decode (or conceal) → resample to the 48 kHz bus →
 * exactly one 20 ms frame per tick, plus its level and talker state. DTMF (RFC 4733) is taken out before the
 * jitter buffer and never reaches the bus.
 */
import type { CodecSpec } from '../api.ts';
import type { AudioLegConfig, RtpIn } from '../audio/types.ts';
import type { AudioCodec } from '../../media/codec/types.ts';
import { createCodec } from '../../media/codec/create-codec.ts';
import { Resampler } from '../../media/audio/resample.ts';
import { JitterBuffer } from '../../media/jitter/jitter-buffer.ts';
import { pcmRms as rms, rmsOfDbov } from '../../media/rtp/audio-level.ts';
import { opusVoiceActivity } from '../../media/codec/opus-vad.ts';
import { DtmfReceiver } from './dtmf.ts';
import { TALK_START_LEVEL, TalkDetector } from './talk-detector.ts';

export const BUS_RATE = 48000;
export const BUS_FRAME = 960; // 20 ms at 48 kHz

/**
 * The mixer's jitter buffers: the 20 ms tick pops each input at its own phase, so a packet already waits 0–20 ms
 * (10 on average) for its tick on top of the buffer's target. Target = one frame less 10 ms of slack + 3 × the
 * RFC 3550 A.8 jitter (≈ 10 ms on a calm line, never under 10), and a buffer holding over a frame more than that
 * (a start on an early packet, a jitter spike gone) shrinks at once (jitter-buffer.ts, shrink 'wait').
 */
const JITTER = { minDelayMs: 10, slackMs: 10, shrink: 'wait' } as const;

interface Decoder {
  readonly spec: CodecSpec;
  readonly codec: AudioCodec;
  readonly toBus: Resampler | undefined;
}

export interface InputLegCounters {
  concealed: number;
  /** Packets not decoded because their RFC 6464 level said the (silent) leg stayed quiet. */
  decodesSkipped: number;
  /** Packets without a level not decoded because their Opus SILK VAD flag said "no activity" (opus-vad.ts). */
  vadSkipped: number;
  /** Packets (and concealments) decoded. */
  decoded: number;
  decodeErrors: number;
  unknownPayloadType: number;
  notSending: number;
}

export class InputLeg {
  private config: AudioLegConfig;
  private readonly decoders = new Map<number, Decoder>();
  private jitter: JitterBuffer | undefined;
  private jitterClock = 0;
  private lastDecoder: Decoder | undefined;
  private readonly dtmf = new DtmfReceiver();
  private readonly talk = new TalkDetector();
  /** Decoded bus-rate samples not yet mixed (a 30 ms packet leaves 10 ms for the next tick). */
  private fifo = new Int16Array(BUS_FRAME * 8);
  private fifoLen = 0;
  private readonly frame = new Int16Array(BUS_FRAME);
  readonly counters: InputLegCounters = { concealed: 0, decodesSkipped: 0, vadSkipped: 0, decoded: 0, decodeErrors: 0, unknownPayloadType: 0, notSending: 0 };
  /** The last packet skipped (RFC 6464 level or Opus VAD), decoded first when the leg is decoded again: see skipQuiet(). */
  private primer: RtpIn | undefined;
  /** Bus samples the last decoded packet gave: quiet packets are skipped only for one-frame (20 ms) packets. */
  private lastBusSamples = 0;
  /** RMS of the last frame, 0…1. */
  level = 0;

  constructor(
    config: AudioLegConfig,
    /** Skip quiet Opus packets by their SILK VAD flag when they carry no RFC 6464 level (see skipQuiet). */
    private readonly opusVad = true,
  ) {
    this.config = config;
  }

  get id(): string {
    return this.config.participantId;
  }

  get talking(): boolean {
    return this.talk.isTalking;
  }

  update(config: AudioLegConfig): void {
    if (!config.sending) this.stopInput();
    // Drop decoders whose payload type is no longer negotiated (or now means something else).
    for (const [pt, d] of this.decoders) {
      const spec = config.codecs.find((c) => c.payloadType === pt);
      if (!spec || spec.name.toLowerCase() !== d.spec.name.toLowerCase() || spec.clockRate !== d.spec.clockRate) {
        d.toBus?.destroy();
        this.decoders.delete(pt);
        if (this.lastDecoder === d) this.lastDecoder = undefined;
      }
    }
    this.config = config;
  }

  /** A received packet. Returns DTMF digits it completed. Never throws on bad payloads. */
  push(pkt: RtpIn, nowMs: number): string[] {
    // RFC 4733: telephone-event is signalling, not audio — never mixed.
    if (this.config.telephoneEventPt !== undefined && pkt.payloadType === this.config.telephoneEventPt) {
      return this.dtmf.push(pkt.payload, pkt.timestamp);
    }
    if (!this.config.sending) {
      this.counters.notSending++;
      return [];
    }
    const dec = this.decoderFor(pkt.payloadType);
    if (!dec) {
      this.counters.unknownPayloadType++;
      return [];
    }
    if (!this.jitter || this.jitterClock !== dec.spec.clockRate) {
      // First packet, or the sender switched to a codec with another RTP clock: a new timeline.
      this.jitter = new JitterBuffer({ clockRate: dec.spec.clockRate, ...JITTER });
      this.jitterClock = dec.spec.clockRate;
    }
    this.jitter.push(pkt, nowMs);
    return [];
  }

  /**
   * This tick's 20 ms on the bus, or undefined when the leg contributes nothing (not sending, not started, talk
   * spurt over). Also updates `level` and the talker state.
   */
  pull(nowMs: number): Int16Array | undefined {
    if (!this.config.sending || !this.jitter) {
      this.level = 0;
      this.talk.silence();
      return undefined;
    }
    while (this.fifoLen < BUS_FRAME) {
      const got = this.jitter.pop(nowMs);
      if (got === 'empty') break;
      if (this.skipQuiet(got)) return undefined;
      let pcm: Int16Array | null;
      let dec: Decoder | undefined;
      if (got === 'missing') {
        dec = this.lastDecoder;
        pcm = dec ? conceal(dec) : null;
        this.counters.concealed++;
      } else {
        dec = this.decoderFor(got.payloadType);
        if (dec && this.primer) this.prime(dec);
        pcm = dec ? decode(dec, got.payload) : null;
        if (dec && pcm === null) {
          // Untrusted payload that does not decode: conceal in its place, count it.
          this.counters.decodeErrors++;
          this.counters.concealed++;
          pcm = conceal(dec);
        }
        if (dec) this.lastDecoder = dec;
      }
      if (!dec || !pcm) break;
      this.counters.decoded++;
      const bus = dec.toBus ? dec.toBus.process(pcm) : pcm;
      this.lastBusSamples = bus.length;
      if (this.fifoLen === 0 && bus.length === BUS_FRAME) {
        // The usual case (a 20 ms packet, nothing left over): the decoder's own fresh buffer is this tick's frame.
        this.level = rms(bus);
        this.talk.update(this.level);
        return bus;
      }
      this.append(bus);
    }
    if (this.fifoLen === 0) {
      this.level = 0;
      this.talk.update(0);
      return undefined;
    }
    const n = Math.min(this.fifoLen, BUS_FRAME);
    this.frame.set(this.fifo.subarray(0, n));
    this.frame.fill(0, n);
    this.fifo.copyWithin(0, n, this.fifoLen);
    this.fifoLen -= n;
    this.level = rms(this.frame);
    this.talk.update(this.level);
    return this.frame;
  }

  /**
   * RFC 6464 §1: "a mixer can ... select the audio streams to mix ... without decoding". A packet whose client-to-
   * mixer level is under the talk threshold, from a leg that is not talking (its hangover over), is not decoded: it
   * could not start a talk spurt (TalkDetector needs ≥ TALK_START_LEVEL) and a non-talker is never mixed, so the
   * listeners hear exactly what they would have. The level still feeds the talker state and stats. A gap in such a
   * run is not concealed either. Only for one-frame packets (a 40 ms packet's second half would be lost), and not
   * while decoded samples wait in the FIFO. When the leg is decoded again, the last skipped packet is decoded
   * first (output discarded) so the codec's state — Opus's overlap and LPC history, G.722's ADPCM predictors —
   * continues from the packet just before, not from the start of the quiet run: the first loud frame is clean.
   * A client that marks speech as quiet is not heard (its own choice; RFC 6464 §5 leaves the level to the sender).
   * The V bit (§3, vad=on) is not used: the level alone decides, against the same threshold the mixer applies.
   *
   * Without a level, an Opus packet the sender's encoder flagged as inactive (the SILK layer's VAD flag, RFC 6716
   * §4.2.3, read without decoding: media/codec/opus-vad.ts) is skipped the same way — what desk phones that send no
   * levels (Linphone, baresip) get. CELT-only packets carry no flag and are decoded.
   * Deviation: such a skipped packet is not checked against the talk threshold (its level is unknown): a
   * non-talking leg whose encoder says "no voice" is not mixed even when it is loud — a steady fan or hum, which
   * the energy detector alone would mix until its noise floor caught up. The sender's VAD, which tracks the noise
   * floor per band, is trusted to tell noise from speech; speech it flags as active is decoded from that packet on.
   */
  private skipQuiet(got: RtpIn | 'missing'): boolean {
    if (this.talk.isTalking || this.fifoLen > 0 || this.lastBusSamples !== BUS_FRAME) return false;
    if (got === 'missing') {
      if (this.primer === undefined) return false; // not in a quiet run: conceal as usual
      this.talk.update(this.level);
      return true;
    }
    const level = got.audioLevel;
    let rms = 0;
    if (level !== undefined) {
      rms = rmsOfDbov(level);
      if (rms >= TALK_START_LEVEL) return false;
      this.counters.decodesSkipped++;
    } else {
      if (!this.opusVad || this.decoderFor(got.payloadType)?.codec.name !== 'opus' || opusVoiceActivity(got.payload) !== false) return false;
      this.counters.vadSkipped++; // level unknown: counted as silence for the talker state and stats
    }
    this.primer = got;
    this.level = rms;
    this.talk.update(rms);
    return true;
  }

  /** Decode the last skipped packet into `dec` and drop the result: the codec state catches up (see skipQuiet). */
  private prime(dec: Decoder): void {
    const primer = this.primer!;
    this.primer = undefined;
    if (primer.payloadType !== dec.spec.payloadType) return;
    const pcm = decode(dec, primer.payload);
    if (pcm && dec.toBus) dec.toBus.process(pcm);
  }

  /** Jitter buffer depth, late packets (for stats). */
  jitterStats(): { bufferMs: number; late: number } {
    const s = this.jitter?.stats();
    return { bufferMs: s?.depthMs ?? 0, late: s?.late ?? 0 };
  }

  destroy(): void {
    for (const d of this.decoders.values()) d.toBus?.destroy();
    this.decoders.clear();
  }

  private stopInput(): void {
    this.jitter = undefined;
    this.primer = undefined;
    this.fifoLen = 0;
    this.level = 0;
    this.talk.silence();
  }

  private decoderFor(pt: number): Decoder | undefined {
    let d = this.decoders.get(pt);
    if (d) return d;
    const spec = this.config.codecs.find((c) => c.payloadType === pt);
    const codec = spec && createCodec(spec);
    if (!spec || !codec) return undefined;
    d = { spec, codec, toBus: codec.sampleRate === BUS_RATE ? undefined : new Resampler(codec.sampleRate, BUS_RATE) };
    this.decoders.set(pt, d);
    return d;
  }

  private append(pcm: Int16Array): void {
    if (this.fifoLen + pcm.length > this.fifo.length) {
      const bigger = new Int16Array(Math.max(this.fifo.length * 2, this.fifoLen + pcm.length));
      bigger.set(this.fifo.subarray(0, this.fifoLen));
      this.fifo = bigger;
    }
    this.fifo.set(pcm, this.fifoLen);
    this.fifoLen += pcm.length;
  }
}

// Native Opus decodes write a process-wide buffer: the mixer calls pull() holding the decode lock
// (media/codec/codec-lock.ts).
function decode(dec: Decoder, payload: Uint8Array): Int16Array | null {
  return dec.codec.decode(payload);
}

function conceal(dec: Decoder): Int16Array {
  return dec.codec.conceal();
}
