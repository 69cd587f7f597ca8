/**
 * A minimal client for rtpengine's "ng" control protocol: bencode dictionaries over UDP, each message prefixed by a
 * cookie and a space; the reply echoes the cookie (rtpengine docs, "ng Control Protocol"). Enough for offer /
 * answer / delete / ping — what a SIP proxy (Kamailio's rtpengine module) sends for a call.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';

export type Bencodable = string | number | Buffer | readonly Bencodable[] | { readonly [k: string]: Bencodable };

export function bencode(v: Bencodable): Buffer {
  if (typeof v === 'number') return Buffer.from(`i${Math.trunc(v)}e`);
  if (typeof v === 'string') v = Buffer.from(v);
  if (Buffer.isBuffer(v)) return Buffer.concat([Buffer.from(`${v.length}:`), v]);
  if (Array.isArray(v)) return Buffer.concat([Buffer.from('l'), ...v.map(bencode), Buffer.from('e')]);
  const d = v as { readonly [k: string]: Bencodable };
  const keys = Object.keys(d).sort(); // bencode: keys sorted as raw strings
  return Buffer.concat([Buffer.from('d'), ...keys.flatMap((k) => [bencode(k), bencode(d[k]!)]), Buffer.from('e')]);
}

export type Decoded = string | number | Decoded[] | { [k: string]: Decoded };

/** Decode one bencoded value; strings come back as UTF-8 text. Throws on malformed input (it is our own daemon). */
export function bdecode(buf: Buffer, at = 0): { value: Decoded; next: number } {
  const c = buf[at];
  if (c === 0x69) {
    const end = buf.indexOf(0x65, at);
    return { value: Number(buf.toString('latin1', at + 1, end)), next: end + 1 };
  }
  if (c === 0x6c || c === 0x64) {
    let i = at + 1;
    const items: Decoded[] = [];
    while (buf[i] !== 0x65) {
      const r = bdecode(buf, i);
      items.push(r.value);
      i = r.next;
    }
    if (c === 0x6c) return { value: items, next: i + 1 };
    const obj: { [k: string]: Decoded } = {};
    for (let k = 0; k < items.length; k += 2) obj[String(items[k])] = items[k + 1]!;
    return { value: obj, next: i + 1 };
  }
  const colon = buf.indexOf(0x3a, at);
  if (colon < 0) throw new Error('bencode: bad string');
  const len = Number(buf.toString('latin1', at, colon));
  return { value: buf.toString('utf8', colon + 1, colon + 1 + len), next: colon + 1 + len };
}

export class NgClient {
  private constructor(private readonly socket: Socket, private readonly port: number) {}

  static async open(port: number): Promise<NgClient> {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    return new NgClient(s, port);
  }

  /** Send one command; resolves with the reply dictionary (rejects after `timeoutMs`, or on result: error). */
  async command(cmd: { readonly command: string; readonly [k: string]: Bencodable }, timeoutMs = 2000): Promise<{ [k: string]: Decoded }> {
    const cookie = randomBytes(6).toString('hex');
    const msg = Buffer.concat([Buffer.from(`${cookie} `), bencode(cmd)]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.off('message', onMsg);
        reject(new Error(`rtpengine ng: no reply to ${cmd.command} in ${timeoutMs} ms`));
      }, timeoutMs);
      const onMsg = (buf: Buffer) => {
        const sp = buf.indexOf(0x20);
        if (sp < 0 || buf.toString('latin1', 0, sp) !== cookie) return;
        clearTimeout(timer);
        this.socket.off('message', onMsg);
        const reply = bdecode(buf, sp + 1).value as { [k: string]: Decoded };
        if (reply.result === 'error') reject(new Error(`rtpengine ng ${cmd.command}: ${String(reply['error-reason'])}`));
        else resolve(reply);
      };
      this.socket.on('message', onMsg);
      this.socket.send(msg, this.port, '127.0.0.1');
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** The port of the first m= line of an SDP. */
export function sdpMediaPort(sdp: string): number {
  const m = /^m=\w+ (\d+) /m.exec(sdp);
  if (!m) throw new Error(`no m= line in SDP:\n${sdp}`);
  return Number(m[1]);
}
