/**
 * The server's HTTP API as the client uses it (registrar/http/routes.ts):
 *   GET    /api/conferences                       → 200 [MeetingView, …]
 *   DELETE /api/conferences/:id?creator=AOR        → 204 ended; 403 not the creator; 404; 410 already ended
 * With a users file on the server, DELETE needs HTTP Basic auth (RFC 7617) and the caller is the authenticated
 * user; without one the server trusts `creator`.
 *
 * Why HTTP rather than SIP for list/cancel: SIP has no standard "list conferences" request (RFC 4579 discovery
 * is out of scope and RFC 4575 rosters are per meeting), and cancelling from outside the meeting needs no dialog
 * — the HTTP API is the server's documented admin surface and answers in one round trip.
 */
import { ClientError } from './errors.ts';
import type { MeetingSummary } from './cli/output.ts';

export interface ApiAuth {
  readonly username: string;
  readonly password: string;
}

async function request(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new ClientError('unreachable', `HTTP API ${new URL(url).origin} unreachable (${cause})`);
  }
}

function isSummary(x: unknown): x is MeetingSummary {
  const m = x as MeetingSummary;
  return typeof m === 'object' && m !== null && typeof m.id === 'string' && typeof m.uri === 'string' && Array.isArray(m.participants);
}

export async function listConferences(api: string, timeoutMs = 5000): Promise<MeetingSummary[]> {
  const res = await request(`${api}/api/conferences`, { method: 'GET', headers: { accept: 'application/json' } }, timeoutMs);
  if (res.status !== 200) throw new ClientError('rejected', `list: the server answered HTTP ${res.status}`, res.status);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new ClientError('failed', 'list: the server did not answer JSON');
  }
  if (!Array.isArray(body) || !body.every(isSummary)) throw new ClientError('failed', 'list: unexpected answer from the server');
  return body;
}

/** End meeting `id` for everyone, as `creator`. */
export async function cancelConference(api: string, id: string, creator: string, auth?: ApiAuth, timeoutMs = 5000): Promise<void> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const url = `${api}/api/conferences/${encodeURIComponent(id)}?creator=${encodeURIComponent(creator)}`;
  const res = await request(url, { method: 'DELETE', headers }, timeoutMs);
  await res.arrayBuffer().catch(() => undefined);
  switch (res.status) {
    case 200:
    case 204:
      return;
    case 401:
      throw new ClientError('auth', `cancel ${id}: authentication failed — check --user and --password`, 401);
    case 403:
      throw new ClientError('rejected', `cancel ${id}: forbidden — only the creator (${creator} is not) can end it`, 403);
    case 404:
      throw new ClientError('rejected', `cancel ${id}: no such meeting`, 404);
    case 410:
      throw new ClientError('rejected', `cancel ${id}: the meeting has already ended`, 410);
    default:
      throw new ClientError('rejected', `cancel ${id}: the server answered HTTP ${res.status}`, res.status);
  }
}
