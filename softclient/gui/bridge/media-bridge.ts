/**
 * The GUI's media: the page's WebRTC connection on one side, the SIP call's RTP lines on the other, packets passed
 * through without transcoding (Opus and VP8 both ways).
 *
 *   page mic ──(werift)──▶ audio leg ──▶ focus            focus mix ──▶ audio leg ──(werift)──▶ page audio
 *   page camera ─────────▶ video leg ──▶ focus            focus, publisher X ──▶ X's leg ──▶ page slot n
 *
 * The call's m= lines are the legs: audio, our camera (video), then one receive-only video line per other
 * publisher as the focus adds them (`a=label` = the publisher's participant id, focus.md "Several videos").
 * Each gets its own UDP port pair, bound while the focus's offer is being answered.
 *
 * Keyframes: a publisher's packets reach its slot only from a keyframe on (the page's decoder needs one after a
 * slot changes hands; we ask the focus with PLI); the page's PLI for a slot goes to that publisher's line; the
 * focus's PLI on our camera line goes to the page's encoder.
 *
 * Audio levels: the page's RFC 6464 level of each mic packet (webrtc-peer.ts) is carried over to the focus, which
 * then need not decode us while we are quiet (media-relay's input leg).
 *
 * Teardown: close() → page connection, every leg (RTCP BYE). Idempotent.
 */
import { EventEmitter } from 'node:events';
import type { UserAgent } from 'sip.js';
import type { Logger } from '../../../registrar/log.ts';
import type { Clock, TimerHandle } from '../../../registrar/sip/clock.ts';
import { vp8IsKeyframeStart } from '../../../media/video/vp8.ts';
import type { RtpPacket } from '../../../media/rtp/packet.ts';
import { type CodecSpec, type MediaDescription, OPUS, VP8 } from '../../../sdp/index.ts';
import type { MediaLine } from '../../media/media-session.ts';
import { bindUdpPair, type UdpPair } from '../../media/udp-pair.ts';
import type { GuiMediaStatus } from '../protocol.ts';
import { SipLeg } from './sip-leg.ts';
import { SlotMap } from './slot-map.ts';
import { WebRtcPeer } from './webrtc-peer.ts';

/** RFC 3840 feature tag asking the focus for one video line per publisher (docs/focus.md). */
export const MULTI_VIDEO_FEATURE = '+sipmeet.video-streams';
/** Opus only: the page's encoder and decoder speak Opus, and nothing is transcoded. */
export const GUI_AUDIO_CODECS: readonly CodecSpec[] = [OPUS];
export const GUI_VIDEO_CODECS: readonly CodecSpec[] = [VP8];
const STATUS_MS = 2000;

export interface MediaBridgeOptions {
  readonly localAddress: string;
  readonly slots: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly cname: string;
}

export interface MediaBridgeEvents {
  /** Tiles, codecs or figures changed: the page should be told. */
  changed: [];
}

/** The per-call media the GUI hands to MeetingCall (see call.ts `MediaOptions.external`). */
export interface ExternalMedia {
  readonly audio: MediaLine;
  readonly video: MediaLine;
  /** A line the focus added to the session: the line that takes it, or undefined to refuse it (port 0). */
  readonly added: (m: MediaDescription, index: number) => Promise<MediaLine | undefined>;
}

interface Publisher {
  readonly label: string;
  readonly leg: SipLeg;
  slot: number | undefined;
  /** Its packets go to the slot only from a keyframe on (at the start, after a change of slot, after a loss). */
  started: boolean;
  /** Last sequence number and SSRC forwarded, to see packets lost on the way from the focus. */
  lastSeq: number | undefined;
  lastSsrc: number | undefined;
  /** When we last asked for a keyframe of it (monotonic ms). */
  askedAt: number;
  /** The line its packets last came on: its own line (through the relay), or our camera line in P2P mode. */
  source: SipLeg;
  /** P2P: no publisher line of its own; its video arrives on our camera line (which is not ours to close). */
  readonly direct: boolean;
}

/** While a slot waits for a keyframe, the PLI is repeated this often until one comes (LiveKit's rule, field notes). */
const KEYFRAME_REPEAT_MS = 1000;

