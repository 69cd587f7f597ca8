/**
 * Failures of client commands, each with one readable line and a process exit code.
 *
 * Exit codes (documented in docs/softclient.md): 0 ok, 1 other failure, 2 bad usage, 3 server unreachable or
 * connection lost, 4 refused by the server (a SIP 3xx-6xx or HTTP 4xx/5xx), 5 authentication failed.
 */

export type ClientErrorKind = 'usage' | 'unreachable' | 'rejected' | 'auth' | 'failed';

export const EXIT_CODES: Readonly<Record<ClientErrorKind, number>> = {
  failed: 1,
  usage: 2,
  unreachable: 3,
  rejected: 4,
  auth: 5,
};

export class ClientError extends Error {
  constructor(
    readonly kind: ClientErrorKind,
    message: string,
    /** The SIP (or HTTP) status that caused it, when one did. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ClientError';
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

/**
 * A final non-2xx response to a request of ours, in words (RFC 3261 §21 meanings). `what` names the target,
 * e.g. the meeting URI. The server's reason phrase is kept when it says more than the standard one.
 */
export function rejection(what: string, status: number, phrase: string): ClientError {
  const extra = (standard: string) => (phrase && phrase.toLowerCase() !== standard.toLowerCase() ? ` (${phrase})` : '');
  switch (status) {
    case 401:
    case 407:
      return new ClientError('auth', `${what}: authentication failed (${status} ${phrase || 'Unauthorized'}) — check --user and --password`, status);
    case 403:
      return new ClientError('rejected', `${what}: forbidden${extra('Forbidden')}`, status);
    case 404:
      return new ClientError('rejected', `${what}: not found — no such meeting or user${extra('Not Found')}`, status);
    case 408:
      return new ClientError('rejected', `${what}: no answer (408 Request Timeout)`, status);
    case 410:
      return new ClientError('rejected', `${what}: the meeting has ended${extra('Gone')}`, status);
    case 480:
      return new ClientError('rejected', `${what}: temporarily unavailable${extra('Temporarily Unavailable')}`, status);
    case 486:
    case 600:
      return new ClientError('rejected', `${what}: busy${extra(status === 486 ? 'Busy Here' : 'Busy Everywhere')}`, status);
    case 487:
      return new ClientError('rejected', `${what}: cancelled`, status);
    case 488:
    case 606:
      return new ClientError('rejected', `${what}: no common media${extra('Not Acceptable Here')}`, status);
    default:
      return new ClientError('rejected', `${what}: refused with ${status} ${phrase}`.trimEnd(), status);
  }
}
