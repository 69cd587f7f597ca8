/**
 * The H.264 formats a receive-only line accepts (RFC 6184). We only depacketize and store the stream (the
 * decoder is whoever reads the `.h264` file), so any profile will do; but RFC 6184 §8.2.2 makes profile and
 * packetization-mode a configuration the answerer must keep or refuse ("the answerer MUST either maintain all
 * configuration parameters or remove the media format"), and sdp/h264.ts matches an offered format against ours
 * by profile (levels may differ). So one spec per common profile and mode: the answer then echoes the offer's
 * own fmtp (sdp/codecs.ts answerFmtp) for whichever matches first.
 *
 * §6.2 packetization-mode 0 (single NAL unit) and §6.3 mode 1 (non-interleaved); mode 2 (interleaved) is not
 * taken (h264-depacketizer.ts refuses STAP-B/MTAP/FU-B).
 */
import { type CodecSpec, parseH264Config } from '../../sdp/index.ts';

const FEEDBACK = [{ type: 'nack' }, { type: 'nack', param: 'pli' }, { type: 'ccm', param: 'fir' }] as const;

/** profile-level-id (§8.1) per profile, level 3.1: constrained baseline, baseline, main, high. */
const PROFILES = ['42e01f', '42001f', '4d001f', '64001f'] as const;

export const H264_RECEIVE_CODECS: readonly CodecSpec[] = [1, 0].flatMap((mode) =>
  PROFILES.map((pli) => ({ encoding: 'H264', clockRate: 90000, fmtp: `profile-level-id=${pli};packetization-mode=${mode}`, rtcpFb: FEEDBACK })),
);

/**
 * What the camera line offers for H.264 (RFC 6184): Constrained Baseline level 3.1, packetization-mode 1
 * (§6.3 non-interleaved: single NAL units, STAP-A, FU-A — what ffmpeg's RTP muxer writes), as the focus's own
 * H264_MODE1 (sdp/codecs.ts). Mode 0 is not offered for sending: ffmpeg's mode 0 (`-rtpflags h264_mode0`) cannot
 * fragment, so a key frame larger than one packet would not fit (§6.2).
 */
export const H264_SEND_CODEC: CodecSpec = { encoding: 'H264', clockRate: 90000, fmtp: 'profile-level-id=42e01f;packetization-mode=1', rtcpFb: FEEDBACK };

/** What x264 is asked for: its `-profile:v` and `-level:v` (e.g. `3.1`). */
export interface H264EncoderSettings {
  readonly profile: 'baseline' | 'main' | 'high';
  readonly level: string;
}

/**
 * The encoder settings for a negotiated H.264 format (its a=fmtp), or undefined when we cannot send it.
 *
 * RFC 6184 §8.2.2: profile and packetization-mode are used symmetrically; the level of the answer (or of the offer
 * we answer) is the highest the other side decodes, so we encode at it. x264's `baseline` writes constraint_set0
 * and set1 (Constrained Baseline, profile-iop c0), which a Baseline decoder also decodes. Only packetization-mode 1
 * is sent (see H264_SEND_CODEC). §8.1: a missing profile-level-id means Baseline level 1.0 (42000a).
 */
export function h264EncoderSettings(fmtp: string | undefined): H264EncoderSettings | undefined {
  const c = parseH264Config(fmtp);
  if (!c || c.packetizationMode !== 1) return undefined;
  const profile =
    c.profile === 'constrained-baseline' || c.profile === 'baseline'
      ? 'baseline'
      : c.profile === 'main'
        ? 'main'
        : c.profile === 'high'
          ? 'high'
          : undefined;
  if (!profile) return undefined;
  // level_idc is ten times the level (§8.1, H.264 Table A-1), e.g. 0x1f = 31 → 3.1; level 1b (idc 11 with
  // constraint_set3 in Baseline) is written 1b.
  const level = c.level === 11 && profile === 'baseline' && (c.profileIop & 0x10) !== 0 ? '1b' : (c.level / 10).toFixed(1);
  return { profile, level };
}
