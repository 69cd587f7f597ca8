/**
 * One meeting the client is in: the INVITE dialog with the focus (RFC 3261 §13), its media, chat (RFC 3428
 * MESSAGE in the dialog), the roster subscription (RFC 4575 over RFC 6665) and the meeting commands.
 *
 *   prepare()        invite() 2xx + ACK            leave() / end()          BYE 200 (or 2 s)
 *   ───────▶ ready ──────────▶ inviting ─────▶ joined ─────────────▶ leaving ─────────────▶ closed
 *                                 │ 3xx-6xx        │ BYE from the focus, connection lost         ▲
 *                                 └────────────────┴─────────────────────────────────────────────┘
 *
 * Events: joined, media, roster, chat, notice, stats, left (we hung up), ended {reason} (the focus hung up: the
 * RFC 3326 Reason text of its BYE), closed (always last, once).
 */
import { EventEmitter } from 'node:events';
import { Inviter, type Message, type Session, SessionState, Subscriber, SubscriptionState, type SessionDescriptionHandlerFactory, type URI, UserAgent } from 'sip.js';
import type { Logger } from '../registrar/log.ts';
import type { Clock, TimerHandle } from '../registrar/sip/clock.ts';
import { type ChatLine, parseIncoming } from './chat/cpim.ts';
import { ClientError, rejection } from './errors.ts';
import type { AudioSource } from './media/audio-source.ts';
import type { AudioSink } from './media/audio-stream.ts';
import { type CallMedia, type ExternalMedia, externalMedia, type MediaFigures, type MediaInfo, ownMedia } from './media/call-media.ts';
import type { FfmpegVideoSource } from './media/ffmpeg-video-source.ts';
import { MediaSession } from './media/media-session.ts';
import { Roster, type RosterChange, type RosterUser } from './roster/roster.ts';
import { describeReason, parseReason } from './sip/reason.ts';
import { rtpSdhFactory } from './sip/rtp-sdh.ts';

export { AUDIO_CODECS, VIDEO_CODECS, type MediaInfo, type ExternalMedia } from './media/call-media.ts';
/** RFC 3428 §9 / RFC 3862: the focus relays chat to us as CPIM when our INVITE accepts it. */
export const INVITE_ACCEPT = 'application/sdp, message/cpim, text/plain';
const BYE_WAIT_MS = 2000;
const UNSUBSCRIBE_WAIT_MS = 500;
const REINVITE_ATTEMPTS = 3;

export interface MediaOptions {
  readonly audioIn: AudioSource;
  readonly audioOut?: AudioSink;
  /** Start with the microphone off (recvonly). */
  readonly micOff?: boolean;
  /** Period of `stats` events (default 5000 ms; 0 = none). */
  readonly statsIntervalMs?: number;
  /** A video line: offered when given. `source` is the camera (none: receive only); `outDir` gets the IVF files. */
  readonly video?: { readonly source?: FfmpegVideoSource; readonly outDir?: string };
  /** Lines run by someone else (the GUI's WebRTC bridge) instead of our own audio/video streams. */
  readonly external?: ExternalMedia;
}

export interface JoinedInfo {
  /** The meeting URI (the focus's Contact, RFC 4579: the conference URI). */
  readonly meeting: string;
  /** The URI dialled (the factory URI when creating). */
  readonly dialled: string;
  /** The focus marked its Contact `isfocus` (RFC 4579 §5.2). */
  readonly isFocus: boolean;
  readonly name: string;
  readonly aor: string;
}

export interface EndedInfo {
  readonly reason: string;
  readonly protocol?: string;
  readonly cause?: number;
}

export interface CallEvents {
  joined: [JoinedInfo];
  media: [MediaInfo];
  roster: [RosterChange];
  chat: [ChatLine];
  notice: [string];
  stats: [MediaFigures];
  /** The camera stopped by itself (ffmpeg failed). */
  warning: [string];
  left: [{ reason: string }];
  ended: [EndedInfo];
  closed: [];
}

type CallState = 'ready' | 'inviting' | 'joined' | 'leaving' | 'closed';

const TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  ready: ['inviting', 'closed'],
  inviting: ['joined', 'closed'],
  joined: ['leaving', 'closed'],
  leaving: ['closed'],
  closed: [],
};

