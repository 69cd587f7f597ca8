/**
 * The media of one call, as MeetingCall drives it: the m= lines to offer, the lines the focus adds, mic and
 * camera, figures, teardown. Two kinds:
 *
 * - own media (`ownMedia`, the CLI): an AudioStream, optionally a VideoStream with ffmpeg as camera, and — when
 *   received video is wanted — one receive-only VideoStream per publisher line the focus adds (docs/focus.md
 *   "Several videos": an `a=sendonly` video line per other participant, `a=label` = its participant id), each
 *   written to `<dir>/<label>.ivf`.
 * - external media (`externalMedia`, the GUI): lines somebody else runs (the GUI's WebRTC bridge); this only
 *   sets their directions, and the owner closes them.
 *
 * Teardown: close() closes every stream it created (RTCP BYE, files finalised, ffmpeg stopped). Idempotent.
 */
import type { Logger } from '../../registrar/log.ts';
import type { Clock } from '../../registrar/sip/clock.ts';
import { type AcceptedMedia, type CodecSpec, type Direction, type MediaDescription, OPUS, PCMA, PCMU, TELEPHONE_EVENT, VP8 } from '../../sdp/index.ts';
import { H264_RECEIVE_CODECS, H264_SEND_CODEC } from './h264-codecs.ts';
import type { AudioSource } from './audio-source.ts';
import { type AudioSink, type AudioStats, AudioStream } from './audio-stream.ts';
import type { FfmpegVideoSource, VideoCodecName } from './ffmpeg-video-source.ts';
import type { AddedLineHandler, MediaLine } from './media-session.ts';
import { bindUdpPair } from './udp-pair.ts';
import { type VideoStats, VideoStream } from './video-stream.ts';

/** RFC 3840 feature tag: "one video line per other participant, please" (docs/focus.md "Several videos"). */
export const MULTI_VIDEO_FEATURE = '+sipmeet.video-streams';
/** What we offer for audio, in order (Linphone's order; RFC 7587 Opus first). */
export const AUDIO_CODECS: readonly CodecSpec[] = [OPUS, PCMU, PCMA, TELEPHONE_EVENT];
/**
 * What the camera line offers, in order (RFC 7741 VP8, RFC 6184 H.264 Constrained Baseline mode 1; each with
 * NACK/PLI/FIR feedback). The focus answers the offerer's first codec it supports (RFC 3264 §6.1), so the order
 * is the person's preference (`--video-codec`); an offer we answer picks by its own order.
 */
export const VIDEO_CODECS: readonly CodecSpec[] = [VP8, H264_SEND_CODEC];
/** The same with H.264 first (`--video-codec h264`). */
export const VIDEO_CODECS_H264_FIRST: readonly CodecSpec[] = [H264_SEND_CODEC, VP8];

/** The camera line's offer for a preference. */
export function videoCodecs(preferred: VideoCodecName): readonly CodecSpec[] {
  return preferred === 'h264' ? VIDEO_CODECS_H264_FIRST : VIDEO_CODECS;
}
/** What a receive-only publisher line accepts: VP8 and H.264 (RFC 6184, modes 1 and 0), in the offer's order. */
export const RECEIVE_VIDEO_CODECS: readonly CodecSpec[] = [VP8, ...H264_RECEIVE_CODECS];

export interface MediaInfo {
  readonly kind: 'audio' | 'video';
  readonly codec: string | undefined;
  readonly direction: Direction | 'rejected';
  readonly mic: boolean;
  /** Video lines: the camera is on. */
  readonly camera?: boolean;
  /** A publisher's line: its a=label (the participant id). */
  readonly label?: string;
}

export interface MediaFigures {
  readonly audio?: AudioStats;
  readonly video?: VideoStats;
  /** One per publisher line (label set). */
  readonly videoStreams?: readonly VideoStats[];
}

/** Media someone else runs (the GUI bridge): our main lines and a handler for lines the focus adds. */
export interface ExternalMedia {
  readonly audio: MediaLine;
  readonly video: MediaLine;
  readonly added: (m: MediaDescription, index: number) => MediaLine | undefined | Promise<MediaLine | undefined>;
}

export interface CallMedia {
  /** Our m= lines for the first offer, in order. */
  readonly lines: readonly MediaLine[];
  readonly onAdded?: AddedLineHandler;
  readonly hasVideo: boolean;
  readonly hasCamera: boolean;
  /** Mic on/off now (stops sending at once) and the audio line's direction for the next offer. */
  setMic(on: boolean): void;
  /** Camera on/off now and the video line's direction for the next offer. */
  setCamera(on: boolean): void;
  figures(): MediaFigures | undefined;
  close(): void;
}

export interface OwnMediaOptions {
  readonly localAddress: string;
  readonly audioIn: AudioSource;
  readonly audioOut?: AudioSink;
  readonly micOff?: boolean;
  readonly video?: { readonly source?: FfmpegVideoSource; readonly outDir?: string };
  readonly cname: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onMedia: (m: MediaInfo) => void;
  readonly onWarning: (text: string) => void;
}

const codecName = (m: AcceptedMedia) => `${m.codec.encoding.toLowerCase()}/${m.codec.clockRate}`;

