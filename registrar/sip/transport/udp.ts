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

  /** Send one datagram. `address` may be bracketed IPv6; IPv4 on a dual-stack IPv6 socket is mapped. */
  send(buf: Buffer, port: number, address: string, cb?: SendCallback): void {
    if (this.closed) {
      cb?.(new Error('SIP transport is closed'));
      return;
    }
    // A callback is always given: without one, dgram reports send errors as socket 'error' events.
    // Node reports success as `null`; the contract's callback takes `undefined`.
    const done = cb ? (e: Error | null) => cb(e ?? undefined) : this.onSendDone;
    this.socket.send(buf, port, socketAddressFor(address, this.family), done);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
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