interface PrepareOptions {
  readonly ua: UserAgent;
  readonly target: URI;
  readonly targetText: string;
  readonly aor: string;
  readonly name: string;
  readonly localAddress: string;
  readonly media: MediaOptions;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Make `factory` the session description handler factory of `session` (the UA's factory dispatches). */
  readonly bindSdh: (session: Session, factory: SessionDescriptionHandlerFactory) => void;
}

/** "<sip:conf-42@host:5060>;isfocus" → "sip:conf-42@host:5060" (URI parameters and header parameters dropped). */
export function contactUri(contact: string | undefined): { uri: string; isFocus: boolean } | undefined {
  if (!contact) return undefined;
  const m = /<([^>]+)>(.*)$/.exec(contact);
  const inner = m ? m[1]! : contact.split(';')[0]!.trim();
  const params = m ? m[2]! : contact.slice(inner.length);
  return { uri: inner.split(';')[0]!, isFocus: /;\s*isfocus\b/i.test(params) || /;\s*isfocus\b/i.test(inner) };
}

export class MeetingCall extends EventEmitter<CallEvents> {
  private state: CallState = 'ready';
  readonly sdhFactory: SessionDescriptionHandlerFactory;
  private session: Inviter | undefined;
  private subscriber: Subscriber | undefined;
  private readonly roster = new Roster();
  private statsTimer: TimerHandle | undefined;
  /** Resolves unsubscribe()'s wait when the notifier's final NOTIFY arrives. */
  private finalNotify: (() => void) | undefined;
  private failure: ClientError | undefined;
  private joinedInfo: JoinedInfo | undefined;
  /** Media outcomes of the first exchange, announced right after `joined`. */
  private readonly pendingMedia: MediaInfo[] = [];
  private readonly log: Logger;

  private constructor(
    private readonly o: PrepareOptions,
    readonly media: MediaSession,
  ) {
    super();
    this.log = o.logger.child({ component: 'call', target: o.targetText });
    this.sdhFactory = rtpSdhFactory(media, () => this.close());
  }

  /** Set by prepare() right after construction. */
  private streams!: CallMedia;

  static async prepare(o: PrepareOptions): Promise<MeetingCall> {
    let call: MeetingCall | undefined;
    const streams = o.media.external
      ? externalMedia(o.media.external)
      : await ownMedia({
          localAddress: o.localAddress,
          audioIn: o.media.audioIn,
          ...(o.media.audioOut ? { audioOut: o.media.audioOut } : {}),
          ...(o.media.micOff ? { micOff: true } : {}),
          ...(o.media.video ? { video: o.media.video } : {}),
          cname: o.aor.replace(/^sips?:/, ''),
          clock: o.clock,
          logger: o.logger,
          onMedia: (m) => call?.mediaChanged(m),
          onWarning: (w) => call?.emit('warning', w),
        });
    call = new MeetingCall(o, new MediaSession(o.localAddress, streams.lines, streams.onAdded));
    call.streams = streams;
    return call;
  }

  /** Received video is wanted: the Contact should carry `+sipmeet.video-streams` (docs/focus.md). */
  get wantsVideoStreams(): boolean {
    return this.streams.onAdded !== undefined;
  }

  private mediaChanged(m: MediaInfo): void {
    if (this.state === 'joined') this.emit('media', m);
    else if (this.state === 'inviting') this.pendingMedia.push(m);
  }

  get currentState(): CallState {
    return this.state;
  }

  get info(): JoinedInfo | undefined {
    return this.joinedInfo;
  }

  get rosterUsers(): RosterUser[] {
    return this.roster.list;
  }

  private transition(to: CallState): void {
    if (!TRANSITIONS[this.state].includes(to)) throw new Error(`MeetingCall: illegal transition ${this.state} → ${to}`);
    this.log.debug({ from: this.state, to }, 'call state');
    this.state = to;
  }

