/**
 * Our side as offerer (softclient calls, focus re-INVITEs and third-party call control):
 * createOffer() writes an offer (RFC 3264 §5, and §8 for a modified session), processAnswer() checks the
 * answer against it (RFC 3264 §6, §7) and says what was agreed per m= line.
 */
import type { Result } from '../registrar/sip/message/types.ts';
import {
  type CodecSpec,
  FIRST_DYNAMIC_PT,
  fmtpCompatible,
  isSecondary,
  isTelephoneEvent,
  LAST_DYNAMIC_PT,
  rtpmapOf,
  sameCodec,
  staticPayloadTypeFor,
} from './codecs.ts';
import { answerDirectionAllowed, offererDirection } from './direction.ts';
import { disabledMedia, type LocalFormat, localMedia, localSession } from './describe.ts';
import type { Bandwidth, Direction, MediaDescription, Origin, PayloadFormat, Rtpmap, SessionDescription } from './model.ts';
import { effectiveDirection, rtcpFeedbackFor, sameFeedback } from './model.ts';
import { answeredAudioLevel, answeredToReceiveAudioLevel, type Extmap } from './extmap.ts';
import { type NegotiatedCodec, type NegotiatedMedia, remoteTransport } from './negotiated.ts';

export interface OfferedMedia {
  readonly type: string;
  /** Our RTP port; 0 keeps a disabled stream's place (RFC 3264 §8: m= lines are never removed). */
  readonly port: number;
  /** Default RTP/AVP. */
  readonly proto?: string;
  /** In our order of preference. A telephone-event entry is offered once per clock rate of the other codecs. */
  readonly codecs: readonly CodecSpec[];
  /**
   * PTs to reuse, by codec encoding/clock rate (e.g. from the previous exchange: RFC 3264 §8.3.2 asks a new
   * offer to keep the payload type mappings). Unlisted codecs get their RFC 3551 static PT or a free dynamic one.
   */
  readonly payloadTypes?: ReadonlyArray<{ readonly pt: number; readonly codec: Rtpmap }>;
  /** Default sendrecv. RFC 3264 §8.4: sendonly (or inactive if we were recvonly) puts the stream on hold. */
  readonly direction?: Direction;
  /** Offer RFC 5761 rtcp-mux (default false: Linphone and baresip do not use it). */
  readonly rtcpMux?: boolean;
  readonly ptime?: number;
  readonly bandwidth?: readonly Bandwidth[];
  readonly mid?: string;
  /** RFC 4574 a=label (the focus labels each per-publisher video line with the publisher's id). */
  readonly label?: string;
  /** RFC 8285 a=extmap lines (sdp/extmap.ts). */
  readonly extmaps?: readonly Extmap[];
}

export interface OfferInit {
  /** `createOrigin()` for the first offer of a dialog, `nextVersion(previous origin)` afterwards. */
  readonly origin: Origin;
  /** Our media address, written as the session-level c=. */
  readonly address: string;
  readonly sessionName?: string;
  readonly media: readonly OfferedMedia[];
  /** The previous description of this session, when this offer modifies it (checked against RFC 3264 §8). */
  readonly previous?: SessionDescription;
}

/** Expands telephone-event to one entry per clock rate of the primary codecs (Linphone does the same). */
function expandEvents(type: string, codecs: readonly CodecSpec[]): CodecSpec[] {
  const rates = [...new Set(codecs.filter((c) => !isSecondary(c.encoding)).map((c) => c.clockRate))];
  return codecs.flatMap((c) => {
    if (!isTelephoneEvent(c.encoding) || rates.length === 0 || type.toLowerCase() !== 'audio') return [c];
    return rates.map((clockRate) => ({ ...c, clockRate }));
  });
}

/** RFC 3551 §6: static PTs where assigned, dynamic 96-127 for the rest, previous ones kept. */
function assignPayloadTypes(media: OfferedMedia, codecs: readonly CodecSpec[]): LocalFormat[] {
  const used = new Set<number>();
  const wanted = codecs.map((spec) => {
    const rtpmap = rtpmapOf(spec);
    const kept = media.payloadTypes?.find((p) => sameCodec(media.type, p.codec, rtpmap))?.pt;
    const pt = kept ?? staticPayloadTypeFor(media.type, rtpmap);
    if (pt !== undefined) {
      if (used.has(pt)) throw new TypeError(`createOffer: payload type ${pt} used twice on m=${media.type}`);
      used.add(pt);
    }
    return { spec, rtpmap, pt };
  });
  let next = FIRST_DYNAMIC_PT;
  return wanted.map(({ spec, rtpmap, pt }) => {
    let chosen = pt;
    if (chosen === undefined) {
      while (used.has(next)) next++;
      if (next > LAST_DYNAMIC_PT) throw new TypeError(`createOffer: more than 32 dynamic payload types on m=${media.type}`);
      chosen = next;
      used.add(chosen);
    }
    return { pt: chosen, rtpmap, fmtp: spec.fmtp, rtcpFb: spec.rtcpFb ?? [] };
  });
}

