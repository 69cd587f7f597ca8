/**
 * SDP offer/answer for one participant, through the media relay (client-server mode).
 *
 * The participant offers (RFC 3264 §6); the focus answers with the relay's address and one relay endpoint per
 * accepted m= line, and tells the relay the participant's side (`setRemote`). A re-offer in the same dialog
 * (re-INVITE/UPDATE: mic or camera off, codec change, new address, §8) reuses the endpoints of lines that stay
 * and releases those that go.
 */
import type { CodecSpec as RelayCodec, Direction, MediaKind, MediaRelayApi, RemoteDescription } from '../../media-relay/api.ts';
import { RelayError } from '../../media-relay/api.ts';
import {
  answerOffer,
  type AcceptedMedia,
  createOffer,
  createOrigin,
  DEFAULT_CODECS,
  disabledMedia,
  G722,
  type MediaPolicy,
  type NegotiatedCodec,
  type NegotiatedMedia,
  nextVersion,
  OFFERED_AUDIO_LEVEL,
  OPUS,
  type Origin,
  parseSdp,
  PCMA,
  PCMU,
  processAnswer,
  type SessionDescription,
  TELEPHONE_EVENT,
  writeSdp,
} from '../../sdp/index.ts';
import type { MediaLine } from './participant.ts';

/** What the focus accepts: Opus, G.711 µ/A-law, G.722 and DTMF for audio; VP8 and H.264 for video. */
export const FOCUS_MEDIA_POLICY: Readonly<Record<string, MediaPolicy>> = {
  audio: { codecs: [OPUS, PCMU, PCMA, G722, TELEPHONE_EVENT] },
  video: { codecs: DEFAULT_CODECS.video },
};

export type NegotiationResult =
  | { ok: true; answer: SessionDescription; answerText: string; origin: Origin; lines: MediaLine[]; offer: SessionDescription }
  | { ok: false; status: 488 | 503 | 500; reason: string };

export interface NegotiationInput {
  relay: MediaRelayApi;
  meetingId: string;
  participantId: string;
  /** The relay's media address (written as c=). */
  mediaAddress: string;
  offerBody: Buffer;
  /** The lines and origin of the previous exchange in this dialog (re-offer). */
  previous?: { origin: Origin; lines: readonly MediaLine[] };
}

/** The participant's direction is the mirror of ours (RFC 3264 §6.1). */
export function mirror(d: Direction): Direction {
  return d === 'sendonly' ? 'recvonly' : d === 'recvonly' ? 'sendonly' : d;
}

export function toRelayCodec(c: NegotiatedCodec): RelayCodec {
  return {
    payloadType: c.pt,
    name: c.encoding.toLowerCase(),
    clockRate: c.clockRate,
    ...(c.channels !== undefined ? { channels: c.channels } : {}),
    ...(c.remoteFmtp !== undefined ? { fmtp: c.remoteFmtp } : {}),
  };
}

