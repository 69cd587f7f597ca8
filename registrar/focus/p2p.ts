/**
 * Peer-to-peer mode: while a meeting has exactly two participants, the focus hands each the other's media address
 * by third-party call control (RFC 3725 §4.1, "Flow I"), and moves them back to the relay before a third is heard.
 *
 *   CS → P2P (A, B settled, policy auto)              P2P → CS (a third joins, or one of two leaves)
 *
 *   focus ── re-INVITE (no SDP) ──▶ A                  focus ── re-INVITE (our CS offer: relay ports) ──▶ A
 *   focus ◀── 200 (offer OA) ────── A                  focus ◀── 200 (answer) ─────────────────────────── A
 *   focus ── re-INVITE (OA, our o=) ──▶ B              focus ── ACK ──▶ A          (same for B, in parallel)
 *   focus ◀── 200 (answer AB) ──────── B
 *   focus ── ACK ──▶ B
 *   focus ── ACK (AB, our o=) ──▶ A                    Relay endpoints were never released (make before
 *   relay endpoints of A and B set inactive            break): going back costs one re-INVITE each.
 *
 * The focus stays the B2BUA for signalling (chat, roster, BYE); only the media addresses change, as Asterisk's
 * direct media does. Each leg keeps its own m= line layout: A's description is mapped into B's slots by role
 * (first audio line, first video line); other lines are disabled (port 0) for the duration.
 */
import type { MediaRelayApi } from '../../media-relay/api.ts';
import type { Logger } from '../log.ts';
import type { Clock, TimerHandle } from '../sip/clock.ts';
import type { DialogLayer } from '../sip/dialog/dialog-layer.ts';
import {
  disabledMedia,
  effectiveConnection,
  effectiveDirection,
  type MediaDescription,
  nextVersion,
  parseSdp,
  processAnswer,
  type SessionDescription,
  writeSdp,
} from '../../sdp/index.ts';
import type { Meeting, P2pPolicy } from './meeting.ts';
import type { Participant } from './participant.ts';
import { applyAgreed } from './media-session.ts';
import type { MeetingMode } from './views.ts';

export interface P2pContext {
  /** The relay's media address (RTCP of both phones keeps going there in P2P, RFC 3605). */
  mediaAddress: string;
  /** How long after a switch to P2P the phones' RTCP must show they hear each other. Default 8 s. */
  verifyMs?: number;
  dialogs: DialogLayer;
  relay: MediaRelayApi;
  clock: Clock;
  logger: Logger;
  defaultPolicy: P2pPolicy;
  changed: (meetingId: string) => void;
}

type Role = 'audio' | 'video' | undefined;

function disabledMediaLike(m: MediaDescription): MediaDescription {
  return disabledMedia({ type: m.type, proto: m.proto, formats: m.formats, payloads: m.payloads, mid: m.mid });
}

/** The role of each m= line: the first audio line, the first video line without a label of a publisher. */
function roles(media: readonly MediaDescription[]): Role[] {
  let audio = false;
  let video = false;
  return media.map((m) => {
    const t = m.type.toLowerCase();
    if (t === 'audio' && !audio) {
      audio = true;
      return 'audio';
    }
    if (t === 'video' && !video) {
      video = true;
      return 'video';
    }
    return undefined;
  });
}

/**
 * `source`'s media placed into `layout`'s m= line slots by role, with an explicit media-level c= (RFC 4566 §5.7)
 * and direction; slots without a live counterpart are disabled. Origin is the focus's, toward that leg.
 */
export function mapInto(source: SessionDescription, layout: readonly MediaDescription[], origin: SessionDescription['origin']): SessionDescription {
  const srcRoles = roles(source.media);
  const layoutRoles = roles(layout);
  const media = layout.map((slot, i) => {
    const role = layoutRoles[i];
    const j = role === undefined ? -1 : srcRoles.indexOf(role);
    const m = j >= 0 ? source.media[j]! : undefined;
    if (!m || m.port === 0) return disabledMediaLike(slot);
    return { ...m, connection: effectiveConnection(source, m), direction: effectiveDirection(source, m) };
  });
  return { ...source, origin, connection: source.connection, direction: undefined, media, other: { ...source.other } };
}

