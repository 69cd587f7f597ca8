/**
 * The client's side of the RFC 3264 offer/answer: the m= lines it offers (audio, and video when it has a video
 * line), the answers it applies, and the offers from the focus it answers (a focus re-INVITE).
 *
 * RFC 3264 §8: a new offer within the dialog keeps every m= line of the previous description, in the same order,
 * and the same origin with the version incremented by one (sdp/createOffer checks both). Lines are matched to our
 * streams by position.
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
  type Origin,
  parseSdp,
  processAnswer,
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
  /** The stream was rejected (port 0) or dropped. */
  disable(reason: string): void;
}

export type SdpResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export class MediaSession {
  private origin: Origin | undefined;
  private local: SessionDescription | undefined;
  private remote: SessionDescription | undefined;
  /** The offer we sent and have no answer for yet. */
  private pendingOffer: SessionDescription | undefined;
  /** Outcome of the last exchange, per m= line. */
  negotiated: readonly NegotiatedMedia[] = [];

  constructor(
    /** Our media address (c= line). */
    readonly address: string,
    readonly lines: readonly MediaLine[],
  ) {}

  private nextOrigin(): Origin {
    this.origin = this.origin ? nextVersion(this.origin) : createOrigin(this.address);
    return this.origin;
  }

  /** Our offer (initial INVITE, or a re-INVITE after a direction change). */
  createOffer(): string {
    const offer = createOffer({
      origin: this.nextOrigin(),
      address: this.address,
      ...(this.local ? { previous: this.local } : {}),
      media: [
        ...this.lines.map((l) => ({ type: l.kind, port: l.port, codecs: l.codecs, direction: l.direction, ptime: 20 })),
        // RFC 3264 §8: "the offer MUST include all of the m= lines from the previous SDP" — lines the focus added
        // that we do not use stay, disabled (port 0).
        ...(this.local?.media.slice(this.lines.length) ?? []).map((m) => ({
          type: m.type,
          port: 0,
          proto: m.proto,
          codecs: (this.lines.find((l) => l.kind === m.type.toLowerCase()) ?? this.lines[0]!).codecs,
        })),
      ],
    });
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

  /** Answer an offer from the focus (RFC 3264 §6); our lines are matched by position, extra lines rejected. */
  answer(text: string): SdpResult<string> {
    const parsed = parseSdp(text);
    if (!parsed.ok) return { ok: false, error: `unreadable SDP offer: ${parsed.error}` };
    const offer = parsed.value;
    const r = answerOffer(offer, {
      origin: this.nextOrigin(),
      address: this.address,
      ports: offer.media.map((m, i) => {
        const line = this.lines[i];
        return line && line.kind === m.type.toLowerCase() ? line.port : undefined;
      }),
      media: {
        audio: { codecs: this.lines.find((l) => l.kind === 'audio')?.codecs ?? [], direction: this.lines.find((l) => l.kind === 'audio')?.direction ?? 'sendrecv' },
        video: { codecs: this.lines.find((l) => l.kind === 'video')?.codecs ?? [], direction: this.lines.find((l) => l.kind === 'video')?.direction ?? 'sendrecv' },
      },
      rtcpMux: false,
    });
    if (!r.ok) return { ok: false, error: r.reason };
    this.local = r.answer;
    this.remote = offer;
    this.apply(r.media);
    return { ok: true, value: writeSdp(r.answer) };
  }

  private apply(media: readonly NegotiatedMedia[]): void {
    this.negotiated = media;
    this.lines.forEach((line, i) => {
      const m = media[i];
      if (m === undefined) line.disable('not in the description');
      else if (m.accepted) line.configure(m, this.remote?.media[i]);
      else line.disable(m.reason);
    });
  }

  get remoteDescription(): SessionDescription | undefined {
    return this.remote;
  }
}
