/**
 * Test peers for the relay: a UDP socket on 127.0.0.1 that sends RTP/RTCP and records what arrives, plus packet
 * builders and a port range for the relay under test.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { CodecSpec, RemoteDescription } from '../../media-relay/api.ts';
import { isRtcp } from '../../media/rtcp/header.ts';
import { parseRtcp, type RtcpPacket } from '../../media/rtcp/packet.ts';
import { buildRtp, parseRtp, type RtpPacket } from '../../media/rtp/packet.ts';

export interface Datagram {
  readonly buf: Buffer;
  readonly from: number;
  readonly at: number;
}

export class RtpPeer {
  readonly received: Datagram[] = [];
  port = 0;
  private constructor(readonly socket: Socket) {
    socket.on('message', (buf, rinfo) => this.received.push({ buf, from: rinfo.port, at: performance.now() }));
  }

  static async open(): Promise<RtpPeer> {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    const p = new RtpPeer(s);
    p.port = s.address().port;
    return p;
  }

  send(buf: Uint8Array, port: number): void {
    this.socket.send(buf, port, '127.0.0.1');
  }

  /** RTP packets received (RTCP excluded), in arrival order. */
  rtp(): RtpPacket[] {
    const out: RtpPacket[] = [];
    for (const d of this.received) {
      if (isRtcp(d.buf)) continue;
      const r = parseRtp(d.buf);
      if (r.ok) out.push(r.packet);
    }
    return out;
  }

  /** RTCP packets received, flattened. */
  rtcp(): RtcpPacket[] {
    return this.received.filter((d) => isRtcp(d.buf)).flatMap((d) => parseRtcp(d.buf).packets);
  }

  clear(): void {
    this.received.length = 0;
  }

  close(): void {
    this.socket.close();
  }
}

/** A relay port range for one test file: random, so parallel test files rarely meet (the allocator skips busy ports anyway). */
export function testPortRange(size = 200): { min: number; max: number } {
  const min = 20000 + 2 * Math.floor(Math.random() * 15000);
  return { min, max: min + size - 1 };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `pred` every 10 ms until true or fail after `ms`. */
export async function until(pred: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

export const PCMU: CodecSpec = { payloadType: 0, name: 'pcmu', clockRate: 8000 };
export const vp8 = (pt: number, rtcpFb?: string[]): CodecSpec => ({ payloadType: pt, name: 'vp8', clockRate: 90000, ...(rtcpFb ? { rtcpFb } : {}) });

export function remoteOf(peer: RtpPeer, codecs: CodecSpec[], over: Partial<RemoteDescription> = {}): RemoteDescription {
  return { address: '127.0.0.1', rtpPort: peer.port, rtcpPort: peer.port, rtcpMux: true, codecs, direction: 'sendrecv', ...over };
}

export function rtp(pt: number, seq: number, ts: number, ssrc: number, payload: Uint8Array, marker = false): Buffer {
  return buildRtp({ payloadType: pt, sequenceNumber: seq & 0xffff, timestamp: ts >>> 0, ssrc, marker }, payload);
}

/**
 * A VP8 payload: descriptor (X=0, S=1 on the first packet of a frame, PID=0), then for the first packet the 3-octet
 * frame tag (RFC 7741 §4.3; P=0 keyframe) and filler. `tag` marks the packet so tests can recognise it.
 */
export function vp8Payload(opts: { key: boolean; start: boolean; tag: number; size?: number }): Uint8Array {
  const size = opts.size ?? 100;
  const p = new Uint8Array(size);
  p[0] = opts.start ? 0x10 : 0x00;
  p[1] = opts.key ? 0x00 : 0x01;
  p[size - 1] = opts.tag & 0xff;
  p[size - 2] = (opts.tag >> 8) & 0xff;
  return p;
}

/** Sends a PCMU sine at `freq` Hz as 20 ms RTP packets in real time until stopped. */
export class ToneSender {
  seq = Math.floor(Math.random() * 60000);
  ts = Math.floor(Math.random() * 1e9);
  private phase = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly peer: RtpPeer,
    private readonly port: number,
    readonly freq: number,
    private readonly ssrc: number,
    private readonly encode: (pcm: Int16Array) => Uint8Array,
    private readonly amplitude = 8000,
  ) {}

  frame(): Uint8Array {
    const pcm = new Int16Array(160);
    for (let i = 0; i < 160; i++) {
      pcm[i] = Math.round(this.amplitude * Math.sin(this.phase));
      this.phase += (2 * Math.PI * this.freq) / 8000;
    }
    return this.encode(pcm);
  }

  sendOne(): void {
    this.peer.send(rtp(0, this.seq++, this.ts, this.ssrc, this.frame()), this.port);
    this.ts += 160;
  }

  start(): void {
    const t0 = performance.now();
    let n = 0;
    const step = () => {
      // Catch up on timer lateness so the rate stays 50 packets/s.
      while (t0 + n * 20 <= performance.now()) {
        this.sendOne();
        n++;
      }
      this.timer = setTimeout(step, Math.max(1, t0 + n * 20 - performance.now()));
    };
    step();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** A camera: VP8 frames of `packets` packets each; the payload's last two octets carry the source seq as a tag. */
export class VideoSender {
  seq: number;
  ts: number;
  constructor(
    private readonly peer: RtpPeer,
    private readonly port: number,
    readonly ssrc: number,
    readonly pt = 96,
    seq = 1000,
  ) {
    this.seq = seq;
    this.ts = 90000;
  }

  /** Send one frame now; returns the source sequence numbers used. */
  frame(key: boolean, packets = 3): number[] {
    const seqs: number[] = [];
    for (let i = 0; i < packets; i++) {
      const seq = this.seq & 0xffff;
      const payload = vp8Payload({ key, start: i === 0, tag: seq });
      this.peer.send(rtp(this.pt, seq, this.ts, this.ssrc, payload, i === packets - 1), this.port);
      seqs.push(seq);
      this.seq++;
    }
    this.ts += 3000; // 30 fps at 90 kHz
    return seqs;
  }
}

/** The source sequence number a VideoSender tagged into a payload. */
export function tagOf(payload: Uint8Array): number {
  return (payload[payload.length - 2]! << 8) | payload[payload.length - 1]!;
}
