/**
 * One GUI user: the lobby (settings, meeting list) and at most one meeting at a time, driven by the page's
 * commands and reported to it as `GuiState` snapshots (protocol.ts).
 *
 *              join()                 INVITE answered 2xx (call 'joined')
 *    lobby ─────────────▶ joining ─────────────────────────────────────▶ meeting
 *      ▲                     │ refused / unreachable / camera+mic gone        │ leave(), end for all, BYE from
 *      │                     ▼                                                │ the focus (Reason shown),
 *      └───────────────── (notice) ◀──────────────────────────────────────────┘ connection lost
 *
 * Per meeting: a SoftClient (TCP to the server, REGISTER when credentials were given), its MeetingCall (SIP:
 * INVITE, chat, roster, re-INVITEs), and the MediaBridge (WebRTC with the page ⇄ RTP with the focus).
 * Everything is torn down on the way back to the lobby: bridge → call (BYE) → client (unREGISTER, TCP).
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../../registrar/log.ts';
import type { Clock } from '../../registrar/sip/clock.ts';
import type { MediaOptions, MeetingCall } from '../call.ts';
import { SoftClient } from '../client.ts';
import { ClientError } from '../errors.ts';
import { SilenceSource } from '../media/audio-source.ts';
import type { RosterChange } from '../roster/roster.ts';
import { type ExternalMedia, MediaBridge } from './bridge/media-bridge.ts';
import { LobbyPoller } from './lobby-poller.ts';
import type { CommandResult, GuiMeeting, GuiNotice, GuiParticipant, GuiPhase, GuiState } from './protocol.ts';
import { toParticipant } from './roster-view.ts';
import { aorOf, type GuiSettings, withChanges } from './settings.ts';
import { EventHub } from './sse.ts';

/** Receive slots the page offers: remote videos shown at once (more publishers wait for a free slot). */
export const VIDEO_SLOTS = 9;
const STATS_MS = 2000;

const TRANSITIONS: Readonly<Record<GuiPhase, readonly GuiPhase[]>> = {
  lobby: ['joining'],
  joining: ['meeting', 'lobby'],
  meeting: ['lobby'],
};

export interface GuiSessionOptions {
  readonly settings: GuiSettings;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Remote videos shown at once (default VIDEO_SLOTS). */
  readonly slots?: number;
}

interface Meeting {
  readonly client: SoftClient;
  readonly bridge: MediaBridge;
  call: MeetingCall | undefined;
  uri: string;
  creating: boolean;
  mic: boolean;
  camera: boolean;
  participants: GuiParticipant[];
  mode: string | undefined;
  activeSpeaker: string | undefined;
  /** The focus said who created it: the roster's `host` role on our AOR. */
  host: boolean;
  /** Mic or camera changed before the call was joined: re-offer once joined. */
  renegotiate: boolean;
}

export class GuiSession {
  private settings: GuiSettings;
  private phase: GuiPhase = 'lobby';
  private meeting: Meeting | undefined;
  private notice: GuiNotice | undefined;
  private readonly hub = new EventHub();
  private readonly lobby: LobbyPoller;
  private readonly log: Logger;
  private readonly slots: number;
  /** Resolves with the meeting once its bridge exists (or undefined when joining failed). */
  private bridgeReady: Promise<Meeting | undefined> = Promise.resolve(undefined);
  private bridgeReadyResolve: ((m: Meeting | undefined) => void) | undefined;

  constructor(private readonly o: GuiSessionOptions) {
    this.settings = o.settings;
    this.slots = o.slots ?? VIDEO_SLOTS;
    this.log = o.logger.child({ component: 'gui' });
    this.lobby = new LobbyPoller(o.clock, () => this.settings.api, (r) => this.hub.send('meetings', r));
  }

  get currentPhase(): GuiPhase {
    return this.phase;
  }

  private transition(to: GuiPhase): void {
    if (!TRANSITIONS[this.phase].includes(to)) throw new Error(`GuiSession: illegal transition ${this.phase} → ${to}`);
    this.log.debug({ from: this.phase, to }, 'gui phase');
    this.phase = to;
  }

  state(): GuiState {
    const s = this.settings;
    return {
      phase: this.phase,
      server: `${s.server.host.includes(':') ? `[${s.server.host}]` : s.server.host}:${s.server.port}`,
      api: s.api,
      name: s.name,
      aor: aorOf(s),
      slots: this.slots,
      meeting: this.meeting && this.phase !== 'lobby' ? this.meetingView(this.meeting) : undefined,
      notice: this.notice,
    };
  }

  private meetingView(m: Meeting): GuiMeeting {
    const id = /^sips?:([^@;]+)@/i.exec(m.uri)?.[1] ?? m.uri;
    const names = new Map(m.participants.filter((p) => p.id !== undefined).map((p) => [p.id!, p]));
    return {
      uri: m.uri,
      id,
      host: m.host,
      mic: m.mic,
      camera: m.camera,
      participants: m.participants,
      activeSpeaker: m.activeSpeaker,
      tiles: m.bridge.tiles().map((t) => ({ slot: t.slot, participantId: t.label, name: names.get(t.label)?.name ?? t.label, aor: names.get(t.label)?.aor })),
      media: { mode: m.mode, ...m.bridge.status() },
    };
  }

