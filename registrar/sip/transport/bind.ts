/**
 * Binding the SIP listening sockets: UDP and TCP on the same host and port (RFC 3261 §18: "All SIP elements MUST
 * implement UDP and TCP"; a single sent-by port then works for both). With port 0 the OS picks the UDP port and
 * TCP binds the same number, retrying with a fresh UDP port when that TCP port is taken.
 *
 * UDP gets the native batched socket (net/udp/socket.ts: recvmmsg/sendmmsg) when the addon is built and the host is
 * IPv4, unless SIPMEET_SIP_UDP=dgram; Node's dgram otherwise (udp.ts).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { createServer, isIP, type Server } from 'node:net';
import { MmsgSocket } from '../../../net/udp/socket.ts';
import { ipFamily, stripBrackets } from './address.ts';
import type { TransportProtocol } from './types.ts';
import type { BoundUdp } from './udp.ts';

export interface Bound {
  udp?: BoundUdp;
  tcp?: Server;
  port: number;
}

/** The environment switch: SIPMEET_SIP_UDP=dgram keeps the SIP UDP socket on Node's dgram. */
export const SIP_UDP_SWITCH = 'SIPMEET_SIP_UDP';

const SAME_PORT_ATTEMPTS = 8;

/** Bind the requested protocols on `host`:`port` (`host` is an IP literal). Rejects with a readable Error. */
export async function bindSockets(
  host: string, port: number, protocols: readonly TransportProtocol[], udpRecvBufferSize = 0,
): Promise<Bound> {
  const wantUdp = protocols.includes('udp');
  const wantTcp = protocols.includes('tcp');
  const attempts = port === 0 && wantUdp && wantTcp ? SAME_PORT_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const udp = wantUdp ? await bindUdp(host, port, udpRecvBufferSize) : undefined;
    const actual = udp ? udpPort(udp) : port;
    try {
      const tcp = wantTcp ? await bindTcp(host, actual) : undefined;
      return { udp, tcp, port: tcp ? addressPort(tcp) : actual };
    } catch (err) {
      if (udp) await closeUdp(udp);
      if (attempt < attempts && (err as BindError).code === 'EADDRINUSE') continue;
      throw err;
    }
  }
}

export interface BindError extends Error {
  code?: string;
}

function udpPort(udp: BoundUdp): number {
  return udp.kind === 'native' ? udp.socket.port : udp.socket.address().port;
}

function closeUdp(udp: BoundUdp): Promise<void> {
  if (udp.kind === 'native') {
    udp.socket.close();
    return Promise.resolve();
  }
  const s = udp.socket;
  return new Promise<void>((r) => s.close(() => r()));
}

async function bindUdp(host: string, port: number, recvBufferSize: number): Promise<BoundUdp> {
  const address = stripBrackets(host);
  if (MmsgSocket.canBind(address, SIP_UDP_SWITCH)) {
    let failure: BindError | undefined;
    const socket = MmsgSocket.bind(address, port, recvBufferSize, (err) => { failure = err; }, SIP_UDP_SWITCH);
    if (socket === undefined) throw bindError(failure ?? new Error('native UDP bind failed'), port, 'udp', address);
    return { kind: 'native', socket };
  }
  return { kind: 'dgram', socket: await bindDgram(address, port) };
}

function bindDgram(address: string, port: number): Promise<UdpSocket> {
  const socket = createSocket({ type: ipFamily(address) === 6 ? 'udp6' : 'udp4', reuseAddr: false, lookup: udpLookup });
  return new Promise((resolve, reject) => {
    const onError = (err: BindError) => {
      socket.close();
      reject(bindError(err, port, 'udp', address));
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram resolves the destination of every `send()` through this function. Node's default (`dns.lookup`) answers
 * an IP literal — all the transport ever sends to (responses go to `received`/the source address, requests to
 * resolved endpoints) — on `process.nextTick`, deferring each datagram (and allocating a tick) for nothing.
 * Answered synchronously here; names still go through `dns.lookup`.
 */
function udpLookup(hostname: string, options: unknown, cb: LookupCallback): void {
  const family = isIP(hostname);
  if (family !== 0) {
    cb(null, hostname, family);
    return;
  }
  dnsLookup(hostname, options as number, cb);
}

function bindTcp(host: string, port: number): Promise<Server> {
  const address = stripBrackets(host);
  const server = createServer({ noDelay: true });
  return new Promise((resolve, reject) => {
    const onError = (err: BindError) => {
      server.close();
      reject(bindError(err, port, 'tcp', address));
    };
    server.once('error', onError);
    server.listen({ port, host: address, exclusive: true }, () => {
      server.off('error', onError);
      resolve(server);
    });
  });
}

function addressPort(server: Server): number {
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

/** A bind failure as the operator should read it (the CLI prints `message`); `code` and `cause` are kept. */
export function bindError(err: BindError, port: number, protocol: TransportProtocol, host: string): BindError {
  const where = `SIP port ${port}/${protocol}`;
  let message: string;
  switch (err.code) {
    case 'EADDRINUSE':
      message = `${where} is already in use on ${host}`;
      break;
    case 'EACCES':
    case 'EPERM':
      message = `Permission denied binding ${where} on ${host} (ports below 1024 need privileges)`;
      break;
    case 'EADDRNOTAVAIL':
      message = `Cannot bind ${where}: address ${host} is not an address of this machine`;
      break;
    case 'EAFNOSUPPORT':
      message = `Cannot bind ${where} on ${host}: address family not supported (IPv6 disabled?)`;
      break;
    default:
      message = `Cannot bind ${where} on ${host}: ${err.message}`;
  }
  const out: BindError = new Error(message, { cause: err });
  if (err.code !== undefined) out.code = err.code;
  return out;
}
