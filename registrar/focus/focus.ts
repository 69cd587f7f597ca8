/**
 * The conference focus: a B2BUA that turns `sip:<meeting-id>@<domain>` into a meeting (RFC 4353 / RFC 4579).
 *
 * Each participant is a UAS dialog of the focus; its media goes to the media relay (client-server mode), which the
 * focus drives only through `MediaRelayApi`. The focus claims requests for meeting URIs and the factory URI
 * before the registrar's routing sees them (SipServer.addClaim).
 */
import type { Logger } from '../log.ts';
import type { Clock } from '../sip/clock.ts';
import type { SipRequest, SipUri } from '../sip/message/types.ts';
import { createResponse, newTag } from '../sip/message/build.ts';
import { parseUri } from '../sip/message/parse.ts';
import type { ServerTransaction } from '../sip/transaction/layer.ts';
import type { DialogLayer, ServerTxPort } from '../sip/dialog/dialog-layer.ts';
import type { DigestAuthenticator } from '../sip/auth/digest.ts';
import type { MediaRelayApi, RelayEvent, StreamStats } from '../../media-relay/api.ts';
import { parseSdp, processAnswer, writeSdp } from '../../sdp/index.ts';
import type { CancelOutcome, CreateOutcome, FocusApi } from './api.ts';
import { ChatRelay } from './chat-relay.ts';
import { scheduleProbe } from './liveness.ts';
import { CHAT_ACCEPT } from './chat.ts';
import { DEFAULT_MEETING_ID_PATTERN, FACTORY_USER, freshMeetingId, isMeetingId } from './meeting-id.ts';
import { type EndReason, Meeting } from './meeting.ts';
import { applyAgreed, createLateOffer, negotiateOffer, settleLateAnswer } from './media-session.ts';
import { contactOf, hasFeature, Participant } from './participant.ts';
import { MULTI_VIDEO_FEATURE, syncVideoLines, type VideoLinesContext } from './video-lines.ts';
import { P2pController } from './p2p.ts';
import type { P2pPolicy } from './meeting.ts';
import type { MeetingView } from './views.ts';
import { meetingView } from './view-builder.ts';

export interface FocusOptions {
  dialogs: DialogLayer;
  relay: MediaRelayApi;
  clock: Clock;
  logger: Logger;
  /** Host part of meeting URIs: the SIP domain, or the advertised host:port. */
  domain: string;
  /** host:port the focus puts in its Contact. */
  contactHostPort: string;
  /** The relay's media address for SDP. */
  mediaAddress: string;
  /** Canonical AOR of a URI (the registrar's rule, so `sip:alice@<any of our names>` is one person). */
  aorOf: (uri: SipUri) => string;
  /** When set (a users file), creating and ending meetings over SIP needs digest credentials. */
  auth?: DigestAuthenticator;
  meetingIdPattern?: RegExp;
  /** How long a meeting created without anyone in it (HTTP API) waits for its first participant. Default 5 min. */
  emptyMeetingTimeoutMs?: number;
  /** How long an id ended by its host is refused (410) before it may be reused. Default 24 h. */
  endedMemoryMs?: number;
  /** Interval of the in-dialog OPTIONS liveness probe; 0 disables. Default 60 s. */
  probeIntervalMs?: number;
  /** Server-wide peer-to-peer policy (`--p2p`): 'auto' = P2P while exactly two participants. Default 'off'. */
  p2p?: P2pPolicy;
  /** How long after a switch to P2P the phones' RTCP must show direct media arrives. Default 8 s. */
  p2pVerifyMs?: number;
}

/** RFC 3326 Reason header values for the BYEs the focus sends. */
export const REASON_HOST_ENDED = 'Q.850;cause=16;text="Meeting ended by the host"';
export const REASON_MEDIA_TIMEOUT = 'Q.850;cause=102;text="No media received for 30 seconds"';
export const REASON_SHUTDOWN = 'Q.850;cause=16;text="Server shutting down"';

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, UPDATE, INFO, SUBSCRIBE, NOTIFY';

