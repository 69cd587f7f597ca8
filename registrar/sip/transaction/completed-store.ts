/**
 * Compacted Completed non-INVITE server transactions over UDP (RFC 3261 §17.2.2), kept off the JS heap.
 *
 * §17.2.2: "The purpose of the "Completed" state is to buffer any incoming retransmissions of the request. ...
 * While in the "Completed" state, the server transaction MUST pass the final response to the transport layer for
 * retransmission whenever a retransmission of the request is received. Any other final responses passed by the TU
 * to the server transaction MUST be discarded while in the "Completed" state. The server transaction remains in
 * this state until Timer J fires, at which point it MUST transition to the "Terminated" state."
 *
 * So a Completed transaction is no more than {matching key → final response bytes + where they went}. When a
 * `ServerNonInviteTransaction` enters Completed over UDP it hands over to a record here and the layer forgets the
 * transaction object. A registrar at 10,000 REGISTER/s holds 320,000 of them for 64*T1 = 32 s; as JS objects
 * (request, response, timer, closures) they cost ~6 KB each and most of the process's GC time. Here a record is:
 *  - its response bytes and source address, copied into large reusable byte chunks (records are appended in
 *    completion order and expire in the same order, so chunks free up from the front);
 *  - a few numbers in typed arrays (a ring indexed by the record's sequence number);
 *  - its key (a flat string) in the Map that matches retransmissions (§17.2.3).
 * No per-transaction object, closure or timer: Timer J for all records is one clock timer, armed for the oldest
 * record's deadline rounded up to `resolutionMs` (a timer wheel whose buckets are consecutive, since Timer J is
 * the same for every record). Deviation (harmless for a "wait at least" timer): a record ends up to
 * `resolutionMs` after 64*T1, never before.
 *
 *        final response from TU, UDP        retransmitted request: resend the same bytes
 *                  │                              ┌──────┐
 *                  ▼                              │      ▼
 *            +-----------+  Timer J / transport error / TU / close  +------------+
 *            | Completed |──────────────────────────────────────────►| Terminated |
 *            +-----------+                                           +------------+
 */
import type { Clock, TimerHandle } from '../clock.ts';
import type { Endpoint, Source } from '../transport/types.ts';
import { IllegalTransitionError } from './state.ts';

export type CompletedState = 'Completed' | 'Terminated';

/** Byte chunk size; a record never spans chunks (responses are at most 64 KiB on UDP, larger get their own). */
const CHUNK_BYTES = 1 << 20;
const INITIAL_RING = 1024;
const LIVE = 1;
const ENDED = 0;

export class CompletedStore {
  /** key → sequence number of its live record. */
  private readonly index = new Map<string, number>();
  // The ring: record `seq` lives at slot `seq & mask` while head <= seq < tail.
  private mask = INITIAL_RING - 1;
  private keys: Array<string | undefined> = new Array(INITIAL_RING);
  private dueAt = new Float64Array(INITIAL_RING);
  private state = new Uint8Array(INITIAL_RING);
  private chunkOf = new Int32Array(INITIAL_RING);
  private offsetOf = new Int32Array(INITIAL_RING);
  private bytesLen = new Int32Array(INITIAL_RING);
  private addrLen = new Uint8Array(INITIAL_RING);
  private portOf = new Uint16Array(INITIAL_RING);
  private localOf = new Uint8Array(INITIAL_RING);
  private head = 0;
  private tail = 0;
  private live = 0;
  /** Byte chunks in use, oldest first; `chunkBase` is the id of chunks[0]. */
  private readonly chunks: Buffer[] = [];
  private chunkBase = 0;
  private fill = 0;
  private spare: Buffer | undefined;
  /** Distinct local endpoints (the listening sockets), referenced by index. */
  private readonly locals: Endpoint[] = [];
  /** TU `onTransportError` callbacks of the few transactions that set one (§17.2.4). */
  private readonly errorCbs = new Map<number, (err: Error) => void>();
  private timer: TimerHandle | undefined;
  private armedFor = Infinity;