export async function negotiateOffer(input: NegotiationInput): Promise<NegotiationResult> {
  const parsed = parseSdp(input.offerBody);
  if (!parsed.ok) return { ok: false, status: 488, reason: `Not Acceptable Here - bad SDP: ${parsed.error}` };
  const offer = parsed.value;
  const origin = input.previous ? nextVersion(input.previous.origin) : createOrigin(input.mediaAddress, { username: 'sipmeet' });
  const policy = { origin, address: input.mediaAddress, media: FOCUS_MEDIA_POLICY, rtcpMux: true };
  // Pass 1: which lines can be accepted (ports are placeholders).
  const dry = answerOffer(offer, { ...policy, ports: () => 9 });
  if (!dry.ok) return { ok: false, status: 488, reason: `Not Acceptable Here - ${dry.reason}` };

  // Allocate (or keep) one relay endpoint per accepted line.
  const prevByIndex = new Map((input.previous?.lines ?? []).map((l) => [l.index, l]));
  const ports: Array<number | undefined> = [];
  const rtcpPorts: Array<number | undefined> = [];
  const endpoints = new Map<number, { endpointId: string; fresh: boolean }>();
  try {
    for (const m of dry.media) {
      if (!m.accepted) continue;
      const prev = prevByIndex.get(m.index);
      if (prev?.endpointId && prev.kind === m.type) {
        endpoints.set(m.index, { endpointId: prev.endpointId, fresh: false });
        ports[m.index] = prev.rtpPort;
        rtcpPorts[m.index] = prev.rtcpPort;
        continue;
      }
      const alloc = await input.relay.allocateEndpoint({
        meetingId: input.meetingId,
        participantId: input.participantId,
        kind: m.type as MediaKind,
        rtcpMux: m.rtcpMux,
      });
      endpoints.set(m.index, { endpointId: alloc.endpointId, fresh: true });
      ports[m.index] = alloc.rtpPort;
      rtcpPorts[m.index] = alloc.rtcpPort;
    }
  } catch (err) {
    await releaseFresh(input.relay, endpoints);
    if (err instanceof RelayError && err.code === 'no-ports') return { ok: false, status: 503, reason: 'Service Unavailable - no media ports left' };
    return { ok: false, status: 500, reason: `Server Internal Error - media relay: ${(err as Error).message}` };
  }
  const final = answerOffer(offer, { ...policy, ports });
  if (!final.ok) {
    await releaseFresh(input.relay, endpoints);
    return { ok: false, status: 488, reason: `Not Acceptable Here - ${final.reason}` };
  }
  const lines: MediaLine[] = [];
  try {
    for (const m of final.media) {
      const label = offer.media[m.index]?.label ?? offer.media[m.index]?.mid;
      if (!m.accepted) {
        lines.push({ index: m.index, kind: m.type, label, endpointId: undefined, rtpPort: undefined, codec: undefined, direction: 'inactive' });
        continue;
      }
      const ep = endpoints.get(m.index)!;
      const direction = mirror(m.direction);
      await input.relay.setRemote(ep.endpointId, remoteOf(m, direction));
      const subscribeTo = prevByIndex.get(m.index)?.subscribeTo;
      lines.push({
        index: m.index,
        kind: m.type,
        label,
        endpointId: ep.endpointId,
        rtpPort: ports[m.index],
        rtcpPort: rtcpPorts[m.index],
        codec: m.codec.encoding,
        direction,
        ...(subscribeTo !== undefined && !ep.fresh ? { subscribeTo } : {}),
      });
    }
  } catch (err) {
    await releaseFresh(input.relay, endpoints);
    return { ok: false, status: 500, reason: `Server Internal Error - media relay: ${(err as Error).message}` };
  }
  // Lines that were accepted before and are gone or rejected now: free their endpoints.
  for (const prev of input.previous?.lines ?? []) {
    if (prev.endpointId && endpoints.get(prev.index)?.endpointId !== prev.endpointId) {
      await input.relay.releaseEndpoint(prev.endpointId).catch(() => undefined);
    }
  }
  return { ok: true, answer: final.answer, answerText: writeSdp(final.answer), origin, lines, offer };
}

/** What the relay needs to know of the participant's side of an accepted line. */
export function remoteOf(m: AcceptedMedia, direction: Direction): RemoteDescription {
  return {
    address: m.remoteRtp.address,
    rtpPort: m.remoteRtp.port,
    rtcpPort: m.remoteRtcp.port,
    rtcpMux: m.rtcpMux,
    codecs: m.codecs.map(toRelayCodec),
    ...(m.telephoneEvent ? { telephoneEvent: toRelayCodec(m.telephoneEvent) } : {}),
    direction,
    ...(m.ptime !== undefined ? { ptimeMs: m.ptime } : {}),
    ...(m.audioLevelExtId !== undefined ? { audioLevelExtId: m.audioLevelExtId } : {}),
  };
}

async function releaseFresh(relay: MediaRelayApi, endpoints: Map<number, { endpointId: string; fresh: boolean }>): Promise<void> {
  for (const ep of endpoints.values()) if (ep.fresh) await relay.releaseEndpoint(ep.endpointId).catch(() => undefined);
}

/**
 * After an exchange where the focus offered (RFC 3264 §7): tell the relay the participant's side of every accepted
 * line that has an endpoint, and record the participant's direction on the line.
 */
export async function applyAgreed(relay: MediaRelayApi, lines: readonly MediaLine[], agreed: readonly NegotiatedMedia[]): Promise<void> {
  for (const m of agreed) {
    const line = lines.find((l) => l.index === m.index);
    if (!m.accepted || !line?.endpointId) continue;
    line.direction = mirror(m.direction);
    await relay.setRemote(line.endpointId, remoteOf(m, line.direction));
  }
}

export type LateOfferResult =
  | { ok: true; offer: SessionDescription; offerText: string; origin: Origin; lines: MediaLine[] }
  | { ok: false; status: 503 | 500; reason: string };

