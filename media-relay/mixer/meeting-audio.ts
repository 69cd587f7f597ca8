/**
 * The N−1 audio mixer of one meeting: a pure synchronous processor (contract: ../audio/types.ts).
 *
 * Every 20 ms tick:
 *   1. inputs   — each sending leg yields its next 20 ms on the 48 kHz bus (jitter buffer, decode, conceal,
 *                 resample: input-leg.ts); legs detected as TALKING are summed into the bus.
 *   2. outputs  — a talker hears bus − itself (its own N−1 mix and encode); every other receiving leg hears the
 *                 whole bus (it is not in it), so all of them with one codec share ONE limited mix and ONE encode
 *                 (Asterisk bridge_softmix). Encodes per tick = talkers + codecs in use, not participants.
 *   3. every receiving leg gets a frame every tick: comfort silence is encoded when nobody talks.
 *
 * Only talkers are mixed: a non-talker's background noise stays out of everyone's ear, and the shared mix is then
 * exactly N−1 for every non-talker. Muted legs (sending: false) are out of the bus but still receive.
 */
import type { Logger } from '../../registrar/log.ts';
import type { CodecSpec } from '../api.ts';
import type { AudioLegConfig, AudioOut, LegAudioStats, MeetingAudio, MeetingAudioStats, RtpIn } from '../audio/types.ts';
import { audioCodecName } from '../../media/codec/create-codec.ts';
import { ActiveSpeakerDetector } from './active-speaker.ts';
import { BUS_FRAME, InputLeg } from './input-leg.ts';
import { DECODE_LOCK, ENCODE_LOCK, withCodecLock } from '../../media/codec/codec-lock.ts';
import { softLimit } from './limiter.ts';
import { OutputStream, sharingKey } from './output-stream.ts';

export interface MeetingAudioOptions {
  readonly logger: Logger;
  /** The mix bus rate: 48000 (the only one supported). */
  readonly sampleRate: 48000;
  /**
   * Skip decoding quiet Opus packets by their SILK VAD flag when they carry no RFC 6464 level (input-leg.ts).
   * Default: on, unless the environment says SIPMEET_MIXER_OPUS_VAD=off (for A/B measurements).
   */
  readonly opusVad?: boolean;
}

interface Leg {
  config: AudioLegConfig;
  readonly input: InputLeg;
  /** The codec this listener is sent (the first negotiated audio codec), if any. */
  sendSpec: CodecSpec | undefined;
  /** Its own N−1 stream: used while it talks, kept across its pauses (freed with the leg or a codec change). */
  own: OutputStream | undefined;
  /** Has it been sent a frame since it started receiving (RFC 3551 §4.1 marker on the first)? */
  started: boolean;
  /** This tick's contribution to the bus (undefined: not talking). */
  onBus: Int16Array | undefined;
  /** Opus among its codecs (decoded or encoded natively: media/codec/codec-lock.ts). */
  opus: boolean;
}

export function createMeetingAudio(opts: MeetingAudioOptions): MeetingAudio {
  if (opts.sampleRate !== 48000) throw new TypeError(`unsupported mix rate ${opts.sampleRate} (48000 only)`);
  return new Mixer(opts.logger.child({ component: 'meeting-audio' }), opts.opusVad ?? process.env.SIPMEET_MIXER_OPUS_VAD !== 'off');
}

class Mixer implements MeetingAudio {
  private readonly legs = new Map<string, Leg>();
  private readonly shared = new Map<string, OutputStream>();
  private readonly speakers = new ActiveSpeakerDetector();
  private speaker: string | undefined;
  private readonly dtmf: Array<{ participantId: string; digit: string }> = [];
  private readonly bus = new Float32Array(BUS_FRAME);
  private readonly nMinus1 = new Float32Array(BUS_FRAME);
  private readonly limited = new Int16Array(BUS_FRAME);
  private readonly sharedLimited = new Int16Array(BUS_FRAME);
  private encodesLastTick = 0;
  private unknownLegPackets = 0;

  constructor(
    private readonly log: Logger,
    private readonly opusVad: boolean,
  ) {}

  addLeg(config: AudioLegConfig): void {
    if (this.legs.has(config.participantId)) throw new TypeError(`leg ${config.participantId} already added`);
    this.legs.set(config.participantId, {
      config,
      input: new InputLeg(config, this.opusVad),
      sendSpec: sendCodec(config),
      own: undefined,
      started: false,
      onBus: undefined,
      opus: negotiatesOpus(config),
    });
    this.log.debug({ participantId: config.participantId, send: sendCodec(config)?.name }, 'leg added');
  }

  updateLeg(config: AudioLegConfig): void {
    const leg = this.legs.get(config.participantId);
    if (!leg) throw new TypeError(`unknown leg ${config.participantId}`);
    const spec = sendCodec(config);
    if (!sameSpec(spec, leg.sendSpec)) {
      leg.own?.destroy();
      leg.own = undefined;
    }
    if (!leg.config.receiving && config.receiving) leg.started = false;
    leg.input.update(config);
    leg.config = config;
    leg.sendSpec = spec;
    leg.opus = negotiatesOpus(config);
  }

  removeLeg(participantId: string): void {
    const leg = this.legs.get(participantId);
    if (!leg) return;
    leg.input.destroy();
    leg.own?.destroy();
    this.legs.delete(participantId);
    this.log.debug({ participantId }, 'leg removed');
  }