  /** Send the INVITE; resolves once joined (2xx, ACK sent), rejects with a ClientError otherwise. */
  invite(): Promise<void> {
    this.transition('inviting');
    const inviter = new Inviter(this.o.ua, this.o.target, { extraHeaders: [`Accept: ${INVITE_ACCEPT}`] });
    this.o.bindSdh(inviter, this.sdhFactory);
    this.session = inviter;
    inviter.delegate = {
      onBye: (bye) => {
        void bye.accept().catch(() => undefined);
        const r = parseReason(bye.request.getHeader('reason'));
        this.remoteEnded({ reason: describeReason(r) ?? 'the focus hung up', ...(r ? { protocol: r.protocol } : {}), ...(r?.cause !== undefined ? { cause: r.cause } : {}) });
      },
      onMessage: (m: Message) => this.onMessage(m),
    };
    return new Promise<void>((resolve, reject) => {
      let fallback: TimerHandle | undefined;
      // sip.js reports Established before it hands us the 2xx (onAccept): join once we have the 2xx's Contact,
      // falling back to the dialog's remote target (RFC 3261 §12.1.2: the Contact URI) if onAccept never comes.
      const finishJoin = (contact: string | undefined) => {
        fallback?.cancel();
        if (this.state !== 'inviting' || inviter.state !== SessionState.Established) return;
        this.transition('joined');
        const c = contactUri(contact ?? (inviter.dialog ? `<${inviter.dialog.remoteTarget.toString()}>` : undefined));
        this.joinedInfo = { meeting: c?.uri ?? this.o.targetText, dialled: this.o.targetText, isFocus: c?.isFocus ?? false, name: this.o.name, aor: this.o.aor };
        this.log.info({ meeting: this.joinedInfo.meeting }, 'joined');
        this.emit('joined', this.joinedInfo);
        for (const m of this.pendingMedia.splice(0)) this.emit('media', m);
        this.subscribeRoster(this.joinedInfo.meeting);
        this.startStats();
        resolve();
      };
      inviter.stateChange.addListener((s) => {
        if (s === SessionState.Established && this.state === 'inviting') {
          fallback = this.o.clock.setTimer(1000, () => finishJoin(undefined));
        } else if (s === SessionState.Terminated && this.state === 'inviting') {
          fallback?.cancel();
          // sip.js terminates the session before it calls our onReject with the response: read the failure after.
          queueMicrotask(() => {
            this.close();
            reject(this.failure ?? new ClientError('failed', `${this.o.targetText}: the call could not be set up (media negotiation failed)`));
          });
        }
      });
      const sending = inviter.invite({
        requestDelegate: {
          onAccept: (res) => finishJoin(res.message.getHeader('contact')),
          onReject: (res) => {
            this.failure = rejection(this.o.targetText, res.message.statusCode ?? 0, res.message.reasonPhrase ?? '');
          },
        },
      });
      sending.catch((e: Error) => {
        this.failure ??= new ClientError('unreachable', `${this.o.targetText}: ${e.message}`);
        if (this.state === 'inviting') {
          this.close();
          reject(this.failure);
        }
      });
    });
  }

  private onMessage(m: Message): void {
    void m.accept().catch(() => undefined);
    const incoming = parseIncoming(m.request.getHeader('content-type'), m.request.body ?? '');
    if (incoming.kind === 'chat') this.emit('chat', incoming.chat);
    else if (incoming.kind === 'notice') this.emit('notice', incoming.text);
    else this.log.info({ reason: incoming.reason }, 'MESSAGE not shown');
  }

  /** RFC 4575 §3: SUBSCRIBE to the conference URI with Event: conference; NOTIFYs carry the roster. */
  private subscribeRoster(meetingUri: string): void {
    const target = UserAgent.makeURI(meetingUri);
    if (!target) return;
    const sub = new Subscriber(this.o.ua, target, 'conference', { expires: 600, extraHeaders: ['Accept: application/conference-info+xml'] });
    this.subscriber = sub;
    sub.delegate = {
      onNotify: (n) => {
        void n.accept().catch(() => undefined);
        // RFC 6665 §4.1.3: the notifier's last NOTIFY says Subscription-State: terminated.
        if (/^\s*terminated/i.test(n.request.getHeader('subscription-state') ?? '')) this.finalNotify?.();
        const body = n.request.body;
        if (!body) return;
        const r = this.roster.apply(body);
        if (!r.ok) this.log.info({ why: r.error }, 'roster NOTIFY not understood');
        else if (r.change) this.emit('roster', r.change);
      },
    };
    sub.subscribe().catch((e: Error) => this.log.info({ err: e.message }, 'roster subscription failed'));
  }

  private startStats(): void {
    const every = this.o.media.statsIntervalMs ?? 5000;
    if (every <= 0) return;
    const tick = () => {
      if (this.state !== 'joined') return;
      const figures = this.streams.figures();
      if (figures) this.emit('stats', figures);
      this.statsTimer = this.o.clock.setTimer(every, tick);
    };
    this.statsTimer = this.o.clock.setTimer(every, tick);
  }

  private get established(): Session {
    if (this.state !== 'joined' || !this.session) throw new ClientError('failed', 'not in a meeting');
    return this.session;
  }

  /** RFC 3428: a MESSAGE in the dialog. Resolves on 2xx; a refusal rejects with the readable error. */
  sendText(text: string): Promise<void> {
    const session = this.established;
    return new Promise<void>((resolve, reject) => {
      session
        .message({
          requestDelegate: {
            onAccept: () => resolve(),
            onReject: (res) => reject(rejection(text.startsWith('/') ? text.split(/\s/)[0]! : 'chat', res.message.statusCode ?? 0, res.message.reasonPhrase ?? '')),
          },
          requestOptions: { body: { contentDisposition: 'render', contentType: 'text/plain;charset=utf-8', content: text } },
        })
        .catch((e: Error) => reject(new ClientError('failed', `MESSAGE not sent: ${e.message}`)));
    });
  }

  /** A chat line to the others. */
  sendChat(text: string): Promise<void> {
    return this.sendText(text);
  }