/** How one switch attempt ended: done, refused by a phone (stay), or met a 491 (retry, RFC 3261 §14.1). */
type SwitchOutcome = 'switched' | 'refused' | 'glare';

/** Consecutive 491s after which the focus stops retrying a switch (until the next membership change). */
const MAX_GLARE_RETRIES = 5;

/** How long two participants must have been connected (no change of membership) before CS → P2P starts. */
export const P2P_SETTLE_MS = 1500;

function pairKey(ps: readonly Participant[]): string {
  return ps.map((p) => p.id).sort().join('+');
}

/**
 * RFC 3605: the phone sends its RTCP for the audio line to its relay endpoint instead of the other phone, so the
 * relay can tell whether direct media arrives (watchDirectMedia). `layout` = the slots of `sd` when they differ from
 * the participant's own lines (an answer in the layout of the participant's offer).
 */
function withRtcpToRelay(sd: SessionDescription, p: Participant, mediaAddress: string, layout?: readonly MediaDescription[]): SessionDescription {
  const audio = p.lines.find((l) => l.kind === 'audio' && l.endpointId && l.rtcpPort !== undefined);
  if (!audio) return sd;
  const slot = (layout ?? sd.media).findIndex((m) => m.type.toLowerCase() === 'audio');
  if (slot < 0 || sd.media[slot]!.port === 0) return sd;
  const media = sd.media.map((m, i) =>
    i === slot ? { ...m, rtcpMux: false, rtcp: { port: audio.rtcpPort!, connection: { addressType: mediaAddress.includes(':') ? 'IP6' as const : 'IP4' as const, address: mediaAddress } } } : m,
  );
  return { ...sd, media };
}

export class P2pController {
  /** Consecutive 491s per meeting. */
  private readonly glares = new WeakMap<Meeting, number>();
  /** A pending CS → P2P switch waiting for the pair to settle. */
  private readonly settling = new WeakMap<Meeting, TimerHandle>();

  constructor(private readonly ctx: P2pContext) {}

  policy(meeting: Meeting): P2pPolicy {
    return meeting.p2pPolicy ?? this.ctx.defaultPolicy;
  }

  /** The mode the meeting should be in now. */
  target(meeting: Meeting): MeetingMode {
    const present = meeting.present();
    if (this.policy(meeting) !== 'auto' || present.length !== 2) return 'cs';
    if (meeting.p2pFailedPair === pairKey(present)) return 'cs';
    const ok = present.every((p) => p.state === 'connected' && p.dialog?.state === 'confirmed' && p.lines.some((l) => l.kind === 'audio' && l.endpointId));
    return ok ? 'p2p' : 'cs';
  }

  /**
   * Re-evaluate after any change of membership or media (serialised per meeting). CS → P2P waits until the pair has
   * been settled for P2P_SETTLE_MS (`settled` = that wait is over); P2P → CS goes at once (before the third is
   * connected to anyone).
   */
  evaluate(meeting: Meeting, reason: string, settled = false): void {
    if (meeting.state === 'ended') return;
    if (meeting.switching) {
      meeting.switchAgain = true;
      return;
    }
    const want = this.target(meeting);
    if (want !== 'p2p') {
      this.settling.get(meeting)?.cancel();
      this.settling.delete(meeting);
    }
    if (want === meeting.mode) return;
    // Flow I needs both dialogs idle. Phones often re-INVITE right after joining (Linphone 5.1 does ~30 ms after its
    // ACK, to update its conference view); a re-INVITE of ours crossing theirs is glare (491 both ways, RFC 3261
    // §14.1) — and Linphone ends its call on a 491 to that re-INVITE. So the pair must be settled first.
    if (want === 'p2p' && !settled) {
      if (!this.settling.has(meeting)) {
        this.settling.set(
          meeting,
          this.ctx.clock.setTimer(P2P_SETTLE_MS, () => {
            this.settling.delete(meeting);
            this.evaluate(meeting, reason, true);
          }),
        );
      }
      return;
    }
    meeting.switching = true;
    const started = this.ctx.clock.now();
    const run = want === 'p2p' ? this.toP2p(meeting) : this.toCs(meeting);
    void run
      .then((outcome) => {
        if (outcome === 'glare') this.retryAfterGlare(meeting, reason);
        else if (outcome === 'switched') this.glares.delete(meeting);
        if (outcome === 'switched') {
          const from = meeting.mode;
          meeting.mode = want;
          meeting.switches.push({ at: new Date(this.ctx.clock.wallNow()).toISOString(), from, to: want, reason, tookMs: Math.round(this.ctx.clock.now() - started) });
          if (meeting.switches.length > 100) meeting.switches.shift();
          this.ctx.logger.info({ component: 'focus', meeting: meeting.id, from, to: want, reason }, 'media mode switched');
          this.ctx.changed(meeting.id);
        }
      })
      .catch((err: Error) => this.ctx.logger.warn({ component: 'focus', meeting: meeting.id, err: err.message }, 'mode switch failed'))
      .finally(() => {
        meeting.switching = false;
        if (meeting.switchAgain) {
          meeting.switchAgain = false;
          this.evaluate(meeting, reason);
        }
      });
  }