/**
 * RFC 3261 §13.2.1 / RFC 3264 §4: an INVITE without an offer ("late offer"). The focus offers in its 2xx — one
 * audio line (Opus, PCMU, PCMA, G.722, telephone-event) and one video line (VP8, H.264), each on a fresh relay
 * endpoint — and the answer must come in the ACK (`settleLateAnswer`). RTCP on the next port (RFC 3550 §11): no
 * rtcp-mux offered, since phones that send offer-less INVITEs are rarely RFC 5761 ones.
 */
export async function createLateOffer(input: Omit<NegotiationInput, 'offerBody' | 'previous'>): Promise<LateOfferResult> {
  const origin = createOrigin(input.mediaAddress, { username: 'sipmeet' });
  const endpoints = new Map<number, { endpointId: string; fresh: boolean }>();
  const lines: MediaLine[] = [];
  const kinds: MediaKind[] = ['audio', 'video'];
  try {
    for (const [index, kind] of kinds.entries()) {
      const alloc = await input.relay.allocateEndpoint({ meetingId: input.meetingId, participantId: input.participantId, kind, rtcpMux: false });
      endpoints.set(index, { endpointId: alloc.endpointId, fresh: true });
      lines.push({ index, kind, label: undefined, endpointId: alloc.endpointId, rtpPort: alloc.rtpPort, rtcpPort: alloc.rtcpPort, codec: undefined, direction: 'sendrecv' });
    }
  } catch (err) {
    await releaseFresh(input.relay, endpoints);
    if (err instanceof RelayError && err.code === 'no-ports') return { ok: false, status: 503, reason: 'Service Unavailable - no media ports left' };
    return { ok: false, status: 500, reason: `Server Internal Error - media relay: ${(err as Error).message}` };
  }
  const offer = createOffer({
    origin,
    address: input.mediaAddress,
    // RFC 6464 levels asked for on the audio line: the mixer skips decoding the participant while it is quiet.
    media: lines.map((l) => ({ type: l.kind, port: l.rtpPort!, codecs: FOCUS_MEDIA_POLICY[l.kind]!.codecs, extmaps: l.kind === 'audio' ? [OFFERED_AUDIO_LEVEL] : [] })),
  });
  return { ok: true, offer, offerText: writeSdp(offer), origin, lines };
}

/**
 * The answer to a late offer, from the ACK (RFC 3264 §6, checked by processAnswer): the relay learns the
 * participant's side of each accepted line; a line the answer rejects (port 0) loses its endpoint and stays in our
 * description as a disabled m= line (RFC 3264 §8: m= lines are never removed). Returns the reason when there is no
 * usable answer — the caller ends the dialog (RFC 3261 §13.2.1: the answer MUST be in the ACK).
 */
export async function settleLateAnswer(
  relay: MediaRelayApi,
  p: { lines: MediaLine[]; localSdp: SessionDescription | undefined; remoteSdp: SessionDescription | undefined },
  body: Buffer,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (body.length === 0) return { ok: false, reason: 'the ACK carried no SDP answer to our offer' };
  const answer = parseSdp(body);
  if (!answer.ok) return { ok: false, reason: `bad SDP in the ACK: ${answer.error}` };
  const offer = p.localSdp;
  if (!offer) return { ok: false, reason: 'no offer of ours to answer' };
  const agreed = processAnswer(offer, answer.value);
  if (!agreed.ok) return { ok: false, reason: agreed.error };
  if (!agreed.value.some((m) => m.accepted && m.type === 'audio')) return { ok: false, reason: 'the answer rejected audio' };
  const media = [...offer.media];
  for (const m of agreed.value) {
    const line = p.lines.find((l) => l.index === m.index);
    if (!line) continue;
    if (m.accepted) {
      line.codec = m.codec.encoding;
      continue;
    }
    if (line.endpointId) await relay.releaseEndpoint(line.endpointId).catch(() => undefined);
    Object.assign(line, { endpointId: undefined, rtpPort: undefined, rtcpPort: undefined, codec: undefined, direction: 'inactive' });
    const was = media[m.index]!;
    media[m.index] = disabledMedia({ type: was.type, proto: was.proto, formats: was.formats, payloads: was.payloads, mid: was.mid });
  }
  p.localSdp = { ...offer, media };
  p.remoteSdp = answer.value;
  await applyAgreed(relay, p.lines, agreed.value);
  return { ok: true };
}