/**
 * Builds an offer. Throws TypeError on API misuse (a port out of range, no codecs on a live stream, fewer or
 * retyped m= lines than `previous`).
 */
export function createOffer(init: OfferInit): SessionDescription {
  const previous = init.previous?.media ?? [];
  // RFC 3264 §8: streams are matched by position, so a new offer keeps every previous m= line (a removed
  // stream stays as port 0) and adds new ones at the end; §8.3.3 swaps a stream's type only in a new m= line.
  if (init.media.length < previous.length) {
    throw new TypeError(`createOffer: ${init.media.length} m= lines but the previous description had ${previous.length}`);
  }
  const media = init.media.map((m, i) => {
    if (!Number.isInteger(m.port) || m.port < 0 || m.port > 65535) throw new TypeError(`createOffer: bad port ${m.port}`);
    const before = previous[i];
    if (before !== undefined && before.type.toLowerCase() !== m.type.toLowerCase()) {
      throw new TypeError(`createOffer: m= line ${i + 1} was ${before.type}, cannot become ${m.type}`);
    }
    const proto = m.proto ?? 'RTP/AVP';
    const codecs = expandEvents(m.type, m.codecs);
    if (codecs.length === 0) throw new TypeError(`createOffer: m=${m.type} needs at least one codec`);
    const formats = assignPayloadTypes(m, codecs);
    if (m.port === 0) return disabledMedia({ type: m.type, proto, formats: formats.map((f) => String(f.pt)), mid: m.mid });
    return localMedia({
      type: m.type,
      port: m.port,
      proto,
      formats,
      direction: m.direction ?? 'sendrecv',
      rtcpMux: m.rtcpMux ?? false,
      ptime: m.ptime,
      bandwidth: m.bandwidth ?? [],
      mid: m.mid,
      label: m.label,
      extmaps: m.extmaps ?? [],
    });
  });
  return localSession({
    origin: init.origin,
    name: init.sessionName ?? '-',
    address: init.address,
    timing: init.previous?.timing ?? { start: 0, stop: 0 },
    media,
  });
}

interface Usable {
  readonly ours: PayloadFormat & { readonly rtpmap: Rtpmap };
  readonly theirs: PayloadFormat;
}

/**
 * The answered formats we can use, in the answer's order: offered PTs naming the same codec with compatible
 * parameters. RFC 3264 §6.1 lets an answer list formats we did not offer ("of course, it will not be able to
 * send them at this time, since it was not listed in the offer"): those are skipped, as are PTs the answer
 * maps to a different codec.
 */
function usableFormats(offered: MediaDescription, answered: MediaDescription): Usable[] {
  const out: Usable[] = [];
  for (const theirs of answered.payloads) {
    const ours = offered.payloads.find((p) => p.pt === theirs.pt);
    if (ours?.rtpmap === undefined) continue;
    const rtpmap = ours.rtpmap;
    if (theirs.rtpmap !== undefined && !sameCodec(offered.type, theirs.rtpmap, rtpmap)) continue;
    if (!fmtpCompatible(rtpmap.encoding, theirs.fmtp, ours.fmtp)) continue;
    out.push({ ours: { ...ours, rtpmap }, theirs });
  }
  return out;
}

function codecOf(u: Usable, offered: MediaDescription, answered: MediaDescription): NegotiatedCodec {
  const mine = rtcpFeedbackFor(offered, u.ours);
  const theirs = rtcpFeedbackFor(answered, u.theirs);
  return {
    pt: u.ours.pt,
    encoding: u.ours.rtpmap.encoding,
    clockRate: u.ours.rtpmap.clockRate,
    ...(u.ours.rtpmap.channels === undefined ? {} : { channels: u.ours.rtpmap.channels }),
    remoteFmtp: u.theirs.fmtp,
    localFmtp: u.ours.fmtp,
    rtcpFb: mine.filter((fb) => theirs.some((t) => sameFeedback(t, fb))),
  };
}

