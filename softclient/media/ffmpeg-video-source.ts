/**
 * The camera: ffmpeg (the Debian package, spawned) encodes `testsrc`, a file (looped) or a v4l2 camera to the
 * negotiated codec — VP8 (RFC 7741) or H.264 (RFC 6184 packetization-mode 1) — and packetizes it as RTP to a
 * loopback UDP socket of ours; we hand each packet on, and the video line re-stamps it (SSRC, sequence, timestamp,
 * payload type) and sends it from its own RTP port (symmetric RTP: the focus latches onto that port).
 *
 *   start(vp8 | h264) ─▶ running ─▶ stop()            a re-negotiation to the other codec: stop(), start(other)
 *
 * H.264: libx264 `-preset ultrafast -tune zerolatency`, no B-frames (`-bf 0`: RTP timestamps stay in decode
 * order), the profile and level of the negotiated profile-level-id (h264-codecs.ts). ffmpeg's RTP muxer sends
 * mode 1 (RFC 6184 §6.3: single NAL units, STAP-A, FU-A for NAL units over the packet size), and x264 repeats
 * SPS/PPS in band before every IDR (the RTP muxer asks for no global header), so a receiver needs no
 * sprop-parameter-sets (§8.1).
 *
 * Deviation (RFC 4585 §6.3.1 / RFC 5104 §4.3.1 ask the sender for a key frame on PLI/FIR): ffmpeg cannot be told to
 * make one, so the encoder makes one every GOP_FRAMES frames (1 s) and a PLI is only counted.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { Logger } from '../../registrar/log.ts';
import { parseRtp, type RtpPacket } from '../../media/rtp/packet.ts';
import type { H264EncoderSettings } from './h264-codecs.ts';

export type VideoSourceSpec =
  | { readonly kind: 'testsrc' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'device'; readonly path: string }
  | { readonly kind: 'none' };

export type VideoSpecResult = { readonly ok: true; readonly value: VideoSourceSpec } | { readonly ok: false; readonly error: string };

/** The camera codec a person prefers (`--video-codec`): it leads the camera line's offer. */
export type VideoCodecName = 'vp8' | 'h264';

/** What one ffmpeg run encodes to. */
export type VideoEncoding = { readonly codec: 'vp8' } | ({ readonly codec: 'h264' } & H264EncoderSettings);

export const DEFAULT_VIDEO_DEVICE = '/dev/video0';

export function parseVideoIn(text: string): VideoSpecResult {
  if (text === 'none') return { ok: true, value: { kind: 'none' } };
  if (text === 'testsrc') return { ok: true, value: { kind: 'testsrc' } };
  if (text === 'device') return { ok: true, value: { kind: 'device', path: DEFAULT_VIDEO_DEVICE } };
  if (text.startsWith('device:')) {
    const path = text.slice('device:'.length);
    if (!path.startsWith('/')) return { ok: false, error: `--video-in ${text}: expected device:/dev/videoN` };
    return { ok: true, value: { kind: 'device', path } };
  }
  return { ok: true, value: { kind: 'file', path: text } };
}

export function parseVideoCodec(text: string): { readonly ok: true; readonly value: VideoCodecName } | { readonly ok: false; readonly error: string } {
  const v = text.toLowerCase();
  return v === 'vp8' || v === 'h264' ? { ok: true, value: v } : { ok: false, error: `--video-codec: expected vp8 or h264, got "${text}"` };
}

export const VIDEO_WIDTH = 320;
export const VIDEO_HEIGHT = 240;
export const VIDEO_FPS = 15;
/** A key frame every second: what a new receiver or a PLI waits for at most (see the Deviation above). */
const GOP_FRAMES = 15;
const FFMPEG_PT = 96;
/** How long opening a camera may take when checking it before joining. */
const DEVICE_PROBE_MS = 5000;

export function sameEncoding(a: VideoEncoding | undefined, b: VideoEncoding | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.codec === 'vp8' || b.codec === 'vp8') return a.codec === b.codec;
  return a.profile === b.profile && a.level === b.level;
}

function inputArgs(spec: VideoSourceSpec): string[] {
  const scale = ['-vf', `scale=${VIDEO_WIDTH}:${VIDEO_HEIGHT},fps=${VIDEO_FPS}`];
  switch (spec.kind) {
    case 'file':
      return ['-re', '-stream_loop', '-1', '-i', spec.path, ...scale];
    case 'device':
      // A camera delivers in real time by itself (no -re); scaled and paced like testsrc.
      return ['-f', 'v4l2', '-i', spec.path, ...scale];
    default:
      return ['-re', '-f', 'lavfi', '-i', `testsrc=size=${VIDEO_WIDTH}x${VIDEO_HEIGHT}:rate=${VIDEO_FPS}`];
  }
}

