/**
 * A simulated participant for mixer tests: sends a tone (or silence) as real encoded RTP payloads with continuous
 * sequence numbers and timestamps, and decodes and records what the mixer sends it.
 */
import type { CodecSpec } from '../../media-relay/api.ts';
import type { AudioLegConfig, AudioOut, MeetingAudio, RtpIn } from '../../media-relay/audio/types.ts';
import type { AudioCodec } from '../../media/codec/types.ts';
import { createCodec } from '../../media/codec/create-codec.ts';
import { concat, sine } from './spectrum.ts';
import { pcmAudioLevel } from '../../media/rtp/audio-level.ts';

export const PCMU: CodecSpec = { payloadType: 0, name: 'pcmu', clockRate: 8000 };
export const PCMA: CodecSpec = { payloadType: 8, name: 'pcma', clockRate: 8000 };
export const G722: CodecSpec = { payloadType: 9, name: 'g722', clockRate: 8000 };
export const OPUS: CodecSpec = { payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'useinbandfec=1' };
export const TEL_EVENT_PT = 101;

export class ToneClient {
  readonly config: AudioLegConfig;
  private readonly enc: AudioCodec;
  private readonly dec: AudioCodec;
  private seq: number;
  private ts: number;
  private sample = 0;
  readonly ssrc: number;
  /** Decoded audio received, at the codec's sample rate. */
  readonly heard: Int16Array[] = [];
  readonly received: AudioOut[] = [];
  /** Put each packet's RFC 6464 level (of the PCM it encodes) on it, as a client that negotiated the extension does. */
  sendsLevel = false;

  constructor(
    readonly id: string,
    readonly codec: CodecSpec,
    /** Tone frequency sent, or 0 for silence. */
    public freq: number,
    public amplitude = 6000,
    extra: Partial<AudioLegConfig> = {},
  ) {
    this.config = { participantId: id, codecs: [codec], sending: true, receiving: true, telephoneEventPt: TEL_EVENT_PT, ...extra };
    this.enc = createCodec(codec)!;
    this.dec = createCodec(codec)!;
    this.seq = (id.charCodeAt(0) * 1000) & 0xffff;
    this.ssrc = 0x10000 + id.charCodeAt(0);
    this.ts = id.charCodeAt(0) * 100000;
  }

  get sampleRate(): number {
    return this.enc.sampleRate;
  }

  /** The next 20 ms packet of this participant's tone. */
  nextPacket(): RtpIn {
    const n = this.enc.frameSamples;
    const pcm = this.freq > 0 ? sine(this.freq, this.enc.sampleRate, n, this.amplitude, this.sample) : new Int16Array(n);
    this.sample += n;
    const p: RtpIn = {
      payloadType: this.codec.payloadType,
      sequenceNumber: this.seq,
      timestamp: this.ts >>> 0,
      ssrc: this.ssrc,
      marker: false,
      payload: this.enc.encode(pcm),
      audioLevel: this.sendsLevel ? pcmAudioLevel(pcm) : undefined,
    };
    this.seq = (this.seq + 1) & 0xffff;
    this.ts += this.enc.rtpFrameSamples;
    return p;
  }

  /** An RFC 4733 telephone-event packet (event, end flag, duration) at this client's current timestamp. */
  dtmfPacket(event: number, end: boolean, duration: number, eventTs: number): RtpIn {
    const p: RtpIn = {
      payloadType: TEL_EVENT_PT,
      sequenceNumber: this.seq,
      timestamp: eventTs >>> 0,
      ssrc: this.ssrc,
      marker: false,
      payload: Uint8Array.of(event, (end ? 0x80 : 0) | 10, (duration >> 8) & 0xff, duration & 0xff),
    };
    this.seq = (this.seq + 1) & 0xffff;
    return p;
  }

  get timestamp(): number {
    return this.ts;
  }

  /** Take a frame the mixer produced for us. */
  receive(out: AudioOut): void {
    this.received.push(out);
    this.heard.push(this.dec.decode(out.payload) ?? new Int16Array(this.dec.frameSamples));
  }

  /** Everything heard from `fromMs` on (20 ms per frame). */
  heardSince(fromMs: number): Int16Array {
    return concat(this.heard.slice(Math.floor(fromMs / 20)));
  }
}

/**
 * Drive a meeting for `ms` milliseconds: every 20 ms each sending client sends one packet (arriving a few ms
 * before the tick, with `loss(client, frame)` deciding drops), then the mixer ticks and frames go to their clients.
 */
export function drive(
  audio: MeetingAudio,
  clients: readonly ToneClient[],
  ms: number,
  opts: { startMs?: number; loss?: (c: ToneClient, frame: number) => boolean; send?: (c: ToneClient) => boolean } = {},
): number {
  const start = opts.startMs ?? 0;
  const byId = new Map(clients.map((c) => [c.id, c]));
  let t = start;
  for (let frame = 0; t < start + ms; frame++, t += 20) {
    for (const c of clients) {
      if (opts.send && !opts.send(c)) continue;
      const p = c.nextPacket();
      if (!opts.loss?.(c, frame)) audio.push(c.id, p, t - 5);
    }
    for (const out of audio.tick(t)) byId.get(out.participantId)?.receive(out);
  }
  return t;
}
