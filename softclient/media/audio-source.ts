/**
 * What the client sends as its microphone: `tone:HZ` (a sine), a WAV file (looped), `device[:NAME]` (an ALSA
 * capture device through ffmpeg, alsa-capture.ts) or `none` (silence).
 * Sources are pulled one 20 ms frame at a time, at the negotiated codec's PCM rate; none of them ever blocks.
 */
import type { Logger } from '../../registrar/log.ts';
import type { Clock } from '../../registrar/sip/clock.ts';
import { Resampler } from '../../media/audio/resample.ts';
import { AlsaCaptureSource } from './alsa-capture.ts';
import { readWavFile } from './wav.ts';

export interface AudioSource {
  /** A description for status lines ("tone 440 Hz", "file a.wav", "silence"). */
  readonly label: string;
  /** The next `n` samples at `sampleRate`. */
  next(n: number, sampleRate: number): Int16Array;
  close(): void;
}

export type AudioSourceSpec =
  | { readonly kind: 'tone'; readonly hz: number }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'device'; readonly device: string }
  | { readonly kind: 'none' };

/** The ALSA PCM used by `device` without a name. */
export const DEFAULT_ALSA_DEVICE = 'default';

/** `device` → the default ALSA PCM, `device:NAME` → NAME (`device:plughw:1,0` keeps everything after the first colon). */
export function parseDeviceName(text: string, flag: string): SpecResult<string> | undefined {
  if (text === 'device') return { ok: true, value: DEFAULT_ALSA_DEVICE };
  if (!text.startsWith('device:')) return undefined;
  const name = text.slice('device:'.length);
  if (!/^[^\s'"]+$/.test(name)) return { ok: false, error: `${flag} device:NAME: expected an ALSA PCM name like default or plughw:1,0, got "${name}"` };
  return { ok: true, value: name };
}

export type SpecResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** `tone:HZ | FILE.wav | device[:NAME] | none` from the command line. */
export function parseAudioIn(text: string): SpecResult<AudioSourceSpec> {
  if (text === 'none') return { ok: true, value: { kind: 'none' } };
  const tone = /^tone:(\d+(?:\.\d+)?)$/.exec(text);
  if (tone) {
    const hz = Number(tone[1]);
    if (!(hz > 0 && hz < 24000)) return { ok: false, error: `--audio-in tone frequency must be between 0 and 24000 Hz, got ${tone[1]}` };
    return { ok: true, value: { kind: 'tone', hz } };
  }
  const device = parseDeviceName(text, '--audio-in');
  if (device) return device.ok ? { ok: true, value: { kind: 'device', device: device.value } } : device;
  if (text.startsWith('tone')) return { ok: false, error: `--audio-in: expected tone:HZ, got "${text}"` };
  return { ok: true, value: { kind: 'file', path: text } };
}

/** Default tone amplitude: about -14 dBFS, loud enough to measure, far from clipping when mixed. */
export const TONE_AMPLITUDE = 6000;

export class ToneSource implements AudioSource {
  private phase = 0;
  readonly label: string;
  constructor(
    readonly hz: number,
    readonly amplitude = TONE_AMPLITUDE,
  ) {
    this.label = `tone ${hz} Hz`;
  }
  next(n: number, sampleRate: number): Int16Array {
    const out = new Int16Array(n);
    const step = (2 * Math.PI * this.hz) / sampleRate;
    for (let i = 0; i < n; i++) {
      out[i] = Math.round(this.amplitude * Math.sin(this.phase));
      this.phase += step;
    }
    this.phase %= 2 * Math.PI;
    return out;
  }
  close(): void {}
}

export class SilenceSource implements AudioSource {
  readonly label = 'silence';
  next(n: number): Int16Array {
    return new Int16Array(n);
  }
  close(): void {}
}

/** A WAV file played in a loop, converted once to each rate asked for. */
export class WavFileSource implements AudioSource {
  readonly label: string;
  private readonly byRate = new Map<number, Int16Array>();
  private pos = 0;
  private rate = 0;

  private constructor(
    path: string,
    private readonly sampleRate: number,
    private readonly samples: Int16Array,
  ) {
    this.label = `file ${path}`;
  }

  static open(path: string): SpecResult<WavFileSource> {
    const wav = readWavFile(path);
    if (!wav.ok) return { ok: false, error: `--audio-in ${path}: ${wav.error}` };
    if (wav.value.samples.length === 0) return { ok: false, error: `--audio-in ${path}: no audio in the file` };
    return { ok: true, value: new WavFileSource(path, wav.value.sampleRate, wav.value.samples) };
  }

  private at(rate: number): Int16Array {
    let s = this.byRate.get(rate);
    if (!s) {
      if (rate === this.sampleRate) s = this.samples;
      else {
        const r = new Resampler(this.sampleRate, rate);
        s = r.process(this.samples);
        r.destroy();
      }
      this.byRate.set(rate, s);
    }
    return s;
  }

  next(n: number, sampleRate: number): Int16Array {
    const src = this.at(sampleRate);
    if (sampleRate !== this.rate) {
      // The codec changed: keep the same position in time.
      if (this.rate > 0) this.pos = Math.floor((this.pos * sampleRate) / this.rate) % src.length;
      this.rate = sampleRate;
    }
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = src[this.pos]!;
      if (++this.pos >= src.length) this.pos = 0;
    }
    return out;
  }

  close(): void {
    this.byRate.clear();
  }
}

/** The sources that open at once (tone, WAV, silence); a device needs openAudioInput(). */
export function openAudioSource(spec: AudioSourceSpec): SpecResult<AudioSource> {
  switch (spec.kind) {
    case 'tone':
      return { ok: true, value: new ToneSource(spec.hz) };
    case 'none':
      return { ok: true, value: new SilenceSource() };
    case 'file':
      return WavFileSource.open(spec.path);
    case 'device':
      return { ok: false, error: '--audio-in device: opening a device is asynchronous (openAudioInput)' };
  }
}

/** Any source, a device included: resolves once a device delivers audio, or with the one-line reason it cannot. */
export async function openAudioInput(spec: AudioSourceSpec, deps: { readonly clock: Clock; readonly logger: Logger }): Promise<SpecResult<AudioSource>> {
  if (spec.kind !== 'device') return openAudioSource(spec);
  return AlsaCaptureSource.open({ device: spec.device, clock: deps.clock, logger: deps.logger });
}