  /**
   * RFC 3261 §14.1: a 491 to our re-INVITE (the phone sent its own re-INVITE at the same moment — Linphone re-INVITEs
   * right after joining a conference) means "try again after T", T random in 0–2 s when we are not the owner of the
   * Call-ID (the phone dialled in, it chose the Call-ID). Re-evaluated then, at most MAX_GLARE_RETRIES times in a row.
   */
  private retryAfterGlare(meeting: Meeting, reason: string): void {
    const n = (this.glares.get(meeting) ?? 0) + 1;
    this.glares.set(meeting, n);
    if (n > MAX_GLARE_RETRIES) {
      this.ctx.logger.warn({ component: 'focus', meeting: meeting.id, glares: n }, 'mode switch: 491 again, giving up until the next change');
      this.glares.delete(meeting);
      return;
    }
    const ms = Math.floor(Math.random() * 201) * 10; // 0–2 s in units of 10 ms
    this.ctx.logger.info({ component: 'focus', meeting: meeting.id, retryInMs: ms }, 'mode switch met a 491 (glare): retrying');
    this.ctx.clock.setTimer(ms, () => this.evaluate(meeting, reason, true));
  }

  /** RFC 3725 Flow I between the two participants: 'refused' (still CS) when a step is refused, 'glare' on a 491. */
  private async toP2p(meeting: Meeting): Promise<SwitchOutcome> {
    const [a, b] = meeting.present() as [Participant, Participant];
    if (!a.dialog || !b.dialog || !a.localSdp || !b.localSdp || !a.localOrigin || !b.localOrigin) return 'refused';
    // 1. Ask A for a fresh offer: re-INVITE without SDP; A's 2xx carries the offer, our ACK the answer.
    const resA = await this.ctx.dialogs.request(a.dialog, 'INVITE', { manualAck: true });
    if (resA.status === 491) return 'glare';
    if (resA.status < 200 || resA.status >= 300) return 'refused';
    const offerA = parseSdp(resA.body);
    if (!offerA.ok) {
      this.ctx.dialogs.ack(a.dialog, resA, { body: writeSdp(a.localSdp), contentType: 'application/sdp' });
      return 'refused';
    }
    // 2. Offer it to B in B's own m= line layout, under the focus's o= toward B.
    const originB = nextVersion(b.localOrigin);
    const offerB = withRtcpToRelay(mapInto(offerA.value, b.localSdp.media, originB), b, this.ctx.mediaAddress);
    const resB = await this.ctx.dialogs.request(b.dialog, 'INVITE', { body: writeSdp(offerB), contentType: 'application/sdp' });
    const answerB = resB.status >= 200 && resB.status < 300 ? parseSdp(resB.body) : undefined;
    const originA = nextVersion(a.localOrigin);
    if (!answerB?.ok || !processAnswer(offerB, answerB.value).ok) {
      // B refused: A still needs an answer to its offer — our relay description again (stays client-server).
      this.ctx.dialogs.ack(a.dialog, resA, { body: writeSdp({ ...a.localSdp, origin: originA }), contentType: 'application/sdp' });
      a.localOrigin = originA;
      b.localOrigin = originB;
      return resB.status === 491 ? 'glare' : 'refused';
    }
    // 3. B's answer goes to A in the ACK (A's layout), under the focus's o= toward A.
    const answerA = withRtcpToRelay(mapInto(answerB.value, offerA.value.media, originA), a, this.ctx.mediaAddress, offerA.value.media);
    this.ctx.dialogs.ack(a.dialog, resA, { body: writeSdp(answerA), contentType: 'application/sdp' });
    for (const p of [a, b]) {
      p.csSdp = p.localSdp;
      for (const id of p.endpointIds()) await this.ctx.relay.setDirection(id, 'inactive').catch(() => undefined);
    }
    a.localOrigin = originA;
    b.localOrigin = originB;
    a.remoteSdp = offerA.value;
    b.remoteSdp = answerB.value;
    await this.watchDirectMedia(meeting, [a, b]);
    return 'switched';
  }

