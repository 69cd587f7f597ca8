/**
 * The UDP side of the transport (RFC 3261 §18.1.1 / §18.2.1): one socket per transport, used both to receive and to
 * send, so that requests leave from the listening port (peers answer to the sent-by port) and responses leave from
 * the socket the request arrived on (RFC 3581 §4: the response "MUST be sent from the same address and port that
 * the corresponding request was received on" so that it traverses symmetric NATs).
 *
 * Two socket kinds (chosen in bind.ts):
 *   - native (`MmsgSocket`, net/udp/socket.ts): recvmmsg(2) of up to 64 datagrams per readiness, one JS call per
 *     batch, and the sends made while the batch is in JS — the responses to it — leave in one sendmmsg(2) when JS
 *     returns. Sends made outside a batch (timer retransmissions, answers that waited for something) leave at once.
 *     Datagrams arrive as views into a ring the next batch overwrites (`borrowed`): the transport parses the view
 *     (the parsed header values are strings of their own) and copies a datagram only when its message has a body
 *     (a subarray of the datagram) or a SIP trace is on.
 *   - dgram (the fallback: addon not built, IPv6 bind address, SIPMEET_SIP_UDP=dgram): one datagram per callback;
 *     sends are queued and written together at the end of the event-loop turn (see `DgramUdp.send`).
 * Both deliver (datagram, source address, source port) and report a send's outcome to its callback asynchronously.
 */
import type { Socket } from 'node:dgram';
import type { MmsgSocket } from '../../../net/udp/socket.ts';
import type { Logger } from '../../log.ts';
import { socketAddressFor } from './address.ts';
import type { Endpoint, SendCallback } from './types.ts';

/**
 * One datagram. `borrowed`: `buf` is a view into the native receive ring, valid only during this call — the
 * handler copies whatever must outlive it (the transport parses the view and copies only a message with a body).
 */
export type DatagramHandler = (buf: Buffer, address: string, port: number, borrowed: boolean) => void;

export interface UdpLayer {
  readonly family: 4 | 6;
  readonly local: Endpoint;
  /** 'native' (recvmmsg/sendmmsg) or 'dgram'. */
  readonly kind: 'native' | 'dgram';
  /** Send one datagram. `address` may be bracketed IPv6; IPv4 on a dual-stack IPv6 socket is mapped. */
  send(buf: Buffer, port: number, address: string, cb?: SendCallback): void;
  /** What was queued still goes out. */
  close(): Promise<void>;
}

export interface UdpLayerOptions {
  local: Endpoint;
  logger: Logger;
  onDatagram: DatagramHandler;
  /** Called (once per failure) when a send without a caller callback fails. */
  onSendError: (err: Error) => void;
}

/** The socket the transport bound (bind.ts): Node's dgram or the native batched one. */
export type BoundUdp = { kind: 'dgram'; socket: Socket } | { kind: 'native'; socket: MmsgSocket };

export function createUdpLayer(bound: BoundUdp, opts: UdpLayerOptions, recvBufferSize: number): UdpLayer {
  return bound.kind === 'native' ? new NativeUdp(bound.socket, opts) : new DgramUdp(bound.socket, opts, recvBufferSize);
}

const CLOSED = 'SIP transport is closed';

class NativeUdp implements UdpLayer {
  readonly family = 4 as const;
  readonly kind = 'native' as const;
  readonly local: Endpoint;
  private readonly onSendError: (err: Error) => void;
  private closed = false;

  constructor(private readonly socket: MmsgSocket, opts: UdpLayerOptions) {
    this.local = opts.local;
    this.onSendError = opts.onSendError;
    const onDatagram = opts.onDatagram;
    socket.onDatagram((view, address, port) => onDatagram(view, address, port, true));
  }

