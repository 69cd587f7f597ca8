/**
 * RFC 8285 §5 a=extmap:<value>["/"<direction>] <URI> [<extensionattributes>] — RTP header extensions negotiated
 * per m= line. sipmeet negotiates one: RFC 6464 client-to-mixer audio level on audio lines, which lets the media
 * relay's mixer skip decoding a participant that is quiet (media-relay/mixer/input-leg.ts), and which the
 * softclient sends.
 *
 * RFC 8285 §7 (offer/answer): "The answerer ... MAY include, in its answer, ... the extensions ... it wishes to use",
 * with the offer's ID; a direction in the answer is from the answerer's side ("recvonly": it will only receive).
 * An extension the offer does not list is never added to the answer.
 *
 * Directions, from each writer's own point of view (RFC 8285 §5, like RFC 3264 §6.1 for media): "If an extension
 * map is offered as "sendrecv", explicitly or implicitly, and asymmetric behavior is desired, the SDP answer MAY be
 * changed to "sendonly" or "recvonly"", an offered "sendonly" may only be answered "recvonly" (or left out), an
 * offered "recvonly" only "sendonly" (or left out). So, for the level, per audio line:
 *
 *   offer says        the offerer   we (answerer) read levels   we send levels (policy sendAudioLevel)   our answer
 *   (none)/sendrecv   sends+reads   yes                         yes                                      (none)
 *   (none)/sendrecv   sends+reads   yes                         no (the focus)                           /recvonly
 *   sendonly          sends         yes                         no: it would not read them               /recvonly
 *   recvonly          reads         no: it sends none           yes                                      /sendonly
 *   recvonly          reads         no                          no (the focus)                           —
 *   inactive / none   —             —                           —                                        —
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
    if (!Number.isInteger(id) || id < 1 || id > 255 || id === 15 || typeof e.uri !== 'string' || e.uri === '') continue;
    // A direction outside the §5 grammar makes the line malformed: ignored rather than read as sendrecv.
    if (e.direction !== undefined && !DIRECTIONS.includes(e.direction)) continue;
    const direction = e.direction as Direction | undefined;
    out.push({ id, uri: e.uri, ...(direction ? { direction } : {}), ...(e.config ? { config: e.config } : {}) });
  }
  return out;
}

/** Does the writer of `media` send this extension (its extmap direction sendrecv or sendonly)? */
function writerSends(e: Extmap): boolean {
  return e.direction === undefined || e.direction === 'sendrecv' || e.direction === 'sendonly';
}

/** Does the writer of `media` receive this extension (its extmap direction sendrecv or recvonly)? */
function writerReceives(e: Extmap): boolean {
  return e.direction === undefined || e.direction === 'sendrecv' || e.direction === 'recvonly';
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

/** The level extmap of an offer's audio line in which the offerer reads levels (sendrecv or recvonly), if any. */
export function offeredToReceiveAudioLevel(media: MediaDescription): Extmap | undefined {
  if (media.type.toLowerCase() !== 'audio') return undefined;
  return extmapsOf(media).find((e) => e.uri === AUDIO_LEVEL_URI && writerReceives(e));
}

/** What answering an audio line agrees on for the level: the answer's extmap and the ids read and sent. */
export interface AnsweredLevel {
  /** The a=extmap for our answer, absent when we neither read nor send levels. */
  readonly extmap?: Extmap;
  /** The id the offerer sends levels under (AcceptedMedia.audioLevelExtId). */
  readonly receiveId?: number;
  /** The id we may send levels under (AcceptedMedia.sendAudioLevelExtId). */
  readonly sendId?: number;
}

/**
 * The answerer's side for the level (table above): we read what the offerer sends (always: the focus's mixer uses
 * it), and send when `send` is set and the offerer reads — under the offer's id, RFC 8285 §7. Both under one id:
 * the line carries one mapping for the URI. The answer's direction is ours: both → none (sendrecv), read only →
 * recvonly, send only → sendonly.
 */
export function answerAudioLevelFor(offered: MediaDescription, send: boolean): AnsweredLevel {
  const incoming = offeredAudioLevel(offered);
  const outgoing = send ? offeredToReceiveAudioLevel(offered) : undefined;
  // An offer mapping the URI twice (two ids): we read under the first it sends, and send only under that same id.
  const sendId = outgoing !== undefined && (incoming === undefined || incoming.id === outgoing.id) ? outgoing.id : undefined;
  if (incoming === undefined && sendId === undefined) return {};
  if (incoming === undefined) return { extmap: { id: sendId!, uri: AUDIO_LEVEL_URI, direction: 'sendonly' }, sendId: sendId! };
  if (sendId === undefined) return { extmap: answerAudioLevel(incoming), receiveId: incoming.id };
  return { extmap: { id: incoming.id, uri: AUDIO_LEVEL_URI }, receiveId: incoming.id, sendId };
}

/** What we offer on audio lines we receive: levels from the participant, under id 1. */
export const OFFERED_AUDIO_LEVEL: Extmap = { id: 1, uri: AUDIO_LEVEL_URI, direction: 'recvonly' };

/**
 * What a participant that sends levels offers (the softclient): id 1 with no direction (sendrecv), the plain line
 * phones write; an answerer that only reads levels (the focus) answers it recvonly, and levels that might come
 * back are ignored.
 */
export const SENDING_AUDIO_LEVEL: Extmap = { id: 1, uri: AUDIO_LEVEL_URI };

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

/**
 * After we offered: the id WE may send levels under — an id we offered for the URI in a direction in which we send
 * (none/sendrecv/sendonly), answered with the same id (RFC 8285 §7) in a direction in which the answerer reads
 * (none/sendrecv/recvonly). An answer that leaves the extmap out (RFC 8285 §7: it "MAY include" it) agrees to none.
 */
export function answeredToReceiveAudioLevel(offered: MediaDescription, answered: MediaDescription): number | undefined {
  if (answered.type.toLowerCase() !== 'audio') return undefined;
  const ours = extmapsOf(offered).find((e) => e.uri === AUDIO_LEVEL_URI);
  if (ours === undefined || !writerSends(ours)) return undefined;
  const theirs = extmapsOf(answered).find((e) => e.uri === AUDIO_LEVEL_URI && e.id === ours.id);
  return theirs !== undefined && writerReceives(theirs) ? ours.id : undefined;
}

/** sdp-transform's shape for the m= line's `other.ext`. */
export function toTransformExt(list: readonly Extmap[]): Array<{ value: number; direction?: string; uri: string; config?: string }> {
  return list.map((e) => ({ value: e.id, ...(e.direction && e.direction !== 'sendrecv' ? { direction: e.direction } : {}), uri: e.uri, ...(e.config ? { config: e.config } : {}) }));
}
