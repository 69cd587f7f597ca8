/**
 * The softclient's programmatic API: a SIP user agent (sip.js over our TCP transport) that registers when it has
 * credentials and joins meetings. The CLI (`sipmeet join|create|register`) and the tests drive it; the GUI will.
 *
 *   const client = new SoftClient({ server, aor, name, logger });
 *   await client.start();                        // TCP connection; ClientError('unreachable') when it fails
 *   await client.register();                     // only with credentials (RFC 3261 §10, digest §22)
 *   const call = await client.join(uri, media);  // INVITE; ClientError('rejected' | 'auth') on 3xx-6xx
 *   call.on('chat', …); call.sendChat('hi'); await call.leave();
 *   await client.stop();
 *
 * Teardown cascade: client.stop() → each call.leave() (BYE, media closed) → unREGISTER → transport closed.
 */
import { Registerer, RegistererState, type Session, type SessionDescriptionHandlerFactory, UserAgent } from 'sip.js';
import type { Logger } from '../registrar/log.ts';
import { type Clock, systemClock } from '../registrar/sip/clock.ts';
import { ClientError, rejection } from './errors.ts';
import { MeetingCall, type MediaOptions } from './call.ts';
import { TcpTransport } from './sip/tcp-transport.ts';
import { createUserAgent } from './sip/user-agent.ts';

export interface SoftClientOptions {
  readonly server: { readonly host: string; readonly port: number };
  /** Our AOR (From of every request), e.g. `sip:alice@example.com`. */
  readonly aor: string;
  /** Display name shown to the others. */
  readonly name: string;
  /** Digest credentials: with them the client can REGISTER and answer challenges. */
  readonly auth?: { readonly username: string; readonly password: string };
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly connectTimeoutMs?: number;
  /**
   * RFC 3840 feature tags for our Contact, e.g. `+sipmeet.video-streams` (docs/focus.md: the focus then offers one
   * video line per other participant).
   */
  readonly contactFeatures?: readonly string[];
}

export class SoftClient {
  readonly ua: UserAgent;
  private registerer: Registerer | undefined;
  private readonly calls = new Set<MeetingCall>();
  /** Each call's handler factory, by its sip.js session (sip.js asks the UA's factory, passing the session). */
  private readonly sdhBySession = new WeakMap<Session, SessionDescriptionHandlerFactory>();
  private readonly log: Logger;
  readonly clock: Clock;

  constructor(readonly o: SoftClientOptions) {
    this.log = o.logger.child({ component: 'softclient' });
    this.clock = o.clock ?? systemClock;
    this.ua = createUserAgent({
      server: o.server,
      aor: o.aor,
      displayName: o.name,
      logger: o.logger,
      ...(o.auth ? { auth: o.auth } : {}),
      ...(o.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: o.connectTimeoutMs }),
      sdhFactory: (session: Session, options?: object) => {
        const factory = this.sdhBySession.get(session);
        if (!factory) throw new Error('no media prepared for this session (incoming calls are not supported)');
        return factory(session, options);
      },
    });
    if (o.contactFeatures?.length) {
      // RFC 3840 §9: feature parameters go on the Contact header field value, outside the URI. sip.js renders the
      // Contact through this toString for every request it sends.
      const contact = this.ua.contact;
      const render = contact.toString.bind(contact);
      contact.toString = (options?: object) => {
        let s = render(options as never);
        for (const f of o.contactFeatures!) if (!s.includes(f)) s += `;${f}`;
        return s;
      };
    }
    // Deviation: the softclient only places calls; an incoming INVITE outside a meeting is refused.
    this.ua.delegate = {
      onInvite: (invitation) => void invitation.reject({ statusCode: 486 }).catch(() => undefined),
      onDisconnect: (err) => {
        for (const c of this.calls) c.connectionLost(err?.message ?? 'connection to the server lost');
      },
    };
  }

  get transport(): TcpTransport {
    return this.ua.transport as TcpTransport;
  }

  get serverLabel(): string {
    return `${this.o.server.host}:${this.o.server.port}`;
  }

  /** Open the connection to the server. */
  async start(): Promise<void> {
    try {
      await this.ua.start();
    } catch (e) {
      const why = this.transport.lastError?.message ?? (e as Error).message;
      throw new ClientError('unreachable', `server ${this.serverLabel} unreachable: ${why}`);
    }
  }

  /** REGISTER our AOR (RFC 3261 §10.2) with the server; resolves when registered. */
  async register(expires = 600): Promise<void> {
    const registrar = UserAgent.makeURI(`sip:${this.serverLabel}`)!;
    const r = new Registerer(this.ua, { expires, registrar });
    this.registerer = r;
    await new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: ClientError) => {
        if (done) return;
        done = true;
        if (err) reject(err);
        else resolve();
      };
      r.stateChange.addListener((s) => {
        if (s === RegistererState.Registered) finish();
      });
      r.register({
        requestDelegate: {
          onReject: (res) => finish(rejection(`register ${this.o.aor}`, res.message.statusCode ?? 0, res.message.reasonPhrase ?? '')),
        },
      }).catch((e: Error) => finish(new ClientError('failed', `register ${this.o.aor}: ${e.message}`)));
    });
    this.log.info({ aor: this.o.aor }, 'registered');
  }

  get registered(): boolean {
    return this.registerer?.state === RegistererState.Registered;
  }

  /**
   * Bind the media ports and build the call for `uri` (a meeting, or the factory URI to create one). Attach
   * listeners, then `invite()` it — or use join() for both.
   */
  async prepare(uri: string, media: MediaOptions): Promise<MeetingCall> {
    const target = UserAgent.makeURI(uri);
    if (!target) throw new ClientError('usage', `not a SIP URI: ${uri}`);
    const call = await MeetingCall.prepare({
      ua: this.ua,
      target,
      targetText: uri,
      aor: this.o.aor,
      name: this.o.name,
      localAddress: this.transport.localAddress ?? '127.0.0.1',
      media,
      logger: this.o.logger,
      clock: this.clock,
      bindSdh: (session, factory) => this.sdhBySession.set(session, factory),
    });
    this.calls.add(call);
    call.once('closed', () => this.calls.delete(call));
    return call;
  }

  /** prepare() then invite(): resolves once in the meeting. */
  async join(uri: string, media: MediaOptions): Promise<MeetingCall> {
    const call = await this.prepare(uri, media);
    await call.invite();
    return call;
  }

  /** Leave every call, unregister, close the connection. Idempotent. */
  async stop(): Promise<void> {
    await Promise.all([...this.calls].map((c) => c.leave().catch(() => undefined)));
    if (this.registerer && this.registerer.state === RegistererState.Registered && this.ua.isConnected()) {
      await new Promise<void>((resolve) => {
        const t = this.clock.setTimer(2000, resolve);
        this.registerer!.unregister({ requestDelegate: { onAccept: () => (t.cancel(), resolve()), onReject: () => (t.cancel(), resolve()) } }).catch(() => (t.cancel(), resolve()));
      });
    }
    await this.ua.stop().catch(() => undefined);
  }
}
