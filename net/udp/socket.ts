/**
 * A UDP socket behind one small interface with two implementations, shared by the media relay (one per RTP/RTCP
 * port) and the SIP transport (its listening UDP socket, registrar/sip/transport/udp.ts):
 *
 *   - `MmsgSocket` — the optional native addon (net/udp/native/udp_mmsg.c, Linux, IPv4): recvmmsg(2) into a
 *     receive ring shared with JS (one per thread, 4 MiB, made on the first native socket), one call into JS per
 *     batch of datagrams, sends made during the batch (on any socket) leave in one sendmmsg(2) per socket.
 *     Datagrams are delivered as views into the ring: VALID ONLY DURING THE HANDLER CALL (the next batch, of any
 *     socket, overwrites them) — a consumer that keeps a packet must copy it (`borrowed` says so).
 *   - `DgramSocket` — Node's dgram, the pure-JS fallback (no addon built, IPv6, or the user's switch: each user
 *     names an environment variable that, set to `dgram`, turns the native path off for it — SIPMEET_RELAY_UDP for
 *     the relay, SIPMEET_SIP_UDP for the SIP transport). Each datagram is a fresh Buffer the handler may keep.
 *
 * Both deliver (datagram, source address, source port); the address string is stable per source (the same string
 * object for the same address), so comparing it with a latched address is a pointer compare in the common case.
 * Send never throws: a failure is counted (`sendErrors`), as UDP loses packets anyway.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';

export type DatagramHandler = (buf: Buffer, address: string, port: number) => void;

export interface MediaSocket {
  readonly port: number;
  /** True when delivered buffers are only valid during the handler call (copy to keep). */
  readonly borrowed: boolean;
  /** Datagrams that could not be sent (counted, never thrown). */
  readonly sendErrors: number;
  onDatagram(handler: DatagramHandler): void;
  onError(handler: (err: Error) => void): void;
  send(buf: Uint8Array, port: number, address: string): void;
  close(): void;
}

// ── dgram (fallback) ─────────────────────────────────────────────────────────────────────────────────────────────

/** IP literals seen as destinations → their family (bounded; cleared when full). */
const literalFamily = new Map<string, number>();
const LITERAL_CACHE_MAX = 4096;

/**
 * The dgram sockets' address lookup. Node's dgram `send` resolves the destination on EVERY datagram through
 * dns.lookup, which for an IP literal tests two regular expressions and defers the send to the next tick (a
 * closure, a nextTick and an async-id scope per packet: about a tenth of the relay's CPU per forwarded video packet,
 * measured with --cpu-prof). SDP addresses and latched sources are IP literals: answer those synchronously from a
 * cache; a host name (an SDP c= FQDN) still goes to dns.lookup.
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

export class DgramSocket implements MediaSocket {
  readonly borrowed = false;
  /** dgram reports send failures only to a callback, which the hot path does not pass (it costs per packet). */
  readonly sendErrors = 0;
  private closed = false;

  private constructor(private readonly socket: Socket, readonly port: number) {}

  /** Bind `host:port`; resolves undefined when the port is taken (or the bind fails otherwise). */
  static bind(host: string, port: number, recvBufferBytes: number, onBindError: (err: Error) => void): Promise<DgramSocket | undefined> {
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', lookup: literalLookup });
    return new Promise((resolve) => {
      const onError = (err: Error) => {
        onBindError(err);
        try {
          socket.close();
        } catch {
          // already closed
        }
        resolve(undefined);
      };
      socket.once('error', onError);
      socket.bind(port, host, () => {
        socket.off('error', onError);
        try {
          socket.setRecvBufferSize(recvBufferBytes);
        } catch {
          // best effort: the OS cap (net.core.rmem_max) may be lower
        }
        resolve(new DgramSocket(socket, socket.address().port));
      });
    });
  }

  onDatagram(handler: DatagramHandler): void {
    this.socket.on('message', (msg, rinfo) => handler(msg, rinfo.address, rinfo.port));
  }

  onError(handler: (err: Error) => void): void {
    this.socket.on('error', handler);
  }

  send(buf: Uint8Array, port: number, address: string): void {
    if (this.closed) return;
    this.socket.send(buf, port, address);
  }

  close(): void {
    this.closed = true;
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

// ── native (recvmmsg / sendmmsg) ─────────────────────────────────────────────────────────────────────────────────

interface UdpMmsgAddon {
  readonly BATCH: number;
  readonly SLOT: number;
  init(ring: ArrayBuffer, meta: Int32Array): void;
  open(host: string, port: number, rcvbuf: number): object;
  start(h: object, onBatch: (n: number) => void): void;
  send(h: object, buf: Uint8Array, ip: number, port: number): number;
  localPort(h: object): number;
  stats(h: object): number[];
  close(h: object): void;
}

function loadAddon(): UdpMmsgAddon | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return createRequire(import.meta.url)('./native/build/udp_mmsg.node') as UdpMmsgAddon;
  } catch {
    return undefined; // not built (no compiler at npm ci): dgram it is
  }
}

const addon = loadAddon();

/** The relay's switch (the default `switchVar` of `MmsgSocket.bind`/`canBind`). */
export const RELAY_UDP_SWITCH = 'SIPMEET_RELAY_UDP';