export class Focus implements FocusApi {
  private readonly meetings = new Map<string, Meeting>();
  /** Meeting ids ended by their host → when (wall ms): a later INVITE is refused with 410. */
  private readonly endedByHost = new Map<string, number>();
  private readonly rosterListeners: Array<(meetingId: string) => void> = [];
  private readonly o: Required<Pick<FocusOptions, 'emptyMeetingTimeoutMs' | 'endedMemoryMs' | 'meetingIdPattern' | 'probeIntervalMs'>> & FocusOptions;
  private readonly log: Logger;
  private readonly stats = { meetingsCreated: 0, meetingsEnded: 0, chatMessages: 0 };
  private readonly p2p: P2pController;
  private readonly chat: ChatRelay;
  /** Claims hook for SubscriptionHandler (roster), set by the server wiring. */
  onSubscribe: ((meeting: Meeting, req: SipRequest, tx: ServerTransaction) => void) | undefined;

  constructor(opts: FocusOptions) {
    this.o = {
      emptyMeetingTimeoutMs: 5 * 60_000,
      endedMemoryMs: 24 * 3600_000,
      meetingIdPattern: DEFAULT_MEETING_ID_PATTERN,
      probeIntervalMs: 60_000,
      ...opts,
    };
    this.log = opts.logger.child({ component: 'focus' });
    this.p2p = new P2pController({
      mediaAddress: opts.mediaAddress,
      ...(opts.p2pVerifyMs !== undefined ? { verifyMs: opts.p2pVerifyMs } : {}),
      dialogs: opts.dialogs,
      relay: opts.relay,
      clock: opts.clock,
      logger: opts.logger,
      defaultPolicy: opts.p2p ?? 'off',
      changed: (id) => this.rosterChanged(id),
    });
    this.chat = new ChatRelay({
      dialogs: opts.dialogs,
      clock: opts.clock,
      logger: this.log,
      authenticate: (req, tx) => this.authenticate(req, tx),
      endMeeting: (m) => this.endMeeting(m, 'cancelled'),
      counted: () => void this.stats.chatMessages++,
    });
    opts.relay.onEvent((ev) => this.onRelayEvent(ev));
  }

  meetingUri(id: string): string {
    return `sip:${id}@${this.o.domain}`;
  }

  /** The meeting a URI names, if it is one of ours and not ended. */
  meeting(id: string): Meeting | undefined {
    return this.meetings.get(id);
  }

  // ---- SIP entry: requests outside any dialog -------------------------------------------------------------

  /** SipServer claim: true when the request is for the factory or a meeting URI (and has been answered/started). */
  claim(req: SipRequest, tx: ServerTransaction): boolean {
    const user = req.uri.user;
    if (user === FACTORY_USER) {
      if (req.method === 'INVITE') void this.join(req, tx, true);
      else if (req.method === 'OPTIONS') tx.respond(createResponse(req, 200, 'OK', { headers: [['Allow', ALLOW]] }));
      else tx.respond(createResponse(req, 405, 'Method Not Allowed', { headers: [['Allow', 'INVITE, OPTIONS']] }));
      return true;
    }
    if (user === undefined || (!isMeetingId(user, this.o.meetingIdPattern) && !this.meetings.has(user))) return false;
    switch (req.method) {
      case 'INVITE':
        void this.join(req, tx, false);
        return true;
      case 'MESSAGE':
        this.messageToMeeting(req, tx, user);
        return true;
      case 'SUBSCRIBE': {
        const m = this.meetings.get(user);
        if (!m) tx.respond(createResponse(req, 404, `Not Found - no meeting ${user}`));
        else if (this.onSubscribe) this.onSubscribe(m, req, tx);
        else tx.respond(createResponse(req, 489, 'Bad Event'));
        return true;
      }
      case 'OPTIONS':
        tx.respond(createResponse(req, 200, 'OK', { headers: [['Allow', ALLOW], ['Accept', `application/sdp, ${CHAT_ACCEPT}`]] }));
        return true;
      default:
        tx.respond(createResponse(req, 405, 'Method Not Allowed', { headers: [['Allow', ALLOW]] }));
        return true;
    }
  }

