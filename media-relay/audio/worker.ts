/**
 * Worker-thread side of AudioWorkerHost: one AudioEngine on the real monotonic clock, driven by messages from the
 * host. Loaded through worker-entry.js (which registers tsx so this TypeScript file can run in the worker).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../../registrar/sip/clock.ts';
import { createLogger, silentLogger } from '../../registrar/log.ts';
import { AudioEngine } from './engine.ts';
import type { EngineEvent, HostCommand } from './messages.ts';

if (!parentPort) throw new TypeError('media-relay/audio/worker.ts runs only as a worker thread');
const port = parentPort;
const data = (workerData ?? {}) as { logLevel?: string; index?: number };
const logger = data.logLevel && data.logLevel !== 'silent' ? createLogger({ level: data.logLevel }) : silentLogger();

const engine = new AudioEngine(
  systemClock,
  logger.child({ worker: data.index ?? 0 }),
  (ev: EngineEvent) => port.postMessage(ev),
  // The host stamps packets with absolute time; this thread's performance.now() has its own origin.
  (atMs) => atMs - performance.timeOrigin,
);

port.on('message', (cmd: HostCommand) => {
  try {
    engine.handle(cmd);
  } catch (err) {
    port.postMessage({ type: 'error', meetingId: 'meetingId' in cmd ? cmd.meetingId : undefined, message: String(err) } satisfies EngineEvent);
  }
  if (cmd.type === 'close') port.close();
});