  private changed(): void {
    this.hub.send('state', this.state());
  }

  private say(kind: GuiNotice['kind'], text: string): void {
    this.notice = { kind, text, at: this.o.clock.wallNow() };
  }

  /** A page connects: the current state, then every change. */
  attachEvents(res: ServerResponse): void {
    this.hub.attach(res, [['state', this.state()], ['meetings', this.lobby.last]], () => {
      if (this.hub.size === 0) this.lobby.stop();
    });
    this.lobby.start();
  }

  updateSettings(change: { name?: string; server?: string }): CommandResult {
    if (this.phase !== 'lobby') return { ok: false, error: 'leave the meeting first' };
    try {
      this.settings = withChanges(this.settings, change);
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
    this.lobby.refresh();
    this.changed();
    return { ok: true };
  }

  /** The URI to dial: a meeting URI as given, a bare id on our server, or the factory URI (RFC 4579) to create. */
  private targetUri(target: string, create: boolean): string | undefined {
    const t = target.trim();
    const s = this.settings.server;
    const hp = `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
    if (!t) return create ? `sip:conference@${hp}` : undefined;
    if (/^sips?:[^@\s]+@\S+$/i.test(t)) return t;
    if (/^[A-Za-z0-9._-]+$/.test(t)) return `sip:${t}@${hp}`;
    return undefined;
  }

  /** Start joining (or creating); the outcome arrives as state changes. */
  join(req: { target: string; create: boolean; mic?: boolean; camera?: boolean }): CommandResult {
    if (this.phase !== 'lobby') return { ok: false, error: 'already in a meeting' };
    const uri = this.targetUri(req.target, req.create);
    if (!uri) return { ok: false, error: `"${req.target}" is not a meeting: give a URI like sip:conf-42@host or an id like conf-42` };
    this.transition('joining');
    this.notice = undefined;
    this.bridgeReady = new Promise((resolve) => (this.bridgeReadyResolve = resolve));
    this.lobby.stop();
    void this.connect(uri, req.create, req.mic !== false, req.camera !== false);
    this.changed();
    return { ok: true };
  }

  private async connect(uri: string, creating: boolean, mic: boolean, camera: boolean): Promise<void> {
    const s = this.settings;
    const client = new SoftClient({ server: s.server, aor: aorOf(s), name: s.name, logger: this.o.logger, clock: this.o.clock, ...(s.auth ? { auth: s.auth } : {}) });
    let bridge: MediaBridge | undefined;
    try {
      await client.start();
      if (s.auth) await client.register();
      bridge = await MediaBridge.create({ localAddress: client.transport.localAddress ?? '127.0.0.1', slots: this.slots, clock: this.o.clock, logger: this.o.logger, cname: aorOf(s).replace(/^sips?:/, '') });
      bridge.advertiseTo(client.ua);
      const m: Meeting = { client, bridge, call: undefined, uri, creating, mic, camera, participants: [], mode: undefined, activeSpeaker: undefined, host: creating, renegotiate: false };
      this.meeting = m;
      this.bridgeReadyResolve?.(m);
      bridge.on('changed', () => this.changed());
      bridge.setCameraDirection(camera);
      bridge.audio.direction = mic ? 'sendrecv' : 'recvonly';
      // The bridge's legs are the call's media: nothing is captured, encoded or played here (the page does that).
      const media: MediaOptions & { external: ExternalMedia } = { audioIn: new SilenceSource(), micOff: !mic, statsIntervalMs: STATS_MS, external: bridge.external() };
      const call = await client.prepare(uri, media);
      m.call = call;
      this.wire(m, call);
      await call.invite();
    } catch (e) {
      const err = e instanceof ClientError ? e : new ClientError('failed', (e as Error).message);
      this.log.info({ uri, err: err.message }, 'join failed');
      this.say(err.kind === 'unreachable' ? 'unreachable' : err.kind === 'rejected' || err.kind === 'auth' ? 'refused' : 'error', err.message);
      bridge?.close();
      this.meeting = undefined;
      this.bridgeReadyResolve?.(undefined);
      await client.stop().catch(() => undefined);
      if (this.phase !== 'lobby') this.transition('lobby');
      this.backToLobby();
    }
  }

  private wire(m: Meeting, call: MeetingCall): void {
    const self = aorOf(this.settings);
    call.on('joined', (j) => {
      m.uri = j.meeting;
      if (this.phase === 'joining') this.transition('meeting');
      this.log.info({ meeting: j.meeting }, 'in the meeting');
      this.changed();
      if (m.renegotiate) {
        // The page changed mic or camera while we were joining: one re-INVITE with the lines as they are now.
        m.renegotiate = false;
        call.setMic(m.mic).catch((e: Error) => this.log.info({ err: e.message }, 're-INVITE after joining failed'));
      }
    });
    call.on('roster', (r: RosterChange) => {
      m.participants = r.users.map((u) => toParticipant(u, self));
      m.host = m.participants.some((p) => p.self && p.host);
      m.mode = r.mode ?? m.mode;
      m.activeSpeaker = r.activeSpeaker;
      // P2P: exactly one other participant, whose camera now arrives on our own camera line.
      const others = m.participants.filter((p) => !p.self);
      m.bridge.setDirectVideoFrom(m.mode === 'p2p' && others.length === 1 ? others[0]!.id : undefined);
      this.changed();
    });
    call.on('chat', (c) => this.hub.send('chat', { ...c, self: false }));
    call.on('notice', (text) => this.hub.send('chat', { from: m.uri, name: 'meeting', at: new Date(this.o.clock.wallNow()).toISOString(), text, self: false, system: true }));
    call.on('ended', (e) => this.say('ended', `The meeting has ended: ${e.reason}`));
    call.on('closed', () => void this.teardown(m));
  }

  /** Tear the meeting down (after the call closed) and go back to the lobby. */
  private async teardown(m: Meeting): Promise<void> {
    if (this.meeting !== m) return;
    this.meeting = undefined;
    m.bridge.close();
    await m.client.stop().catch(() => undefined);
    if (this.phase !== 'lobby') this.transition('lobby');
    this.backToLobby();
  }

  private backToLobby(): void {
    if (this.hub.size > 0) this.lobby.start();
    this.changed();
  }

  private inMeeting(): Meeting | CommandResult {
    const m = this.meeting;
    if (!m?.call || this.phase !== 'meeting') return { ok: false, error: 'not in a meeting' };
    return m;
  }

  async leave(): Promise<CommandResult> {
    const m = this.meeting;
    if (!m) return { ok: false, error: 'not in a meeting' };
    if (m.call) await m.call.leave('left the meeting');
    else await this.teardown(m);
    return { ok: true };
  }

  async endForAll(): Promise<CommandResult> {
    const m = this.inMeeting();
    if (!('client' in m)) return m;
    return this.attempt(() => m.call!.end());
  }

  async chat(text: string): Promise<CommandResult> {
    const m = this.inMeeting();
    if (!('client' in m)) return m;
    const t = text.trim();
    if (!t) return { ok: false, error: 'nothing to send' };
    const r = await this.attempt(() => m.call!.sendChat(t));
    if (r.ok) this.hub.send('chat', { from: aorOf(this.settings), name: this.settings.name, at: new Date(this.o.clock.wallNow()).toISOString(), text: t, self: true });
    return r;
  }

  /**
   * While the INVITE is under way (a page opened on `join --gui` finds no microphone or camera) the wish is kept
   * and renegotiated once joined.
   */
  private joiningMeeting(): Meeting | undefined {
    const m = this.meeting;
    return this.phase === 'joining' && m?.call && m.call.currentState !== 'joined' ? m : undefined;
  }

  async setMic(on: boolean): Promise<CommandResult> {
    const early = this.joiningMeeting();
    if (early) {
      early.mic = on;
      early.renegotiate = true;
      return { ok: true };
    }
    const m = this.inMeeting();
    if (!('client' in m)) return m;
    m.mic = on;
    this.changed();
    return this.attempt(() => m.call!.setMic(on));
  }

  async setCamera(on: boolean): Promise<CommandResult> {
    const early = this.joiningMeeting();
    if (early) {
      early.camera = on;
      early.bridge.setCameraDirection(on);
      early.renegotiate = true;
      return { ok: true };
    }
    const m = this.inMeeting();
    if (!('client' in m)) return m;
    m.camera = on;
    this.changed();
    // Our camera line stops forwarding now; the call re-offers it sendrecv / recvonly (RFC 3264 §8.4).
    m.bridge.setCameraDirection(on);
    return this.attempt(() => m.call!.setCamera(on));
  }

  /** The page could not open the camera (refused, none): say so; the meeting goes on without it. */
  cameraRefused(text: string): CommandResult {
    this.say('camera', text || 'The camera could not be opened.');
    if (this.meeting) this.meeting.camera = false;
    this.changed();
    return { ok: true };
  }

  /** The page's WebRTC offer, answered by this meeting's bridge. */
  async rtcOffer(sdp: string): Promise<CommandResult | { sdp: string }> {
    // The page offers right after asking to join; the bridge exists once the server answered the connection.
    const m = this.meeting ?? (this.phase === 'joining' ? await this.bridgeReady : undefined);
    if (!m) return { ok: false, error: 'not in a meeting' };
    try {
      return { sdp: await m.bridge.answer(sdp) };
    } catch (e) {
      return { ok: false, error: `WebRTC: ${(e as Error).message}` };
    }
  }

  private async attempt(f: () => Promise<void>): Promise<CommandResult> {
    try {
      await f();
      return { ok: true };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }

  /** Leave any meeting, stop polling, close the event streams. */
  async close(): Promise<void> {
    this.lobby.stop();
    const m = this.meeting;
    if (m) {
      await m.call?.leave('the GUI was closed').catch(() => undefined);
      await this.teardown(m);
    }
    this.hub.close();
  }
}