  /** Digest check for creating or ending a meeting over SIP (when a users file is configured). */
  private authenticate(req: SipRequest, tx: ServerTxPort): { ok: true } | { ok: false } {
    if (!this.o.auth) return { ok: true };
    const v = this.o.auth.verify(req, { role: 'registrar' });
    if (!v.ok) {
      const headers = v.status === 401 || v.status === 407 ? this.o.auth.challenge(req, { stale: v.stale ?? false }) : [];
      tx.respond(createResponse(req, v.status, undefined, { headers, toTag: newTag() }));
      return { ok: false };
    }
    if (v.username !== req.from.uri.user) {
      tx.respond(createResponse(req, 403, 'Forbidden - credentials do not match the From address', { toTag: newTag() }));
      return { ok: false };
    }
    return { ok: true };
  }

  private async join(req: SipRequest, tx: ServerTransaction, factory: boolean): Promise<void> {
    const aor = this.o.aorOf(req.from.uri);
    const name = req.from.displayName || req.from.uri.user || aor;
    let meeting: Meeting | undefined = factory ? undefined : this.meetings.get(req.uri.user!);
    if (!meeting) {
      const id = factory ? freshMeetingId((x) => this.meetings.has(x) || this.endedByHost.has(x)) : req.uri.user!;
      if (!factory && this.wasEndedByHost(id)) {
        tx.respond(createResponse(req, 410, `Gone - meeting ${id} has ended`, { toTag: newTag() }));
        return;
      }
      if (!this.authenticate(req, tx).ok) return;
      meeting = this.createMeeting(id, aor, name, 'invite');
    }
    const p = new Participant({
      id: meeting.newParticipantId(),
      meetingId: meeting.id,
      displayName: name,
      aor,
      contact: contactOf(req) ?? req.from.uri.raw,
      joinedAt: this.o.clock.wallNow(),
      wantsCpim: req.getAll('accept').some((a) => /message\/cpim/i.test(a)),
      multiVideo: hasFeature(req, MULTI_VIDEO_FEATURE),
    });
    meeting.participants.set(p.id, p);
    tx.onCancel(() => {
      p.cancelled = true;
    });
    // RFC 3261 §13.2.1: an INVITE without a body ("late offer") gets our offer in the 2xx, its answer in the ACK.
    const media = { relay: this.o.relay, meetingId: meeting.id, participantId: p.id, mediaAddress: this.o.mediaAddress };
    const late = req.body.length === 0;
    const result = late ? await createLateOffer(media) : await negotiateOffer({ ...media, offerBody: req.body });
    if (p.cancelled || meeting.state === 'ended') {
      // CANCEL arrived (the transaction layer answered it 200) or the host ended the meeting meanwhile.
      if (result.ok) await this.releaseLines(result.lines.flatMap((l) => (l.endpointId ? [l.endpointId] : [])));
      tx.respond(createResponse(req, 487, 'Request Terminated', { toTag: newTag() }));
      meeting.participants.delete(p.id);
      this.endIfAbandoned(meeting);
      return;
    }
    if (!result.ok) {
      this.log.info({ meeting: meeting.id, from: aor, status: result.status, why: result.reason }, 'join refused');
      tx.respond(createResponse(req, result.status, result.reason, { toTag: newTag() }));
      meeting.participants.delete(p.id);
      this.endIfAbandoned(meeting);
      return;
    }
    p.lines = result.lines;
    p.localOrigin = result.origin;
    p.localSdp = 'answer' in result ? result.answer : result.offer;
    p.remoteSdp = 'answer' in result ? result.offer : undefined;
    p.answerDueInAck = late;
    // RFC 4579 §5.2: the focus's Contact carries `isfocus`, so conference-aware UAs (Linphone) subscribe.
    p.dialog = this.o.dialogs.acceptInvite(
      tx,
      {
        localContact: `<sip:${meeting.id}@${this.o.contactHostPort}>;isfocus`,
        body: 'answerText' in result ? result.answerText : result.offerText,
        contentType: 'application/sdp',
        headers: [['Allow', ALLOW], ['Accept', `application/sdp, ${CHAT_ACCEPT}`], ['Allow-Events', 'conference']],
      },
      {
        onAck: (_d, ack) => this.onAck(meeting!, p, ack),
        onRequest: (_d, r, t) => void this.inDialog(meeting!, p, r, t),
        onTerminated: (_d, reason) => this.leave(meeting!, p, reason === 'bye' ? 'bye' : reason),
      },
    );
    if (meeting.state === 'waiting') {
      meeting.emptyTimer?.cancel();
      meeting.transition('active');
    }
    // A third participant: P2P → CS now, before it is connected to anyone.
    this.p2p.evaluate(meeting, `${name} joined`);
    this.log.info({ meeting: meeting.id, participant: p.id, aor, name, media: p.lines.map((l) => `${l.kind}:${l.codec ?? 'rejected'}`) }, 'participant joined');
    this.rosterChanged(meeting.id);
  }

