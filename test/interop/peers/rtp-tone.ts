/**
 * The scripted phone's media: one UDP socket on 127.0.0.1 that sends a sine tone as PCMU RTP (RFC 3551: payload
 * type 0, 8 kHz, 20 ms = 160 samples per packet) paced in real time, and keeps what it receives decoded with its
 * arrival time, so a test can ask "what did this phone hear between t0 and t1?".
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { mulawDecode, mulawEncode } from '../../../media/codec/mulaw.ts';
import { parseRtp } from '../../../media/rtp/packet.ts';
import { concat, sine } from '../../audio/spectrum.ts';

const SAMPLES_PER_PACKET = 160;
const PTIME_MS = 20;

export interface ReceivedFrame {
  /** performance.now() at arrival. */
  readonly at: number;
  readonly pcm: Int16Array;
}

export class RtpTone {
  readonly socket: Socket;
  readonly port: number;
  readonly received: ReceivedFrame[] = [];
  /** Packets of another payload type (e.g. telephone-event) or that did not parse. */
  otherPackets = 0;
  sent = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  private seq = (Math.random() * 0xffff) | 0;
  private ts = (Math.random() * 0xffffffff) >>> 0;
  private sample = 0;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.port = socket.address().port;
    socket.on('message', (buf) => {
      const p = parseRtp(buf);
      if (p.ok && p.packet.payloadType === 0) this.received.push({ at: performance.now(), pcm: mulawDecode(p.packet.payload) });
      else this.otherPackets++;
    });
  }

  static async open(): Promise<RtpTone> {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    return new RtpTone(s);
  }

  /** Start sending `freq` Hz at `amplitude` to `dest` every 20 ms (catching up if a timer fires late). */
  start(dest: { address: string; port: number }, freq: number, amplitude = 8000): void {
    this.stop();
    const t0 = performance.now();
    let due = 0;
    const tick = () => {
      const shouldHave = Math.floor((performance.now() - t0) / PTIME_MS) + 1;
      // Catch up at most 5 packets (100 ms) after a stall; beyond that, skip ahead as a real phone's clock would.
      if (shouldHave - due > 5) due = shouldHave - 5;
      while (due < shouldHave) {
        this.sendOne(dest, freq, amplitude);
        due++;
      }
    };
    tick();
    this.timer = setInterval(tick, 10);
  }

  private sendOne(dest: { address: string; port: number }, freq: number, amplitude: number): void {
    const pcm = sine(freq, 8000, SAMPLES_PER_PACKET, amplitude, this.sample);
    this.sample += SAMPLES_PER_PACKET;
    const pkt = Buffer.alloc(12 + SAMPLES_PER_PACKET);
    pkt[0] = 0x80; // RFC 3550 §5.1: V=2, no padding/extension/CSRC
    pkt[1] = 0; // M=0, PT=0 (PCMU)
    pkt.writeUInt16BE(this.seq, 2);
    pkt.writeUInt32BE(this.ts >>> 0, 4);
    pkt.writeUInt32BE(this.ssrc, 8);
    Buffer.from(mulawEncode(pcm)).copy(pkt, 12);
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + SAMPLES_PER_PACKET) >>> 0;
    this.socket.send(pkt, dest.port, dest.address);
    this.sent++;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Received audio (8 kHz) that arrived in [from, to) (performance.now() times). */
  heard(from = 0, to = Infinity): Int16Array {
    return concat(this.received.filter((f) => f.at >= from && f.at < to).map((f) => f.pcm));
  }

  close(): void {
    this.stop();
    this.socket.close();
  }
}