/** Whether the native path may be used by the user whose switch is `switchVar` (addon built, Linux, switch not `dgram`). */
export function nativeUdpEnabled(switchVar: string = RELAY_UDP_SWITCH): boolean {
  return addon !== undefined && process.env[switchVar] !== 'dgram';
}

/** Whether the relay's native path is available (built, Linux, not disabled by SIPMEET_RELAY_UDP=dgram). */
export const nativeUdpAvailable = nativeUdpEnabled(RELAY_UDP_SWITCH);

/** Dotted IPv4 → host-order uint32, or undefined when not an IPv4 literal. */
export function ipv4ToUint(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

/** host-order uint32 → source address string, one string object per address (bounded cache). */
const addressStrings = new Map<number, string>();
function addressString(ip: number): string {
  let s = addressStrings.get(ip);
  if (s === undefined) {
    s = `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
    if (addressStrings.size >= LITERAL_CACHE_MAX) addressStrings.clear();
    addressStrings.set(ip, s);
  }
  return s;
}

/** Destination address string → uint32 (bounded cache; NaN: not IPv4). */
const addressInts = new Map<string, number>();
function addressInt(address: string): number {
  let v = addressInts.get(address);
  if (v === undefined) {
    v = ipv4ToUint(address) ?? NaN;
    if (addressInts.size >= LITERAL_CACHE_MAX) addressInts.clear();
    addressInts.set(address, v);
  }
  return v;
}

/** The thread's receive ring and batch metadata, shared by all native sockets (made on first use). */
interface Ring {
  readonly meta: Int32Array;
  /** One view per ring slot, made once: datagram i of a batch is `slots[i].subarray(0, length)`. */
  readonly slots: readonly Buffer[];
}
let ring: Ring | undefined;

function sharedRing(a: UdpMmsgAddon): Ring {
  if (ring === undefined) {
    const bytes = new ArrayBuffer(a.BATCH * a.SLOT);
    const meta = new Int32Array(3 * a.BATCH);
    a.init(bytes, meta);
    const slots: Buffer[] = [];
    for (let i = 0; i < a.BATCH; i++) slots.push(Buffer.from(bytes, i * a.SLOT, a.SLOT));
    ring = { meta, slots };
  }
  return ring;
}

export class MmsgSocket implements MediaSocket {
  readonly borrowed = true;
  private handler: DatagramHandler | undefined;
  private readonly ring: Ring;
  private closed = false;
  private unsent = 0;

  private constructor(private readonly h: object, readonly port: number, private readonly a: UdpMmsgAddon) {
    this.ring = sharedRing(a);
    a.start(h, (n) => this.onBatch(n));
  }

  /**
   * Bind `host:port` natively; undefined when the addon is missing, `switchVar` is `dgram` or `host` is not IPv4
   * (use dgram), or when the bind fails (`onBindError` is told; the Error's `code` is EADDRINUSE, EACCES, …).
   */
  static bind(
    host: string, port: number, recvBufferBytes: number, onBindError: (err: Error) => void, switchVar: string = RELAY_UDP_SWITCH,
  ): MmsgSocket | undefined {
    if (addon === undefined || !MmsgSocket.canBind(host, switchVar)) return undefined;
    try {
      const h = addon.open(host, port, recvBufferBytes);
      return new MmsgSocket(h, addon.localPort(h), addon);
    } catch (err) {
      onBindError(err as Error);
      return undefined;
    }
  }

  /** Can `host` get a native socket (addon loaded, not switched off by `switchVar`=dgram, IPv4 literal)? */
  static canBind(host: string, switchVar: string = RELAY_UDP_SWITCH): boolean {
    return nativeUdpEnabled(switchVar) && ipv4ToUint(host) !== undefined;
  }

  get sendErrors(): number {
    return this.unsent + (this.closed ? 0 : this.a.stats(this.h)[3]!);
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  /** Receive errors stay in the kernel (recvmmsg is retried on the next readiness); nothing to report. */
  onError(_handler: (err: Error) => void): void {}

  private onBatch(n: number): void {
    const h = this.handler;
    if (h === undefined) return;
    const { meta, slots } = this.ring;
    for (let i = 0; i < n && !this.closed; i++) {
      h(slots[i]!.subarray(0, meta[3 * i]!), addressString(meta[3 * i + 1]! >>> 0), meta[3 * i + 2]!);
    }
  }

  /**
   * Send (queued until the end of the batch when called from a batch handler, at once otherwise). Returns 0 or a
   * negative errno: -EBADF (9) when closed, -EAFNOSUPPORT (97) for a destination that is not an IPv4 literal, the
   * sendto(2) error of an immediate send. A queued datagram that later fails is only counted (`sendErrors`).
   */
  send(buf: Uint8Array, port: number, address: string): number {
    if (this.closed) return -9;
    const ip = addressInt(address);
    if (Number.isNaN(ip)) {
      this.unsent++; // an IPv6 or host-name destination on an IPv4 socket
      return -97;
    }
    return this.a.send(this.h, buf, ip, port);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsent += this.a.stats(this.h)[3]!;
    this.a.close(this.h);
  }
}
