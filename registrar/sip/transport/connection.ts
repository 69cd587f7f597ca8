/**
 * One TCP connection carrying SIP (RFC 3261 §18.3), accepted or opened by us, with its framer, send queue and
 * idle timer.
 *
 * State machine:
 *
 *     connect()                      'connect'
 *   ───────────► connecting ─────────────────────► open ◄─── accepted socket
 *                    │                               │
 *                    │ error / close / close()       │ error / peer close / close() / idle / framing error
 *                    ▼                               ▼
 *                  closed ◄──────────────────────────┘
 *
 * `closed` is final. Writes made while `connecting` are queued and flushed on 'connect', or failed with the
 * connect error (RFC 3261 §18.4: a transport error is reported to the transaction layer → cb(err)).
 *
 * Idle timeout: `lastActivity` is stamped on every read and write (a cheap number store); one timer per connection
 * runs through the injected clock and, when it fires early because of activity, re-arms for the remainder — so a
 * busy connection costs no timer churn per message. RFC 5626 pings count as activity.
 */
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../clock.ts';
import { StreamFramer, type FramingError, type FrameSink } from './stream-framer.ts';
import type { SendCallback, Source } from './types.ts';

export type ConnectionState = 'connecting' | 'open' | 'closed';

const ALLOWED: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  connecting: ['open', 'closed'],
  open: ['closed'],
  closed: [],
};

/** What a connection needs from its owner (the TCP layer). */
export interface ConnectionHost {
  readonly clock: Clock;
  readonly idleTimeoutMs: number;
  readonly maxMessageSize: number;
  /** Close a connection whose unsent output grows beyond this (a peer that does not read). */
  readonly maxWriteBuffer: number;
  /** One framed message arrived. */
  onFrame(conn: Connection, message: Buffer): void;
  /** The stream could not be framed; the connection closes right after this returns (after flushing any write). */
  onFramingError(conn: Connection, reason: FramingError, head: Buffer | undefined): void;
  /** An RFC 5626 ping arrived (and was answered). */
  onPing(conn: Connection): void;
  /** A connection reached `open` (for connections we opened: after 'connect'). */
  onOpen(conn: Connection): void;
  /** A connection reached `closed`. `why` is a short tag for logs and counters. */
  onClosed(conn: Connection, why: string, err?: Error): void;
}

const PONG = Buffer.from('\r\n', 'latin1');
/** How long a gracefully ending connection may take to flush before it is destroyed. */
const END_GRACE_MS = 5000;