  private onAck(meeting: Meeting, p: Participant, ack: SipRequest): void {
    if (p.answerDueInAck) {
      p.answerDueInAck = false;
      void this.lateAnswer(meeting, p, ack.body);
      return;
    }
    this.connected(meeting, p);
    // An answer in the ACK (we offered in a 2xx to an offer-less re-INVITE, RFC 3264 §4).
    if (ack.body.length > 0 && p.localSdp) void this.applyAnswer(meeting, p, ack.body);
  }

  private connected(meeting: Meeting, p: Participant): void {
    if (p.state !== 'joining') return;
    p.transition('connected');
    this.scheduleProbe(meeting, p);
    this.rosterChanged(meeting.id);
    this.videoChanged(meeting);
    this.p2p.evaluate(meeting, 'participant connected');
  }

  /** The ACK to our late offer: no usable answer ends the call (BYE with the reason, RFC 3326), like a 488 would. */
  private async lateAnswer(meeting: Meeting, p: Participant, body: Buffer): Promise<void> {
    const r = await settleLateAnswer(this.o.relay, p, body);
    if (r.ok) return this.connected(meeting, p);
    this.log.info({ meeting: meeting.id, participant: p.id, why: r.reason }, 'no usable answer in the ACK: ending the call');
    const dialog = p.dialog;
    this.leave(meeting, p, 'bye');
    if (dialog && dialog.state !== 'terminated') void this.o.dialogs.bye(dialog, [['Reason', `SIP;cause=488;text="${r.reason.replace(/["\\]/g, '')}"`]]).catch(() => undefined);
  }

  private async applyAnswer(meeting: Meeting, p: Participant, body: Buffer): Promise<void> {
    const answer = parseSdp(body);
    if (!answer.ok || !p.localSdp) return;
    const r = processAnswer(p.localSdp, answer.value);
    if (!r.ok) {
      this.log.info({ meeting: meeting.id, participant: p.id, why: r.error }, 'unusable SDP answer in ACK');
      return;
    }
    p.remoteSdp = answer.value;
    await applyAgreed(this.o.relay, p.lines, r.value).catch((err: Error) => this.log.warn({ err: err.message }, 'relay setRemote failed'));
    this.rosterChanged(meeting.id);
  }

  // ---- In-dialog requests ---------------------------------------------------------------------------------

  private async inDialog(meeting: Meeting, p: Participant, req: SipRequest, tx: ServerTxPort): Promise<void> {
    switch (req.method) {
      case 'MESSAGE':
        return this.chat.fromParticipant(meeting, p, req, tx);
      case 'INVITE':
        return this.reinvite(meeting, p, req, tx);
      case 'UPDATE':
        return this.update(meeting, p, req, tx);
      case 'SUBSCRIBE':
        if (this.onSubscribe) this.onSubscribe(meeting, req, tx as ServerTransaction);
        else tx.respond(createResponse(req, 489, 'Bad Event'));
        return;
      case 'INFO':
      case 'OPTIONS':
      case 'NOTIFY':
        tx.respond(createResponse(req, 200, 'OK', { headers: [['Allow', ALLOW]] }));
        return;
      default:
        tx.respond(createResponse(req, 405, 'Method Not Allowed', { headers: [['Allow', ALLOW]] }));
    }
  }

  /** RFC 3261 §14.2 / RFC 3264 §8: a new offer in the dialog (mic/camera off, codec change, new address). */
  private async reinvite(meeting: Meeting, p: Participant, req: SipRequest, tx: ServerTxPort): Promise<void> {
    const dialog = p.dialog!;
    if (req.body.length === 0) {
      // Offer-less re-INVITE: our current description is the offer in the 200; the answer comes in the ACK.
      // RFC 3264 §8: an unchanged description keeps its o= version.
      this.o.dialogs.acceptReinvite(dialog, tx, { body: writeSdp(p.localSdp!), contentType: 'application/sdp' });
      return;
    }
    const result = await this.renegotiate(meeting, p, req.body);
    if (!result.ok) {
      // §14.2: a refused re-INVITE leaves the session as it was.
      this.o.dialogs.rejectReinvite(dialog, tx, result.status, result.reason);
      return;
    }
    this.adopt(p, result);
    this.o.dialogs.acceptReinvite(dialog, tx, { body: result.answerText, contentType: 'application/sdp' });
    this.rosterChanged(meeting.id);
    this.videoChanged(meeting);
  }

