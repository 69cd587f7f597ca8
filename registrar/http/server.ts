/**
 * The HTTP side of `sipmeet server` (issue 3 §2 list/create/cancel, §7 operations): the conference API, /healthz
 * and /metrics, on plain `node:http` — six routes (routes.ts) do not need a framework.
 *
 * Never crashes on what a client sends: a bad path, method, JSON or size is a JSON error (`{"error": "…"}`) with
 * 400/404/405/413; a handler that throws is a 500 and a log line.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FocusApi } from '../focus/api.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from './metrics.ts';
import { dispatch, errorReply, type HttpAuth, type Reply, type RouteContext } from './routes.ts';

export type { HttpAuth } from './routes.ts';

export interface HttpServerOptions {
  readonly host: string;
  /** 0: the OS chooses (tests). */
  readonly port: number;
  readonly focus: FocusApi;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Set when a users file is configured: mutations then need HTTP Basic auth (routes.ts). */
  readonly auth?: HttpAuth;
}

export interface HttpServerHandle {
  /** The bound port (the OS's choice when asked for 0). */
  readonly port: number;
  /** Stop listening and close every connection, idle or not. */
  close(): Promise<void>;
}

function write(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...reply.headers };
  if (reply.close) headers['Connection'] = 'close';
  let body: string | undefined;
  if (reply.json !== undefined) {
    body = JSON.stringify(reply.json) + '\n';
    headers['Content-Type'] = 'application/json; charset=utf-8';
  } else if (reply.text !== undefined) {
    body = reply.text;
    headers['Content-Type'] = reply.contentType ?? 'text/plain; charset=utf-8';
  }
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  res.writeHead(reply.status, headers);
  res.end(body);
}

/** The one-line message for a failed bind (the CLI prints it and exits ≠ 0). */
function bindError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  switch (err.code) {
    case 'EADDRINUSE': return new Error(`HTTP port ${port} is already in use on ${host}`);
    case 'EACCES': return new Error(`HTTP port ${port} on ${host}: permission denied (ports below 1024 need privileges)`);
    case 'EADDRNOTAVAIL': return new Error(`cannot bind HTTP to ${host}: no such local address`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return new Error(`cannot bind HTTP to ${host}: unknown host`);
    default: return new Error(`cannot start the HTTP server on ${host} port ${port}: ${err.code ?? err.message}`);
  }
}

export function startHttpServer(opts: HttpServerOptions): Promise<HttpServerHandle> {
  const logger = opts.logger.child({ component: 'http' });
  const ctx: RouteContext = { focus: opts.focus, metrics: opts.metrics, logger, auth: opts.auth };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    dispatch(req, ctx)
      .catch((err: unknown) => {
        logger.error({ err, method: req.method, url: req.url }, 'http handler failed');
        return errorReply(500, 'internal error');
      })
      .then((reply) => {
        logger.debug({ method: req.method, url: req.url, status: reply.status }, 'http request');
        if (res.headersSent || res.destroyed) return;
        write(res, reply);
      })
      .catch((err: unknown) => logger.warn({ err, url: req.url }, 'http reply not sent'));
  });
  // A malformed request line or headers: node answers 400 itself once we end the socket this way.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    logger.debug({ code: err.code }, 'http client error');
    if (socket.writable && !socket.destroyed) {
      const body = JSON.stringify({ error: 'malformed HTTP request' }) + '\n';
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    } else {
      socket.destroy();
    }
  });

  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(bindError(err, opts.host, opts.port));
    server.once('error', onError);
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError);
      server.on('error', (err) => logger.error({ err }, 'http server error'));
      const port = (server.address() as AddressInfo).port;
      logger.info({ host: opts.host, port, auth: opts.auth !== undefined }, 'http listening');
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
