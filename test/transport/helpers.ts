/**
 * Test helpers for the transport: a transport with an inbox, raw SIP text builders, and plain-socket peers.
 */
import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { silentLogger } from '../../registrar/log.ts';
import { createTransport, type TransportOptions } from '../../registrar/sip/transport/transport.ts';
import type { Incoming, SipTransport } from '../../registrar/sip/transport/types.ts';

/** A queue of things that arrive asynchronously, with a timed `next()`. */
export class Inbox<T> {
  private items: T[] = [];
  private waiters: Array<(v: T) => void> = [];
  push(v: T): void {
    const w = this.waiters.shift();
    if (w) w(v);
    else this.items.push(v);
  }
  get length(): number {
    return this.items.length;
  }
  next(timeoutMs = 2000, what = 'item'): Promise<T> {
    const v = this.items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const done = (x: T) => {
        clearTimeout(t);
        resolve(x);
      };
      this.waiters.push(done);
    });
  }
  /** Resolves true if nothing arrives within `ms`. */
  async nothingWithin(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.items.length === 0;
  }
}

export interface TestTransport {
  t: SipTransport;
  inbox: Inbox<Incoming>;
  port: number;
}

export async function startTransport(opts: Partial<TransportOptions> = {}): Promise<TestTransport> {
  const t = await createTransport({ host: '127.0.0.1', port: 0, logger: silentLogger(), ...opts });
  const inbox = new Inbox<Incoming>();
  t.onMessage((m) => inbox.push(m));
  return { t, inbox, port: t.listening[0]!.port };
}

let seq = 0;

/** A raw OPTIONS request. `via` is the whole top Via value. */
export function options(via: string, opts: { callId?: string; body?: string; extra?: string; cl?: string } = {}): string {
  const body = opts.body ?? '';
  const callId = opts.callId ?? `call-${++seq}@test`;
  return (
    'OPTIONS sip:registrar@127.0.0.1 SIP/2.0\r\n' +
    `Via: ${via}\r\n` +
    'Max-Forwards: 70\r\n' +
    'From: <sip:alice@example.com>;tag=a1\r\n' +
    'To: <sip:registrar@example.com>\r\n' +
    `Call-ID: ${callId}\r\n` +
    'CSeq: 1 OPTIONS\r\n' +
    (opts.extra ?? '') +
    (opts.cl ?? `Content-Length: ${Buffer.byteLength(body)}\r\n`) +
    '\r\n' +
    body
  );
}

export function branch(): string {
  return `z9hG4bK-test-${++seq}`;
}

export interface Datagram {
  text: string;
  buf: Buffer;
  rinfo: RemoteInfo;
}

/** A plain UDP socket acting as a SIP peer. */
export class UdpPeer {
  readonly inbox = new Inbox<Datagram>();
  private constructor(readonly socket: UdpSocket, readonly port: number, readonly host: string) {
    socket.on('message', (buf, rinfo) => this.inbox.push({ text: buf.toString('latin1'), buf, rinfo }));
  }
  static async open(host = '127.0.0.1'): Promise<UdpPeer> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.bind(0, host);
    await once(socket, 'listening');
    return new UdpPeer(socket, socket.address().port, host);
  }
  send(data: string | Buffer, port: number, host = this.host): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(data, port, host, (e) => (e ? reject(e) : resolve())));
  }
  close(): void {
    this.socket.close();
  }
}

/** A plain TCP client connected to the transport, collecting everything it receives. */
export class TcpPeer {
  private data = '';
  private waiters: Array<() => void> = [];
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.data += d.toString('latin1');
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  static async connect(port: number, host = '127.0.0.1'): Promise<TcpPeer> {
    const socket = connect({ port, host });
    await once(socket, 'connect');
    return new TcpPeer(socket);
  }
  static wrap(socket: Socket): TcpPeer {
    return new TcpPeer(socket);
  }
  get localPort(): number {
    return this.socket.localPort!;
  }
  get received(): string {
    return this.data;
  }
  write(s: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(s, (e) => (e ? reject(e) : resolve())));
  }
  /** Wait until `pred(received)` holds (or the socket closes when `orClose`). */
  async until(pred: (data: string) => boolean, what: string, timeoutMs = 2000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.data)) {
      if (this.closed) throw new Error(`connection closed while waiting for ${what}; got ${JSON.stringify(this.data)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.data)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.data;
  }
  async untilClosed(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the connection to close');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  close(): void {
    this.socket.destroy();
  }
}

/** Count of complete "SIP/2.0 <code>" status lines in a stream capture. */
export function statusLines(data: string): string[] {
  return data.split('\r\n').filter((l) => l.startsWith('SIP/2.0 '));
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