export class Connection implements FrameSink {
  private stateValue: ConnectionState;
  private readonly framer: StreamFramer;
  private queue: Array<{ buf: Buffer; cb: SendCallback | undefined }> | undefined;
  private idleTimer: TimerHandle | undefined;
  private lastActivity: number;
  /** Prebuilt once: every message on this connection has the same source (no per-message allocation). */
  readonly source: Source;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    initial: 'connecting' | 'open',
    source: Source,
    private readonly host: ConnectionHost,
  ) {
    this.stateValue = initial;
    this.source = source;
    this.framer = new StreamFramer(host.maxMessageSize);
    this.lastActivity = host.clock.now();
    if (initial === 'connecting') this.queue = [];
    socket.setNoDelay(true); // each write is a whole SIP message; Nagle would only add latency
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => this.close('error', err));
    socket.on('close', () => this.close('peer-closed'));
    // The peer half-closed: nothing more will arrive; finish our writes and close (SIP has no half-open use).
    socket.on('end', () => this.end('peer-closed'));
    if (initial === 'connecting') socket.once('connect', () => this.onConnect());
    this.armIdle(host.idleTimeoutMs);
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get isOpen(): boolean {
    return this.stateValue !== 'closed';
  }

  /** The only place the state changes; an illegal move is a bug in this module (throws). */
  private transition(next: ConnectionState): void {
    if (!ALLOWED[this.stateValue].includes(next)) {
      throw new Error(`Connection ${this.id}: illegal transition ${this.stateValue} → ${next}`);
    }
    this.stateValue = next;
  }

  /** Send one serialized message. Errors (connect failure, closed connection) come to `cb`. */
  send(buf: Buffer, cb?: SendCallback): void {
    switch (this.stateValue) {
      case 'connecting':
        this.queue!.push({ buf, cb });
        return;
      case 'open':
        this.lastActivity = this.host.clock.now();
        // Node reports success as `null`; the contract's callback takes `undefined`.
        this.socket.write(buf, cb ? (e?: Error | null) => cb(e ?? undefined) : undefined);
        if (this.socket.writableLength > this.host.maxWriteBuffer) this.close('write-backlog');
        return;
      case 'closed':
        cb?.(new Error(`SIP TCP connection to ${this.source.address}:${this.source.port} is closed`));
        return;
    }
  }

  /** Close now (destroy). Idempotent. */
  close(why: string, err?: Error): void {
    if (this.stateValue === 'closed') return;
    this.transition('closed');
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    const queued = this.queue;
    this.queue = undefined;
    if (queued && queued.length > 0) {
      const e = err ?? new Error(`SIP TCP connection to ${this.source.address}:${this.source.port} closed (${why})`);
      for (const q of queued) q.cb?.(e);
    }
    this.socket.destroy();
    this.host.onClosed(this, why, err);
  }

  /** Close gracefully: flush what was written, send FIN, then destroy. Idempotent. */
  end(why: string): void {
    if (this.stateValue === 'closed') return;
    const socket = this.socket;
    // Mark closed first so nothing else is sent or received; destroy once the FIN is out.
    this.transition('closed');
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    const queued = this.queue;
    this.queue = undefined;
    if (queued) for (const q of queued) q.cb?.(new Error(`SIP TCP connection closed (${why})`));
    if (socket.writable) {
      // A peer that never reads would keep 'finish' from firing: destroy after a grace period regardless.
      const grace = this.host.clock.setTimer(END_GRACE_MS, () => socket.destroy());
      socket.end(() => {
        grace.cancel();
        socket.destroy();
      });
    } else {
      socket.destroy();
    }
    this.host.onClosed(this, why);
  }

  private onConnect(): void {
    if (this.stateValue !== 'connecting') return;
    this.transition('open');
    const queued = this.queue ?? [];
    this.queue = undefined;
    this.host.onOpen(this);
    for (const q of queued) this.send(q.buf, q.cb);
  }

  private onData(chunk: Buffer): void {
    if (this.stateValue === 'closed') return;
    this.lastActivity = this.host.clock.now();
    this.framer.push(chunk, this);
  }

  // FrameSink ------------------------------------------------------------------------------------------------

  frame(message: Buffer): void {
    if (this.stateValue === 'closed') return;
    this.host.onFrame(this, message);
  }

  ping(): void {
    // RFC 5626 §3.5.1 / §4.4.1: a server answers a CRLFCRLF ping with a single CRLF pong.
    if (this.stateValue !== 'open') return;
    this.socket.write(PONG);
    this.host.onPing(this);
  }

  error(reason: FramingError, head: Buffer | undefined): void {
    if (this.stateValue === 'closed') return;
    this.host.onFramingError(this, reason, head);
    this.end(reason);
  }

  // Idle -----------------------------------------------------------------------------------------------------

  private armIdle(ms: number): void {
    if (!(this.host.idleTimeoutMs > 0) || !Number.isFinite(this.host.idleTimeoutMs)) return;
    this.idleTimer = this.host.clock.setTimer(ms, () => this.onIdleTimer());
  }

  private onIdleTimer(): void {
    this.idleTimer = undefined;
    if (this.stateValue === 'closed') return;
    const idleFor = this.host.clock.now() - this.lastActivity;
    if (idleFor >= this.host.idleTimeoutMs) this.end('idle');
    else this.armIdle(this.host.idleTimeoutMs - idleFor);
  }
}
