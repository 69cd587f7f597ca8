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
import type { Clock } from '../sip/clock.ts';
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

export class P2pController {
  constructor(private readonly ctx: P2pContext) {}

  policy(meeting: Meeting): P2pPolicy {
    return meeting.p2pPolicy ?? this.ctx.defaultPolicy;
  }

  /** The mode the meeting should be in now. */
  target(meeting: Meeting): MeetingMode {
    const present = meeting.present();
    if (this.policy(meeting) !== 'auto' || present.length !== 2) return 'cs';
    const ok = present.every((p) => p.state === 'connected' && p.dialog?.state === 'confirmed' && p.lines.some((l) => l.kind === 'audio' && l.endpointId));
    return ok ? 'p2p' : 'cs';
  }

  /** Re-evaluate after any change of membership or media (serialised per meeting). */
  evaluate(meeting: Meeting, reason: string): void {
    if (meeting.state === 'ended') return;
    if (meeting.switching) {
      meeting.switchAgain = true;
      return;
    }
    const want = this.target(meeting);
    if (want === meeting.mode) return;
    meeting.switching = true;
    const started = this.ctx.clock.now();
    const run = want === 'p2p' ? this.toP2p(meeting) : this.toCs(meeting);
    void run
      .then((done) => {
        if (done) {
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

  /** RFC 3725 Flow I between the two participants. Returns false (still CS) when a step is refused. */
  private async toP2p(meeting: Meeting): Promise<boolean> {
    const [a, b] = meeting.present() as [Participant, Participant];
    if (!a.dialog || !b.dialog || !a.localSdp || !b.localSdp || !a.localOrigin || !b.localOrigin) return false;
    // 1. Ask A for a fresh offer: re-INVITE without SDP; A's 2xx carries the offer, our ACK the answer.
    const resA = await this.ctx.dialogs.request(a.dialog, 'INVITE', { manualAck: true });
    if (resA.status < 200 || resA.status >= 300) return false;
    const offerA = parseSdp(resA.body);
    if (!offerA.ok) {
      this.ctx.dialogs.ack(a.dialog, resA, { body: writeSdp(a.localSdp), contentType: 'application/sdp' });
      return false;
    }
    // 2. Offer it to B in B's own m= line layout, under the focus's o= toward B.
    const originB = nextVersion(b.localOrigin);
    const offerB = mapInto(offerA.value, b.localSdp.media, originB);
    const resB = await this.ctx.dialogs.request(b.dialog, 'INVITE', { body: writeSdp(offerB), contentType: 'application/sdp' });
    const answerB = resB.status >= 200 && resB.status < 300 ? parseSdp(resB.body) : undefined;
    const originA = nextVersion(a.localOrigin);
    if (!answerB?.ok || !processAnswer(offerB, answerB.value).ok) {
      // B refused: A still needs an answer to its offer — our relay description again (stays client-server).
      this.ctx.dialogs.ack(a.dialog, resA, { body: writeSdp({ ...a.localSdp, origin: originA }), contentType: 'application/sdp' });
      a.localOrigin = originA;
      b.localOrigin = originB;
      return false;
    }
    // 3. B's answer goes to A in the ACK (A's layout), under the focus's o= toward A.
    const answerA = mapInto(answerB.value, offerA.value.media, originA);
    this.ctx.dialogs.ack(a.dialog, resA, { body: writeSdp(answerA), contentType: 'application/sdp' });
    for (const p of [a, b]) {
      p.csSdp = p.localSdp;
      for (const id of p.endpointIds()) await this.ctx.relay.setDirection(id, 'inactive').catch(() => undefined);
    }
    a.localOrigin = originA;
    b.localOrigin = originB;
    a.remoteSdp = offerA.value;
    b.remoteSdp = answerB.value;
    return true;
  }

  /** Back to the relay: each participant is offered our client-server description again (new o= version). */
  private async toCs(meeting: Meeting): Promise<boolean> {
    const legs = meeting.present().filter((p) => p.csSdp && p.dialog?.state === 'confirmed');
    const results = await Promise.all(legs.map((p) => this.backToRelay(p)));
    return results.every(Boolean);
  }

  private async backToRelay(p: Participant): Promise<boolean> {
    const cs = p.csSdp!;
    const origin = nextVersion(p.localOrigin!);
    const offer = { ...cs, origin };
    const res = await this.ctx.dialogs.request(p.dialog!, 'INVITE', { body: writeSdp(offer), contentType: 'application/sdp' });
    p.localOrigin = origin;
    if (res.status < 200 || res.status >= 300) return false;
    const answer = parseSdp(res.body);
    const agreed = answer.ok ? processAnswer(offer, answer.value) : undefined;
    if (!answer.ok || !agreed?.ok) return false;
    await applyAgreed(this.ctx.relay, p.lines, agreed.value);
    p.localSdp = offer;
    p.remoteSdp = answer.value;
    p.csSdp = undefined;
    return true;
  }
}
