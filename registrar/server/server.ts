/**
 * Starting and stopping a sipmeet server: builds the layers bottom-up (transport → transactions → server core)
 * and tears them down top-down.
 */
import type { Logger } from '../log.ts';
import { type Clock, systemClock } from '../sip/clock.ts';
import { createTransport } from '../sip/transport/index.ts';
import type { SipTransport } from '../sip/transport/types.ts';
import { TransactionLayer } from '../sip/transaction/layer.ts';
import { DigestAuthenticator } from '../sip/auth/digest.ts';
import { loadUsersFile } from '../sip/auth/users.ts';
import { LocationService } from '../location/bindings.ts';
import { Registrar } from '../location/registrar.ts';
import type { ServerConfig } from './config.ts';
import { SipServer } from './sip-server.ts';
import { Focus, type FocusOptions } from '../focus/focus.ts';
import type { MediaRelayApi } from '../../media-relay/api.ts';
import { Metrics } from '../http/metrics.ts';
import { startHttpServer } from '../http/server.ts';
import { usersBasicAuth } from '../http/basic-auth.ts';
import { RosterSubscriptions } from '../focus/roster/subscriptions.ts';
import { dialogSubscriptionPort } from '../focus/roster/dialog-port.ts';

export interface RunningServer {
  readonly config: ServerConfig;
  readonly sipPort: number;
  /** "host:port" as phones should be configured (IPv6 in brackets). */
  readonly advertisedHostPort: string;
  /** `sip:<user>@<domain or advertised host:port>`. */
  sipUri(user: string): string;
  readonly transport: SipTransport;
  readonly transactions: TransactionLayer;
  readonly registrar: Registrar;
  readonly sip: SipServer;
  readonly focus: Focus;
  readonly relay: MediaRelayApi;
  readonly httpPort: number;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  /** A media relay to use instead of starting the in-process one (a relay in another process, or a test's). */
  relay?: MediaRelayApi;
  /** Focus tuning (liveness probe interval, empty-meeting wait) — tests shorten them. */
  focus?: Partial<Pick<FocusOptions, 'probeIntervalMs' | 'emptyMeetingTimeoutMs' | 'p2pVerifyMs'>>;
}

