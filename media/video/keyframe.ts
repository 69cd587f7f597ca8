/** Keyframe detection by codec (VP8: RFC 7741 §4.3; H.264: RFC 6184). Unknown codecs never report one. */
import { h264IsKeyframeStart } from './h264.ts';
import { vp8IsKeyframeStart } from './vp8.ts';

export type KeyframeDetector = (buf: Uint8Array, offset: number, length: number) => boolean;

const never: KeyframeDetector = () => false;

/** The detector for a lowercase encoding name. */
export function keyframeDetector(codec: string): KeyframeDetector {
  if (codec === 'vp8') return vp8IsKeyframeStart;
  if (codec === 'h264') return h264IsKeyframeStart;
  return never;
}

/** Video codecs the relay forwards. */
export function isForwardableVideo(codec: string): boolean {
  return codec === 'vp8' || codec === 'h264';
}
