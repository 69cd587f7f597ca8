/**
 * Where the client's received mix goes (`--audio-out`): a WAV file (wav.ts), an ALSA playback device through
 * ffmpeg (`device[:NAME]`, alsa-playback.ts), or nowhere (`none`). Every sink takes 48 kHz mono frames, one per
 * 20 ms tick (AudioStream's AudioSink).
 */
import type { Logger } from '../../registrar/log.ts';
import type { Clock } from '../../registrar/sip/clock.ts';
import { AlsaPlaybackSink } from './alsa-playback.ts';
import { parseDeviceName, type SpecResult } from './audio-source.ts';
import { type AudioSink, OUTPUT_RATE } from './audio-stream.ts';
import { WavWriter } from './wav.ts';

export type AudioSinkSpec = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'device'; readonly device: string } | { readonly kind: 'none' };

/** `FILE.wav | device[:NAME] | none` from the command line. */
export function parseAudioOut(text: string): SpecResult<AudioSinkSpec> {
  if (text === 'none') return { ok: true, value: { kind: 'none' } };
  const device = parseDeviceName(text, '--audio-out');
  if (device) return device.ok ? { ok: true, value: { kind: 'device', device: device.value } } : device;
  return { ok: true, value: { kind: 'file', path: text } };
}

/** Open the sink (undefined for `none`); a device resolves once ALSA has accepted it, or with the reason it cannot. */
export async function openAudioOutput(spec: AudioSinkSpec, deps: { readonly clock: Clock; readonly logger: Logger }): Promise<SpecResult<AudioSink | undefined>> {
  switch (spec.kind) {
    case 'none':
      return { ok: true, value: undefined };
    case 'file':
      try {
        return { ok: true, value: new WavWriter(spec.path, OUTPUT_RATE) };
      } catch (e) {
        return { ok: false, error: `--audio-out ${spec.path}: ${(e as Error).message}` };
      }
    case 'device':
      return AlsaPlaybackSink.open({ device: spec.device, clock: deps.clock, logger: deps.logger });
  }
}
