/**
 * Cross-thread locks around the native Opus calls.
 *
 * Why: @evan/opus's native binding encodes and decodes into ONE process-wide output buffer per direction
 * (`buffers.encoder()` / `buffers.decoder()`, copied out by the JS wrapper after the native call returns). Two
 * threads encoding (or decoding) at the same moment overwrite each other's output: measured with two worker
 * threads encoding the same signal, 25–35 % of the payloads differed from a single thread's, and meetings heard
 * full-scale garbage (test/audio/worker-host.test.ts). Its WASM build is per thread, hence safe, but decodes 3×
 * slower (73 against 25 µs per 20 ms). So the mixer holds the decode lock while it pulls a meeting's inputs and
 * the encode lock while it encodes that meeting's outputs (mixer/meeting-audio.ts): decodes of different workers
 * run one meeting at a time, as do encodes, while one worker decodes beside the other's encodes — two workers
 * pipeline naturally. One hold per meeting and direction, not per call: 10× fewer hand-overs.
 *
 * The lock is a futex-style mutex (0 free, 1 held, 2 held with waiters) in a SharedArrayBuffer the host gives every
 * worker; it spins briefly first (a hold lasts 0.1–0.3 ms), then sleeps.
 * The buffer is ONE per process (`processCodecLocks()`: every relay's worker host in the process, and the main
 * thread itself once a host exists), because the binding's buffers are per process: two relays in one test process,
 * or a softclient encoding on the main thread beside the relay's workers (the GUI's in-process server), would race
 * too. OpusCodec takes the lock around each native call; a thread already holding it (the mixer's per-meeting hold)
 * goes straight through (re-entrant per thread).
 * Before any host exists (the softclient's own process, unit tests: one thread) the calls run unlocked.
 */

export const CODEC_LOCK_BYTES = 16;
export const DECODE_LOCK = 0;
export const ENCODE_LOCK = 1;
const SPINS = 2000;

let cells: Int32Array | undefined;
/** How deep this thread holds each lock (re-entry runs unlocked). */
const depth = [0, 0];
let processLocks: SharedArrayBuffer | undefined;

/** This process's locks, created and installed on this (the main) thread at first use. */
export function processCodecLocks(): SharedArrayBuffer {
  if (processLocks === undefined) {
    processLocks = createCodecLocks();
    installCodecLocks(processLocks);
  }
  return processLocks;
}

/** A shared buffer for the locks (the host creates one for all its workers). */
export function createCodecLocks(): SharedArrayBuffer {
  return new SharedArrayBuffer(CODEC_LOCK_BYTES);
}

/** Use these locks on this thread from now on. */
export function installCodecLocks(buffer: SharedArrayBuffer): void {
  cells = new Int32Array(buffer);
}

/** Run `fn` holding lock `which` (DECODE_LOCK or ENCODE_LOCK). */
export function withCodecLock<T>(which: number, fn: () => T): T {
  const c = cells;
  if (c === undefined || depth[which]! > 0) return fn();
  lock(c, which);
  depth[which]!++;
  try {
    return fn();
  } finally {
    depth[which]!--;
    unlock(c, which);
  }
}

function lock(c: Int32Array, i: number): void {
  let state = Atomics.compareExchange(c, i, 0, 1);
  if (state === 0) return;
  for (let n = 0; n < SPINS; n++) {
    if (Atomics.load(c, i) === 0) {
      state = Atomics.compareExchange(c, i, 0, 1);
      if (state === 0) return;
    }
  }
  // Contended: mark "held with waiters" and sleep until woken (U. Drepper, "Futexes Are Tricky", mutex #2).
  if (state !== 2) state = Atomics.exchange(c, i, 2);
  while (state !== 0) {
    Atomics.wait(c, i, 2);
    state = Atomics.exchange(c, i, 2);
  }
}

function unlock(c: Int32Array, i: number): void {
  if (Atomics.sub(c, i, 1) !== 1) {
    Atomics.store(c, i, 0);
    Atomics.notify(c, i, 1);
  }
}