  constructor(
    private readonly clock: Clock,
    /** Timer J (64*T1 for UDP). */
    private readonly timerJ: number,
    readonly resolutionMs: number,
    /** Called once for every record that ends (any cause), after it ended. */
    private readonly onEnd: (seq: number) => void,
  ) {
    if (!(resolutionMs > 0)) throw new RangeError(`CompletedStore: resolution must be > 0 ms, got ${resolutionMs}`);
  }

  /** Records in Completed. */
  get size(): number {
    return this.live;
  }

  /**
   * Enter Completed: keep `bytes` (the final response as sent) for retransmissions of the request with `key`
   * (which must be a flat string: it is kept for 64*T1) from `source`. Returns the record's sequence number.
   */
  add(key: string, bytes: Buffer, source: Source, transportErrorCb: ((err: Error) => void) | undefined): number {
    if (this.tail - this.head > this.mask) this.grow();
    const seq = this.tail++;
    const i = seq & this.mask;
    const address = source.address;
    const need = bytes.length + address.length;
    let chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || this.fill + need > chunk.length) {
      chunk = this.newChunk(need);
      this.fill = 0;
    }
    const offset = this.fill;
    chunk.set(bytes, offset);
    // IP literals are ASCII: written char by char (shorter than a call into Buffer#write).
    const a = offset + bytes.length;
    for (let k = 0; k < address.length; k++) chunk[a + k] = address.charCodeAt(k);
    this.fill += need;
    this.keys[i] = key;
    this.dueAt[i] = this.clock.now() + this.timerJ;
    this.state[i] = LIVE;
    this.chunkOf[i] = this.chunkBase + this.chunks.length - 1;
    this.offsetOf[i] = offset;
    this.bytesLen[i] = bytes.length;
    this.addrLen[i] = address.length;
    this.portOf[i] = source.port;
    this.localOf[i] = this.localIndex(source.local);
    this.index.set(key, seq);
    if (transportErrorCb !== undefined) this.errorCbs.set(seq, transportErrorCb);
    this.live++;
    if (this.timer === undefined) this.arm();
    return seq;
  }

  /** The live record for a request key (§17.2.3 match), or -1. */
  find(key: string): number {
    const seq = this.index.get(key);
    return seq === undefined ? -1 : seq;
  }

  stateOf(seq: number): CompletedState {
    return seq >= this.head && seq < this.tail && this.state[seq & this.mask] === LIVE ? 'Completed' : 'Terminated';
  }

  /** A copy of the response bytes of a live record (a copy: the chunk is reused once the record is gone). */
  response(seq: number): Buffer {
    const i = this.live1(seq);
    const chunk = this.chunks[this.chunkOf[i]! - this.chunkBase]!;
    const off = this.offsetOf[i]!;
    return Buffer.from(chunk.subarray(off, off + this.bytesLen[i]!));
  }

  /** Where the request came from (the response goes back per §18.2.2 from it and the Via). */
  source(seq: number): Source {
    const i = this.live1(seq);
    const chunk = this.chunks[this.chunkOf[i]! - this.chunkBase]!;
    const off = this.offsetOf[i]! + this.bytesLen[i]!;
    return { protocol: 'udp', address: chunk.toString('latin1', off, off + this.addrLen[i]!), port: this.portOf[i]!, local: this.locals[this.localOf[i]!]! };
  }

  transportErrorCb(seq: number): ((err: Error) => void) | undefined {
    return this.errorCbs.get(seq);
  }

  /**
   * The Completed → Terminated edge of one record (transport error, the TU, shutdown). Ending a record that
   * already ended is API misuse and throws, as any illegal transition does.
   */
  end(seq: number): void {
    if (this.stateOf(seq) !== 'Completed') {
      throw new IllegalTransitionError('compacted non-INVITE server transaction', 'Terminated', 'Terminated');
    }
    this.terminate(seq);
  }

  /** End every record (shutdown) and stop the timer. */
  clear(): void {
    for (let seq = this.head; seq < this.tail; seq++) {
      if (this.state[seq & this.mask] === LIVE) this.terminate(seq);
    }
    this.timer?.cancel();
    this.timer = undefined;
    this.armedFor = Infinity;
    this.head = this.tail;
    this.release();
  }

  private live1(seq: number): number {
    if (this.stateOf(seq) !== 'Completed') throw new RangeError(`CompletedStore: record ${seq} is not in Completed`);
    return seq & this.mask;
  }

  private terminate(seq: number): void {
    const i = seq & this.mask;
    this.state[i] = ENDED;
    const key = this.keys[i]!;
    if (this.index.get(key) === seq) this.index.delete(key);
    this.keys[i] = undefined;
    this.errorCbs.delete(seq);
    this.live--;
    this.onEnd(seq);
  }

  /** One clock timer, for the end of the resolution bucket holding the oldest record's deadline. */
  private arm(): void {
    while (this.head < this.tail && this.state[this.head & this.mask] !== LIVE) this.head++;
    this.release();
    if (this.head === this.tail) {
      this.armedFor = Infinity;
      return;
    }
    const bucketEnd = Math.ceil(this.dueAt[this.head & this.mask]! / this.resolutionMs) * this.resolutionMs;
    this.armedFor = bucketEnd;
    this.timer = this.clock.setTimer(Math.max(0, bucketEnd - this.clock.now()), () => this.fire());
  }

  /** §17.2.2 Timer J: "at which point it MUST transition to the "Terminated" state." */
  private fire(): void {
    this.timer = undefined;
    const upTo = this.armedFor;
    while (this.head < this.tail) {
      const i = this.head & this.mask;
      if (this.dueAt[i]! > upTo) break;
      if (this.state[i] === LIVE) this.terminate(this.head);
      this.head++;
    }
    if (this.timer === undefined) this.arm();
  }

  /** Hand back chunks that no record in the ring uses any more (keep one spare). */
  private release(): void {
    const oldest = this.head < this.tail ? this.chunkOf[this.head & this.mask]! : this.chunkBase + this.chunks.length;
    while (this.chunkBase < oldest && this.chunks.length > 0) {
      const c = this.chunks.shift()!;
      this.chunkBase++;
      if (c.length === CHUNK_BYTES) this.spare = c;
    }
    if (this.head === this.tail) this.fill = this.chunks.length > 0 ? this.fill : 0;
  }

  private newChunk(need: number): Buffer {
    let c: Buffer;
    if (need <= CHUNK_BYTES && this.spare !== undefined) {
      c = this.spare;
      this.spare = undefined;
    } else c = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, need));
    this.chunks.push(c);
    return c;
  }

  private localIndex(local: Endpoint): number {
    const ls = this.locals;
    for (let k = 0; k < ls.length; k++) {
      const l = ls[k]!;
      if (l === local || (l.protocol === local.protocol && l.address === local.address && l.port === local.port)) return k;
    }
    if (ls.length >= 255) throw new RangeError('CompletedStore: more than 255 local endpoints');
    ls.push(local);
    return ls.length - 1;
  }

  /** Double the ring, keeping every record at `seq & mask` of the new mask. */
  private grow(): void {
    const oldMask = this.mask;
    const size = (oldMask + 1) * 2;
    const mask = size - 1;
    const keys: Array<string | undefined> = new Array(size);
    const dueAt = new Float64Array(size);
    const state = new Uint8Array(size);
    const chunkOf = new Int32Array(size);
    const offsetOf = new Int32Array(size);
    const bytesLen = new Int32Array(size);
    const addrLen = new Uint8Array(size);
    const portOf = new Uint16Array(size);
    const localOf = new Uint8Array(size);
    for (let seq = this.head; seq < this.tail; seq++) {
      const a = seq & oldMask;
      const b = seq & mask;
      keys[b] = this.keys[a];
      dueAt[b] = this.dueAt[a]!;
      state[b] = this.state[a]!;
      chunkOf[b] = this.chunkOf[a]!;
      offsetOf[b] = this.offsetOf[a]!;
      bytesLen[b] = this.bytesLen[a]!;
      addrLen[b] = this.addrLen[a]!;
      portOf[b] = this.portOf[a]!;
      localOf[b] = this.localOf[a]!;
    }
    this.mask = mask;
    this.keys = keys;
    this.dueAt = dueAt;
    this.state = state;
    this.chunkOf = chunkOf;
    this.offsetOf = offsetOf;
    this.bytesLen = bytesLen;
    this.addrLen = addrLen;
    this.portOf = portOf;
    this.localOf = localOf;
  }
}
