/**
 * Load generator for bench/relay.ts, run as a SEPARATE process (forked with tsx) so the relay's CPU is measured
 * apart from it: sends VP8-shaped RTP (1200-octet packets, a keyframe start every 300 packets) and counts what its
 * sink sockets receive. Driven over the IPC channel:
 *   { cmd: 'sinks', n }                        → { ports }            open n counting sink sockets
 *   { cmd: 'blast', port?, ms }                → RunReport            as fast as possible (default: to sink 0)
 *   { cmd: 'paced', port, rate, ms }           → RunReport            `rate` packets/s in 1 ms bursts
 *   { cmd: 'exit' }
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

const PACKET_BYTES = 1200;
const FRAME_PACKETS = 10;
const KEYFRAME_EVERY = 300;

/** What a 'blast' or 'paced' run reports (read by bench/relay.ts and bench/video-vs-rtpengine.ts). */
export interface RunReport {
  sent: number;
  received: number[];
  wallMs: number;
  cpuUs: number;
  sendPort: number;
}

const sender = createSocket('udp4');
sender.bind(0, '127.0.0.1');
await once(sender, 'listening');
try {
  sender.setSendBufferSize(4 << 20);
} catch {
  // best effort
}
const sinks: Socket[] = [];
const counts: number[] = [];
let seq = 0;
let ts = 0;
const packet = Buffer.alloc(PACKET_BYTES);

function nextPacket(): Buffer {
  const p = Buffer.from(packet);
  p[0] = 0x80;
  p[1] = 96;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(ts >>> 0, 4);
  p.writeUInt32BE(0x0b0b0b0b, 8);
  const frameStart = seq % FRAME_PACKETS === 0;
  p[12] = frameStart ? 0x10 : 0x00; // VP8 descriptor: S bit on a frame's first packet, PID 0
  p[13] = seq % KEYFRAME_EVERY === 0 ? 0x00 : 0x01; // VP8 payload header: P = 0 keyframe
  if (seq % FRAME_PACKETS === FRAME_PACKETS - 1) p[1] |= 0x80; // marker: last packet of a frame
  seq++;
  if (seq % FRAME_PACKETS === 0) ts += 3000;
  return p;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function openSinks(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = createSocket('udp4');
    const idx = sinks.length;
    counts[idx] = 0;
    s.on('message', () => counts[idx]!++);
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    try {
      s.setRecvBufferSize(8 << 20);
    } catch {
      // best effort
    }
    sinks.push(s);
    ports.push(s.address().port);
  }
  return ports;
}

async function run(port: number, ms: number, rate: number | undefined): Promise<RunReport> {
  counts.fill(0);
  const cpu0 = cpuUs();
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const step = () => {
      const elapsed = performance.now() - t0;
      if (elapsed >= ms) return resolve();
      const due = rate === undefined ? sent + 256 : Math.floor((rate * elapsed) / 1000);
      for (let n = 0; sent < due && n < 4096; n++, sent++) sender.send(nextPacket(), port, '127.0.0.1');
      if (rate === undefined) setImmediate(step);
      else setTimeout(step, 1);
    };
    step();
  });
  const wallMs = performance.now() - t0;
  const cpu = cpuUs() - cpu0;
  await new Promise((r) => setTimeout(r, 200)); // let the tail arrive
  return { sent, received: [...counts], wallMs, cpuUs: cpu, sendPort: sender.address().port };
}

process.on('message', async (m: { cmd: string; n?: number; port?: number; ms?: number; rate?: number }) => {
  if (m.cmd === 'sinks') process.send!({ ports: await openSinks(m.n ?? 1) });
  else if (m.cmd === 'blast') process.send!(await run(m.port ?? sinks[0]!.address().port, m.ms ?? 2000, undefined));
  else if (m.cmd === 'paced') process.send!(await run(m.port!, m.ms ?? 2000, m.rate));
  else if (m.cmd === 'exit') {
    for (const s of sinks) s.close();
    sender.close();
    process.disconnect?.();
  }
});
process.send!({ ready: true, sendPort: sender.address().port });
