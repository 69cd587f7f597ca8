/**
 * The TCP side of the transport (RFC 3261 §18.3): the listening server and the table of open connections,
 * accepted or opened by us, looked up by id (responses, §18.2.2) or by remote ip:port (requests, §18.1.1:
 * "if a connection is open to the destination, it SHOULD be used").
 */
import { connect, type Server, type Socket } from 'node:net';
import type { Clock } from '../clock.ts';
import type { Logger } from '../../log.ts';
import { normalizeAddress, stripBrackets } from './address.ts';
import { Connection, type ConnectionHost } from './connection.ts';
import type { FramingError } from './stream-framer.ts';
import type { Endpoint, SendCallback, Source } from './types.ts';

export interface TcpEvents {
  /** One framed message from `conn`. */
  message(conn: Connection, buf: Buffer): void;
  /** A framing error; answer 400 on `conn` if possible (the connection is closed right after). */
  framingError(conn: Connection, reason: FramingError, head: Buffer | undefined): void;
  /** An RFC 5626 CRLFCRLF ping was answered. */
  keepAlive(): void;
  /** Counters: a connection closed for `why` (`idle`, `peer-closed`, `error`, `oversize`, ...). */
  closed(why: string): void;
}

export interface TcpOptions {
  clock: Clock;
  logger: Logger;
  idleTimeoutMs: number;
  maxMessageSize: number;
  maxWriteBuffer: number;
  /** Cap on simultaneous connections (accepted + opened); further accepts are refused. */
  maxConnections: number;
}

export class TcpLayer implements ConnectionHost {
  private nextId = 1;
  private readonly byId = new Map<number, Connection>();
  private readonly byRemote = new Map<string, Connection>();
  readonly clock: Clock;
  readonly idleTimeoutMs: number;
  readonly maxMessageSize: number;
  readonly maxWriteBuffer: number;
  private readonly logger: Logger;
  private closing = false;

  constructor(
    private readonly server: Server,
    readonly local: Endpoint,
    private readonly opts: TcpOptions,
    private readonly events: TcpEvents,
  ) {
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.idleTimeoutMs = opts.idleTimeoutMs;
    this.maxMessageSize = opts.maxMessageSize;
    this.maxWriteBuffer = opts.maxWriteBuffer;
    server.on('connection', (socket: Socket) => this.accept(socket));
    server.on('error', (err: Error) => this.logger.error({ tag: 'tcp-server-error', err }, 'SIP TCP server error'));
  }

  /** Open connections right now. */
  get size(): number {
    return this.byId.size;
  }

  get(id: number | undefined): Connection | undefined {
    if (id === undefined) return undefined;
    const c = this.byId.get(id);
    return c?.isOpen ? c : undefined;
  }

  /**
   * Send to `dest` on an open connection to it (either direction) or a new one.
   * `connectionId` (a `Source` passed as destination) pins a specific connection when it is still open.
   */
  send(dest: Endpoint & { connectionId?: number }, buf: Buffer, cb?: SendCallback): void {
    const pinned = this.get(dest.connectionId);
    if (pinned) return pinned.send(buf, cb);
    const address = normalizeAddress(stripBrackets(dest.address));
    const existing = this.byRemote.get(key(address, dest.port));
    if (existing?.isOpen) return existing.send(buf, cb);
    if (this.closing) return cb?.(new Error('SIP transport is closing'));
    if (this.byId.size >= this.opts.maxConnections) {
      this.events.closed('refused');
      return cb?.(new Error(`too many SIP TCP connections (${this.opts.maxConnections})`));
    }
    // A new outgoing connection starts in `connecting`; the write is queued until 'connect'.
    this.track(connect({ host: address, port: dest.port, noDelay: true }), 'connecting', address, dest.port).send(buf, cb);
  }

  private accept(socket: Socket): void {
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (this.closing || address === undefined || port === undefined || this.byId.size >= this.opts.maxConnections) {
      socket.on('error', () => {});
      socket.destroy();
      this.events.closed('refused');
      return;
    }
    this.track(socket, 'open', normalizeAddress(address), port);
  }

  private track(socket: Socket, initial: 'connecting' | 'open', address: string, port: number): Connection {
    const id = this.nextId++;
    const source: Source = { protocol: 'tcp', address, port, local: this.local, connectionId: id };
    const conn = new Connection(id, socket, initial, source, this);
    this.byId.set(id, conn);
    this.byRemote.set(key(address, port), conn);
    if (initial === 'open') this.onOpen(conn);
    return conn;
  }

  // ConnectionHost ---------------------------------------------------------------------------------------------

  onOpen(conn: Connection): void {
    if (this.logger.isLevelEnabled('debug')) {
      this.logger.debug({ tag: 'tcp-open', id: conn.id, remote: `${conn.source.address}:${conn.source.port}` }, 'SIP TCP connection open');
    }
  }

  onPing(_conn: Connection): void {
    this.events.keepAlive();
  }

  onFrame(conn: Connection, message: Buffer): void {
    this.events.message(conn, message);
  }

  onFramingError(conn: Connection, reason: FramingError, head: Buffer | undefined): void {
    this.events.framingError(conn, reason, head);
  }

  onClosed(conn: Connection, why: string, err?: Error): void {
    this.byId.delete(conn.id);
    const k = key(conn.source.address, conn.source.port);
    if (this.byRemote.get(k) === conn) this.byRemote.delete(k);
    this.events.closed(why);
    if (this.logger.isLevelEnabled('debug')) {
      this.logger.debug(
        { tag: 'tcp-close', id: conn.id, remote: `${conn.source.address}:${conn.source.port}`, why, err: err?.message },
        'SIP TCP connection closed',
      );
    }
  }

  /** Stop accepting, destroy every connection, resolve when the server is closed. */
  close(): Promise<void> {
    this.closing = true;
    for (const conn of [...this.byId.values()]) conn.close('transport-closed');
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function key(address: string, port: number): string {
  return `${address}|${port}`;
}
