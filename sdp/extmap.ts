/**
 * RFC 8285 §5 a=extmap:<value>["/"<direction>] <URI> [<extensionattributes>] — RTP header extensions negotiated
 * per m= line. sipmeet negotiates one: RFC 6464 client-to-mixer audio level on audio lines, which lets the media
 * relay's mixer skip decoding a participant that is quiet (media-relay/mixer/input-leg.ts).
 *
 * RFC 8285 §7 (offer/answer): "The answerer ... MAY include, in its answer, ... the extensions ... it wishes to use",
 * with the offer's ID; a direction in the answer is from the answerer's side ("recvonly": it will only receive).
 * An extension the offer does not list is never added to the answer.
 */
import type { Direction, MediaDescription } from './model.ts';

export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

export interface Extmap {
  readonly id: number;
  readonly uri: string;
  /** RFC 8285 §5: from the point of view of whoever wrote it; absent = sendrecv. */
  readonly direction?: Direction;
  /** Extension attributes after the URI (RFC 6464: "vad=on"). */
  readonly config?: string;
}

const DIRECTIONS: readonly string[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

/** The m= line's well-formed a=extmap lines (RFC 8285 §5: id 1–14 one-byte, 1–255 with the two-byte form). */
export function extmapsOf(media: MediaDescription): Extmap[] {
  const out: Extmap[] = [];
  for (const e of media.other.ext ?? []) {
    const id = Number(e.value);
    if (!Number.isInteger(id) || id < 1 || id > 255 || id === 15 || typeof e.uri !== 'string') continue;
    const direction = e.direction !== undefined && DIRECTIONS.includes(e.direction) ? (e.direction as Direction) : undefined;
    out.push({ id, uri: e.uri, ...(direction ? { direction } : {}), ...(e.config ? { config: e.config } : {}) });
  }
  return out;
}

/** Does the writer of `media` send this extension (its extmap direction sendrecv or sendonly)? */
function writerSends(e: Extmap): boolean {
  return e.direction === undefined || e.direction === 'sendrecv' || e.direction === 'sendonly';
}

/** The id under which an offer's audio line will send us RFC 6464 levels, if it offers to send them. */
export function offeredAudioLevel(media: MediaDescription): Extmap | undefined {
  if (media.type.toLowerCase() !== 'audio') return undefined;
  return extmapsOf(media).find((e) => e.uri === AUDIO_LEVEL_URI && writerSends(e));
}

/** Our answer's extmap for it: the offer's id, recvonly (we read levels; the relay sends none). */
export function answerAudioLevel(offered: Extmap): Extmap {
  return { id: offered.id, uri: AUDIO_LEVEL_URI, direction: 'recvonly' };
}

/** What we offer on audio lines we receive: levels from the participant, under id 1. */
export const OFFERED_AUDIO_LEVEL: Extmap = { id: 1, uri: AUDIO_LEVEL_URI, direction: 'recvonly' };

/**
 * After we offered: the id the answerer will send levels under — only an id we offered for the same URI
 * (RFC 8285 §7: the answer keeps the offer's mapping) and a direction in which it sends.
 */
export function answeredAudioLevel(offered: MediaDescription, answered: MediaDescription): number | undefined {
  if (answered.type.toLowerCase() !== 'audio') return undefined;
  const ours = extmapsOf(offered).find((e) => e.uri === AUDIO_LEVEL_URI);
  const theirs = extmapsOf(answered).find((e) => e.uri === AUDIO_LEVEL_URI && writerSends(e));
  return ours !== undefined && theirs !== undefined && theirs.id === ours.id ? theirs.id : undefined;
}

/** sdp-transform's shape for the m= line's `other.ext`. */
export function toTransformExt(list: readonly Extmap[]): Array<{ value: number; direction?: string; uri: string; config?: string }> {
  return list.map((e) => ({ value: e.id, ...(e.direction && e.direction !== 'sendrecv' ? { direction: e.direction } : {}), uri: e.uri, ...(e.config ? { config: e.config } : {}) }));
}
