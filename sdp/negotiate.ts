/**
 * answerOffer(): RFC 3264 §6 answerer. Given a parsed offer and our policy, builds the answer and says, per
 * m= line, what was agreed — or 488 when nothing can be.
 *
 * RFC 3264 §6: "For each "m=" line in the offer, there MUST be a corresponding "m=" line in the answer. The
 * answer MUST contain exactly the same number of "m=" lines as the offer. This allows for streams to be
 * matched up based on their order. This implies that if the offer contained zero "m=" lines, the answer MUST
 * contain zero "m=" lines."
 */
import {
  answerFmtp,
  type CodecSpec,
  DEFAULT_CODECS,
  fmtpCompatible,
  isSecondary,
  isTelephoneEvent,
  sameCodec,
} from './codecs.ts';
import { answerDirection } from './direction.ts';
import { answerAudioLevelFor } from './extmap.ts';
import { disabledMedia, type LocalFormat, localMedia, localSession } from './describe.ts';
import type {
  Bandwidth,
  Direction,
  MediaDescription,
  Origin,
  PayloadFormat,
  Rtpmap,
  SessionDescription,
} from './model.ts';
import { effectiveConnection, effectiveDirection, isRtpProto, rtcpFeedbackFor, sameFeedback } from './model.ts';
import { type AcceptedMedia, isMulticast, type NegotiatedCodec, type NegotiatedMedia, remoteTransport } from './negotiated.ts';

/** What we accept and ask for on one media type. */
export interface MediaPolicy {
  /** Codecs we support, in our order of preference (used when we offer; an answer follows the offer's order). */
  readonly codecs: readonly CodecSpec[];
  /** Our direction for a sendrecv offer (default sendrecv); other offers are mirrored (direction.ts). */
  readonly direction?: Direction;
  /** a=ptime we want to receive; when unset the offer's ptime is echoed. */
  readonly ptime?: number;
  /** b= lines for our streams of this type (e.g. AS or TIAS). */
  readonly bandwidth?: readonly Bandwidth[];
}

/** sipmeet's defaults: audio opus, PCMU, PCMA, G722, telephone-event; video VP8, H264. */
export const DEFAULT_MEDIA_POLICY: Readonly<Record<string, MediaPolicy>> = {
  audio: { codecs: DEFAULT_CODECS.audio },
  video: { codecs: DEFAULT_CODECS.video },
};

/** Gives the RTP port for an accepted stream (called in m= order, only for accepted ones); undefined = none. */
export type PortAllocator = (stream: { readonly index: number; readonly type: string }) => number | undefined;

export interface AnswerPolicy {
  /** The o= to write: `createOrigin()` for a dialog's first description, `nextVersion()` for later ones. */
  readonly origin: Origin;
  /** Our media address (the relay's), written as the session-level c=. */
  readonly address: string;
  /** RTP port per m= line index, or an allocator. */
  readonly ports: readonly (number | undefined)[] | PortAllocator;
  /** Policy by media type (lowercase); a type without one is rejected. Default DEFAULT_MEDIA_POLICY. */
  readonly media?: Readonly<Record<string, MediaPolicy>>;
  /** s= (default "-"). */
  readonly sessionName?: string;
  /** Accept RFC 5761 rtcp-mux when offered (default true). */
  readonly rtcpMux?: boolean;
  /** Answer with every common codec rather than only the one that will be used (default false). */
  readonly answerAllCommonCodecs?: boolean;
  /**
   * Send RFC 6464 audio levels when the offer's audio line reads them (RFC 8285 §7; the rule is in sdp/extmap.ts):
   * the answer's extmap then says so and AcceptedMedia.sendAudioLevelExtId is set. Default false (the focus only
   * reads levels).
   */
  readonly sendAudioLevel?: boolean;
}

export type AnswerResult =
  | { readonly ok: true; readonly answer: SessionDescription; readonly media: readonly NegotiatedMedia[] }
  | { readonly ok: false; readonly status: 488; readonly reason: string };

/** RFC 3551 RTP/AVP and RFC 4585 RTP/AVPF over UDP: the profiles we speak. */
function acceptsProto(proto: string): string | undefined {
  const p = proto.toUpperCase();
  if (p === 'RTP/AVP' || p === 'RTP/AVPF') return undefined;
  // RFC 3711 SRTP profiles (RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVPF): no SRTP here.
  if (/SAVP/.test(p)) return `SRTP (${proto}) not supported`;
  return isRtpProto(proto) ? `transport ${proto} not supported` : `non-RTP transport ${proto} not supported`;
}

function describe(p: PayloadFormat): string {
  return p.rtpmap === undefined ? `PT ${p.pt} without rtpmap` : `${p.rtpmap.encoding}/${p.rtpmap.clockRate}`;
}

