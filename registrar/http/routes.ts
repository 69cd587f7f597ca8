/**
 * The HTTP API's routes (issue 3 §2, §7). Each handler turns a request into a `Reply`; server.ts writes it.
 *
 *   GET    /healthz                 200 {"status":"ok"}
 *   GET    /metrics                 200 Prometheus text (metrics.ts)
 *   GET    /api/conferences         200 [MeetingView, …]
 *   POST   /api/conferences         201 MeetingView + Location; 400/409/410 from the focus; 400 bad body
 *   GET    /api/conferences/:id     200 MeetingView; 404
 *   DELETE /api/conferences/:id     204 ended; 403 not the creator; 404; 410 already ended
 *   PATCH /api/conferences/:id      {"p2p":"auto"|"off"} → 200 + the meeting; 400; 404
 *
 * Who the caller is (for POST's creator and DELETE's "only the creator may cancel"):
 * - With a users file (`auth` set), mutations need HTTP Basic auth with a user of that file (401 +
 *   `WWW-Authenticate: Basic realm="sipmeet"` otherwise) and the caller is `sip:<user>@<domain>`; a `creator` in
 *   the body or query is ignored. Reads (GET) stay open: the roster lists no secrets.
 * - Without a users file the API trusts the caller, like the SIP side does: POST takes its creator from the body
 *   (`{"creator":"sip:alice@host"}`, required) and DELETE from `?creator=` or the JSON body. Meant for loopback /
 *   admin use; turn on `--users` on a shared network.
 */
import type { IncomingMessage } from 'node:http';
import type { FocusApi } from '../focus/api.ts';
import type { Logger } from '../log.ts';
import { parseUri } from '../sip/message/parse.ts';
import { formatUri } from '../sip/message/uri.ts';
import { BASIC_CHALLENGE, parseBasicAuthorization } from './basic-auth.ts';
import { parseJsonObject, readBody } from './body.ts';
import type { Metrics } from './metrics.ts';

/** HTTP Basic auth for mutations: the users file's check and the SIP domain that makes a user an AOR. */
export interface HttpAuth {
  /** AORs of authenticated callers are `sip:<user>@<domain>`. */
  readonly domain: string;
  check(user: string, password: string): boolean;
}

export interface RouteContext {
  readonly focus: FocusApi;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly auth: HttpAuth | undefined;
}

export interface Reply {
  readonly status: number;
  /** Serialised as JSON (application/json). */
  readonly json?: unknown;
  /** Sent as is with `contentType`. */
  readonly text?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Close the connection after the reply (the request body was not read). */
  readonly close?: boolean;
}

type Handler = (req: IncomingMessage, url: URL, ctx: RouteContext, params: readonly string[]) => Promise<Reply>;

interface Route {
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, Handler>>;
}

export function errorReply(status: number, error: string, extra: Partial<Reply> = {}): Reply {
  return { status, json: { error }, ...extra };
}

// ---------------------------------------------------------------------------------------------------------------
// Identity

type Identity = { readonly ok: true; readonly aor?: string; readonly user?: string } | { readonly ok: false; readonly reply: Reply };

/** With auth on: the Basic-auth user as an AOR, or a 401 reply (RFC 7235 §3.1: 401 carries the challenge). */
function authenticate(req: IncomingMessage, auth: HttpAuth): Identity {
  const creds = parseBasicAuthorization(req.headers.authorization);
  const challenge = { headers: { 'WWW-Authenticate': BASIC_CHALLENGE } };
  if (!creds) return { ok: false, reply: errorReply(401, 'authentication required (HTTP Basic, a user of the users file)', challenge) };
  if (!auth.check(creds.user, creds.password)) return { ok: false, reply: errorReply(401, 'wrong user name or password', challenge) };
  // formatUri %-escapes what RFC 3261 §25.1 does not allow in a user part.
  const aor = formatUri({ scheme: 'sip', user: creds.user, host: auth.domain, params: new Map(), headers: [] });
  return { ok: true, aor, user: creds.user };
}

/** An AOR given by an unauthenticated caller: a sip: or sips: URI with a user part. */
function checkAor(value: unknown, field: string): { ok: true; aor: string } | { ok: false; reply: Reply } {
  if (typeof value !== 'string' || value.trim() === '') {
    return { ok: false, reply: errorReply(400, `${field} is required: the caller's SIP address, e.g. "sip:alice@example.com"`) };
  }
  const uri = parseUri(value.trim());
  if (!uri.ok || (uri.value.scheme !== 'sip' && uri.value.scheme !== 'sips') || !uri.value.user) {
    return { ok: false, reply: errorReply(400, `${field} must be a SIP address such as "sip:alice@example.com"`) };
  }
  return { ok: true, aor: value.trim() };
}

/** The body as a JSON object, or the 400/413 reply. */
async function jsonBody(req: IncomingMessage): Promise<{ ok: true; value: Readonly<Record<string, unknown>> } | { ok: false; reply: Reply }> {
  const body = await readBody(req);
  if (!body.ok) return { ok: false, reply: errorReply(body.status, body.error, { close: body.status === 413 }) };
  const parsed = parseJsonObject(body.body);
  if (!parsed.ok) return { ok: false, reply: errorReply(400, parsed.error) };
  return parsed;
}

function optionalString(obj: Readonly<Record<string, unknown>>, field: string): { ok: true; value: string | undefined } | { ok: false; reply: Reply } {
  const v = obj[field];
  if (v === undefined || v === null) return { ok: true, value: undefined };
  if (typeof v !== 'string') return { ok: false, reply: errorReply(400, `${field} must be a string`) };
  return { ok: true, value: v };
}

// ---------------------------------------------------------------------------------------------------------------
// Handlers

