/**
 * A raw SIP peer for tests: a UDP socket on 127.0.0.1 (OS-chosen port) that sends message text and collects
 * whatever arrives, parsed with the project's parser (a parse failure fails the test loudly).
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { parseMessage } from '../../registrar/sip/message/parse.ts';
import type { SipMessage, SipRequest, SipResponse } from '../../registrar/sip/message/types.ts';

export class UdpPeer {
  readonly socket: Socket;
  port = 0;
  readonly received: SipMessage[] = [];
  /** Datagrams that did not parse (e.g. a 400 echoing the broken header it complains about). */
  readonly unparsed: Buffer[] = [];
  private waiters: Array<{ pred: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (buf) => {
      const r = parseMessage(buf);
      if (!r.ok) {
        this.unparsed.push(buf);
        return;
      }
      this.received.push(r.message);
      const w = this.waiters.find((x) => x.pred(r.message));
      if (w) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(r.message);
      }
    });
  }

  static async open(): Promise<UdpPeer> {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    // This scripted phone never retransmits (no Timer E), so a lost datagram fails a test: give it a receive buffer
    // that absorbs the server's bursts (the native UDP socket answers a batch of requests in one sendmmsg).
    s.setRecvBufferSize(4 * 1024 * 1024);
    const p = new UdpPeer(s);
    p.port = s.address().port;
    return p;
  }

  send(text: string | Buffer, port: number, host = '127.0.0.1'): void {
    const buf = typeof text === 'string' ? Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1') : text;
    this.socket.send(buf, port, host);
  }

  /** Resolve with the first message (already received or arriving later) matching `pred`, or reject after ms. */
  waitFor(pred: (m: SipMessage) => boolean, ms = 3000, what = 'message'): Promise<SipMessage> {
    const have = this.received.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x.resolve !== done);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const done = (m: SipMessage) => {
        clearTimeout(t);
        resolve(m);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  response(callId: string, status?: number, method?: string, ms?: number): Promise<SipResponse> {
    return this.waitFor(
      (m) => m.kind === 'response' && m.callId === callId && (status === undefined || m.status === status) && (method === undefined || m.cseq.method === method),
      ms,
      `response ${status ?? 'any'} to ${method ?? 'request'} (Call-ID ${callId})`,
    ) as Promise<SipResponse>;
  }

  request(method: string, ms?: number, pred: (r: SipRequest) => boolean = () => true): Promise<SipRequest> {
    return this.waitFor((m) => m.kind === 'request' && m.method === method && pred(m), ms, `${method} request`) as Promise<SipRequest>;
  }

  /**
   * Send an OPTIONS to the server at `port` (the "are you alive?" request of many tests); returns its Call-ID.
   * `cseqMethod` other than OPTIONS makes it malformed on purpose (RFC 4475 mismatch01).
   */
  options(port: number, cseqMethod = 'OPTIONS'): string {
    const callId = uniq('opt');
    this.send(
      `OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bK${uniq()}\r\n` +
        `Max-Forwards: 70\r\nFrom: <sip:tester@127.0.0.1>;tag=${uniq()}\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ${callId}\r\n` +
        `CSeq: 1 ${cseqMethod}\r\nContent-Length: 0\r\n\r\n`,
      port,
    );
    return callId;
  }

  close(): void {
    this.socket.close();
  }
}

let seq = 0;
/** A unique token for Call-IDs, tags and branches in hand-written messages. */
export function uniq(prefix = 'x'): string {
  return `${prefix}${process.pid}${Date.now().toString(36)}${(seq++).toString(36)}`;
}
