/**
 * The client's sip.js UserAgent: our TCP transport to one server (used as outbound proxy for everything), the
 * caller's identity (From), digest credentials when given (sip.js answers 401/407 challenges itself, RFC 3261
 * §22.2/§22.3), and our plain-RTP session description handler.
 *
 * Contact/Via: sip.js writes `<random>.invalid` as its Via sent-by and Contact host (RFC 7118 style). That is what
 * we want over one TCP connection: the server answers on the connection (RFC 3261 §18.2.2) and sends in-dialog
 * requests to the flow the dialog came in on (sipmeet's dialog layer routes a non-IP-literal target to the first
 * request's source). The Contact carries `transport=tcp`.
 */
import { type SessionDescriptionHandlerFactory, UserAgent, type UserAgentOptions } from 'sip.js';
import type { Logger } from '../../registrar/log.ts';
import { TcpTransport, type TcpTransportOptions } from './tcp-transport.ts';

export interface UaConfig {
  readonly server: { readonly host: string; readonly port: number };
  /** Our AOR, `sip:user@domain` (From of every request). */
  readonly aor: string;
  readonly displayName: string;
  /** Digest credentials (username defaults to the AOR's user part). */
  readonly auth?: { readonly username: string; readonly password: string };
  readonly logger: Logger;
  readonly connectTimeoutMs?: number;
  /** Delegates sessions to whatever handler factory is current (one per call). */
  readonly sdhFactory: SessionDescriptionHandlerFactory;
  readonly userAgentString?: string;
}

export function createUserAgent(c: UaConfig): UserAgent {
  const uri = UserAgent.makeURI(c.aor);
  if (!uri) throw new TypeError(`not a SIP URI: ${c.aor}`);
  const sipLog = c.logger.child({ component: 'sip.js' });
  const transportOptions: TcpTransportOptions = {
    host: c.server.host,
    port: c.server.port,
    ...(c.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: c.connectTimeoutMs }),
  };
  const options: UserAgentOptions = {
    uri,
    displayName: c.displayName,
    transportConstructor: TcpTransport,
    transportOptions,
    contactParams: { transport: 'tcp' },
    sessionDescriptionHandlerFactory: c.sdhFactory,
    userAgentString: c.userAgentString ?? 'sipmeet-softclient/0.1 (sip.js 0.21)',
    // sip.js logs to the console by default: route its lines to our logger instead.
    logBuiltinEnabled: false,
    logLevel: 'warn',
    logConnector: (level, category, label, content) => {
      const ctx = { category, ...(label ? { label } : {}) };
      if (level === 'error') sipLog.error(ctx, content);
      else if (level === 'warn') sipLog.warn(ctx, content);
      else sipLog.debug(ctx, content);
    },
    ...(c.auth ? { authorizationUsername: c.auth.username, authorizationPassword: c.auth.password } : {}),
  };
  return new UserAgent(options);
}