  push(participantId: string, pkt: RtpIn, nowMs: number): void {
    const leg = this.legs.get(participantId);
    if (!leg) {
      this.unknownLegPackets++;
      return;
    }
    for (const digit of leg.input.push(pkt, nowMs)) this.dtmf.push({ participantId, digit });
  }

  tick(nowMs: number): AudioOut[] {
    // 1. Inputs: talkers onto the bus. A talker who stops goes back to the shared mix; its own encoder is kept for
    //    its next talk spurt — a new libopus encoder costs 2–4× its settled CPU per frame for its first ≈ 5 s
    //    (measured: 100–210 µs against 43 µs), so one per talk spurt made every change of talker the dearest tick.
    //    All of this meeting's decodes under one hold of the cross-thread decode lock (media/codec/codec-lock.ts).
    const opus = this.usesOpus();
    const bus = opus ? withCodecLock(DECODE_LOCK, () => this.inputs(nowMs)) : this.inputs(nowMs);
    this.speaker = this.speakers.update(
      [...this.legs.values()].map((l) => ({ id: l.config.participantId, level: l.input.level, talking: l.input.talking })),
      nowMs,
    );

    // 2. Outputs: talkers get bus − self, everyone else shares one encode per codec; all of this meeting's encodes
    //    under one hold of the cross-thread encode lock (another worker may decode meanwhile).
    const { out, encodes } = opus ? withCodecLock(ENCODE_LOCK, () => this.outputs(bus)) : this.outputs(bus);
    this.encodesLastTick = encodes;
    return out;
  }

  private outputs(bus: Float32Array): { out: AudioOut[]; encodes: number } {
    const out: AudioOut[] = [];
    const sharedPayloads = new Map<string, Uint8Array>();
    let sharedMix: Int16Array | undefined;
    let encodes = 0;
    for (const leg of this.legs.values()) {
      const spec = leg.sendSpec;
      if (!leg.config.receiving || !spec) continue;
      let payload: Uint8Array;
      let stream: OutputStream;
      if (leg.onBus) {
        for (let i = 0; i < BUS_FRAME; i++) this.nMinus1[i] = bus[i]! - leg.onBus[i]!;
        stream = leg.own ??= new OutputStream(spec);
        payload = stream.encode(softLimit(this.nMinus1, this.limited));
        encodes++;
      } else {
        const key = sharingKey(spec);
        stream = this.sharedStream(key, spec);
        let shared = sharedPayloads.get(key);
        if (!shared) {
          sharedMix ??= softLimit(bus, this.sharedLimited);
          shared = stream.encode(sharedMix);
          sharedPayloads.set(key, shared);
          encodes++;
        }
        payload = shared;
      }
      out.push({
        participantId: leg.config.participantId,
        payloadType: spec.payloadType,
        payload,
        samples: stream.rtpFrameSamples,
        marker: !leg.started,
      });
      leg.started = true;
    }
    this.pruneShared(sharedPayloads);
    return { out, encodes };
  }

  /** Does any leg negotiate Opus (the native codec the locks are for)? G.711/G.722 are plain JS: no lock. */
  private usesOpus(): boolean {
    for (const leg of this.legs.values()) if (leg.opus) return true;
    return false;
  }

  private inputs(nowMs: number): Float32Array {
    const bus = this.bus.fill(0);
    for (const leg of this.legs.values()) {
      const frame = leg.input.pull(nowMs);
      leg.onBus = frame && leg.input.talking ? frame : undefined;
      if (leg.onBus) for (let i = 0; i < BUS_FRAME; i++) bus[i] += leg.onBus[i]!;
    }
    return bus;
  }

  activeSpeaker(): string | undefined {
    return this.speaker;
  }

  takeDtmf(): Array<{ participantId: string; digit: string }> {
    return this.dtmf.splice(0);
  }

  stats(): MeetingAudioStats {
    const legs: Record<string, LegAudioStats> = {};
    for (const [id, leg] of this.legs) {
      const jb = leg.input.jitterStats();
      legs[id] = {
        level: leg.input.level,
        concealed: leg.input.counters.concealed,
        late: jb.late,
        bufferMs: jb.bufferMs,
        talking: leg.input.talking,
        decoded: leg.input.counters.decoded,
        decodesSkipped: leg.input.counters.decodesSkipped,
        vadSkipped: leg.input.counters.vadSkipped,
      };
    }
    return { legs, encodesLastTick: this.encodesLastTick };
  }

  private sharedStream(key: string, spec: CodecSpec): OutputStream {
    let s = this.shared.get(key);
    if (!s) {
      s = new OutputStream(spec);
      this.shared.set(key, s);
    }
    return s;
  }

  /** Free shared encoders no listener used this tick (that codec's listeners left or all talk). */
  private pruneShared(used: Map<string, Uint8Array>): void {
    for (const [key, s] of this.shared) {
      if (!used.has(key)) {
        s.destroy();
        this.shared.delete(key);
      }
    }
  }
}

/** RFC 3264: the first negotiated format is the one we send; telephone-event and unknown formats are skipped. */
function sendCodec(config: AudioLegConfig): CodecSpec | undefined {
  return config.codecs.find((c) => audioCodecName(c) !== undefined && c.payloadType !== config.telephoneEventPt);
}

function negotiatesOpus(config: AudioLegConfig): boolean {
  return config.codecs.some((c) => audioCodecName(c) === 'opus');
}

function sameSpec(a: CodecSpec | undefined, b: CodecSpec | undefined): boolean {
  return a?.payloadType === b?.payloadType && a?.name === b?.name && a?.clockRate === b?.clockRate && a?.fmtp === b?.fmtp;
}
