/**
 * RFC 6464 client-to-mixer audio level: one octet in an RFC 8285 header extension element
 * (URI urn:ietf:params:rtp-hdrext:ssrc-audio-level, negotiated with a=extmap).
 *
 * §3:
 *     0                   1
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  ID   | len=0 |V| level       |    (one-byte form)
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   "The audio level is expressed in -dBov, with values from 0 to 127 representing 0 to -127 dBov." "The V bit
 *   ... indicates whether the encoder believes the audio packet contains voice activity" (only with vad=on).
 *   The level is that of the audio in this packet (RMS, §4: "the level of the audio ... measured as RMS"),
 *   which is exactly what a mixer needs to pick talkers without decoding (§1).
 */
import { findExtensionElement, oneByteExtension, type RtpExtensionBlock, TWO_BYTE_PROFILE } from './header-extension.ts';

export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/** −dBov 0 (loudest) … 127 (silence), or undefined when the packet carries no (well-formed) level. */
export function readAudioLevel(profile: number | undefined, data: Uint8Array | undefined, id: number): number | undefined {
  if (profile === undefined || data === undefined) return undefined;
  const el = findExtensionElement(profile, data, id);
  // §3: the element is one octet; a longer one (a sender padding it) still starts with V|level.
  if (el === undefined || el.length < 1) return undefined;
  return el[0]! & 0x7f;
}

/** RMS of 16-bit PCM relative to full scale, 0…1 (0 for an empty frame). */
export function pcmRms(pcm: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
  return pcm.length === 0 ? 0 : Math.sqrt(sum / pcm.length) / 32768;
}

/** The level of 16-bit PCM as RFC 6464 −dBov (RMS relative to full scale, clamped to 0…127). */
export function pcmAudioLevel(pcm: Int16Array): number {
  return dbovOf(pcmRms(pcm));
}

/** RMS 0…1 → −dBov 0…127. */
export function dbovOf(rms: number): number {
  if (rms <= 0) return 127;
  return Math.max(0, Math.min(127, Math.round(-20 * Math.log10(rms))));
}

/** −dBov → RMS 0…1 (the inverse of dbovOf, 127 → 0: digital silence). */
export function rmsOfDbov(level: number): number {
  return level >= 127 ? 0 : 10 ** (-level / 20);
}

/**
 * The extension block of one packet carrying only its audio level (for buildRtp): the RFC 8285 §4.2 one-byte form
 * for ids 1–14; an id negotiated above 14 can only be written in the §4.3 two-byte form (ID octet, length octet
 * = 1, the V|level octet, padding).
 */
export function audioLevelExtension(id: number, level: number, voice = false): RtpExtensionBlock {
  const octet = (voice ? 0x80 : 0) | (Math.max(0, Math.min(127, Math.round(level))) & 0x7f);
  if (id > 14) return { profile: TWO_BYTE_PROFILE, data: Uint8Array.of(id, 1, octet, 0) };
  return oneByteExtension([{ id, data: Uint8Array.of(octet) }]);
}