/** RFC 7587 §7: opus is always written opus/48000/2. */
function answerRtpmap(r: Rtpmap): Rtpmap {
  return r.encoding.toLowerCase() === 'opus' ? { ...r, channels: 2 } : r;
}

interface Match {
  readonly offered: PayloadFormat & { readonly rtpmap: Rtpmap };
  readonly spec: CodecSpec;
}

/** The offered formats we support, in the offer's order, each with our matching codec spec. */
function commonFormats(media: MediaDescription, codecs: readonly CodecSpec[]): Match[] {
  const out: Match[] = [];
  for (const offered of media.payloads) {
    const rtpmap = offered.rtpmap;
    if (rtpmap === undefined) continue; // RFC 3264 §6.1: a dynamic PT without rtpmap names no codec.
    const spec = codecs.find(
      (c) =>
        (isTelephoneEvent(c.encoding) && isTelephoneEvent(rtpmap.encoding)) ||
        (sameCodec(media.type, rtpmap, c) && fmtpCompatible(c.encoding, offered.fmtp, c.fmtp)),
    );
    if (spec !== undefined) out.push({ offered: { ...offered, rtpmap }, spec });
  }
  return out;
}

/**
 * RFC 4733 §2.1 lets telephone-event have any clock rate; its timestamps run with the audio codec's, so we
 * answer the offered telephone-event at the chosen codec's rate, else (as baresip does with opus) the
 * 8000 Hz one, else none.
 */
function pickTelephoneEvent(common: readonly Match[], clockRate: number): Match | undefined {
  const events = common.filter((m) => isTelephoneEvent(m.offered.rtpmap.encoding));
  return events.find((m) => m.offered.rtpmap.clockRate === clockRate) ?? events.find((m) => m.offered.rtpmap.clockRate === 8000);
}

function negotiatedCodec(m: Match, media: MediaDescription): NegotiatedCodec {
  const ours = m.spec.rtcpFb ?? [];
  const theirs = rtcpFeedbackFor(media, m.offered);
  const rtpmap = answerRtpmap(m.offered.rtpmap);
  return {
    pt: m.offered.pt,
    encoding: rtpmap.encoding,
    clockRate: rtpmap.clockRate,
    ...(rtpmap.channels === undefined ? {} : { channels: rtpmap.channels }),
    remoteFmtp: m.offered.fmtp,
    localFmtp: answerFmtp(m.spec.encoding, m.offered.fmtp, m.spec.fmtp),
    // RFC 4585 §4.2: each side lists the feedback it wants; we keep what both list.
    rtcpFb: ours.filter((fb) => theirs.some((t) => sameFeedback(t, fb))),
  };
}

function portFor(policy: AnswerPolicy, index: number, type: string): number | undefined {
  const port = typeof policy.ports === 'function' ? policy.ports({ index, type }) : policy.ports[index];
  return port !== undefined && Number.isInteger(port) && port > 0 && port <= 65535 ? port : undefined;
}

type StreamOutcome = { readonly media: MediaDescription; readonly result: NegotiatedMedia };

function reject(offered: MediaDescription, index: number, reason: string): StreamOutcome {
  return {
    media: disabledMedia(offered),
    result: { accepted: false, index, type: offered.type, reason },
  };
}