  /** RFC 3311: UPDATE carries an offer and is answered in its 200 (no ACK). */
  private async update(meeting: Meeting, p: Participant, req: SipRequest, tx: ServerTxPort): Promise<void> {
    const toTag = p.dialog!.id.localTag;
    if (req.body.length === 0) {
      tx.respond(createResponse(req, 200, 'OK', { toTag, headers: [['Contact', p.dialog!.localContact]] }));
      return;
    }
    const result = await this.renegotiate(meeting, p, req.body);
    if (!result.ok) {
      tx.respond(createResponse(req, result.status, result.reason, { toTag }));
      return;
    }
    this.adopt(p, result);
    const headers: Array<[string, string]> = [['Contact', p.dialog!.localContact], ['Content-Type', 'application/sdp']];
    tx.respond(createResponse(req, 200, 'OK', { toTag, headers, body: result.answerText }));
    this.rosterChanged(meeting.id);
    this.videoChanged(meeting);
  }

  /** A new offer from the participant in its dialog, answered on the endpoints it already has (RFC 3264 §8). */
  private renegotiate(meeting: Meeting, p: Participant, offerBody: Buffer) {
    return negotiateOffer({
      relay: this.o.relay,
      meetingId: meeting.id,
      participantId: p.id,
      mediaAddress: this.o.mediaAddress,
      offerBody,
      previous: { origin: p.localOrigin!, lines: p.lines },
    });
  }

  private adopt(p: Participant, result: Extract<Awaited<ReturnType<typeof negotiateOffer>>, { ok: true }>): void {
    p.lines = result.lines;
    p.localOrigin = result.origin;
    p.localSdp = result.answer;
    p.remoteSdp = result.offer;
  }

  // ---- Chat -----------------------------------------------------------------------------------------------

  /** A MESSAGE sent to the meeting URI outside the dialog (Linphone's chat does this): from a participant only. */
  private messageToMeeting(req: SipRequest, tx: ServerTransaction, id: string): void {
    const meeting = this.meetings.get(id);
    if (!meeting) {
      tx.respond(createResponse(req, 404, `Not Found - no meeting ${id}`, { toTag: newTag() }));
      return;
    }
    const p = meeting.byAor(this.o.aorOf(req.from.uri));
    if (!p) {
      tx.respond(createResponse(req, 403, `Forbidden - not a participant of ${id}`, { toTag: newTag() }));
      return;
    }
    void this.chat.fromParticipant(meeting, p, req, tx, newTag());
  }

  // ---- Life cycle -----------------------------------------------------------------------------------------

  private createMeeting(id: string, creatorAor: string, creatorName: string, via: 'invite' | 'api'): Meeting {
    const meeting = new Meeting({ id, uri: this.meetingUri(id), creatorAor, creatorName, createdAt: this.o.clock.wallNow() });
    this.meetings.set(id, meeting);
    this.stats.meetingsCreated++;
    if (via === 'api') {
      meeting.emptyTimer = this.o.clock.setTimer(this.o.emptyMeetingTimeoutMs, () => {
        if (meeting.state === 'waiting') void this.endMeeting(meeting, 'never-joined');
      });
    }
    this.log.info({ meeting: id, creator: creatorAor, via }, 'meeting created');
    return meeting;
  }

  /** An ad-hoc meeting whose first INVITE failed is forgotten at once (no empty meetings from failed calls). */
  private endIfAbandoned(meeting: Meeting): void {
    if (meeting.state === 'waiting' && meeting.present().length === 0 && meeting.emptyTimer === undefined) {
      void this.endMeeting(meeting, 'never-joined');
    }
  }

