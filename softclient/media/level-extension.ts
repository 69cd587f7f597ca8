/**
 * The RFC 6464 client-to-mixer level a client puts into each audio packet it sends (RFC 8285 header extension),
 * shared by the terminal client's audio line (audio-stream.ts, levels of the PCM it encodes) and the GUI's bridge
 * (gui/bridge/sip-leg.ts, the browser's own levels carried over).
 */
import { audioLevelExtension } from '../../media/rtp/audio-level.ts';
import { TWO_BYTE_PROFILE, type RtpExtensionBlock } from '../../media/rtp/header-extension.ts';

/**
 * RFC 6464 §3 V bit: "whether the encoder believes the audio packet contains voice activity"; without a vad
 * attribute it is in use (§4: vad=on is the default). Ours is a plain energy gate: −42 dBov or louder, the level at
 * which the relay's talker detection starts a talk spurt.
 */
export const VOICE_LEVEL = 42;

/**
 * The RFC 8285 block carrying one RFC 6464 level (−dBov 0…127): the §4.2 one-byte form for ids 1–14; an id
 * negotiated above 14 can only be written in the §4.3 two-byte form (ID octet, length octet = 1, the V|level
 * octet, padding).
 */
export function levelExtension(id: number, level: number): RtpExtensionBlock {
  const voice = level <= VOICE_LEVEL;
  if (id <= 14) return audioLevelExtension(id, level, voice);
  return { profile: TWO_BYTE_PROFILE, data: Uint8Array.of(id, 1, (voice ? 0x80 : 0) | (level & 0x7f), 0) };
}