  send(buf: Buffer, port: number, address: string, cb?: SendCallback): void {
    const rc = this.closed ? -9 : this.socket.send(buf, port, socketAddressFor(address, 4));
    if (rc === 0) {
      // Queued (or sent): success, reported after this call returns as dgram does — one tick for all of a batch.
      if (cb !== undefined) {
        if (this.succeeded.push(cb) === 1) process.nextTick(this.reportSuccess);
      }
      return;
    }
    const err: NodeJS.ErrnoException = new Error(this.closed ? CLOSED : `SIP UDP send to ${address}:${port} failed (errno ${-rc})`);
    err.errno = rc;
    err.code = rc === -97 ? 'EAFNOSUPPORT' : rc === -9 ? 'EBADF' : 'ESEND';
    process.nextTick(cb ?? this.onSendError, err);
  }

  /** Callbacks of sends that succeeded since the last tick. */
  private succeeded: SendCallback[] = [];
  private readonly reportSuccess = (): void => {
    const list = this.succeeded;
    this.succeeded = [];
    for (let i = 0; i < list.length; i++) list[i]!();
  };

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.socket.close(); // flushes what is queued
    }
    return Promise.resolve();
  }
}

class DgramUdp implements UdpLayer {
  readonly family: 4 | 6;
  readonly kind = 'dgram' as const;
  readonly local: Endpoint;
  private readonly logger: Logger;
  private readonly onSendError: (err: Error) => void;
  private closed = false;

  constructor(private readonly socket: Socket, opts: UdpLayerOptions, recvBufferSize: number) {
    this.local = opts.local;
    this.logger = opts.logger;
    this.onSendError = opts.onSendError;
    this.family = socket.address().family === 'IPv6' ? 6 : 4;
    const onDatagram = opts.onDatagram;
    socket.on('message', (buf, rinfo) => onDatagram(buf, rinfo.address, rinfo.port, false));
    // Never let a socket error escape (an unhandled 'error' would kill the process).
    socket.on('error', (err: Error) => this.logger.error({ tag: 'udp-socket-error', err }, 'SIP UDP socket error'));
    if (recvBufferSize > 0) {
      // A registrar at > 15k requests/s needs more than the default ~200 KB kernel buffer to ride out bursts.
      // Linux caps this at net.core.rmem_max silently; failure here is harmless.
      try {
        if (socket.getRecvBufferSize() < recvBufferSize) socket.setRecvBufferSize(recvBufferSize);
      } catch (err) {
        this.logger.debug({ tag: 'udp-rcvbuf', err }, 'could not raise UDP receive buffer');
      }
    }
  }

  private readonly onSendDone = (e: Error | null): void => {
    if (e) this.onSendError(e);
  };

  /**
   * Datagrams are queued and written together at the end of the current event-loop turn (`setImmediate`, after
   * libuv has delivered every datagram that was waiting): on loopback and in VMs the first `sendmsg` of a burst
   * pays for waking the receiver up (an IPI), the following ones mostly do not. Measured with sipp at 20k
   * REGISTER/s: 4-6 µs less CPU per response. Order is kept; a turn of the loop is at most a few ms (T1 = 500 ms).
   */
  send(buf: Buffer, port: number, address: string, cb?: SendCallback): void {
    if (this.closed) {
      cb?.(new Error(CLOSED));
      return;
    }
    this.queue.push({ buf, port, address: socketAddressFor(address, this.family), cb });
    if (this.flushing === undefined) this.flushing = setImmediate(this.flush);
  }

  private readonly queue: Array<{ buf: Buffer; port: number; address: string; cb: SendCallback | undefined }> = [];
  private flushing: NodeJS.Immediate | undefined;

  private readonly flush = (): void => {
    this.flushing = undefined;
    const q = this.queue;
    const n = q.length;
    for (let i = 0; i < n; i++) {
      const item = q[i]!;
      const cb = item.cb;
      // A callback is always given: without one, dgram drops send errors silently.
      // Node reports success as `null`; the contract's callback takes `undefined`.
      const done = cb ? (e: Error | null) => cb(e ?? undefined) : this.onSendDone;
      try {
        this.socket.send(item.buf, item.port, item.address, done);
      } catch (err) {
        (cb ?? this.onSendError)(err as Error);
      }
    }
    q.splice(0, n);
  };

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    // What was queued in this turn still goes out.
    if (this.flushing !== undefined) {
      clearImmediate(this.flushing);
      this.flush();
    }
    this.closed = true;
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
