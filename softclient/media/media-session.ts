/**
 * The client's side of the RFC 3264 offer/answer: the m= lines it offers (audio, and video when it has a video
 * line), the answers it applies, and the offers from the focus it answers (a focus re-INVITE).
 *
 * Lines are matched by position (RFC 3264 §6) and kept index-aligned: `lines[i]` is the stream of m= line i, or
 * undefined for a line we do not use (refused, or rejected/disabled since — it stays in later offers with port 0:
 * §8: "the offer MUST include all of the m= lines from the previous SDP", §8.2 a disabled stream is not revived).
 * A focus re-INVITE may add m= lines at the end (one video line per publisher, docs/focus.md "Several videos"):
 * `onAdded` decides whether one of our streams takes each.
 * RFC 3264 §8: a new offer keeps the origin with the version incremented by one (sdp/createOffer checks it).
 */
import {
  answerOffer,
  type AcceptedMedia,
  type CodecSpec,
  createOffer,
  createOrigin,
  type Direction,
  type MediaDescription,
  type NegotiatedMedia,
  nextVersion,
  type OfferedMedia,
  type Origin,
  parseSdp,
  processAnswer,
  type Rtpmap,
  SENDING_AUDIO_LEVEL,
  type SessionDescription,
  writeSdp,
} from '../../sdp/index.ts';

/** One of our streams, as the offer/answer sees it. */
export interface MediaLine {
  readonly kind: 'audio' | 'video';
  /** Our RTP port. */
  readonly port: number;
  /** In our order of preference. */
  readonly codecs: readonly CodecSpec[];
  /** What we want: sendrecv, or recvonly when the mic/camera is off. */
  direction: Direction;
  /** The stream was agreed (again): codec, remote address, direction; `remote` is the peer's m= line. */
  configure(media: AcceptedMedia, remote: MediaDescription | undefined): void;
  /** The stream was rejected (port 0) or dropped; the line is not used again. */
  disable(reason: string): void;
}

/** A line the focus added to the session (index ≥ our lines): the stream that takes it, or undefined (port 0). */
export type AddedLineHandler = (m: MediaDescription, index: number) => MediaLine | undefined | Promise<MediaLine | undefined>;

export type SdpResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** The codecs of one of our previous m= sections, to keep a disabled line's formats (§8.3.2: same PTs). */
function previousCodecs(m: MediaDescription): { codecs: CodecSpec[]; payloadTypes: Array<{ pt: number; codec: Rtpmap }> } {
  const withMap = m.payloads.filter((p) => p.rtpmap !== undefined);
  return {
    codecs: withMap.map((p) => ({ encoding: p.rtpmap!.encoding, clockRate: p.rtpmap!.clockRate, ...(p.rtpmap!.channels !== undefined ? { channels: p.rtpmap!.channels } : {}) })),
    payloadTypes: withMap.map((p) => ({ pt: p.pt, codec: p.rtpmap! })),
  };
}

export class MediaSession {
  private origin: Origin | undefined;
  private local: SessionDescription | undefined;
  private remote: SessionDescription | undefined;
  /** The offer we sent and have no answer for yet. */
  private pendingOffer: SessionDescription | undefined;
  /** Index-aligned with the m= lines of the session. */
  private readonly slots: Array<MediaLine | undefined>;
  /** Outcome of the last exchange, per m= line. */
  negotiated: readonly NegotiatedMedia[] = [];

  constructor(
    /** Our media address (c= line). */
    readonly address: string,
    lines: readonly MediaLine[],
    private readonly onAdded?: AddedLineHandler,
  ) {
    this.slots = [...lines];
  }

  /** Our streams, by m= line index (undefined: a line we do not use). */
  get lines(): ReadonlyArray<MediaLine | undefined> {
    return this.slots;
  }

  private nextOrigin(): Origin {
    this.origin = this.origin ? nextVersion(this.origin) : createOrigin(this.address);
    return this.origin;
  }

  private firstOfKind(kind: string): MediaLine | undefined {
    return this.slots.find((l) => l?.kind === kind);
  }

  /** Our offer (initial INVITE, or a re-INVITE after a direction change). */
  createOffer(): string {
    const count = Math.max(this.slots.length, this.local?.media.length ?? 0);
    const media: OfferedMedia[] = [];
    for (let i = 0; i < count; i++) {
      const line = this.slots[i];
      const before = this.local?.media[i];
      if (line) {
        // RFC 6464 / RFC 8285 §7: the audio line offers to send its levels (the focus's mixer skips quiet legs by them).
        const extmaps = line.kind === 'audio' ? [SENDING_AUDIO_LEVEL] : [];
        media.push({ type: line.kind, port: line.port, codecs: line.codecs, direction: line.direction, ptime: 20, extmaps });
      } else {
        const prev = before ? previousCodecs(before) : { codecs: [], payloadTypes: [] };
        const fallback = this.firstOfKind(before?.type.toLowerCase() ?? '')?.codecs ?? this.slots.find((l) => l)!.codecs;
        media.push({
          type: before?.type ?? 'audio',
          port: 0,
          ...(before ? { proto: before.proto } : {}),
          codecs: prev.codecs.length > 0 ? prev.codecs : fallback,
          ...(prev.codecs.length > 0 ? { payloadTypes: prev.payloadTypes } : {}),
        });
      }
    }
    const offer = createOffer({ origin: this.nextOrigin(), address: this.address, ...(this.local ? { previous: this.local } : {}), media });
    this.pendingOffer = offer;
    return writeSdp(offer);
  }

