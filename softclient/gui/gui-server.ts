/**
 * The GUI's local HTTP server, on 127.0.0.1 only: the page's bundle, its commands (POST, JSON) and its event
 * stream (GET /api/events, Server-Sent Events).
 *
 *   GET  /                   index.html            GET /app.js, /app.css(.map)   the bundle (dist/)
 *   GET  /api/events         SSE: state, chat, meetings
 *   GET  /api/state          the current GuiState (JSON)
 *   POST /api/settings       {name?, server?}        POST /api/join     {target, create?}
 *   POST /api/leave          POST /api/end           POST /api/chat     {text}
 *   POST /api/mic {on}       POST /api/camera {on}   POST /api/camera-error {text}
 *   POST /api/rtc/offer      {sdp} → {sdp}: the page's WebRTC offer, answered by the local bridge
 *
 * The page is the only client meant to talk to this port, so requests from elsewhere are refused:
 * - Host must name this listener (127.0.0.1:PORT or localhost:PORT), against DNS rebinding;
 * - POST bodies must be `application/json` (a cross-site form cannot send that without a CORS preflight, which
 *   this server never grants) and an Origin, when present, must be this server's.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../../registrar/log.ts';
import { BUNDLE_FILES, DIST_DIR } from './bundle.ts';
import type { CommandResult } from './protocol.ts';
import type { GuiSession } from './gui-session.ts';

const MAX_BODY = 256 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export interface GuiServerOptions {
  readonly session: GuiSession;
  /** 0 = chosen by the OS. */
  readonly port: number;
  readonly logger: Logger;
}

export class GuiHttpServer {
  private readonly server: Server;
  private readonly log: Logger;
  private port = 0;

  constructor(private readonly o: GuiServerOptions) {
    this.log = o.logger.child({ component: 'gui-http' });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: Error) => {
        this.log.warn({ err: e.message, url: req.url }, 'request failed');
        if (!res.headersSent) json(res, 500, { ok: false, error: e.message });
        else res.end();
      });
    });
  }

  /** Listen on 127.0.0.1; resolves with the page's URL. */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve(this.url);
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private allowedHost(req: IncomingMessage): boolean {
    const host = req.headers.host;
    return host === `127.0.0.1:${this.port}` || host === `localhost:${this.port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.allowedHost(req)) return json(res, 403, { ok: false, error: 'this server only answers its own page' });
    const url = new URL(req.url ?? '/', 'http://local');
    const path = url.pathname;
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/api/events') return this.o.session.attachEvents(res);
      if (path === '/api/state') return json(res, 200, this.o.session.state());
      if (path === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      return this.serveStatic(path, res);
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, HEAD, POST' }).end();
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://127.0.0.1:${this.port}` && origin !== `http://localhost:${this.port}`) {
      return json(res, 403, { ok: false, error: 'cross-origin request refused' });
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      return json(res, 415, { ok: false, error: 'commands are JSON (content-type: application/json)' });
    }
    const body = await readJson(req);
    if (body === undefined) return json(res, 400, { ok: false, error: 'unreadable JSON body' });
    const s = this.o.session;
    const str = (k: string): string => (typeof body[k] === 'string' ? (body[k] as string) : '');
    const bool = (k: string): boolean => body[k] === true;
    let result: CommandResult | { sdp: string };
    switch (path) {
      case '/api/settings':
        result = s.updateSettings({ ...(typeof body.name === 'string' ? { name: body.name } : {}), ...(typeof body.server === 'string' ? { server: body.server } : {}) });
        break;
      case '/api/join':
        result = s.join({ target: str('target'), create: bool('create'), mic: body.mic !== false, camera: body.camera !== false });
        break;
      case '/api/leave':
        result = await s.leave();
        break;
      case '/api/end':
        result = await s.endForAll();
        break;
      case '/api/chat':
        result = await s.chat(str('text'));
        break;
      case '/api/mic':
        result = await s.setMic(bool('on'));
        break;
      case '/api/camera':
        result = await s.setCamera(bool('on'));
        break;
      case '/api/camera-error':
        result = s.cameraRefused(str('text'));
        break;
      case '/api/rtc/offer':
        result = await s.rtcOffer(str('sdp'));
        break;
      default:
        return json(res, 404, { ok: false, error: `no such command ${path}` });
    }
    json(res, 'ok' in result && !result.ok ? 409 : 200, result);
  }

  private serveStatic(path: string, res: ServerResponse): void {
    const name = path === '/' ? 'index.html' : path.slice(1);
    const allowed = (BUNDLE_FILES as readonly string[]).includes(name) || (name.endsWith('.map') && (BUNDLE_FILES as readonly string[]).includes(name.slice(0, -4)));
    if (!allowed) return json(res, 404, { ok: false, error: 'not found' });
    let data: Buffer;
    try {
      data = readFileSync(join(DIST_DIR, name));
    } catch {
      return json(res, 404, { ok: false, error: 'not found (is the GUI bundle built? npm run build:gui)' });
    }
    const ext = name.slice(name.lastIndexOf('.'));
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      // Everything the page loads comes from this server; media devices only for this origin.
      ...(ext === '.html' ? { 'content-security-policy': "default-src 'self'; img-src 'self' data:; media-src 'self' blob: mediastream:; connect-src 'self'; style-src 'self'; script-src 'self'" } : {}),
    });
    res.end(data);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