  private scheduleProbe(meeting: Meeting, p: Participant): void {
    scheduleProbe({ dialogs: this.o.dialogs, clock: this.o.clock, log: this.log, intervalMs: this.o.probeIntervalMs }, meeting, p, (why) => this.leave(meeting, p, why));
  }

  private leave(meeting: Meeting, p: Participant, why: string): void {
    if (p.state === 'left') return;
    p.transition('left');
    p.probeTimer?.cancel();
    meeting.participants.delete(p.id);
    void this.releaseLines(p.endpointIds());
    this.log.info({ meeting: meeting.id, participant: p.id, why }, 'participant left');
    this.rosterChanged(meeting.id);
    this.videoChanged(meeting);
    if (meeting.state === 'active' && meeting.present().length === 0) void this.endMeeting(meeting, 'empty');
    else this.p2p.evaluate(meeting, `${p.displayName} left`);
  }

  private async releaseLines(ids: string[]): Promise<void> {
    for (const id of ids) await this.o.relay.releaseEndpoint(id).catch(() => undefined);
  }

  /** End a meeting: BYE (with a Reason, RFC 3326) to everyone still in it, free its media, notify the roster. */
  private async endMeeting(meeting: Meeting, reason: EndReason): Promise<void> {
    if (meeting.state === 'ended') return;
    meeting.transition('ended');
    meeting.endReason = reason;
    meeting.emptyTimer?.cancel();
    this.meetings.delete(meeting.id);
    this.stats.meetingsEnded++;
    if (reason === 'cancelled') this.endedByHost.set(meeting.id, this.o.clock.wallNow());
    const byeReason = reason === 'shutdown' ? REASON_SHUTDOWN : REASON_HOST_ENDED;
    // The BYEs are sent now and not awaited: a phone that vanished must not hold up the others (or an API call)
    // for Timer F's 32 s.
    for (const p of meeting.present()) {
      p.transition('left');
      p.probeTimer?.cancel();
      if (p.dialog && p.dialog.state !== 'terminated') void this.o.dialogs.bye(p.dialog, [['Reason', byeReason]]).catch(() => undefined);
    }
    meeting.participants.clear();
    await this.o.relay.releaseMeeting(meeting.id).catch(() => undefined);
    this.log.info({ meeting: meeting.id, reason }, 'meeting ended');
    this.rosterChanged(meeting.id);
  }

  private wasEndedByHost(id: string): boolean {
    const at = this.endedByHost.get(id);
    if (at === undefined) return false;
    if (this.o.clock.wallNow() - at > this.o.endedMemoryMs) {
      this.endedByHost.delete(id);
      return false;
    }
    return true;
  }

  /** The AOR of the meeting's active speaker (roster `<active-speaker>`; the GUI highlights that tile). */
  activeSpeakerAor(meetingId: string): string | undefined {
    const m = this.meetings.get(meetingId);
    const id = m?.activeSpeaker;
    return id === undefined ? undefined : m?.participants.get(id)?.aor;
  }

  private onRelayEvent(ev: RelayEvent): void {
    if (ev.type === 'active-speaker') {
      const m = this.meetings.get(ev.meetingId);
      if (m && m.activeSpeaker !== ev.participantId) {
        m.activeSpeaker = ev.participantId;
        this.rosterChanged(m.id);
      }
      return;
    }
    if (ev.type !== 'media-timeout') return;
    const meeting = this.meetings.get(ev.meetingId);
    const p = meeting?.participants.get(ev.participantId);
    if (!meeting || !p || p.state === 'left') return;
    // In peer-to-peer mode the relay sees no media by design: silence there says nothing about the phone.
    if (meeting.mode === 'p2p' || meeting.switching) return;
    // Liveness (issue: a participant whose media stopped for 30 s is removed as if it had sent BYE).
    this.log.info({ meeting: meeting.id, participant: p.id, silentMs: ev.silentMs }, 'no media: removing participant');
    const dialog = p.dialog;
    this.leave(meeting, p, 'media-timeout');
    if (dialog && dialog.state !== 'terminated') void this.o.dialogs.bye(dialog, [['Reason', REASON_MEDIA_TIMEOUT]]).catch(() => undefined);
  }

