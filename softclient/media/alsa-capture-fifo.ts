/**
 * The small sample FIFO between a capture device (bytes arriving whenever ffmpeg writes them) and the 20 ms send
 * clock (a frame taken every tick, whatever the device did). The clock never waits:
 *
 *   device ─push(bytes)─▶ [ FIFO ≤ capacity ] ─take(n)─▶ tick
 *     overrun  (more than the capacity queued): the oldest samples are dropped — latency stays bounded
 *     underrun (fewer than n queued): what is there, then silence; the FIFO refills to `prefill` before it
 *              plays again, so a device delivering in bursts does not alternate sound and silence every tick
 *
 * Both are counted. Until the first take() (before the call is up) the FIFO just keeps the newest audio, uncounted;
 * the first take() trims it to the prefill so the mouth-to-wire latency starts small.
 */

export interface CaptureFifoStats {
  /** take() calls that found fewer samples than asked (and padded with silence). */
  readonly underruns: number;
  /** push() calls that overflowed the capacity (and dropped the oldest samples). */
  readonly overruns: number;
  /** Samples dropped by overruns. */
  readonly droppedSamples: number;
  /** Samples of silence inserted by underruns. */
  readonly paddedSamples: number;
  /** Samples queued now. */
  readonly queued: number;
}

export class CaptureFifo {
  private chunks: Int16Array[] = [];
  /** Read position in chunks[0]. */
  private head = 0;
  private length = 0;
  private odd: number | undefined;
  private started = false;
  private filling = true;
  private underruns = 0;
  private overruns = 0;
  private droppedSamples = 0;
  private paddedSamples = 0;

  /**
   * @param capacity most samples kept (older ones are dropped)
   * @param prefill samples to gather before playing, at the start and after an underrun
   */
  constructor(
    readonly capacity: number,
    readonly prefill: number,
  ) {
    if (!(capacity > 0 && prefill >= 0 && prefill <= capacity)) throw new TypeError(`CaptureFifo: bad sizes ${capacity}/${prefill}`);
  }

  /** Raw s16le bytes as they come from the device (any length, a sample may straddle two pushes). */
  push(bytes: Uint8Array): void {
    let start = 0;
    const lead: number[] = [];
    if (this.odd !== undefined && bytes.length > 0) {
      lead.push(this.odd | (bytes[0]! << 8));
      this.odd = undefined;
      start = 1;
    }
    const whole = (bytes.length - start) >> 1;
    const out = new Int16Array(lead.length + whole);
    if (lead.length) out[0] = (lead[0]! << 16) >> 16;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < whole; i++) out[lead.length + i] = view.getInt16(start + 2 * i, true);
    if ((bytes.length - start) % 2 === 1) this.odd = bytes[bytes.length - 1];
    if (out.length === 0) return;
    this.chunks.push(out);
    this.length += out.length;
    if (this.length > this.capacity) {
      const drop = this.length - this.capacity;
      this.discard(drop);
      if (this.started) {
        this.overruns++;
        this.droppedSamples += drop;
      }
    }
  }

  /** Exactly `n` samples: queued audio, padded with silence on underrun. Never waits. */
  take(n: number): Int16Array {
    if (!this.started) {
      // The call starts: keep only the newest audio, so the latency starts at the prefill, not the capacity.
      this.started = true;
      const keep = Math.min(this.capacity, Math.max(this.prefill, n));
      if (this.length > keep) this.discard(this.length - keep);
    }
    const out = new Int16Array(n);
    if (this.filling) {
      if (this.length < Math.max(this.prefill, Math.min(n, this.capacity))) {
        this.paddedSamples += n;
        return out;
      }
      this.filling = false;
    }
    let got = 0;
    while (got < n && this.length > 0) {
      const c = this.chunks[0]!;
      const k = Math.min(n - got, c.length - this.head);
      out.set(c.subarray(this.head, this.head + k), got);
      got += k;
      this.consume(k);
    }
    if (got < n) {
      this.underruns++;
      this.paddedSamples += n - got;
      this.filling = true;
    }
    return out;
  }

  stats(): CaptureFifoStats {
    return { underruns: this.underruns, overruns: this.overruns, droppedSamples: this.droppedSamples, paddedSamples: this.paddedSamples, queued: this.length };
  }

  private discard(n: number): void {
    while (n > 0 && this.length > 0) {
      const k = Math.min(n, this.chunks[0]!.length - this.head);
      this.consume(k);
      n -= k;
    }
  }

  private consume(k: number): void {
    this.head += k;
    this.length -= k;
    if (this.head >= this.chunks[0]!.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