/** A file name for stream `label` not used yet in this call (a returning camera gets `-2`, `-3`…). */
function freshName(label: string, taken: Set<string>): string {
  const base = label.replace(/[^A-Za-z0-9._-]/g, '_') || 'video';
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!taken.has(name)) {
      taken.add(name);
      return name;
    }
  }
}

export async function ownMedia(o: OwnMediaOptions): Promise<CallMedia> {
  const log = o.logger.child({ component: 'call-media' });
  const pair = await bindUdpPair(o.localAddress);
  const audio = new AudioStream({ pair, source: o.audioIn, ...(o.audioOut ? { sink: o.audioOut } : {}), clock: o.clock, logger: o.logger, cname: o.cname });
  if (o.micOff) audio.setMic(false);
  const audioLine: MediaLine = {
    kind: 'audio',
    port: pair.rtpPort,
    codecs: AUDIO_CODECS,
    direction: o.micOff ? 'recvonly' : 'sendrecv',
    configure: (m) => {
      audio.configure(m);
      o.onMedia({ kind: 'audio', codec: codecName(m), direction: m.direction, mic: audio.mic });
    },
    disable: (reason) => {
      log.warn({ reason }, 'audio rejected');
      o.onMedia({ kind: 'audio', codec: undefined, direction: 'rejected', mic: audio.mic });
    },
  };
  let video: VideoStream | undefined;
  let videoLine: MediaLine | undefined;
  if (o.video) {
    const vpair = await bindUdpPair(o.localAddress);
    const v = new VideoStream({ pair: vpair, source: o.video.source, outDir: o.video.outDir, clock: o.clock, logger: o.logger, cname: o.cname, onSourceError: o.onWarning });
    video = v;
    videoLine = {
      kind: 'video',
      port: vpair.rtpPort,
      codecs: videoCodecs(o.video.source?.preferred ?? 'vp8'),
      direction: v.hasCamera ? 'sendrecv' : 'recvonly',
      configure: (m, remote) => {
        v.configure(m, remote);
        o.onMedia({ kind: 'video', codec: codecName(m), direction: m.direction, mic: audio.mic, camera: v.camera });
      },
      disable: (reason) => {
        log.info({ reason }, 'video rejected');
        o.onMedia({ kind: 'video', codec: undefined, direction: 'rejected', mic: audio.mic, camera: v.camera });
      },
    };
  }
  // Publisher lines (receive only), when received video is wanted.
  const publishers = new Map<number, VideoStream>();
  const names = new Set<string>();
  let closed = false;
  const outDir = o.video?.outDir;
  const onAdded: AddedLineHandler | undefined =
    outDir === undefined
      ? undefined
      : async (m, index) => {
          if (closed || m.type.toLowerCase() !== 'video') return undefined;
          const label = m.label ?? `line${index}`;
          const p = await bindUdpPair(o.localAddress);
          const s = new VideoStream({ pair: p, source: undefined, outDir, fileName: freshName(label, names), clock: o.clock, logger: o.logger, cname: o.cname });
          publishers.set(index, s);
          return {
            kind: 'video',
            port: p.rtpPort,
            codecs: RECEIVE_VIDEO_CODECS,
            direction: 'recvonly',
            configure: (am, remote) => {
              s.configure(am, remote);
              o.onMedia({ kind: 'video', codec: codecName(am), direction: am.direction, mic: audio.mic, camera: false, label });
            },
            disable: () => {
              // The publisher left or turned its camera off (port 0, RFC 3264 §8.2): its file is complete.
              s.close();
              publishers.delete(index);
              o.onMedia({ kind: 'video', codec: undefined, direction: 'rejected', mic: audio.mic, camera: false, label });
            },
          };
        };
  return {
    lines: videoLine ? [audioLine, videoLine] : [audioLine],
    ...(onAdded ? { onAdded } : {}),
    hasVideo: video !== undefined,
    hasCamera: video?.hasCamera ?? false,
    setMic(on) {
      audio.setMic(on);
      audioLine.direction = on ? 'sendrecv' : 'recvonly';
    },
    setCamera(on) {
      if (!video || !videoLine) return;
      video.setCamera(on);
      videoLine.direction = on ? 'sendrecv' : 'recvonly';
    },
    figures() {
      return {
        audio: audio.stats(),
        ...(video ? { video: video.stats() } : {}),
        ...(outDir !== undefined ? { videoStreams: [...publishers.values()].map((s) => s.stats()) } : {}),
      };
    },
    close() {
      if (closed) return;
      closed = true;
      audio.close();
      video?.close();
      for (const s of publishers.values()) s.close();
      publishers.clear();
    },
  };
}

/** The GUI's lines: directions only; the GUI closes them. */
export function externalMedia(ext: ExternalMedia): CallMedia {
  return {
    lines: [ext.audio, ext.video],
    onAdded: (m, index) => ext.added(m, index),
    hasVideo: true,
    hasCamera: true,
    setMic(on) {
      ext.audio.direction = on ? 'sendrecv' : 'recvonly';
    },
    setCamera(on) {
      ext.video.direction = on ? 'sendrecv' : 'recvonly';
    },
    figures: () => undefined,
    close: () => undefined,
  };
}