function answerStream(offer: SessionDescription, offered: MediaDescription, index: number, policy: AnswerPolicy): StreamOutcome {
  // RFC 3264 §5.1: "A port number of zero in the offer indicates that the stream is offered but MUST NOT be
  // used." The answer keeps it at zero.
  if (offered.port === 0) return reject(offered, index, 'disabled in the offer (port 0)');
  const mediaPolicy = (policy.media ?? DEFAULT_MEDIA_POLICY)[offered.type.toLowerCase()];
  if (mediaPolicy === undefined) return reject(offered, index, `media type ${offered.type} not supported`);
  const protoProblem = acceptsProto(offered.proto);
  if (protoProblem !== undefined) return reject(offered, index, protoProblem);
  const connection = effectiveConnection(offer, offered);
  // Deviation: RFC 3264 §6.2 multicast streams are not supported; refused like any other stream.
  if (connection !== undefined && isMulticast(connection.address)) return reject(offered, index, 'multicast not supported');

  const common = commonFormats(offered, mediaPolicy.codecs);
  const primaries = common.filter((m) => !isSecondary(m.offered.rtpmap.encoding));
  // An offer of named events alone (RFC 4317 §2.4's second audio stream) is answered with them.
  const eventsOnly = primaries.length === 0 && offered.payloads.every((p) => p.rtpmap !== undefined && isTelephoneEvent(p.rtpmap.encoding));
  const first = primaries[0] ?? (eventsOnly ? common[0] : undefined);
  if (first === undefined) {
    return reject(offered, index, `no common codec (offered ${offered.payloads.map(describe).join(', ') || offered.formats.join(' ')})`);
  }
  const event = eventsOnly ? first : pickTelephoneEvent(common, first.offered.rtpmap.clockRate);
  // RFC 5761 §5.1.1: rtcp-mux in an answer only when the offer has it; then RTCP goes to the RTP port.
  const rtcpMux = offered.rtcpMux && policy.rtcpMux !== false;
  // parseSdp() guarantees a c= for every stream; a hand-built offer might lack one.
  const transport = remoteTransport(offer, offered, rtcpMux);
  if (transport === undefined) return reject(offered, index, 'no connection address');
  // Last, so that a port is only taken for a stream that is accepted.
  const port = portFor(policy, index, offered.type);
  if (port === undefined) return reject(offered, index, 'no local port available');

  // RFC 3264 §6.1: "Although the answerer MAY list the formats in their desired order of preference, it is
  // RECOMMENDED that unless there is a specific reason, the answerer list formats in the same relative order
  // they were present in the offer." The first common one is the one that will be used.
  // The chosen codec leads even when the offer lists a secondary format (telephone-event, CN) before it: an
  // offerer sends with the first format of the answer it can use (RFC 3264 §7), which must be the codec.
  const extra = policy.answerAllCommonCodecs === true ? primaries.slice(1) : [];
  const ordered = [first, ...common.filter((m) => m !== first && (m === event || extra.includes(m)))];
  const codecs = ordered.map((m) => negotiatedCodec(m, offered));
  const codec = codecs[0] as NegotiatedCodec;

  const direction = answerDirection(effectiveDirection(offer, offered), mediaPolicy.direction ?? 'sendrecv');

  const formats: LocalFormat[] = codecs.map((c) => ({
    pt: c.pt,
    rtpmap: c.channels === undefined ? { encoding: c.encoding, clockRate: c.clockRate } : { encoding: c.encoding, clockRate: c.clockRate, channels: c.channels },
    fmtp: c.localFmtp,
    rtcpFb: c.rtcpFb,
  }));
  // RFC 8285 §7 / RFC 6464: levels from an audio participant that offers them (the mixer skips quiet legs by them),
  // and ours to an offerer that reads them when the policy sends them (sdp/extmap.ts has the direction table).
  const level = answerAudioLevelFor(offered, policy.sendAudioLevel === true);
  const accepted: AcceptedMedia = {
    accepted: true,
    index,
    type: offered.type,
    codec,
    codecs,
    telephoneEvent: event === undefined ? undefined : codecs[ordered.indexOf(event)],
    direction,
    localPort: port,
    remoteRtp: transport.rtp,
    remoteRtcp: transport.rtcp,
    rtcpMux,
    ptime: offered.ptime,
    remoteBandwidth: offered.bandwidth,
    ...(level.receiveId !== undefined ? { audioLevelExtId: level.receiveId } : {}),
    ...(level.sendId !== undefined ? { sendAudioLevelExtId: level.sendId } : {}),
  };
  return {
    media: localMedia({
      type: offered.type,
      port,
      proto: offered.proto,
      formats,
      direction,
      rtcpMux,
      // RFC 3264 §6.1: "The answerer MAY include a non-zero ptime attribute for any media stream"; we echo the
      // offer's unless our policy names one.
      ptime: mediaPolicy.ptime ?? offered.ptime,
      bandwidth: mediaPolicy.bandwidth ?? [],
      // RFC 5888 §9.1: the answer keeps each offered a=mid.
      mid: offered.mid,
      extmaps: level.extmap ? [level.extmap] : [],
    }),
    result: accepted,
  };
}

/**
 * RFC 3264 §6 answer to `offer`. `{ ok: false, status: 488 }` when the offer had streams to use and we can
 * use none of them (RFC 3261 §21.4.26 488 Not Acceptable Here); `reason` names each stream's
 * problem. An offer whose streams are all disabled (port 0) is answered, with all ports 0.
 */
export function answerOffer(offer: SessionDescription, policy: AnswerPolicy): AnswerResult {
  const outcomes = offer.media.map((m, i) => answerStream(offer, m, i, policy));
  const results = outcomes.map((o) => o.result);
  const live = offer.media.some((m) => m.port !== 0);
  if (live && !results.some((r) => r.accepted)) {
    const why = results.map((r) => (r.accepted ? '' : `${r.type}: ${r.reason}`)).join('; ');
    return { ok: false, status: 488, reason: `no acceptable media (${why})` };
  }
  const answer = localSession({
    origin: policy.origin,
    name: policy.sessionName ?? '-',
    address: policy.address,
    // RFC 3264 §6: "The "t=" line in the answer MUST equal that of the offer."
    timing: offer.timing,
    media: outcomes.map((o) => o.media),
  });
  return { ok: true, answer, media: results };
}