export class MediaBridge extends EventEmitter<MediaBridgeEvents> {
  /** The page's connection; a new offer (the page reloaded) replaces it. */
  private peer: WebRtcPeer;
  readonly audio: SipLeg;
  readonly video: SipLeg;
  private readonly publishers = new Map<string, Publisher>();
  private readonly slotMap: SlotMap;
  private closed = false;
  private figures = { sendKbps: 0, recvKbps: 0 };
  private last = { at: 0, sent: 0, received: 0 };
  private statusTimer: TimerHandle | undefined;
  private mixSsrc: number | undefined;
  /** P2P: whose video arrives on our camera line. */
  private directFrom: string | undefined;
  private readonly log: Logger;

  private constructor(private readonly o: MediaBridgeOptions, audioPair: UdpPair, videoPair: UdpPair) {
    super();
    this.log = o.logger.child({ component: 'gui-bridge' });
    this.slotMap = new SlotMap(o.slots);
    this.peer = this.newPeer();
    const leg = (pair: UdpPair, kind: 'audio' | 'video', codecs: readonly CodecSpec[]) =>
      new SipLeg({ pair, kind, codecs, direction: 'sendrecv', clock: o.clock, logger: o.logger, cname: o.cname });
    this.audio = leg(audioPair, 'audio', GUI_AUDIO_CODECS);
    this.video = leg(videoPair, 'video', GUI_VIDEO_CODECS);
    this.audio.on('media', (buf, p) => {
      // A new sender of our sound (the relay's mix ⇄ the other side directly in P2P): keep the page's numbering
      // continuous, or its jitter buffer would take the new packets for very old or very new ones.
      if (this.mixSsrc !== undefined && this.mixSsrc !== p.ssrc) this.peer.newMixSource();
      this.mixSsrc = p.ssrc;
      this.peer.sendMix(buf);
    });
    this.video.on('media', (buf, p) => {
      const pub = this.directFrom === undefined ? undefined : this.publishers.get(this.directFrom);
      if (pub) this.fromPublisher(pub, this.video, buf, p);
    });
    this.audio.on('changed', () => this.emit('changed'));
    this.video.on('changed', () => this.emit('changed'));
    this.video.on('keyframeNeeded', () => this.peer.requestCameraKeyframe());
    this.video.on('keyframeRequested', () => this.peer.requestCameraKeyframe());
    this.last.at = o.clock.now();
    this.statusTimer = o.clock.setTimer(STATUS_MS, () => this.measure());
  }

  private newPeer(): WebRtcPeer {
    const peer = new WebRtcPeer(this.o.slots, this.o.logger);
    // The page's RFC 6464 level of each mic packet goes on to the focus with it (sip-leg.ts forward()).
    peer.on('mic', (p, level) => this.audio.forward({ ...p.header, payload: p.payload }, level));
    peer.on('camera', (p) => this.video.forward({ ...p.header, payload: p.payload }));
    peer.on('slotKeyframe', (slot) => {
      const label = this.slotMap.labelAt(slot);
      const pub = label === undefined ? undefined : this.publishers.get(label);
      if (pub) {
        pub.askedAt = -Infinity;
        this.askKeyframe(pub);
      }
    });
    // What was written before the page's connection was up is lost: every slot starts again at a keyframe.
    peer.on('connection', (state) => {
      if (state === 'connected' && peer === this.peer) this.restartSlots();
    });
    return peer;
  }

  static async create(o: MediaBridgeOptions): Promise<MediaBridge> {
    const audio = await bindUdpPair(o.localAddress);
    try {
      return new MediaBridge(o, audio, await bindUdpPair(o.localAddress));
    } catch (e) {
      audio.close();
      throw e;
    }
  }

  /**
   * Mark our Contact with the feature tag (RFC 3840 §9, a Contact header parameter) so the focus sends one video
   * line per publisher. sip.js builds the Contact itself and only knows URI parameters, so its rendering is
   * wrapped; every request of this user agent then advertises the feature (REGISTER included, RFC 3840 §6).
   */
  advertiseTo(ua: UserAgent): void {
    const contact = ua.contact;
    const render = contact.toString.bind(contact);
    contact.toString = (options?: object) => {
      const s = render(options as Parameters<typeof render>[0]);
      return s.includes(MULTI_VIDEO_FEATURE) ? s : `${s};${MULTI_VIDEO_FEATURE}`;
    };
  }

