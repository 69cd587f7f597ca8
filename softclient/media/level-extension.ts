/**
 * The RFC 6464 client-to-mixer level a client puts into each audio packet it sends (RFC 8285 header extension),
 * shared by the terminal client's audio line (audio-stream.ts, levels of the PCM it encodes) and the GUI's bridge
 * (gui/bridge/sip-leg.ts, the browser's own levels carried over).
 */
import { audioLevelExtension } from '../../media/rtp/audio-level.ts';
import type { RtpExtensionBlock } from '../../media/rtp/header-extension.ts';

/**
 * RFC 6464 §3 V bit: "whether the encoder believes the audio packet contains voice activity"; without a vad
 * attribute it is in use (§4: vad=on is the default). Ours is a plain energy gate: −42 dBov or louder, the level at
 * which the relay's talker detection starts a talk spurt.
 */
export const VOICE_LEVEL = 42;

/** The RFC 8285 block carrying one RFC 6464 level (−dBov 0…127), V set by the energy gate above. */
export function levelExtension(id: number, level: number): RtpExtensionBlock {
  return audioLevelExtension(id, level, level <= VOICE_LEVEL);
}
