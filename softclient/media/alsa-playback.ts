/**
 * `--audio-out device[:NAME]`: the received mix played on an ALSA device through ffmpeg.
 *
 *   20 ms tick ─write(48 kHz mono)─▶ stdin of  ffmpeg -f s16le -ar 48000 -ac 1 -i - -f alsa NAME
 *
 * It is fed exactly where the WAV writer is (AudioStream's sink): one frame per tick, concealed when packets are
 * missing, silence when nobody talks — continuous, so the device does not starve while the call is up. The device
 * sets the pace (ALSA blocks ffmpeg's writes); if ffmpeg falls more than MAX_QUEUE_MS behind, frames are dropped
 * and counted rather than queued without bound.
 *
 * open() waits until ffmpeg has opened the device (its "Output #0, alsa" line, printed once ALSA accepted the
 * PCM) so a missing device is one readable line before the call is placed.
 */
import type { Logger } from '../../registrar/log.ts';
import type { Clock } from '../../registrar/sip/clock.ts';
import type { SpecResult } from './audio-source.ts';
import type { AudioSink } from './audio-stream.ts';
import { DEVICE_RATE, FfmpegDeviceProcess } from './alsa-ffmpeg.ts';

/** Most audio waiting in the pipe to ffmpeg before frames are dropped. */
const MAX_QUEUE_MS = 300;
/** Silence written at open: ffmpeg opens the output device only once it has read a whole input packet (2 kB). */
const PRIME_MS = 100;
const OPEN_TIMEOUT_MS = 5000;
/** After close(): time for ffmpeg to play what it has and exit before it is stopped. */
const DRAIN_MS = 1000;

export interface AlsaPlaybackOptions {
  /** ALSA PCM name (`default`, `plughw:1,0`, a pcm.NAME of ~/.asoundrc …). */
  readonly device: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The ffmpeg executable (default `ffmpeg`). */
  readonly ffmpeg?: string;
  readonly openTimeoutMs?: number;
}

export interface AlsaPlaybackStats {
  readonly framesWritten: number;
  /** Frames dropped because ffmpeg (the device) was behind or gone. */
  readonly framesDropped: number;
}

/** ffmpeg's command line for playing raw s16le mono 48 kHz from stdin on `device`. */
export function playbackArgs(device: string): string[] {
  return [
    '-hide_banner', '-nostats', '-loglevel', 'info',
    // Raw PCM of known format: nothing to probe, start at the first bytes.
    '-fflags', 'nobuffer', '-probesize', '32', '-analyzeduration', '0',
    '-f', 's16le', '-ar', String(DEVICE_RATE), '-ac', '1', '-i', 'pipe:0',
    '-f', 'alsa', device,
  ];
}

export class AlsaPlaybackSink implements AudioSink {
  private framesWritten = 0;
  private framesDropped = 0;
  private closed = false;
  private readonly maxQueueBytes = ((DEVICE_RATE * MAX_QUEUE_MS) / 1000) * 2;
  private readonly log: Logger;

  private constructor(
    readonly device: string,
    private readonly proc: FfmpegDeviceProcess,
    private readonly clock: Clock,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'alsa-playback', device });
    // EPIPE when ffmpeg is gone: reported by the exit handler, never thrown.
    proc.child.stdin!.on('error', (e) => this.log.debug({ err: e.message }, 'ffmpeg stdin error'));
    proc.onExit(() => {
      if (!this.closed && !proc.stopped) this.log.warn({ reason: proc.failure() }, 'playback device stopped: received audio is dropped');
    });
  }

  /** Start ffmpeg on `device`; resolves once ALSA has opened it, or with the reason it cannot. */
  static open(o: AlsaPlaybackOptions): Promise<SpecResult<AlsaPlaybackSink>> {
    const proc = new FfmpegDeviceProcess({ flag: '--audio-out', device: o.device, clock: o.clock, logger: o.logger, ...(o.ffmpeg ? { ffmpeg: o.ffmpeg } : {}) }, playbackArgs(o.device), 'pipe');
    const sink = new AlsaPlaybackSink(o.device, proc, o.clock, o.logger);
    const timeoutMs = o.openTimeoutMs ?? OPEN_TIMEOUT_MS;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (r: SpecResult<AlsaPlaybackSink>) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        proc.child.stderr!.off('data', watch);
        if (!r.ok) {
          sink.closed = true;
          proc.stop();
        }
        resolve(r);
      };
      const timer = o.clock.setTimer(timeoutMs, () =>
        settle({ ok: false, error: `--audio-out device: ALSA device "${o.device}" did not open within ${timeoutMs / 1000} s` }),
      );
      // ffmpeg prints "Output #0, alsa, to 'NAME':" after the muxer's header was written, i.e. after snd_pcm_open.
      const watch = () => {
        if (/^Output #0, alsa/m.test(proc.stderr)) settle({ ok: true, value: sink });
      };
      proc.child.stderr!.on('data', watch);
      proc.onExit(() => settle({ ok: false, error: proc.failure() }));
      if (!proc.exited) proc.child.stdin!.write(Buffer.alloc(((DEVICE_RATE * PRIME_MS) / 1000) * 2));
    });
  }

  write(samples: Int16Array): void {
    if (this.closed) return;
    const stdin = this.proc.child.stdin!;
    if (this.proc.exited || stdin.destroyed || stdin.writableLength > this.maxQueueBytes) {
      this.framesDropped++;
      return;
    }
    // Int16Array is platform-endian; s16le is what every platform Node runs on here uses.
    stdin.write(Buffer.from(samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength)));
    this.framesWritten++;
  }

  stats(): AlsaPlaybackStats {
    return { framesWritten: this.framesWritten, framesDropped: this.framesDropped };
  }

  /** End ffmpeg's input (it plays what it has and exits); stop it if it has not after a second. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.log.debug({ ...this.stats() }, 'playback closed');
    if (this.proc.exited) return;
    this.proc.child.stdin!.end();
    this.clock.setTimer(DRAIN_MS, () => this.proc.stop());
  }
}