const healthz: Handler = async () => ({ status: 200, json: { status: 'ok' } });

const metrics: Handler = async (_req, _url, ctx) => ({
  status: 200,
  text: await ctx.metrics.text(),
  contentType: ctx.metrics.contentType,
});

const list: Handler = async (_req, _url, ctx) => ({ status: 200, json: await ctx.focus.list() });

const getOne: Handler = async (_req, _url, ctx, [id]) => {
  const meeting = await ctx.focus.get(id!);
  return meeting ? { status: 200, json: meeting } : errorReply(404, `no meeting ${id}`);
};

const create: Handler = async (req, _url, ctx) => {
  let authed: Identity | undefined;
  if (ctx.auth) {
    authed = authenticate(req, ctx.auth);
    if (!authed.ok) return authed.reply;
  }
  const body = await jsonBody(req);
  if (!body.ok) return body.reply;
  const id = optionalString(body.value, 'id');
  if (!id.ok) return id.reply;
  const displayName = optionalString(body.value, 'displayName');
  if (!displayName.ok) return displayName.reply;

  let aor: string;
  if (authed?.ok) {
    aor = authed.aor!; // the body's creator is ignored: the authenticated user creates the meeting
  } else {
    const checked = checkAor(body.value['creator'], 'creator');
    if (!checked.ok) return checked.reply;
    aor = checked.aor;
  }
  const name = displayName.value ?? (authed?.ok ? authed.user : undefined);
  const outcome = ctx.focus.create({
    ...(id.value !== undefined ? { id: id.value } : {}),
    creator: { aor, ...(name !== undefined ? { displayName: name } : {}) },
  });
  if (!outcome.ok) return errorReply(outcome.status, outcome.reason);
  ctx.logger.info({ meeting: outcome.meeting.id, creator: aor }, 'meeting created over HTTP');
  return {
    status: 201,
    json: outcome.meeting,
    headers: { Location: `/api/conferences/${encodeURIComponent(outcome.meeting.id)}` },
  };
};

const cancel: Handler = async (req, url, ctx, [id]) => {
  let aor: string;
  if (ctx.auth) {
    const authed = authenticate(req, ctx.auth);
    if (!authed.ok) return authed.reply;
    aor = authed.aor!;
    req.resume(); // a body, if any, is not needed
  } else {
    let claimed: unknown = url.searchParams.get('creator') ?? undefined;
    if (claimed === undefined) {
      const body = await jsonBody(req);
      if (!body.ok) return body.reply;
      claimed = body.value['creator'];
    } else {
      req.resume();
    }
    const checked = checkAor(claimed, 'creator');
    if (!checked.ok) return checked.reply;
    aor = checked.aor;
  }
  const outcome = await ctx.focus.cancel(id!, { aor });
  ctx.logger.info({ meeting: id, by: aor, outcome }, 'cancel over HTTP');
  switch (outcome) {
    case 'ended': return { status: 204 };
    case 'forbidden': return errorReply(403, `only the creator of ${id} may end it`);
    case 'not-found': return errorReply(404, `no meeting ${id}`);
    case 'already-ended': return errorReply(410, `meeting ${id} has already ended`);
  }
};

/**
 * PATCH /api/conferences/:id {"p2p": "auto" | "off"}: the meeting's peer-to-peer policy (issue: overridable per
 * meeting). Needs Basic auth when a users file is configured (any known user: it changes no one's rights).
 */
const patch: Handler = async (req, _url, ctx, [id]) => {
  if (ctx.auth) {
    const authed = authenticate(req, ctx.auth);
    if (!authed.ok) return authed.reply;
  }
  const body = await jsonBody(req);
  if (!body.ok) return body.reply;
  const p2p = body.value['p2p'];
  if (p2p !== 'auto' && p2p !== 'off') return errorReply(400, 'body must be {"p2p": "auto"} or {"p2p": "off"}');
  if (!ctx.focus.setP2pPolicy(id!, p2p)) return errorReply(404, `no meeting ${id}`);
  const view = await ctx.focus.get(id!);
  return view ? { status: 200, json: view } : errorReply(404, `no meeting ${id}`);
};

// Seven routes on node:http: a framework would add more code (and a dependency) than it saves.
const ROUTES: readonly Route[] = [
  { pattern: /^\/healthz$/, methods: { GET: healthz } },
  { pattern: /^\/metrics$/, methods: { GET: metrics } },
  { pattern: /^\/api\/conferences\/?$/, methods: { GET: list, POST: create } },
  { pattern: /^\/api\/conferences\/([^/]+)\/?$/, methods: { GET: getOne, DELETE: cancel, PATCH: patch } },
];

/** Find the route and run it: 404 for an unknown path, 405 (with `Allow`) for a method the path does not take. */
export async function dispatch(req: IncomingMessage, ctx: RouteContext): Promise<Reply> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return errorReply(400, 'malformed request target');
  }
  for (const route of ROUTES) {
    const m = route.pattern.exec(url.pathname);
    if (!m) continue;
    let params: string[];
    try {
      params = m.slice(1).map((p) => decodeURIComponent(p));
    } catch {
      return errorReply(400, 'malformed percent-encoding in the path');
    }
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? '');
    const handler = route.methods[method];
    if (!handler) {
      const allow = Object.keys(route.methods).flatMap((x) => (x === 'GET' ? ['GET', 'HEAD'] : [x])).join(', ');
      return errorReply(405, `${req.method} is not allowed on ${url.pathname} (allowed: ${allow})`, { headers: { Allow: allow } });
    }
    return handler(req, url, ctx, params);
  }
  return errorReply(404, `no such resource: ${url.pathname}`);
}