export async function startServer(cfg: ServerConfig, logger: Logger, opts: StartOptions = {}): Promise<RunningServer> {
  const clock = opts.clock ?? systemClock;
  const log = logger.child({ component: 'server' });
  let auth: DigestAuthenticator | undefined;
  let knownUser: ((u: string) => boolean) | undefined;
  let httpAuth: { domain: string; check(user: string, password: string): boolean } | undefined;
  const realm = cfg.domain ?? 'sipmeet';
  if (cfg.usersFile) {
    const users = loadUsersFile(cfg.usersFile); // throws a one-line Error the CLI prints
    auth = new DigestAuthenticator({ realm, users, clock, logger });
    knownUser = (u) => users.lookup(u) !== undefined;
    httpAuth = { domain: cfg.domain ?? cfg.advertise, ...usersBasicAuth(users, realm) };
  } else {
    log.warn('no users file (--users): the registrar is open, anyone may register any name');
  }
  const transport = await createTransport({ host: cfg.host, port: cfg.sipPort, advertise: cfg.advertise, clock, logger });
  if (logger.isLevelEnabled('trace')) {
    // `--log-level trace`: a SIP trace of every message in and out.
    const tlog = logger.child({ component: 'sip-trace' });
    transport.onTrace((ev) => tlog.trace({ dir: ev.direction, proto: ev.protocol, peer: `${ev.address}:${ev.port}`, msg: ev.bytes.toString('utf8') }, 'sip'));
  }
  const transactions = new TransactionLayer({ transport, clock, logger });
  transport.onMessage((incoming) => transactions.receive(incoming));
  const location = new LocationService({ clock, logger });
  const registrar = new Registrar({
    location,
    clock,
    logger,
    // With --domain: that domain and our own addresses are served. Without: every host that reaches us is ours
    // (like Kamailio's use_domain=0), so `sip:alice@<any name of this server>` is one user.
    domain: cfg.domain ?? cfg.advertise,
    isLocalDomain: cfg.domain !== undefined ? (h: string) => isOurHost(h, cfg) : () => true,
  });
  const metrics = new Metrics();
  const sip = new SipServer({
    transport,
    transactions,
    registrar,
    clock,
    logger,
    ...(auth ? { auth } : {}),
    ...(knownUser ? { knownUser } : {}),
    onRequestCounted: (m) => metrics.countRequest(m),
    onResponseCounted: (m, st) => metrics.countResponse(m, st),
  });
  const sipPort = transport.listening[0]?.port ?? cfg.sipPort;
  const adv = cfg.advertise.includes(':') ? `[${cfg.advertise}]` : cfg.advertise;
  const advertisedHostPort = `${adv}:${sipPort}`;
  const relay = opts.relay ?? (await startRelay(cfg, logger, clock));
  const focus = new Focus({
    dialogs: sip.dialogs,
    relay,
    clock,
    logger,
    domain: cfg.domain ?? advertisedHostPort,
    contactHostPort: advertisedHostPort,
    mediaAddress: cfg.advertise,
    aorOf: (uri) => registrar.aorOf(uri) ?? uri.raw,
    ...(auth ? { auth } : {}),
    p2p: cfg.p2p,
    ...opts.focus,
  });
  sip.addClaim((req, tx) => focus.claim(req, tx));
  // RFC 4575 roster: SUBSCRIBE to a meeting URI (or inside a participant's dialog) → NOTIFYs with the roster.
  const focusContact = (id: string) => `<sip:${id}@${advertisedHostPort}>;isfocus`;
  const roster: RosterSubscriptions<unknown, unknown> = new RosterSubscriptions({
    focus,
    clock,
    logger,
    activeSpeaker: (id) => focus.activeSpeakerAor(id),
    port: dialogSubscriptionPort({
      dialogs: sip.dialogs,
      contactFor: focusContact,
      onDialogRequest: (meetingId, req, tx) => void roster.handleSubscribe(meetingId, req, tx),
    }) as never,
  });
  focus.onSubscribe = (meeting, req, tx) => void roster.handleSubscribe(meeting.id, req, tx);
  metrics.setFocus(focus);
  metrics.setMediaCollector(() => relay.mediaTotals());
  let http;
  try {
    http = await startHttpServer({ host: cfg.host, port: cfg.httpPort, focus, metrics, logger, ...(httpAuth ? { auth: httpAuth } : {}) });
  } catch (err) {
    await focus.close();
    if (!opts.relay) await relay.close();
    sip.close();
    transactions.close();
    location.close();
    await transport.close();
    throw err;
  }
  log.info({ host: cfg.host, sipPort, advertise: cfg.advertise, domain: cfg.domain ?? '(any)', auth: Boolean(auth) }, 'sipmeet server started');
  let closed = false;
  return {
    config: cfg,
    sipPort,
    advertisedHostPort,
    sipUri: (user) => `sip:${user}@${cfg.domain ?? advertisedHostPort}`,
    transport,
    transactions,
    registrar,
    sip,
    focus,
    relay,
    httpPort: http.port,
    metrics,
    async close() {
      if (closed) return;
      closed = true;
      roster.terminateAll('noresource');
      await focus.close();
      await http.close();
      if (!opts.relay) await relay.close();
      sip.close();
      transactions.close();
      location.close();
      await transport.close();
      log.info('sipmeet server stopped');
    },
  };
}

function isOurHost(host: string, cfg: ServerConfig): boolean {
  const h = host.startsWith('[') ? host.slice(1, -1) : host;
  return h === cfg.advertise || h === cfg.host || h === '127.0.0.1' || h === '::1' || h === 'localhost';
}

async function startRelay(cfg: ServerConfig, logger: Logger, clock: Clock): Promise<MediaRelayApi> {
  const { createMediaRelay } = await import('../../media-relay/relay.ts');
  return createMediaRelay({ host: cfg.host, advertise: cfg.advertise, portRange: cfg.rtpPorts, clock, logger });
}
