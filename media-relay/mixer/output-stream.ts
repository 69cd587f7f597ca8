/**
 * One encoded output: a limited 48 kHz mix → the listener codec's rate → one encoded 20 ms payload.
 *
 * A talker owns one (its N−1 mix); all non-talking listeners of one codec share one (Asterisk bridge_softmix).
 * Deviation: when a listener moves between its own stream and the shared one (it starts or stops talking), its
 * decoder sees packets from another encoder instance. Opus and G.711 take this like a lost packet; G.722's
 * ADPCM predictor re-converges within a few ms. Asterisk accepts the same trade for the same saving.
 */
import type { CodecSpec } from '../api.ts';
import type { AudioCodec } from '../../media/codec/types.ts';
import { audioCodecName, createCodec } from '../../media/codec/create-codec.ts';
import { Resampler } from '../../media/audio/resample.ts';
import { BUS_RATE } from './input-leg.ts';

export class OutputStream {
  private readonly codec: AudioCodec;
  private readonly fromBus: Resampler | undefined;
  private readonly frame: Int16Array;

  constructor(spec: CodecSpec) {
    const codec = createCodec(spec);
    if (!codec) throw new TypeError(`not an audio codec: ${spec.name}`);
    this.codec = codec;
    this.fromBus = codec.sampleRate === BUS_RATE ? undefined : new Resampler(BUS_RATE, codec.sampleRate);
    this.frame = new Int16Array(codec.frameSamples);
  }

  /** RTP timestamp units per frame (RFC 3551 §4.5.2: 160 for G.722). */
  get rtpFrameSamples(): number {
    return this.codec.rtpFrameSamples;
  }

  /** Encode one 20 ms bus frame (already limited to int16). The mixer calls it holding the encode lock (codec-lock.ts). */
  encode(bus: Int16Array): Uint8Array {
    if (!this.fromBus) return this.codec.encode(bus);
    const pcm = this.fromBus.process(bus);
    // SpeexDSP yields exactly rate × 20 ms per call for these integer ratios; pad/trim defensively anyway.
    this.frame.set(pcm.length > this.frame.length ? pcm.subarray(0, this.frame.length) : pcm);
    if (pcm.length < this.frame.length) this.frame.fill(0, pcm.length);
    return this.codec.encode(this.frame);
  }

  destroy(): void {
    this.fromBus?.destroy();
  }
}

/** Listeners whose send codecs have the same key can share one encoded frame. */
export function sharingKey(spec: CodecSpec): string {
  const name = audioCodecName(spec) ?? spec.name.toLowerCase();
  // Opus encoder settings come from fmtp (bitrate, FEC): only identical fmtp shares.
  return name === 'opus' ? `opus;${(spec.fmtp ?? '').replace(/\s+/g, '').toLowerCase()}` : name;
}
