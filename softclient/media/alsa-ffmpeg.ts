/**
 * An ffmpeg child process bound to an ALSA device (capture or playback), shared by alsa-capture.ts and
 * alsa-playback.ts: spawning, draining stderr (a full stderr pipe would stall ffmpeg) while keeping its tail for
 * error messages, turning ffmpeg's words into one readable reason, and stopping it.
 *
 * ALSA device names are libasound's PCM names: `default`, `plughw:CARD=PCH,DEV=0`, `hw:1,0`, `pulse`, or any
 * `pcm.NAME` defined in /etc/asound.conf or ~/.asoundrc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger } from '../../registrar/log.ts';
import type { Clock, TimerHandle } from '../../registrar/sip/clock.ts';

/** The device's sample rate and layout on our side of ffmpeg: s16le mono at the 48 kHz mix rate. */
export const DEVICE_RATE = 48000;

/** Bytes of stderr kept for error messages. */
const STDERR_TAIL = 4096;

/** How long a stopped ffmpeg gets to exit before SIGKILL. */
const KILL_AFTER_MS = 2000;

export interface FfmpegDeviceOptions {
  /** `--audio-in` or `--audio-out`: the flag named in error lines. */
  readonly flag: string;
  readonly device: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The ffmpeg executable (default `ffmpeg` on PATH). */
  readonly ffmpeg?: string;
}

/** One readable reason from ffmpeg's stderr: libasound's own complaint and the errno text of the failed open. */
export function ffmpegReason(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  // "[alsa @ 0x…] cannot open audio device NAME (No such file or directory)"
  let errno: string | undefined;
  for (const l of lines) {
    const m = /cannot open audio device .*\(([^()]+)\)$/.exec(l);
    if (m) errno = m[1];
  }
  // "ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM nosuchdevice"
  let alsa: string | undefined;
  for (const l of lines) {
    const m = /^ALSA lib [^ ]+:\([^)]*\) (.+)$/.exec(l);
    if (m) alsa = m[1];
  }
  if (alsa && errno) return `${alsa} (${errno})`;
  if (alsa ?? errno) return (alsa ?? errno)!;
  const last = lines.filter((l) => !/^(Conversion failed!|Error initializing output stream)/.test(l)).pop();
  return last ?? 'ffmpeg exited without saying why';
}

/** The part of `ffmpeg`'s error that a person acts on: "is not installed" when it is not there. */
export function spawnReason(e: NodeJS.ErrnoException, ffmpeg: string): string {
  if (e.code === 'ENOENT') return `ffmpeg ("${ffmpeg}") is not installed or not on PATH — it is needed for ALSA devices`;
  return `cannot start ffmpeg: ${e.message}`;
}

/** A running ffmpeg with its stderr tail, exit status and a stop() that does not leave it behind. */
export class FfmpegDeviceProcess {
  readonly child: ChildProcess;
  readonly ffmpeg: string;
  private tail = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private spawnError: NodeJS.ErrnoException | undefined;
  private killTimer: TimerHandle | undefined;
  private stopping = false;
  private readonly exitListeners: Array<() => void> = [];
  private readonly log: Logger;

  constructor(
    private readonly o: FfmpegDeviceOptions,
    args: readonly string[],
    stdin: 'pipe' | 'ignore',
  ) {
    this.ffmpeg = o.ffmpeg ?? 'ffmpeg';
    this.log = o.logger.child({ component: 'alsa', device: o.device });
    this.child = spawn(this.ffmpeg, args, { stdio: [stdin, 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.tail = (this.tail + d.toString('utf8')).slice(-STDERR_TAIL);
    });
    this.child.on('error', (e: NodeJS.ErrnoException) => {
      this.spawnError = e;
      this.log.debug({ err: e.message }, 'ffmpeg spawn error');
      this.fireExit();
    });
    // 'close', not 'exit': stderr is read to its end by then, so failure() has ffmpeg's last words.
    this.child.on('close', (code, signal) => {
      this.exitInfo = { code, signal };
      this.killTimer?.cancel();
      this.log.debug({ code, signal, stopping: this.stopping }, 'ffmpeg exited');
      this.fireExit();
    });
    this.log.debug({ args: args.join(' ') }, 'ffmpeg started');
  }

  /** The stderr seen so far (its last 4 kB). */
  get stderr(): string {
    return this.tail;
  }

  get exited(): boolean {
    return this.exitInfo !== undefined || this.spawnError !== undefined;
  }

  /** True once stop() was called (an exit after it is expected). */
  get stopped(): boolean {
    return this.stopping;
  }

  /** Run `fn` once ffmpeg has exited (or failed to start); at once if it already has. */
  onExit(fn: () => void): void {
    if (this.exited) fn();
    else this.exitListeners.push(fn);
  }

  /** Why ffmpeg is gone, as the one line the CLI prints. */
  failure(): string {
    if (this.spawnError) return `${this.o.flag} device: ${spawnReason(this.spawnError, this.ffmpeg)}`;
    const status = this.exitInfo?.signal ? `killed by ${this.exitInfo.signal}` : `exit code ${this.exitInfo?.code ?? '?'}`;
    const reason = this.tail.trim() ? ffmpegReason(this.tail) : `ffmpeg stopped (${status})`;
    return `${this.o.flag} device: ALSA device "${this.o.device}" cannot be opened: ${reason}`;
  }

  /** SIGTERM (ffmpeg finishes cleanly), SIGKILL if it is still there after 2 s. Idempotent. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.exited) return;
    // ffmpeg blocked reading a pipe does not see SIGTERM until its read returns: end that input too.
    this.child.stdin?.destroy();
    this.child.kill('SIGTERM');
    this.killTimer = this.o.clock.setTimer(KILL_AFTER_MS, () => {
      if (!this.exited) this.child.kill('SIGKILL');
    });
  }

  private fireExit(): void {
    for (const fn of this.exitListeners.splice(0)) fn();
  }
}