function processStream(offer: SessionDescription, answer: SessionDescription, i: number): Result<NegotiatedMedia> {
  const offered = offer.media[i] as MediaDescription;
  const answered = answer.media[i] as MediaDescription;
  const at = `m= line ${i + 1} (${offered.type})`;
  const rejected = (reason: string): Result<NegotiatedMedia> => ({ ok: true, value: { accepted: false, index: i, type: offered.type, reason } });
  // RFC 3264 §6.1: "The media type of the stream in the answer MUST match that of the offer."
  if (answered.type.toLowerCase() !== offered.type.toLowerCase()) {
    return { ok: false, error: `${at}: answered as ${answered.type}` };
  }
  if (offered.port === 0) {
    if (answered.port !== 0) return { ok: false, error: `${at}: disabled in the offer but answered with port ${answered.port}` };
    return rejected('disabled in our offer (port 0)');
  }
  // RFC 3264 §6: a rejected stream carries port 0.
  if (answered.port === 0) return rejected('rejected by the answerer (port 0)');
  const ourDirection = effectiveDirection(offer, offered);
  const theirDirection = effectiveDirection(answer, answered);
  if (!answerDirectionAllowed(ourDirection, theirDirection)) {
    return { ok: false, error: `${at}: ${theirDirection} is not a legal answer to ${ourDirection} (RFC 3264 §6.1)` };
  }

  const usable = usableFormats(offered, answered);
  const primary = usable.find((u) => !isSecondary(u.ours.rtpmap.encoding)) ?? usable.find((u) => isTelephoneEvent(u.ours.rtpmap.encoding));
  if (primary === undefined) return rejected('the answer lists none of the offered formats');
  const events = usable.filter((u) => isTelephoneEvent(u.ours.rtpmap.encoding));
  const event = events.find((u) => u.ours.rtpmap.clockRate === primary.ours.rtpmap.clockRate) ?? events[0];
  const rtcpMux = offered.rtcpMux && answered.rtcpMux;
  const transport = remoteTransport(answer, answered, rtcpMux);
  if (transport === undefined) return { ok: false, error: `${at}: no connection address in the answer` };
  const ordered = [primary, ...usable.filter((u) => u !== primary)];
  const codecs = ordered.map((u) => codecOf(u, offered, answered));
  // RFC 8285 §7 / RFC 6464: the id the answerer sends its levels under, and the one it reads ours under.
  const levelId = answeredAudioLevel(offered, answered);
  const sendLevelId = answeredToReceiveAudioLevel(offered, answered);
  return {
    ok: true,
    value: {
      accepted: true,
      index: i,
      type: offered.type,
      codec: codecs[0] as NegotiatedCodec,
      codecs,
      telephoneEvent: event === undefined ? undefined : codecs[ordered.indexOf(event)],
      direction: offererDirection(ourDirection, theirDirection),
      localPort: offered.port,
      remoteRtp: transport.rtp,
      remoteRtcp: transport.rtcp,
      rtcpMux,
      ptime: answered.ptime,
      remoteBandwidth: answered.bandwidth,
      ...(levelId !== undefined ? { audioLevelExtId: levelId } : {}),
      ...(sendLevelId !== undefined ? { sendAudioLevelExtId: sendLevelId } : {}),
    },
  };
}

/**
 * Checks an answer against our offer and gives what was agreed per m= line. An answer that breaks RFC 3264
 * (m= count or type, direction, an answered disabled stream) is an error; a stream rejected with port 0, or
 * answered with none of our formats, is a `RejectedMedia`.
 */
export function processAnswer(offer: SessionDescription, answer: SessionDescription): Result<readonly NegotiatedMedia[]> {
  // RFC 3264 §6: "The answer MUST contain exactly the same number of "m=" lines as the offer."
  if (answer.media.length !== offer.media.length) {
    return { ok: false, error: `answer has ${answer.media.length} m= lines, the offer ${offer.media.length}` };
  }
  const out: NegotiatedMedia[] = [];
  for (let i = 0; i < offer.media.length; i++) {
    const r = processStream(offer, answer, i);
    if (!r.ok) return r;
    out.push(r.value);
  }
  return { ok: true, value: out };
}