  get awaitingAnswer(): boolean {
    return this.pendingOffer !== undefined;
  }

  /** The answer to our offer: checked against it (RFC 3264 §6) and applied to the streams. */
  applyAnswer(text: string): SdpResult<readonly NegotiatedMedia[]> {
    const offer = this.pendingOffer;
    if (!offer) return { ok: false, error: 'an SDP answer arrived but no offer is outstanding' };
    const parsed = parseSdp(text);
    if (!parsed.ok) return { ok: false, error: `unreadable SDP answer: ${parsed.error}` };
    const r = processAnswer(offer, parsed.value);
    if (!r.ok) return { ok: false, error: r.error };
    this.pendingOffer = undefined;
    this.local = offer;
    this.remote = parsed.value;
    this.apply(r.value);
    return { ok: true, value: r.value };
  }

  /** Forget an offer that was refused (re-INVITE answered 4xx/491: the previous session stays, RFC 3261 §14.1). */
  rollback(): void {
    this.pendingOffer = undefined;
  }

  /** Answer an offer from the focus (RFC 3264 §6): our lines by position, new lines through `onAdded`. */
  async answer(text: string): Promise<SdpResult<string>> {
    const parsed = parseSdp(text);
    if (!parsed.ok) return { ok: false, error: `unreadable SDP offer: ${parsed.error}` };
    const offer = parsed.value;
    for (let i = 0; i < offer.media.length; i++) {
      const m = offer.media[i]!;
      // A line beyond ours is new; so is a line we do not use that the offer enables again (RFC 3264 §8.1: a new
      // stream may reuse the m= line of a disabled one — the focus does so going back from peer-to-peer).
      if (i < this.slots.length && (this.slots[i] !== undefined || m.port === 0)) continue;
      this.slots[i] = m.port !== 0 && this.onAdded ? await this.onAdded(m, i) : undefined;
    }
    const audio = this.firstOfKind('audio');
    const video = this.firstOfKind('video');
    const origin = this.nextOrigin();
    const usable = (m: MediaDescription, i: number): MediaLine | undefined => {
      const line = this.slots[i];
      return line && line.kind === m.type.toLowerCase() ? line : undefined;
    };
    // Lines with a codec list of their own (a receive-only publisher line that also takes H.264) are answered in
    // a pass of their own and spliced in: answerOffer() has one policy per media type, RFC 3264 §6 is per m= line.
    const own = (m: MediaDescription, i: number): boolean => {
      const line = usable(m, i);
      return line !== undefined && line.codecs !== this.firstOfKind(line.kind)?.codecs;
    };
    const r = answerOffer(offer, {
      origin,
      address: this.address,
      ports: offer.media.map((m, i) => (own(m, i) ? undefined : usable(m, i)?.port)),
      media: {
        ...(audio ? { audio: { codecs: audio.codecs, direction: audio.direction } } : {}),
        ...(video ? { video: { codecs: video.codecs, direction: video.direction } } : {}),
      },
      rtcpMux: false,
      // The focus's offers read levels (a=extmap:N/recvonly): our answer sends them (RFC 8285 §7, sdp/extmap.ts).
      sendAudioLevel: true,
    });
    const media: NegotiatedMedia[] = r.ok ? [...r.media] : [];
    let answer = r.ok ? r.answer : undefined;
    let failure = r.ok ? undefined : r.reason;
    offer.media.forEach((m, i) => {
      if (!own(m, i)) return;
      const line = usable(m, i)!;
      const one = answerOffer(offer, {
        origin,
        address: this.address,
        ports: offer.media.map((_, j) => (j === i ? line.port : undefined)),
        media: { [line.kind]: { codecs: line.codecs, direction: line.direction } },
        rtcpMux: false,
        sendAudioLevel: true,
      });
      if (!one.ok) {
        if (media[i]) media[i] = { accepted: false, index: i, type: m.type, reason: one.reason };
        return;
      }
      // This line is accepted: the main pass's 488 (nothing else usable) no longer stands.
      answer ??= one.answer;
      if (media.length === 0) media.push(...one.media);
      failure = undefined;
      answer = { ...answer, media: answer.media.map((x, j) => (j === i ? one.answer.media[i]! : x)) };
      media[i] = one.media[i]!;
    });
    if (failure !== undefined || !answer) return { ok: false, error: failure ?? 'no acceptable media' };
    this.local = answer;
    this.remote = offer;
    this.apply(media);
    return { ok: true, value: writeSdp(answer) };
  }

  private apply(media: readonly NegotiatedMedia[]): void {
    this.negotiated = media;
    this.slots.forEach((line, i) => {
      if (!line) return;
      const m = media[i];
      if (m?.accepted) {
        line.configure(m, this.remote?.media[i]);
        return;
      }
      line.disable(m ? m.reason : 'not in the description');
      this.slots[i] = undefined;
    });
  }

  get remoteDescription(): SessionDescription | undefined {
    return this.remote;
  }
}
