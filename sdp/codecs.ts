/**
 * The codec table: RFC 3551 static payload types, the codecs sipmeet offers and accepts, and the rules that
 * decide whether two payload formats name the same codec.
 */
import { h264Compatible } from './h264.ts';
import type { RtcpFeedback, Rtpmap } from './model.ts';

/**
 * RFC 3551 §6, Table 4 (audio) and Table 5 (video): payload types with a static assignment, used when an
 * m= line lists the PT without an a=rtpmap (Linphone sends `m=audio 7078 RTP/AVP 0 96` with no rtpmap for 0).
 * RFC 3551 §4.5.2: "Even though the actual sampling rate for G.722 audio is 16,000 Hz, the RTP clock rate for
 * the G722 payload format is 8,000 Hz because that value was erroneously assigned in RFC 1890 and must remain
 * unchanged for backward compatibility."
 * Mono entries carry no channel count, as an rtpmap for them would be written (RFC 4566 §6).
 */
export const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, Rtpmap> = new Map<number, Rtpmap>([
  [0, { encoding: 'PCMU', clockRate: 8000 }],
  [3, { encoding: 'GSM', clockRate: 8000 }],
  [4, { encoding: 'G723', clockRate: 8000 }],
  [5, { encoding: 'DVI4', clockRate: 8000 }],
  [6, { encoding: 'DVI4', clockRate: 16000 }],
  [7, { encoding: 'LPC', clockRate: 8000 }],
  [8, { encoding: 'PCMA', clockRate: 8000 }],
  [9, { encoding: 'G722', clockRate: 8000 }],
  [10, { encoding: 'L16', clockRate: 44100, channels: 2 }],
  [11, { encoding: 'L16', clockRate: 44100 }],
  [12, { encoding: 'QCELP', clockRate: 8000 }],
  [13, { encoding: 'CN', clockRate: 8000 }],
  [14, { encoding: 'MPA', clockRate: 90000 }],
  [15, { encoding: 'G728', clockRate: 8000 }],
  [16, { encoding: 'DVI4', clockRate: 11025 }],
  [17, { encoding: 'DVI4', clockRate: 22050 }],
  [18, { encoding: 'G729', clockRate: 8000 }],
  [25, { encoding: 'CelB', clockRate: 90000 }],
  [26, { encoding: 'JPEG', clockRate: 90000 }],
  [28, { encoding: 'nv', clockRate: 90000 }],
  [31, { encoding: 'H261', clockRate: 90000 }],
  [32, { encoding: 'MPV', clockRate: 90000 }],
  [33, { encoding: 'MP2T', clockRate: 90000 }],
  [34, { encoding: 'H263', clockRate: 90000 }],
]);

/** RFC 3551 §6: "payload type values in the range 96-127 MAY be defined dynamically". */
export const FIRST_DYNAMIC_PT = 96;
export const LAST_DYNAMIC_PT = 127;

/** A codec we can use, with the parameters we put in our own descriptions. */
export interface CodecSpec {
  readonly encoding: string;
  readonly clockRate: number;
  readonly channels?: number;
  /** Our a=fmtp value (what we want to receive). */
  readonly fmtp?: string;
  /** rtcp-fb we support for it; an answer keeps those the offer also lists. */
  readonly rtcpFb?: readonly RtcpFeedback[];
}

const VIDEO_FEEDBACK: readonly RtcpFeedback[] = [
  { type: 'nack' },
  { type: 'nack', param: 'pli' },
  { type: 'ccm', param: 'fir' },
];

/** RFC 7587 §7: "The RTP clock rate in "a=rtpmap" MUST be 48000, and the number of channels MUST be 2." */
export const OPUS: CodecSpec = { encoding: 'opus', clockRate: 48000, channels: 2, fmtp: 'useinbandfec=1' };
export const PCMU: CodecSpec = { encoding: 'PCMU', clockRate: 8000 };
export const PCMA: CodecSpec = { encoding: 'PCMA', clockRate: 8000 };
export const G722: CodecSpec = { encoding: 'G722', clockRate: 8000 };
/**
 * RFC 4733 named events: 8000 Hz by default (§2.1) but any rate may be assigned, so an answer uses the one
 * at the chosen audio codec's rate; events 0-15 are the DTMF digits and 16 is flash (§3.2).
 */
