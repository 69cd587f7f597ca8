/**
 * The UDP side of the transport (RFC 3261 §18.1.1 / §18.2.1): one socket per transport, used both to receive and to
 * send, so that requests leave from the listening port (peers answer to the sent-by port) and responses leave from
 * the socket the request arrived on (RFC 3581 §4: the response "MUST be sent from the same address and port that
 * the corresponding request was received on" so that it traverses symmetric NATs).
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import type { Logger } from '../../log.ts';
import { socketAddressFor } from './address.ts';
import type { Endpoint, SendCallback } from './types.ts';

export class UdpLayer {
  readonly family: 4 | 6;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    readonly local: Endpoint,
    private readonly logger: Logger,
    onDatagram: (buf: Buffer, rinfo: RemoteInfo) => void,
    /** Called (once per failure) when a send without a caller callback fails. */
    private readonly onSendError: (err: Error) => void,
    recvBufferSize: number,
  ) {
    this.family = socket.address().family === 'IPv6' ? 6 : 4;
    socket.on('message', onDatagram);
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
   * Send one datagram. `address` may be bracketed IPv6; IPv4 on a dual-stack IPv6 socket is mapped.
   *
   * Datagrams are queued and written together at the end of the current event-loop turn (`setImmediate`, after
   * libuv has delivered every datagram that was waiting): on loopback and in VMs the first `sendmsg` of a burst
   * pays for waking the receiver up (an IPI), the following ones mostly do not. Measured with sipp at 20k
   * REGISTER/s: 4-6 µs less CPU per response. Order is kept; a turn of the loop is at most a few ms (T1 = 500 ms).
   */
  send(buf: Buffer, port: number, address: string, cb?: SendCallback): void {
    if (this.closed) {
      cb?.(new Error('SIP transport is closed'));
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
