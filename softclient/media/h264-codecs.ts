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
import type { CodecSpec } from '../../sdp/index.ts';

const FEEDBACK = [{ type: 'nack' }, { type: 'nack', param: 'pli' }, { type: 'ccm', param: 'fir' }] as const;

/** profile-level-id (§8.1) per profile, level 3.1: constrained baseline, baseline, main, high. */
const PROFILES = ['42e01f', '42001f', '4d001f', '64001f'] as const;

export const H264_RECEIVE_CODECS: readonly CodecSpec[] = [1, 0].flatMap((mode) =>
  PROFILES.map((pli) => ({ encoding: 'H264', clockRate: 90000, fmtp: `profile-level-id=${pli};packetization-mode=${mode}`, rtcpFb: FEEDBACK })),
);