  /** Publishers may have changed: multi-video participants get their per-publisher lines re-offered. */
  private videoChanged(meeting: Meeting): void {
    if (meeting.state === 'ended') return;
    for (const p of meeting.present()) if (p.multiVideo) void syncVideoLines(this.videoCtx, meeting, p);
  }

  private get videoCtx(): VideoLinesContext {
    return {
      dialogs: this.o.dialogs,
      relay: this.o.relay,
      clock: this.o.clock,
      logger: this.o.logger,
      mediaAddress: this.o.mediaAddress,
      changed: (id) => this.rosterChanged(id),
    };
  }

  private rosterChanged(meetingId: string): void {
    for (const cb of this.rosterListeners) {
      try {
        cb(meetingId);
      } catch (err) {
        this.log.error({ err }, 'roster listener failed');
      }
    }
  }

  // ---- FocusApi (HTTP, metrics, roster) -------------------------------------------------------------------

  onRosterChange(cb: (meetingId: string) => void): void {
    this.rosterListeners.push(cb);
  }

  async list(): Promise<MeetingView[]> {
    return Promise.all([...this.meetings.values()].map((m) => this.view(m)));
  }

  async get(id: string): Promise<MeetingView | undefined> {
    const m = this.meetings.get(id);
    return m ? this.view(m) : undefined;
  }

  /** The roster's view of a meeting without relay counters (synchronous, for NOTIFY bodies). */
  snapshot(id: string): MeetingView | undefined {
    const m = this.meetings.get(id);
    return m ? this.viewWith(m, new Map()) : undefined;
  }

  create(opts: { id?: string; creator: { aor: string; displayName?: string } }): CreateOutcome {
    const id = opts.id ?? freshMeetingId((x) => this.meetings.has(x) || this.endedByHost.has(x));
    if (!isMeetingId(id, this.o.meetingIdPattern)) {
      return { ok: false, status: 400, reason: `meeting ids look like conf-42 (letters, digits, '.', '_', '-' after "conf-"), got "${id}"` };
    }
    if (this.meetings.has(id)) return { ok: false, status: 409, reason: `meeting ${id} already exists` };
    if (this.wasEndedByHost(id)) return { ok: false, status: 410, reason: `meeting ${id} was ended by its host` };
    const u = parseUri(opts.creator.aor);
    if (!u.ok || (u.value.scheme !== 'sip' && u.value.scheme !== 'sips')) return { ok: false, status: 400, reason: `creator must be a sip: URI, got "${opts.creator.aor}"` };
    const aor = this.o.aorOf(u.value);
    const m = this.createMeeting(id, aor, opts.creator.displayName ?? u.value.user ?? aor, 'api');
    return { ok: true, meeting: this.viewWith(m, new Map()) };
  }

  async cancel(id: string, by: { aor: string }): Promise<CancelOutcome> {
    const m = this.meetings.get(id);
    if (!m) return this.wasEndedByHost(id) ? 'already-ended' : 'not-found';
    const u = parseUri(by.aor);
    const aor = u.ok ? this.o.aorOf(u.value) : by.aor;
    if (aor !== m.creatorAor) return 'forbidden';
    await this.endMeeting(m, 'cancelled');
    return 'ended';
  }

  /** Per-meeting override of the P2P policy (HTTP API). */
  setP2pPolicy(id: string, policy: P2pPolicy): boolean {
    const m = this.meetings.get(id);
    if (!m) return false;
    m.p2pPolicy = policy;
    this.p2p.evaluate(m, `policy set to ${policy}`);
    this.rosterChanged(id);
    return true;
  }

  counters() {
    let participants = 0;
    for (const m of this.meetings.values()) participants += m.present().length;
    return { meetings: this.meetings.size, participants, ...this.stats };
  }

  private async view(m: Meeting): Promise<MeetingView> {
    const stats = await this.o.relay.stats(m.id).catch(() => undefined);
    return this.viewWith(m, new Map((stats?.streams ?? []).map((s) => [s.endpointId, s])));
  }

  private viewWith(m: Meeting, stats: Map<string, StreamStats>): MeetingView {
    return meetingView(m, stats, this.p2p.policy(m));
  }

  /** Server shutdown: end every meeting (BYE to everyone). */
  async close(): Promise<void> {
    await Promise.all([...this.meetings.values()].map((m) => this.endMeeting(m, 'shutdown')));
  }
}
