/**
 * The audio engine alone, in one thread, at a mixer-load-like load: M meetings × 10 (2 talkers, 8 quiet legs of
 * low-level noise), the generator's exact payloads, pushed through the worker's own path (PacketRing → AudioEngine
 * tick → packed frame batch). No sockets, no other thread: CPU per tick and a place to run `--cpu-prof`.
 *
 * Run: node --import tsx [--cpu-prof --cpu-prof-dir=/tmp/prof] bench/mixer-prof.ts [--meetings 25] [--ticks 1000]
 * Prints µs per tick and what that means in % of a core at 50 ticks/s. Figures only, nothing asserted.
 */
import { ManualClock } from '../registrar/sip/clock.ts';
import { silentLogger } from '../registrar/log.ts';
import { AudioEngine } from '../media-relay/audio/engine.ts';
import { PacketRing } from '../media-relay/audio/packet-ring.ts';
import { encodeLoops, OPUS_SPEC, PER_MEETING, roleOf } from './lib/mixer-streams.ts';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
};
const MEETINGS = Number(arg('meetings', '25'));
const TICKS = Number(arg('ticks', '1000'));

const loops = encodeLoops(OPUS_SPEC);
const clock = new ManualClock();
const ring = PacketRing.create();
let framesOut = 0;
const engine = new AudioEngine(clock, silentLogger(), (ev) => {
  if (ev.type === 'tick') framesOut += ev.batch.byteLength;
}, (atMs) => atMs, { ring, pollCommands: () => {} });

let legId = 1;
const legs: Array<{ id: number; role: ReturnType<typeof roleOf>; seq: number; ts: number; ssrc: number }> = [];
for (let m = 0; m < MEETINGS; m++) {
  for (let p = 0; p < PER_MEETING; p++) {
    const id = legId++;
    engine.handle({
      type: 'add-leg', meetingId: `m${m}`, meetingNum: m + 1, legId: id,
      leg: { participantId: `p${p}`, codecs: [OPUS_SPEC], sending: true, receiving: true },
    });
    legs.push({ id, role: roleOf(p), seq: id * 100, ts: id * 1000, ssrc: id });
  }
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

// Packets arrive spread over the 20 ms period (like independent phones); the tick runs at each multiple of 20.
let c0 = 0;
const WARM = 150;
for (let k = 0; k < WARM + TICKS; k++) {
  if (k === WARM) c0 = cpuUs();
  for (let i = 0; i < legs.length; i++) {
    const l = legs[i]!;
    const at = k * 20 + ((i * 7) % 20);
    ring.write(l.id, { payloadType: 111, sequenceNumber: l.seq & 0xffff, timestamp: l.ts >>> 0, ssrc: l.ssrc, marker: false, payload: loops[l.role][k % 50]! }, at);
    l.seq++;
    l.ts += 960;
  }
  clock.advance(20);
}
const us = (cpuUs() - c0) / TICKS;
console.log(`${MEETINGS} meetings × ${PER_MEETING}: ${us.toFixed(0)} µs per tick = ${(us / 200).toFixed(1)} % of a core (${(us / 200 / (MEETINGS * PER_MEETING)).toFixed(3)} % per participant); ${(framesOut / (WARM + TICKS)).toFixed(0)} bytes out per tick`);
engine.close();