  /** Ask the focus who is there (it answers with a MESSAGE: a `notice` event). */
  who(): Promise<void> {
    return this.sendText('/who');
  }

  /** Host only: end the meeting for everyone (the focus BYEs us all with a Reason). */
  end(): Promise<void> {
    return this.sendText('/end');
  }

  /**
   * Microphone off/on: stop sending now, then renegotiate (RFC 3264 §8.4: a re-offer with recvonly — never
   * sendonly/inactive, which would put the focus on hold).
   */
  setMic(on: boolean): Promise<void> {
    this.streams.setMic(on);
    return this.reinvite();
  }

  /** Camera off/on: stop/start ffmpeg now, then renegotiate the video line (recvonly when off). */
  setCamera(on: boolean): Promise<void> {
    if (!this.streams.hasVideo) return Promise.reject(new ClientError('usage', 'no video in this call (join with --video-in or --video-out)'));
    if (on && !this.streams.hasCamera) return Promise.reject(new ClientError('usage', 'no camera: join with --video-in testsrc|FILE'));
    this.streams.setCamera(on);
    return this.reinvite();
  }

  /**
   * Send our new offer. RFC 3261 §14.1: a 491 (glare with a re-INVITE of the focus) is retried after a random
   * 2.1–4 s ("If the UAC ... is the owner of the Call-ID ... T has a randomly chosen value between 2.1 and 4
   * seconds"); we placed the INVITE, so we own the Call-ID. Other refusals keep the previous session (§14.1).
   */
  private async reinvite(attempt = 1): Promise<void> {
    const session = this.established;
    const status = await new Promise<number>((resolve, reject) => {
      session
        .invite({
          requestDelegate: {
            onAccept: () => resolve(200),
            onReject: (res) => {
              const code = res.message.statusCode ?? 0;
              if (code === 491 && attempt < REINVITE_ATTEMPTS) resolve(491);
              else reject(rejection('re-INVITE', code, res.message.reasonPhrase ?? ''));
            },
          },
        })
        .catch((e: Error) => reject(new ClientError('failed', `re-INVITE not sent: ${e.message}`)));
    });
    if (status !== 491) return;
    await new Promise<void>((r) => this.o.clock.setTimer(2100 + Math.random() * 1900, r));
    if (this.state === 'joined') await this.reinvite(attempt + 1);
  }


  /** Hang up (BYE) and close; emits `left`. Idempotent. */
  async leave(reason = 'left the meeting'): Promise<void> {
    if (this.state === 'closed' || this.state === 'leaving') return;
    if (this.state !== 'joined') {
      this.close();
      return;
    }
    this.transition('leaving');
    const session = this.session!;
    await this.unsubscribe();
    await new Promise<void>((resolve) => {
      const t = this.o.clock.setTimer(BYE_WAIT_MS, resolve);
      session.stateChange.addListener((s) => {
        if (s === SessionState.Terminated) {
          t.cancel();
          resolve();
        }
      });
      if (session.state === SessionState.Terminated) resolve();
      else session.bye().catch(() => (t.cancel(), resolve()));
    });
    this.emit('left', { reason });
    this.close();
  }

  /**
   * RFC 6665 §4.1.2.3: unSUBSCRIBE (Expires: 0); the notifier answers with a final NOTIFY (Subscription-State:
   * terminated). Wait for it (≤ UNSUBSCRIBE_WAIT_MS) so it does not arrive after the connection is gone.
   */
  private async unsubscribe(): Promise<void> {
    const sub = this.subscriber;
    if (!sub || sub.state === SubscriptionState.Terminated) return;
    // sip.js marks the subscription terminated as soon as the unSUBSCRIBE is sent; the final NOTIFY comes after.
    await new Promise<void>((resolve) => {
      const t = this.o.clock.setTimer(UNSUBSCRIBE_WAIT_MS, resolve);
      this.finalNotify = () => {
        t.cancel();
        resolve();
      };
      sub.unsubscribe().catch(() => (t.cancel(), resolve()));
    });
    this.finalNotify = undefined;
  }


  private remoteEnded(info: EndedInfo): void {
    if (this.state === 'closed') return;
    this.log.info({ reason: info.reason }, 'the focus ended the call');
    this.emit('ended', info);
    this.close();
  }

  /** The server connection dropped: the meeting is lost. */
  connectionLost(why: string): void {
    if (this.state === 'joined' || this.state === 'leaving') this.remoteEnded({ reason: why });
  }

  private close(): void {
    if (this.state === 'closed') return;
    this.transition('closed');
    this.statsTimer?.cancel();
    this.subscriber?.dispose().catch(() => undefined);
    this.streams.close();
    this.emit('closed');
  }
}
