/**
 * Scripted phones' audio for focus tests: a tone as real 20 ms PCMU RTP packets (RFC 3551 PT 0), paced in real
 * time, and the tone's power in what a phone received.
 */
import type { Socket } from 'node:dgram';
import { mulawEncode } from '../../media/codec/mulaw.ts';
import { goertzelPower, sine } from '../audio/spectrum.ts';

export interface ToneSender {
  readonly rtp: Socket;
  readonly freq: number;
  /** Where its RTP goes (the relay's port from the SDP). */
  readonly target: { readonly address: string; readonly port: number };
}

/** Every sender sends `ms` of its tone, 20 ms per packet, in real time (each its own SSRC). */
export async function sendTones(senders: readonly ToneSender[], ms: number): Promise<void> {
  const ssrcs = senders.map(() => (Math.random() * 0xffffffff) >>> 0);
  for (let i = 0; i < ms / 20; i++) {
    senders.forEach((s, k) => {
      const pkt = Buffer.alloc(12 + 160);
      pkt[0] = 0x80; // V=2, no padding, no extension, CC=0; M=0, PT=0 (PCMU)
      pkt.writeUInt16BE(i & 0xffff, 2);
      pkt.writeUInt32BE(i * 160, 4);
      pkt.writeUInt32BE(ssrcs[k]!, 8);
      Buffer.from(mulawEncode(sine(s.freq, 8000, 160, 6000, i * 160))).copy(pkt, 12);
      s.rtp.send(pkt, s.target.port, s.target.address);
    });
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Power at `freq` in the last 800 ms of 8 kHz frames received (after the jitter buffers settled). */
export function tailPower(frames: readonly Int16Array[], freq: number): number {
  const tail = frames.slice(-40);
  const all = new Int16Array(tail.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of tail) {
    all.set(f, o);
    o += f.length;
  }
  return goertzelPower(all, 8000, freq);
}