  /** What MeetingCall needs to use these legs as the call's media (call.ts `MediaOptions.external`). */
  external(): ExternalMedia {
    return { audio: this.audio, video: this.video, added: (m, index) => this.addLine(m, index) };
  }

  /** The page's WebRTC offer → our answer. A second offer is a reloaded page: it replaces the first connection. */
  async answer(offer: string): Promise<string> {
    if (this.closed) throw new Error('the meeting is over');
    if (this.peer.answered) {
      void this.peer.close();
      this.peer = this.newPeer();
    }
    return this.peer.answer(offer);
  }

  /** `pub` now owns its slot: the page sees a new source there, starting at its next keyframe. */
  private startInSlot(pub: Publisher): void {
    pub.started = false;
    pub.askedAt = -Infinity;
    this.peer.newSource(pub.slot!);
    this.askKeyframe(pub);
    this.emit('changed');
  }

  /** Each shown publisher starts again from its next keyframe, which we ask the focus for (PLI). */
  private restartSlots(): void {
    for (const p of this.publishers.values()) {
      if (p.slot === undefined) continue;
      p.started = false;
      p.askedAt = -Infinity;
      this.askKeyframe(p);
    }
  }

  /** Camera on/off: what our camera line asks for next time it is negotiated (sendrecv / recvonly). */
  setCameraDirection(on: boolean): void {
    this.video.direction = on ? 'sendrecv' : 'recvonly';
    if (!on) this.video.detachSource();
  }

  /** Microphone on/off (the call renegotiates; MeetingCall.setMic sets the line's direction). */
  get micLine(): SipLeg {
    return this.audio;
  }

  private async addLine(m: MediaDescription, index: number): Promise<MediaLine | undefined> {
    const label = m.label;
    if (this.closed || m.type.toLowerCase() !== 'video' || label === undefined || m.port === 0) return undefined;
    let pair: UdpPair;
    try {
      pair = await bindUdpPair(this.o.localAddress);
    } catch (e) {
      this.log.warn({ label, index, err: (e as Error).message }, 'no port pair for a video line: refused');
      return undefined;
    }
    if (this.closed) {
      pair.close();
      return undefined;
    }
    // The same publisher on a new line (its camera came back): the old line is disabled by the same offer.
    if (this.publishers.has(label)) this.dropPublisher(label);
    const leg = new SipLeg({ pair, kind: 'video', codecs: GUI_VIDEO_CODECS, direction: 'recvonly', clock: this.o.clock, logger: this.o.logger, cname: this.o.cname, label });
    const pub: Publisher = { label, leg, slot: undefined, started: false, lastSeq: undefined, lastSsrc: undefined, askedAt: -Infinity, source: leg, direct: false };
    this.publishers.set(label, pub);
    leg.on('changed', () => {
      if (this.publishers.get(label) !== pub) return; // a line this publisher had before
      if (leg.agreed) this.place(pub);
      else this.dropPublisher(label);
    });
    leg.on('media', (buf, p) => this.fromPublisher(pub, leg, buf, p));
    this.log.info({ label, index }, 'publisher line added');
    return leg;
  }

  /**
   * A publisher's packet toward its slot. A lost packet breaks the picture until the next keyframe (VP8 inter
   * frames reference what was lost; RFC 7741 §4.2), and the page cannot get it back by NACK — its NACKs reach
   * werift, which never had it. So after a gap (or before the first keyframe) nothing is forwarded until a
   * keyframe starts a picture again, and the focus is asked for one (PLI, RFC 4585 §6.3.1), repeated until it
   * comes.
   */
  private fromPublisher(pub: Publisher, from: SipLeg, buf: Buffer, p: RtpPacket): void {
    if (pub.slot === undefined) return;
    if (pub.lastSsrc !== undefined && pub.lastSsrc !== p.ssrc) {
      // Another stream for the same person (relay ⇄ direct in P2P, or a new SSRC): a new picture for the page.
      pub.started = false;
      pub.askedAt = -Infinity;
      this.peer.newSource(pub.slot);
    } else if (pub.lastSeq !== undefined) {
      const ahead = (p.sequenceNumber - pub.lastSeq) & 0xffff;
      if (ahead === 0 || ahead >= 0x8000) return; // a duplicate, or late after we moved on
      if (ahead > 1 && pub.started) {
        this.log.debug({ label: pub.label, lost: ahead - 1 }, 'video packets lost: waiting for a keyframe');
        pub.started = false;
      }
    }
    pub.lastSeq = p.sequenceNumber;
    pub.lastSsrc = p.ssrc;
    pub.source = from;
    if (!pub.started) {
      if (!vp8IsKeyframeStart(p.payload, 0, p.payload.length)) {
        this.askKeyframe(pub);
        return;
      }
      pub.started = true;
    }
    this.peer.sendSlot(pub.slot, buf);
  }

