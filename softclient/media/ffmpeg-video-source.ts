/**
 * The camera: ffmpeg (the Debian package, spawned) encodes `testsrc` or a file (looped) to VP8 and packetizes it
 * as RTP (RFC 7741) to a loopback UDP socket of ours; we hand each packet on, and the video line re-stamps it
 * (SSRC, sequence, timestamp, payload type) and sends it from its own RTP port (symmetric RTP: the focus latches
 * onto that port).
 *
 * Deviation (RFC 4585 §6.3.1 / RFC 5104 §4.3.1 ask the sender for a key frame on PLI/FIR): ffmpeg cannot be told to
 * make one, so the encoder makes one every GOP_FRAMES frames (1 s) and a PLI is only counted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { Logger } from '../../registrar/log.ts';
import { parseRtp, type RtpPacket } from '../../media-relay/rtp/packet.ts';

export type VideoSourceSpec = { readonly kind: 'testsrc' } | { readonly kind: 'file'; readonly path: string } | { readonly kind: 'none' };

export type VideoSpecResult = { readonly ok: true; readonly value: VideoSourceSpec } | { readonly ok: false; readonly error: string };

export function parseVideoIn(text: string): VideoSpecResult {
  if (text === 'none') return { ok: true, value: { kind: 'none' } };
  if (text === 'testsrc') return { ok: true, value: { kind: 'testsrc' } };
  if (text === 'device') return { ok: false, error: '--video-in device is not supported yet (use testsrc, a video file or none)' };
  return { ok: true, value: { kind: 'file', path: text } };
}

export const VIDEO_WIDTH = 320;
export const VIDEO_HEIGHT = 240;
export const VIDEO_FPS = 15;
/** A key frame every second: what a new receiver or a PLI waits for at most (see the Deviation above). */
const GOP_FRAMES = 15;
const FFMPEG_PT = 96;

function ffmpegArgs(spec: VideoSourceSpec, port: number): string[] {
  const input =
    spec.kind === 'file'
      ? ['-re', '-stream_loop', '-1', '-i', spec.path, '-vf', `scale=${VIDEO_WIDTH}:${VIDEO_HEIGHT},fps=${VIDEO_FPS}`]
      : ['-re', '-f', 'lavfi', '-i', `testsrc=size=${VIDEO_WIDTH}x${VIDEO_HEIGHT}:rate=${VIDEO_FPS}`];
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    ...input,
    '-an', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '256k',
    '-g', String(GOP_FRAMES), '-keyint_min', String(GOP_FRAMES), '-auto-alt-ref', '0', '-error-resilient', '1',
    '-f', 'rtp', '-payload_type', String(FFMPEG_PT), `rtp://127.0.0.1:${port}?pkt_size=1100`,
  ];
}

export class FfmpegVideoSource {
  private proc: ChildProcess | undefined;
  private sock: Socket | undefined;
  private stderr = '';
  /** Runs started (each restarts the RTP numbering the caller maps). */
  runs = 0;
  private readonly log: Logger;

  constructor(
    readonly spec: VideoSourceSpec,
    logger: Logger,
    /** ffmpeg executable (default `ffmpeg` on PATH). */
    private readonly ffmpeg = 'ffmpeg',
  ) {
    this.log = logger.child({ component: 'video-source' });
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  get label(): string {
    return this.spec.kind === 'file' ? `file ${this.spec.path}` : this.spec.kind;
  }

  /**
   * Start encoding; `onPacket(packet, run)` gets every RTP packet (run = this start's number). Rejects when
   * ffmpeg cannot be started (not installed).
   */
  async start(onPacket: (p: RtpPacket, run: number) => void, onExit: (why: string) => void): Promise<void> {
    if (this.proc || this.spec.kind === 'none') return;
    const sock = createSocket('udp4');
    sock.bind(0, '127.0.0.1');
    await once(sock, 'listening');
    this.sock = sock;
    const run = ++this.runs;
    sock.on('message', (buf) => {
      const r = parseRtp(buf);
      if (r.ok && r.packet.payloadType === FFMPEG_PT) onPacket(r.packet, run);
    });
    const proc = spawn(this.ffmpeg, ffmpegArgs(this.spec, sock.address().port), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    this.stderr = '';
    proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-2000);
    });
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', () => resolve());
      proc.once('error', (e: Error & { code?: string }) => {
        this.cleanup();
        reject(new Error(e.code === 'ENOENT' ? `${this.ffmpeg} not found: video needs ffmpeg (Debian package "ffmpeg")` : `cannot start ${this.ffmpeg}: ${e.message}`));
      });
    });
    proc.once('exit', (code, signal) => {
      if (this.proc !== proc) return; // stopped on purpose
      const why = `ffmpeg exited (${signal ?? code}): ${this.stderr.trim().split('\n').pop() ?? ''}`;
      this.log.warn({ why }, 'video source stopped');
      this.cleanup();
      onExit(why);
    });
  }

  stop(): void {
    const p = this.proc;
    this.cleanup();
    if (p && p.exitCode === null) p.kill('SIGTERM');
  }

  private cleanup(): void {
    this.proc = undefined;
    try {
      this.sock?.close();
    } catch {
      // already closed
    }
    this.sock = undefined;
  }
}
