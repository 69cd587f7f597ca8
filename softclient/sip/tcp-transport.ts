/**
 * A sip.js `Transport` over one Node TCP connection to the server (our outbound proxy: every request, whatever its
 * Request-URI, goes on this connection, and everything the server sends us — responses and in-dialog requests —
 * comes back on it, RFC 3261 §18.2.2 / RFC 5626 flow reuse).
 *
 * RFC 3261 §18.3: "In the case of stream-oriented transports such as TCP, the Content-Length header field indicates
 * the size of the body. All stream-oriented transports MUST use Content-Length" — framing reuses the server's
 * StreamFramer (registrar/sip/transport/stream-framer.ts), which also answers RFC 5626 §4.4.1 CRLFCRLF pings.
 *
 * State (sip.js's TransportState names):
 *
 *                 connect()            'connect'
 *   Disconnected ──────────▶ Connecting ─────────▶ Connected
 *        ▲                       │  error/timeout      │ disconnect() / peer closed / error
 *        │                       ▼                     ▼
 *        └──────────────────────────────────── Disconnecting ─(socket closed)─▶ Disconnected
 *
 * Deviation: no reconnection (sip.js's `reconnectionAttempts` is for its WebSocket transport): a client whose
 * server connection drops has lost its meeting — the CLI reports it and exits.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { EmitterImpl, TransportState, type Emitter, type Transport } from 'sip.js';
import type { Logger as SipJsLogger } from 'sip.js/lib/core/log/logger.js';
import type { Clock, TimerHandle } from '../../registrar/sip/clock.ts';
import { systemClock } from '../../registrar/sip/clock.ts';
import { StreamFramer, type FramingError } from '../../registrar/sip/transport/stream-framer.ts';

export interface TcpTransportOptions {
  readonly host: string;
  readonly port: number;
  /** Give up connecting after this long (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** Largest message accepted (default 65535 octets). */
  readonly maxMessageSize?: number;
  readonly clock?: Clock;
}