  private askKeyframe(pub: Publisher): void {
    const now = this.o.clock.now();
    if (now - pub.askedAt < KEYFRAME_REPEAT_MS) return;
    pub.askedAt = now;
    pub.source.requestKeyframe();
  }

  /**
   * Peer-to-peer mode (docs/focus.md): the other participant's camera arrives directly on our camera line, not on
   * its publisher line (the relay is idle). `label` names whose tile that video belongs to; undefined (back to
   * client-server) ignores what arrives on our camera line again.
   */
  setDirectVideoFrom(label: string | undefined): void {
    if (this.directFrom === label) return;
    this.log.info({ label }, label ? 'peer-to-peer: video arrives on our camera line' : 'client-server: video through the relay');
    const before = this.directFrom;
    this.directFrom = label;
    if (before !== undefined && this.publishers.get(before)?.direct) this.dropPublisher(before);
    this.ensureDirect();
  }

  /** In P2P, the other participant has a tile even when the focus disabled its publisher line. */
  private ensureDirect(): void {
    const label = this.directFrom;
    if (label === undefined || this.closed || this.publishers.has(label)) return;
    const pub: Publisher = { label, leg: this.video, slot: undefined, started: false, lastSeq: undefined, lastSsrc: undefined, askedAt: -Infinity, source: this.video, direct: true };
    this.publishers.set(label, pub);
    this.place(pub);
  }

  private place(pub: Publisher): void {
    if (pub.slot !== undefined) return;
    pub.slot = this.slotMap.add(pub.label);
    if (pub.slot !== undefined) this.startInSlot(pub);
  }

  private dropPublisher(label: string): void {
    const pub = this.publishers.get(label);
    if (!pub) return;
    this.publishers.delete(label);
    if (!pub.direct) pub.leg.close();
    const next = this.slotMap.remove(label);
    if (next) {
      const p = this.publishers.get(next.label);
      if (p) {
        p.slot = next.slot;
        this.startInSlot(p);
      }
    }
    if (label === this.directFrom) this.ensureDirect();
    this.emit('changed');
  }

  /** Remote videos now shown: slot → publisher (participant id). */
  tiles(): Array<{ slot: number; label: string }> {
    return this.slotMap.entries();
  }

  private measure(): void {
    if (this.closed) return;
    const now = this.o.clock.now();
    const legs = [this.audio, this.video, ...[...this.publishers.values()].filter((p) => !p.direct).map((p) => p.leg)];
    const sent = legs.reduce((n, l) => n + l.counters.bytesSent, 0);
    const received = legs.reduce((n, l) => n + l.counters.bytesReceived, 0);
    const secs = Math.max(0.001, (now - this.last.at) / 1000);
    this.figures = { sendKbps: Math.round(((sent - this.last.sent) * 8) / secs / 1000), recvKbps: Math.round(((received - this.last.received) * 8) / secs / 1000) };
    this.last = { at: now, sent, received };
    this.emit('changed');
    this.statusTimer = this.o.clock.setTimer(STATUS_MS, () => this.measure());
  }

  status(): Omit<GuiMediaStatus, 'mode'> {
    return {
      audioCodec: this.audio.codecName,
      videoCodec: this.video.codecName,
      sendKbps: this.figures.sendKbps,
      recvKbps: this.figures.recvKbps,
      lossPct: Math.round(this.audio.receiveLoss * 1000) / 10,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.statusTimer?.cancel();
    void this.peer.close();
    this.audio.close();
    this.video.close();
    for (const p of this.publishers.values()) if (!p.direct) p.leg.close();
    this.publishers.clear();
  }
}
