/**
 * Profiling harness for the video forwarding path (not a benchmark of record: bench/video-vs-rtpengine.ts is).
 * One publisher → one subscriber through createMediaRelay in this process, fed by bench/relay-gen.ts at one rate;
 * prints the process's CPU per forwarded packet split by thread (main vs the rest), and the idle cost (no traffic).
 * Run under `node --cpu-prof --import tsx bench/relay-profile.ts --rate 40000 --ms 5000` to get a profile.
 */
import { fileURLToPath } from 'node:url';
import { createMediaRelay } from '../media-relay/relay.ts';
import { silentLogger } from '../registrar/log.ts';
import { IpcChild } from './lib/ipc-child.ts';
import { CLK_TCK } from './lib/procs.ts';
import { threadTicks } from './lib/self-usage.ts';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
};
const RATE = Number(arg('rate', '40000'));
const MS = Number(arg('ms', '5000'));

const { child: gen, ready } = await IpcChild.start<{ sendPort: number }>(fileURLToPath(new URL('./relay-gen.ts', import.meta.url)));
const relay = await createMediaRelay({ host: '127.0.0.1', advertise: '127.0.0.1', portRange: { min: 48000, max: 48999 }, logger: silentLogger() });
const sink = (await gen.ask<{ ports: number[] }>({ cmd: 'sinks', n: 1 })).ports[0]!;
const codecs = [{ payloadType: 96, name: 'vp8', clockRate: 90000 }];
const pub = await relay.allocateEndpoint({ meetingId: 'p', participantId: 'pub', kind: 'video', rtcpMux: true });
await relay.setRemote(pub.endpointId, { address: '127.0.0.1', rtpPort: ready.sendPort, rtcpPort: ready.sendPort, rtcpMux: true, codecs, direction: 'sendonly' });
const sub = await relay.allocateEndpoint({ meetingId: 'p', participantId: 'sub', kind: 'video', videoRole: { subscribeTo: 'pub' }, rtcpMux: true });
await relay.setRemote(sub.endpointId, { address: '127.0.0.1', rtpPort: sink, rtcpPort: sink, rtcpMux: true, codecs, direction: 'recvonly' });
await gen.ask({ cmd: 'paced', port: pub.rtpPort, rate: 5000, ms: 500 });

const split = (a: Map<number, number>, b: Map<number, number>) => {
  let main = 0;
  let rest = 0;
  for (const [tid, t] of b) {
    const d = t - (a.get(tid) ?? 0);
    if (tid === process.pid) main += d;
    else rest += d;
  }
  return { main: main / CLK_TCK, rest: rest / CLK_TCK };
};

let t0 = threadTicks();
let w0 = performance.now();
await new Promise((r) => setTimeout(r, 2000));
let s = split(t0, threadTicks());
let wall = (performance.now() - w0) / 1000;
console.log(`idle: main ${((s.main / wall) * 100).toFixed(1)} %, other threads ${((s.rest / wall) * 100).toFixed(1)} %`);

t0 = threadTicks();
w0 = performance.now();
const r = await gen.ask<{ sent: number; received: number[]; wallMs: number }>({ cmd: 'paced', port: pub.rtpPort, rate: RATE, ms: MS });
s = split(t0, threadTicks());
wall = (performance.now() - w0) / 1000;
const out = r.received[0]!;
console.log(
  `rate ${RATE}/s: sent ${r.sent}, out ${out} (loss ${((1 - out / r.sent) * 100).toFixed(2)} %); main ${((s.main / wall) * 100).toFixed(1)} % ` +
    `(${((s.main * 1e6) / out).toFixed(2)} µs/pkt), other threads ${((s.rest / wall) * 100).toFixed(1)} % (${((s.rest * 1e6) / out).toFixed(2)} µs/pkt)`,
);
await relay.close();
await gen.stop();
