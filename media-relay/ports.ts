/**
 * RTP/RTCP port pairs from the configured range (`--rtp-ports`).
 *
 * RFC 3550 §11: "For UDP and similar protocols, RTP SHOULD use an even destination port number and the corresponding
 * RTCP stream SHOULD use the next higher (odd) destination port number."  With rtcp-mux (RFC 5761 §5.1.1) only the
 * even port is bound and carries both.
 *
 * Pairs are handed out round-robin from a cursor, so a port just released is the last to be reused (late packets of
 * a finished call do not land on a new participant). A bind failure (port taken by another process) skips to the
 * next pair; when every pair has been tried, allocation fails with RelayError('no-ports') (the focus answers 503).
 *
 * Every line (audio and video) gets the native batched socket (net/udp/socket.ts, recvmmsg/sendmmsg) when the
 * addon is built, the host is IPv4 and SIPMEET_RELAY_UDP is not `dgram`; otherwise Node's dgram. The native socket
 * lends its datagrams (valid only during the handler call): what the relay keeps is copied where it is kept — audio
 * RTP into the worker's PacketRing (or the inline engine's own copy), RTCP before parsing, video in its router.
 */
import { RelayError, type MediaKind } from './api.ts';
import type { Logger } from '../registrar/log.ts';
import { DgramSocket, MmsgSocket, type MediaSocket } from '../net/udp/socket.ts';

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

export interface PortPair {
  readonly rtp: MediaSocket;
  /** Undefined with rtcp-mux. */
  readonly rtcp: MediaSocket | undefined;
  readonly rtpPort: number;
  /** = rtpPort with rtcp-mux. */
  readonly rtcpPort: number;
  /** Close the sockets and return the pair to the pool (idempotent). */
  release(): void;
}

/** Socket receive buffer asked for (video bursts: a keyframe is tens of packets at once). */
const RECV_BUFFER_BYTES = 4 << 20;

export class PortAllocator {
  private readonly first: number;
  private readonly pairs: number;
  private cursor = 0;
  private readonly inUse = new Set<number>();
  private readonly log: Logger;

  constructor(private readonly host: string, range: PortRange, logger: Logger) {
    if (!Number.isInteger(range.min) || !Number.isInteger(range.max) || range.min < 1 || range.max > 65535 || range.min > range.max) {
      throw new TypeError(`bad RTP port range ${range.min}-${range.max}`);
    }
    this.first = range.min % 2 === 0 ? range.min : range.min + 1;
    // A pair needs its odd RTCP port inside the range too.
    this.pairs = Math.max(0, Math.floor((range.max - this.first + 1) / 2));
    this.log = logger.child({ component: 'ports' });
  }

  /** Pairs currently handed out. */
  get allocated(): number {
    return this.inUse.size;
  }

  get capacity(): number {
    return this.pairs;
  }

  /**
   * A pair for a media line. `kind` only goes into the log: both kinds take the native batched socket when available
   * (audio too since 2026-11-26: docs/benchmarks.md "Mixer capacity").
   */
  async allocate(rtcpMux: boolean, kind: MediaKind = 'audio'): Promise<PortPair> {
    for (let tried = 0; tried < this.pairs; tried++) {
      const index = this.cursor;
      this.cursor = (this.cursor + 1) % this.pairs;
      const port = this.first + index * 2;
      if (this.inUse.has(port)) continue;
      this.inUse.add(port); // reserve before awaiting: concurrent allocations never race for a pair
      const rtp = await this.bind(port, kind);
      if (!rtp) {
        this.inUse.delete(port);
        continue;
      }
      let rtcp: MediaSocket | undefined;
      if (!rtcpMux) {
        rtcp = await this.bind(port + 1, kind);
        if (!rtcp) {
          rtp.close();
          this.inUse.delete(port);
          continue;
        }
      }
      let released = false;
      return {
        rtp,
        rtcp,
        rtpPort: port,
        rtcpPort: rtcpMux ? port : port + 1,
        release: () => {
          if (released) return;
          released = true;
          rtp.close();
          rtcp?.close();
          this.inUse.delete(port);
        },
      };
    }
    throw new RelayError('no-ports', `no free RTP port pair in ${this.first}-${this.first + this.pairs * 2 - 1}`);
  }

  private async bind(port: number, kind: MediaKind): Promise<MediaSocket | undefined> {
    const onBindError = (err: Error) => this.log.debug({ port, kind, err: err.message }, 'bind failed, trying the next pair');
    const s = MmsgSocket.bind(this.host, port, RECV_BUFFER_BYTES, onBindError);
    if (s !== undefined || MmsgSocket.canBind(this.host)) return s;
    return DgramSocket.bind(this.host, port, RECV_BUFFER_BYTES, onBindError);
  }
}
