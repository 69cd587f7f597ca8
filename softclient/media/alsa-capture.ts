/**
 * `--audio-in device[:NAME]`: the microphone through ffmpeg reading an ALSA capture device.
 *
 *   ALSA NAME ─▶ ffmpeg -f alsa -i NAME … -f s16le (mono, 48 kHz) ─stdout─▶ CaptureFifo ─next(n, rate)─▶ 20 ms tick
 *
 * ffmpeg converts whatever the device gives (often stereo, any rate ALSA settles on) to mono 48 kHz; next()
 * resamples to the codec's rate when it is not 48 kHz (PCMU/PCMA 8 kHz, G.722 16 kHz). The tick never waits on
 * the device: the FIFO pads with silence on underrun and drops the oldest audio on overrun (alsa-capture-fifo.ts).
 *
 * open() resolves only once audio flows, so a missing device or a missing ffmpeg is one readable line before the
 * call is placed (ffmpeg exits within a few hundred ms when ALSA refuses the device).
 */
import type { Logger } from '../../registrar/log.ts';
import type { Clock } from '../../registrar/sip/clock.ts';
import { Resampler } from '../../media/audio/resample.ts';
import type { AudioSource, SpecResult } from './audio-source.ts';
import { CaptureFifo, type CaptureFifoStats } from './alsa-capture-fifo.ts';
import { DEVICE_RATE, FfmpegDeviceProcess } from './alsa-ffmpeg.ts';

/** Most audio queued between the device and the tick before the oldest is dropped. */
const CAPACITY_MS = 200;
/** Audio gathered before sending starts (and after an underrun). */
const PREFILL_MS = 40;
/** How long open() waits for the first audio. */
const OPEN_TIMEOUT_MS = 5000;

export interface AlsaCaptureOptions {
  /** ALSA PCM name (`default`, `plughw:1,0`, a pcm.NAME of ~/.asoundrc …). */
  readonly device: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The ffmpeg executable (default `ffmpeg`). */
  readonly ffmpeg?: string;
  readonly openTimeoutMs?: number;
}

/** ffmpeg's command line for capturing `device` as raw s16le mono 48 kHz on stdout. */
export function captureArgs(device: string): string[] {
  return [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error',
    '-f', 'alsa', '-i', device,
    // Timestamps from the sample count: ALSA's wall-clock ones can repeat (the muxer then complains per packet).
    '-af', 'asetpts=N/SR/TB',
    '-ac', '1', '-ar', String(DEVICE_RATE), '-f', 's16le',
    // Each packet to the pipe as it comes, not in 32 kB (340 ms) blocks.
    '-flush_packets', '1',
    'pipe:1',
  ];
}

export class AlsaCaptureSource implements AudioSource {
  readonly label: string;
  private readonly fifo = new CaptureFifo((DEVICE_RATE * CAPACITY_MS) / 1000, (DEVICE_RATE * PREFILL_MS) / 1000);
  private resampler: Resampler | undefined;
  private closed = false;
  private readonly log: Logger;

  private constructor(
    readonly device: string,
    private readonly proc: FfmpegDeviceProcess,
    logger: Logger,
  ) {
    this.label = `device ${device}`;
    this.log = logger.child({ component: 'alsa-capture', device });
    proc.child.stdout!.on('data', (d: Buffer) => this.fifo.push(d));
    proc.onExit(() => {
      if (!this.closed && !proc.stopped) this.log.warn({ reason: proc.failure() }, 'capture device stopped: sending silence');
    });
  }

  /** Start ffmpeg on `device`; resolves when the first audio arrives, or with the reason it cannot. */
  static open(o: AlsaCaptureOptions): Promise<SpecResult<AlsaCaptureSource>> {
    const proc = new FfmpegDeviceProcess({ flag: '--audio-in', device: o.device, clock: o.clock, logger: o.logger, ...(o.ffmpeg ? { ffmpeg: o.ffmpeg } : {}) }, captureArgs(o.device), 'ignore');
    const source = new AlsaCaptureSource(o.device, proc, o.logger);
    const timeoutMs = o.openTimeoutMs ?? OPEN_TIMEOUT_MS;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (r: SpecResult<AlsaCaptureSource>) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        if (!r.ok) source.close();
        resolve(r);
      };
      const timer = o.clock.setTimer(timeoutMs, () =>
        settle({ ok: false, error: `--audio-in device: ALSA device "${o.device}" gave no audio within ${timeoutMs / 1000} s` }),
      );
      proc.child.stdout!.once('data', () => settle({ ok: true, value: source }));
      proc.onExit(() => settle({ ok: false, error: proc.failure() }));
    });
  }

  next(n: number, sampleRate: number): Int16Array {
    if (sampleRate === DEVICE_RATE) return this.fifo.take(n);
    const pcm = this.fifo.take(Math.round((n * DEVICE_RATE) / sampleRate));
    if (this.resampler?.outRate !== sampleRate) {
      this.resampler?.destroy();
      this.resampler = new Resampler(DEVICE_RATE, sampleRate);
    }
    const out = this.resampler.process(pcm);
    if (out.length === n) return out;
    // The resampler's output count can differ by a sample from frame to frame: the tick needs exactly n.
    const fitted = new Int16Array(n);
    fitted.set(out.subarray(0, n));
    return fitted;
  }

  /** Underruns and overruns of the FIFO between the device and the tick. */
  stats(): CaptureFifoStats {
    return this.fifo.stats();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.log.debug({ ...this.fifo.stats() }, 'capture closed');
    this.proc.stop();
    this.resampler?.destroy();
    this.resampler = undefined;
  }
}