/** Why the last connect() failed or the connection dropped, in words a person understands. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: 'unreachable' | 'timeout' | 'closed' | 'framing',
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

const ALLOWED: Readonly<Record<TransportState, readonly TransportState[]>> = {
  [TransportState.Disconnected]: [TransportState.Connecting],
  [TransportState.Connecting]: [TransportState.Connected, TransportState.Disconnecting, TransportState.Disconnected],
  [TransportState.Connected]: [TransportState.Disconnecting, TransportState.Disconnected],
  [TransportState.Disconnecting]: [TransportState.Disconnected],
};

export class TcpTransport implements Transport {
  readonly protocol = 'TCP';
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  /** The error that ended the connection (or failed the connect), if any. */
  lastError: TransportError | undefined;
  private _state: TransportState = TransportState.Disconnected;
  private readonly _stateChange = new EmitterImpl<TransportState>();
  private socket: Socket | undefined;
  private connecting: Promise<void> | undefined;
  private readonly opts: Required<Omit<TcpTransportOptions, 'clock'>> & { clock: Clock };

  /** sip.js constructs transports as `new transportConstructor(logger, transportOptions)`. */
  constructor(
    private readonly logger: SipJsLogger,
    options: TcpTransportOptions,
  ) {
    if (!options || typeof options.host !== 'string' || !Number.isInteger(options.port)) {
      throw new TypeError('TcpTransport: transportOptions { host, port } are required');
    }
    this.opts = {
      host: options.host,
      port: options.port,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      maxMessageSize: options.maxMessageSize ?? 65535,
      clock: options.clock ?? systemClock,
    };
  }

  get state(): TransportState {
    return this._state;
  }

  get stateChange(): Emitter<TransportState> {
    return this._stateChange;
  }

  isConnected(): boolean {
    return this._state === TransportState.Connected;
  }

  /** Local address of the connection (for logs and the SDP origin), once connected. */
  get localAddress(): string | undefined {
    return this.socket?.localAddress;
  }

  private transition(to: TransportState): void {
    if (!ALLOWED[this._state].includes(to)) throw new Error(`TcpTransport: illegal transition ${this._state} → ${to}`);
    this._state = to;
    this._stateChange.emit(to);
  }

  connect(): Promise<void> {
    if (this._state === TransportState.Connected) return Promise.resolve();
    if (this.connecting) return this.connecting;
    this.transition(TransportState.Connecting);
    const { host, port } = this.opts;
    this.connecting = new Promise<void>((resolve, reject) => {
      const socket = netConnect({ host, port });
      socket.setNoDelay(true);
      this.socket = socket;
      const framer = new StreamFramer(this.opts.maxMessageSize);
      let timer: TimerHandle | undefined = this.opts.clock.setTimer(this.opts.connectTimeoutMs, () => {
        timer = undefined;
        socket.destroy(new TransportError(`no answer from ${host}:${port} within ${this.opts.connectTimeoutMs} ms`, 'timeout'));
      });
      socket.once('connect', () => {
        timer?.cancel();
        timer = undefined;
        this.connecting = undefined;
        this.transition(TransportState.Connected);
        resolve();
        this.onConnect?.();
      });
      socket.on('data', (chunk: Buffer) => {
        framer.push(chunk, {
          frame: (msg) => this.deliver(msg),
          ping: () => socket.write('\r\n'),
          error: (reason: FramingError) => {
            this.lastError = new TransportError(`server stream cannot be framed (${reason})`, 'framing');
            socket.destroy(this.lastError);
          },
        });
      });
      socket.on('error', (err: Error & { code?: string }) => {
        if (!(err instanceof TransportError)) {
          const unreachable = err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH' || err.code === 'ENOTFOUND';
          err = new TransportError(
            unreachable ? `cannot reach ${host}:${port} (${err.code})` : `connection to ${host}:${port} failed: ${err.message}`,
            unreachable ? 'unreachable' : 'closed',
          );
        }
        this.lastError ??= err as TransportError;
      });
      socket.once('close', () => {
        timer?.cancel();
        this.socket = undefined;
        const wasConnecting = this._state === TransportState.Connecting;
        const wasUp = this._state === TransportState.Connected;
        if (this._state !== TransportState.Disconnected) this.transition(TransportState.Disconnected);
        if (wasConnecting) {
          this.connecting = undefined;
          reject(this.lastError ?? new TransportError(`cannot reach ${host}:${port}`, 'unreachable'));
        } else if (wasUp) {
          this.lastError ??= new TransportError(`the server ${host}:${port} closed the connection`, 'closed');
          this.onDisconnect?.(this.lastError);
        } else {
          this.onDisconnect?.();
        }
      });
    });
    return this.connecting;
  }

  private deliver(msg: Buffer): void {
    // sip.js parses strings; its Content-Length check counts UTF-8 octets of the body, so decode as UTF-8.
    const text = msg.toString('utf8');
    this.logger.debug(`received ${msg.length} octets`);
    try {
      this.onMessage?.(text);
    } catch (e) {
      // Deviation from "never throw": sip.js's parser can throw on input it cannot handle; drop the message.
      this.logger.warn(`message dropped: ${(e as Error).message}`);
    }
  }

  send(message: string): Promise<void> {
    const socket = this.socket;
    if (!socket || this._state !== TransportState.Connected) {
      return Promise.reject(new TransportError('not connected to the server', 'closed'));
    }
    return new Promise<void>((resolve, reject) => {
      socket.write(message, 'utf8', (err) => (err ? reject(err) : resolve()));
    });
  }

  disconnect(): Promise<void> {
    const socket = this.socket;
    if (!socket || this._state === TransportState.Disconnected) return Promise.resolve();
    if (this._state !== TransportState.Disconnecting) this.transition(TransportState.Disconnecting);
    return new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      // A peer that never closes its side: destroy after a short grace.
      this.opts.clock.setTimer(500, () => socket.destroy());
    });
  }

  async dispose(): Promise<void> {
    await this.disconnect();
    this._stateChange.removeAllListeners();
  }
}
