/**
 * Worker-thread side of AudioWorkerHost: one AudioEngine on the real monotonic clock, driven by messages from the
 * host, reading its packets from the shared PacketRing the host gave it (workerData.ring). Loaded through
 * worker-entry.js (which registers tsx so this TypeScript file can run in the worker).
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { systemClock } from '../../registrar/sip/clock.ts';
import { createLogger, silentLogger } from '../../registrar/log.ts';
import { AudioEngine, SLOTS, TICK_MS } from './engine.ts';
import type { EngineEvent, HostCommand } from './messages.ts';
import { installCodecLocks } from '../../media/codec/codec-lock.ts';
import { PacketRing } from './packet-ring.ts';

if (!parentPort) throw new TypeError('media-relay/audio/worker.ts runs only as a worker thread');
const port = parentPort;
const data = (workerData ?? {}) as { logLevel?: string; index?: number; workers?: number; ring?: SharedArrayBuffer; codecLocks?: SharedArrayBuffer };
if (!(data.ring instanceof SharedArrayBuffer)) throw new TypeError('audio worker started without its packet ring');
if (!(data.codecLocks instanceof SharedArrayBuffer)) throw new TypeError('audio worker started without the codec locks');
// Before any codec runs: the native Opus binding is not thread-safe (media/codec/codec-lock.ts).
installCodecLocks(data.codecLocks);
const logger = data.logLevel && data.logLevel !== 'silent' ? createLogger({ level: data.logLevel }) : silentLogger();

function handle(cmd: HostCommand): void {
  try {
    engine.handle(cmd);
  } catch (err) {
    port.postMessage({ type: 'error', meetingId: 'meetingId' in cmd ? cmd.meetingId : undefined, message: String(err) } satisfies EngineEvent);
  }
  if (cmd.type === 'close') port.close();
}

const engine = new AudioEngine(
  systemClock,
  logger.child({ worker: data.index ?? 0 }),
  (ev: EngineEvent, transfer?: ArrayBuffer[]) => port.postMessage(ev, transfer),
  // The host stamps packets with absolute time; this thread's performance.now() has its own origin.
  (atMs) => atMs - performance.timeOrigin,
  {
    ring: new PacketRing(data.ring),
    // Worker k of N runs its sub-ticks (every TICK_MS / SLOTS) k / N of a sub-tick later than worker 0: the
    // workers' busy moments, and their turns at the codec locks, interleave instead of starting together.
    tickPhaseMs: ((data.index ?? 0) * TICK_MS) / SLOTS / Math.max(1, data.workers ?? 1),
    // Before a tick reads the ring: take the commands already posted (an add-leg precedes its first packet).
    pollCommands: () => {
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) handle(m.message as HostCommand);
    },
  },
);

port.on('message', handle);