function encoderArgs(e: VideoEncoding): string[] {
  const gop = ['-g', String(GOP_FRAMES), '-keyint_min', String(GOP_FRAMES)];
  if (e.codec === 'vp8') return ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '256k', ...gop, '-auto-alt-ref', '0', '-error-resilient', '1'];
  return [
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', e.profile, '-level:v', e.level,
    '-pix_fmt', 'yuv420p', '-b:v', '256k', ...gop, '-bf', '0', '-x264-params', 'repeat-headers=1',
  ];
}

export function ffmpegArgs(spec: VideoSourceSpec, encoding: VideoEncoding, port: number): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    ...inputArgs(spec),
    '-an', ...encoderArgs(encoding),
    // RFC 6184 §6.3: ffmpeg's RTP muxer packetizes H.264 in mode 1 unless told `-rtpflags h264_mode0`.
    '-f', 'rtp', '-payload_type', String(FFMPEG_PT), `rtp://127.0.0.1:${port}?pkt_size=1100`,
  ];
}

/** Can ffmpeg open this v4l2 device (one frame within DEVICE_PROBE_MS)? The error is ffmpeg's last line. */
export function probeVideoDevice(path: string, ffmpeg = 'ffmpeg'): Promise<{ readonly ok: true } | { readonly ok: false; readonly error: string }> {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'v4l2', '-i', path, '-frames:v', '1', '-f', 'null', '-'];
  return new Promise((resolve) => {
    execFile(ffmpeg, args, { timeout: DEVICE_PROBE_MS }, (err, _stdout, stderr) => {
      if (!err) return resolve({ ok: true });
      const e = err as Error & { code?: string | number; killed?: boolean };
      if (e.code === 'ENOENT') return resolve({ ok: false, error: `${ffmpeg} not found: video needs ffmpeg (Debian package "ffmpeg")` });
      if (e.killed) return resolve({ ok: false, error: `no frame from the camera within ${DEVICE_PROBE_MS / 1000} s` });
      const last = String(stderr).trim().split('\n').pop()?.trim();
      resolve({ ok: false, error: `ffmpeg cannot open it as a v4l2 camera${last ? ` (${last})` : ''}` });
    });
  });
}

export interface VideoSourceOptions {
  /** The codec to offer first (default vp8). */
  readonly preferred?: VideoCodecName;
  /** ffmpeg executable (default `ffmpeg` on PATH). */
  readonly ffmpeg?: string;
}

export class FfmpegVideoSource {
  private proc: ChildProcess | undefined;
  private sock: Socket | undefined;
  private stderr = '';
  /** The encoding of the run started last, while it runs (set at start(), cleared by stop() or its exit). */
  private current: VideoEncoding | undefined;
  /** Runs started (each restarts the RTP numbering the caller maps). */
  runs = 0;
  readonly preferred: VideoCodecName;
  private readonly ffmpeg: string;
  private readonly log: Logger;

  constructor(
    readonly spec: VideoSourceSpec,
    logger: Logger,
    options: VideoSourceOptions = {},
  ) {
    this.log = logger.child({ component: 'video-source' });
    this.preferred = options.preferred ?? 'vp8';
    this.ffmpeg = options.ffmpeg ?? 'ffmpeg';
  }

  /** Started and not stopped (ffmpeg may still be starting). */
  get running(): boolean {
    return this.current !== undefined;
  }

  /** What the current run encodes to. */
  get encoding(): VideoEncoding | undefined {
    return this.current;
  }

  get label(): string {
    return this.spec.kind === 'file' || this.spec.kind === 'device' ? `${this.spec.kind} ${this.spec.path}` : this.spec.kind;
  }

  /**
   * Start encoding to `encoding`; `onPacket(packet, run)` gets every RTP packet (run = this start's number).
   * Rejects when ffmpeg cannot be started (not installed). A start while running is ignored: stop() first.
   */
  async start(encoding: VideoEncoding, onPacket: (p: RtpPacket, run: number) => void, onExit: (why: string) => void): Promise<void> {
    if (this.current || this.spec.kind === 'none') return;
    this.current = encoding;
    const run = ++this.runs;
    const sock = createSocket('udp4');
    sock.bind(0, '127.0.0.1');
    await once(sock, 'listening');
    if (this.runs !== run || this.current !== encoding) {
      sock.close(); // stopped (and maybe started again) while binding
      return;
    }
    this.sock = sock;
    sock.on('message', (buf) => {
      const r = parseRtp(buf);
      if (r.ok && r.packet.payloadType === FFMPEG_PT) onPacket(r.packet, run);
    });
    const proc = spawn(this.ffmpeg, ffmpegArgs(this.spec, encoding, sock.address().port), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    this.stderr = '';
    this.log.info({ codec: encoding.codec, source: this.label, run }, 'video source started');
    proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-2000);
    });
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', () => resolve());
      proc.once('error', (e: Error & { code?: string }) => {
        if (this.proc === proc) this.cleanup();
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
    this.current = undefined;
    try {
      this.sock?.close();
    } catch {
      // already closed
    }
    this.sock = undefined;
  }
}
