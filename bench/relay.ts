/**
 * Video forwarding benchmark of the media relay on loopback: packets/s and CPU µs per packet.
 *
 *   1. the hot path alone, in-process: parse + keyframe check + rewrite (+ the copy a 2nd receiver needs);
 *   2. the load generator ALONE (bench/relay-gen.ts, a separate process): how fast it sends and what one packet
 *      costs it — shared/field-notes.md: "a load generator must be measured alone first, or it measures itself";
 *   3. the relay (this process, sockets and all): one publisher's 1200-octet VP8 packets to K receivers at
 *      increasing input rates; relay CPU from process.cpuUsage(), loss from the generator's sinks.
 *
 * Run: node --import tsx bench/relay.ts [--ms 2000] [--rates 10000,20000,…] [--receivers 1,4]
 * Prints figures, asserts nothing. Reference: rtpengine 10.5 userspace spends 6–16 µs CPU per relayed packet and
 * moved ~140k packets/s of 1200-octet video on this kind of machine at ~90 % of a core (field notes).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createMediaRelay } from '../media-relay/relay.ts';
import { parseRtp, rewriteRtp } from '../media/rtp/packet.ts';
import { vp8IsKeyframeStart } from '../media/video/vp8.ts';
import { silentLogger } from '../registrar/log.ts';
import type { RunReport } from './relay-gen.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const MS = Number(arg('ms', '2000'));
const RATES = arg('rates', '10000,20000,40000,60000,80000,100000,130000').split(',').map(Number);
const RECEIVERS = arg('receivers', '1,4').split(',').map(Number);
const MAX_LOSS = 0.001; // 0.1 %

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

function microbench(): void {
  const pkt = Buffer.alloc(1200);
  pkt[0] = 0x80;
  pkt[1] = 96;
  pkt[12] = 0x10;
  const N = 2_000_000;
  let keys = 0;
  for (let round = 0; round < 2; round++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const r = parseRtp(pkt);
      if (!r.ok) continue;
      const p = r.packet;
      if (vp8IsKeyframeStart(pkt, p.payloadOffset, p.payloadLength)) keys++;
      rewriteRtp(pkt, 0x1234 + i, (p.sequenceNumber + 1) & 0xffff, (p.timestamp + 3000) >>> 0, 100);
    }
    const inPlace = ((performance.now() - t0) * 1e6) / N;
    const t1 = performance.now();
    for (let i = 0; i < N / 4; i++) {
      const copy = Buffer.from(pkt);
      rewriteRtp(copy, 0x1234 + i, i & 0xffff, i, 100);
    }
    const copied = ((performance.now() - t1) * 1e6) / (N / 4);
    if (round === 1) {
      console.log(`hot path, in-process: parse + VP8 keyframe check + rewrite in place ${inPlace.toFixed(0)} ns/packet; ` +
        `copy + rewrite of 1200 octets (each extra receiver) ${copied.toFixed(0)} ns`);
    }
  }
  if (keys < 0) console.log(keys);
}


class Gen {
  private constructor(readonly child: ChildProcess, readonly sendPort: number) {}
  static async start(): Promise<Gen> {
    const child = fork(fileURLToPath(new URL('./relay-gen.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    const [ready] = (await once(child, 'message')) as [{ sendPort: number }];
    return new Gen(child, ready.sendPort);
  }
  async ask<T>(msg: object): Promise<T> {
    this.child.send(msg);
    const [reply] = await once(this.child, 'message');
    return reply as T;
  }
  stop(): void {
    this.child.send({ cmd: 'exit' });
    setTimeout(() => this.child.kill(), 500).unref();
  }
}

const fmt = (n: number, d = 0) => n.toFixed(d).padStart(8);

async function main(): Promise<void> {
  console.log(`# relay video forwarding benchmark — ${new Date().toISOString()}, node ${process.version}, ${MS} ms per step`);
  microbench();

  const gen = await Gen.start();
  try {
    // Generator alone, twice: flat out (its ceiling, and its CPU per packet sent), and paced at each rate into its
    // own sink (what it delivers with nothing in between; its sink shares its process, so this is pessimistic).
    const [sinkPort] = (await gen.ask<{ ports: number[] }>({ cmd: 'sinks', n: 1 })).ports;
    const alone = await gen.ask<RunReport>({ cmd: 'blast', port: sinkPort, ms: MS });
    console.log(
      `generator alone, flat out (separate process): ${((alone.sent * 1000) / alone.wallMs).toFixed(0)} packets/s sent, ` +
        `${(alone.cpuUs / alone.sent).toFixed(2)} µs CPU per packet sent (its sink, same process, took ${((alone.received[0]! * 1000) / alone.wallMs).toFixed(0)}/s)`,
    );
    console.log('generator alone, paced into its own sink:');
    console.log('  target/s  sent/s  recv/s  gen CPU %  loss %');
    for (const rate of RATES) {
      const r = await gen.ask<RunReport>({ cmd: 'paced', port: sinkPort, rate, ms: MS });
      const loss = r.sent === 0 ? 0 : Math.max(0, 1 - r.received[0]! / r.sent);
      console.log(`  ${fmt(rate)} ${fmt((r.sent * 1000) / r.wallMs)} ${fmt((r.received[0]! * 1000) / r.wallMs)} ${fmt((r.cpuUs / (r.wallMs * 1000)) * 100, 1)} ${fmt(loss * 100, 2)}`);
      if (loss > MAX_LOSS) break;
    }

    for (const k of RECEIVERS) {
      const relay = await createMediaRelay({
        host: '127.0.0.1', advertise: '127.0.0.1', portRange: { min: 41000, max: 41999 }, logger: silentLogger(),
        audioDriver: () => ({ addLeg() {}, updateLeg() {}, removeLeg() {}, push() {}, close() {} }),
      });
      const sinkPorts = (await gen.ask<{ ports: number[] }>({ cmd: 'sinks', n: k })).ports;
      const codecs = [{ payloadType: 96, name: 'vp8', clockRate: 90000 }];
      const pub = await relay.allocateEndpoint({ meetingId: 'bench', participantId: 'pub', kind: 'video', rtcpMux: true });
      await relay.setRemote(pub.endpointId, { address: '127.0.0.1', rtpPort: gen.sendPort, rtcpPort: gen.sendPort, rtcpMux: true, codecs, direction: 'sendonly' });
      for (const [i, port] of sinkPorts.entries()) {
        const sub = await relay.allocateEndpoint({ meetingId: 'bench', participantId: `sub${i}`, kind: 'video', videoRole: { subscribeTo: 'pub' }, rtcpMux: true });
        await relay.setRemote(sub.endpointId, { address: '127.0.0.1', rtpPort: port, rtcpPort: port, rtcpMux: true, codecs, direction: 'recvonly' });
      }
      // Warm-up: latch, first keyframe (the receivers start at one), JIT.
      await gen.ask<RunReport>({ cmd: 'paced', port: pub.rtpPort, rate: 5000, ms: 400 });
      // The sinks we just opened are the last k of the generator's sinks.
      console.log(`\n1 publisher → ${k} receiver(s)`);
      console.log('  target/s   in/s  out/s  relay CPU %  µs/in pkt  µs/out pkt  loss %  verdict');
      for (const rate of RATES) {
        const in0 = relay.endpointStats(pub.endpointId)!.packetsIn;
        const c0 = cpuUs();
        const r = await gen.ask<RunReport>({ cmd: 'paced', port: pub.rtpPort, rate: rate, ms: MS });
        const cpu = cpuUs() - c0;
        const got = r.received.slice(-k);
        const inPkts = relay.endpointStats(pub.endpointId)!.packetsIn - in0;
        const out = got.reduce((a, b) => a + b, 0);
        const expected = r.sent * k;
        const loss = expected === 0 ? 0 : Math.max(0, 1 - out / expected);
        const wallS = (r.wallMs + 200) / 1000; // the generator waits 200 ms for the tail; relay CPU covers it too
        const achieved = (r.sent * 1000) / r.wallMs;
        const ok = loss <= MAX_LOSS && achieved >= 0.95 * rate;
        console.log(
          `  ${fmt(rate)} ${fmt((inPkts * 1000) / r.wallMs)} ${fmt((out * 1000) / r.wallMs)} ${fmt((cpu / (wallS * 1e6)) * 100, 1)}    ` +
            `${fmt(cpu / Math.max(1, inPkts), 2)}  ${fmt(cpu / Math.max(1, out), 2)}  ${fmt(loss * 100, 2)}  ${ok ? 'ok' : 'LOSS/short'}`,
        );
        if (!ok) break;
      }
      await relay.close();
    }
  } finally {
    gen.stop();
  }
}

await main();