export const TELEPHONE_EVENT: CodecSpec = { encoding: 'telephone-event', clockRate: 8000, fmtp: '0-16' };
export const VP8: CodecSpec = { encoding: 'VP8', clockRate: 90000, rtcpFb: VIDEO_FEEDBACK };
/** H.264 Constrained Baseline 3.1; both packetization modes (baresip offers mode 0 first). */
export const H264_MODE1: CodecSpec = {
  encoding: 'H264',
  clockRate: 90000,
  fmtp: 'profile-level-id=42e01f;packetization-mode=1',
  rtcpFb: VIDEO_FEEDBACK,
};
export const H264_MODE0: CodecSpec = {
  encoding: 'H264',
  clockRate: 90000,
  fmtp: 'profile-level-id=42e01f;packetization-mode=0',
  rtcpFb: VIDEO_FEEDBACK,
};

/** sipmeet's default codec preferences per media type. */
export const DEFAULT_CODECS: Readonly<Record<'audio' | 'video', readonly CodecSpec[]>> = {
  audio: [OPUS, PCMU, PCMA, G722, TELEPHONE_EVENT],
  video: [VP8, H264_MODE1, H264_MODE0],
};

/** Formats that ride along a codec and are never the stream's main codec. */
const SECONDARY_ENCODINGS = new Set(['telephone-event', 'cn', 'red', 'ulpfec', 'flexfec', 'rtx']);

export function isSecondary(encoding: string): boolean {
  return SECONDARY_ENCODINGS.has(encoding.toLowerCase());
}

export function isTelephoneEvent(encoding: string): boolean {
  return encoding.toLowerCase() === 'telephone-event';
}

/** RFC 3551 static assignment for a PT, if any. */
export function staticRtpmap(pt: number): Rtpmap | undefined {
  return STATIC_PAYLOAD_TYPES.get(pt);
}

/** The static PT RFC 3551 assigns to this codec, if any (PCMU → 0). */
export function staticPayloadTypeFor(mediaType: string, codec: Rtpmap): number | undefined {
  for (const [pt, rtpmap] of STATIC_PAYLOAD_TYPES) {
    if (sameCodec(mediaType, rtpmap, codec)) return pt;
  }
  return undefined;
}

/**
 * Channel count to compare: RFC 4566 §6 lets audio omit it when it is one; video has none; RFC 7587 §7 writes
 * opus as 2 channels whatever is sent, so an `opus/48000` (seen in the wild) is the same codec.
 */
function channelsOf(mediaType: string, codec: Rtpmap): number {
  if (codec.encoding.toLowerCase() === 'opus') return 2;
  if (mediaType.toLowerCase() !== 'audio') return 0;
  return codec.channels ?? 1;
}

/**
 * Same codec: encoding name compared case-insensitively (RFC 2045 §5.1: type, subtype and parameter names are
 * case-insensitive), same clock rate, same channel count. Format parameters are checked by `fmtpCompatible`.
 */
export function sameCodec(mediaType: string, a: Rtpmap, b: Rtpmap): boolean {
  return (
    a.encoding.toLowerCase() === b.encoding.toLowerCase() &&
    a.clockRate === b.clockRate &&
    channelsOf(mediaType, a) === channelsOf(mediaType, b)
  );
}

/**
 * Whether an offered format's parameters are acceptable for one of our codecs. Only H.264 constrains the
 * match (RFC 6184 §8.2.2); for opus, VP8, G.711 and telephone-event the parameters describe what each side
 * wants to receive (RFC 7587 §7.1, RFC 7741) and never make two formats different codecs.
 */
export function fmtpCompatible(encoding: string, offered: string | undefined, ours: string | undefined): boolean {
  if (encoding.toLowerCase() === 'h264') return h264Compatible(offered, ours);
  return true;
}

/**
 * The a=fmtp to put in an answer for a codec we accepted. H.264: the offer's configuration, kept as is
 * (RFC 6184 §8.2.2 "the answerer MUST either maintain all configuration parameters or remove the media
 * format"). telephone-event: our event list, else the offer's. Others: our own receive preferences.
 */
export function answerFmtp(encoding: string, offered: string | undefined, ours: string | undefined): string | undefined {
  if (encoding.toLowerCase() === 'h264') return offered ?? ours;
  if (isTelephoneEvent(encoding)) return ours ?? offered;
  return ours;
}

/** The rtpmap to write for a codec spec. */
export function rtpmapOf(spec: CodecSpec): Rtpmap {
  return spec.channels === undefined
    ? { encoding: spec.encoding, clockRate: spec.clockRate }
    : { encoding: spec.encoding, clockRate: spec.clockRate, channels: spec.channels };
}