  /**
   * Direct media may not flow (NAT, a firewall): both phones' RTCP still comes to the relay (a=rtcp, RFC 3605).
   * After `verifyMs`, a phone that sent RTCP since the switch but reported no source other than the relay (RFC 3550
   * §6.4: report blocks exist only for sources heard) hears nothing: back to client-server, for good for this pair.
   * A phone that sent no RTCP at all tells nothing; the meeting stays peer-to-peer.
   */
  private async watchDirectMedia(meeting: Meeting, pair: Participant[]): Promise<void> {
    const audioOf = (p: Participant) => p.lines.find((l) => l.kind === 'audio' && l.endpointId)?.endpointId;
    const before = await this.ctx.relay.stats(meeting.id).catch(() => undefined);
    const blocksAt = new Map((before?.streams ?? []).map((s) => [s.endpointId, s.peerReportBlocks ?? 0]));
    const since = this.ctx.clock.wallNow();
    const key = pairKey(pair);
    this.ctx.clock.setTimer(this.ctx.verifyMs ?? 8000, () => {
      if (meeting.mode !== 'p2p' || pairKey(meeting.present()) !== key) return;
      void this.ctx.relay.stats(meeting.id).then((now) => {
        const deaf = pair.filter((p) => {
          const s = now.streams.find((x) => x.endpointId === audioOf(p));
          return s?.lastReportAt !== undefined && s.lastReportAt > since && (s.peerReportBlocks ?? 0) <= (blocksAt.get(s.endpointId) ?? 0);
        });
        if (deaf.length === 0) return;
        this.ctx.logger.info({ component: 'focus', meeting: meeting.id, deaf: deaf.map((p) => p.id) }, 'direct media does not arrive: back to client-server');
        meeting.p2pFailedPair = key;
        this.evaluate(meeting, `direct media did not reach ${deaf.map((p) => p.displayName).join(', ')}`);
      });
    });
  }

  /** Back to the relay: each participant is offered our client-server description again (new o= version). */
  private async toCs(meeting: Meeting): Promise<SwitchOutcome> {
    const legs = meeting.present().filter((p) => p.csSdp && p.dialog?.state === 'confirmed');
    const results = await Promise.all(legs.map((p) => this.backToRelay(p)));
    // A leg that met a 491 keeps its csSdp: the retry re-INVITEs only the legs still in P2P.
    if (results.includes('glare')) return 'glare';
    return results.every((r) => r === 'switched') ? 'switched' : 'refused';
  }

  private async backToRelay(p: Participant): Promise<SwitchOutcome> {
    const cs = p.csSdp!;
    const origin = nextVersion(p.localOrigin!);
    const offer = { ...cs, origin };
    const res = await this.ctx.dialogs.request(p.dialog!, 'INVITE', { body: writeSdp(offer), contentType: 'application/sdp' });
    p.localOrigin = origin;
    if (res.status === 491) return 'glare';
    if (res.status < 200 || res.status >= 300) return 'refused';
    const answer = parseSdp(res.body);
    const agreed = answer.ok ? processAnswer(offer, answer.value) : undefined;
    if (!answer.ok || !agreed?.ok) return 'refused';
    await applyAgreed(this.ctx.relay, p.lines, agreed.value);
    p.localSdp = offer;
    p.remoteSdp = answer.value;
    p.csSdp = undefined;
    return 'switched';
  }
}
