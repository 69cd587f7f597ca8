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
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { RelayError } from './api.ts';
import type { Logger } from '../registrar/log.ts';

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

export interface PortPair {
  readonly rtp: Socket;
  /** Undefined with rtcp-mux. */
  readonly rtcp: Socket | undefined;
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

  async allocate(rtcpMux: boolean): Promise<PortPair> {
    for (let tried = 0; tried < this.pairs; tried++) {
      const index = this.cursor;
      this.cursor = (this.cursor + 1) % this.pairs;
      const port = this.first + index * 2;
      if (this.inUse.has(port)) continue;
      this.inUse.add(port); // reserve before awaiting: concurrent allocations never race for a pair
      const rtp = await this.bind(port);
      if (!rtp) {
        this.inUse.delete(port);
        continue;
      }
      let rtcp: Socket | undefined;
      if (!rtcpMux) {
        rtcp = await this.bind(port + 1);
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
          closeQuietly(rtp);
          if (rtcp) closeQuietly(rtcp);
          this.inUse.delete(port);
        },
      };
    }
    throw new RelayError('no-ports', `no free RTP port pair in ${this.first}-${this.first + this.pairs * 2 - 1}`);
  }

  private bind(port: number): Promise<Socket | undefined> {
    const socket = createSocket({ type: this.host.includes(':') ? 'udp6' : 'udp4', lookup: literalLookup });
    return new Promise((resolve) => {
      const onError = (err: Error) => {
        this.log.debug({ port, err: err.message }, 'bind failed, trying the next pair');
        closeQuietly(socket);
        resolve(undefined);
      };
      socket.once('error', onError);
      socket.bind(port, this.host, () => {
        socket.off('error', onError);
        try {
          socket.setRecvBufferSize(RECV_BUFFER_BYTES);
        } catch {
          // best effort: the OS cap (net.core.rmem_max) may be lower
        }
        resolve(socket);
      });
    });
  }
}

/** IP literals seen as destinations → their family (bounded; cleared when full). */
const literalFamily = new Map<string, number>();
const LITERAL_CACHE_MAX = 4096;

/**
 * The sockets' address lookup. Node's dgram `send` resolves the destination on EVERY datagram through dns.lookup,
 * which for an IP literal tests two regular expressions and defers the send to the next tick (a closure, a
 * nextTick and an async-id scope per packet: about a tenth of the relay's CPU per forwarded video packet, measured
 * with --cpu-prof). SDP addresses and latched sources are IP literals: answer those synchronously from a cache; a
 * host name (an SDP c= FQDN) still goes to dns.lookup.
 */
function literalLookup(
  hostname: string,
  options: LookupOneOptions | number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  let family = literalFamily.get(hostname);
  if (family === undefined) {
    family = isIP(hostname);
    if (literalFamily.size >= LITERAL_CACHE_MAX) literalFamily.clear();
    literalFamily.set(hostname, family);
  }
  if (family !== 0) {
    callback(null, hostname, family);
    return;
  }
  dnsLookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
}

function closeQuietly(s: Socket): void {
  try {
    s.close();
  } catch {
    // already closed
  }
}
