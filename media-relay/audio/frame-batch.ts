/**
 * One tick's output frames of every meeting on a worker, packed into ONE transferable ArrayBuffer, so a worker
 * posts one message per 20 ms tick instead of one per meeting (each a structured clone of an array of objects
 * with their own payload buffers).
 *
 *   per meeting:  u32 meeting number, u32 frame count
 *   per frame:    u32 leg id, u8 payload type, u8 marker, u16 RTP samples, u16 payload length, payload bytes
 *
 * Meeting numbers and leg ids are the host's (worker-host.ts): they are never reused, so a frame racing the removal
 * of its leg is simply not found.
 */
import type { AudioOut } from './types.ts';

const FRAME_HEADER = 10;

export class FrameBatchWriter {
  private buf = new ArrayBuffer(64 * 1024);
  private view = new DataView(this.buf);
  private bytes = new Uint8Array(this.buf);
  private pos = 0;
  private countAt = -1;
  private count = 0;

  /** Start a meeting's section (ends with the next beginMeeting or take). */
  beginMeeting(meetingNum: number): void {
    this.closeMeeting();
    this.ensure(8);
    this.view.setUint32(this.pos, meetingNum, true);
    this.countAt = this.pos + 4;
    this.count = 0;
    this.pos += 8;
  }

  add(legId: number, out: AudioOut): void {
    const n = out.payload.length;
    this.ensure(FRAME_HEADER + n);
    const v = this.view;
    v.setUint32(this.pos, legId, true);
    v.setUint8(this.pos + 4, out.payloadType);
    v.setUint8(this.pos + 5, out.marker ? 1 : 0);
    v.setUint16(this.pos + 6, out.samples, true);
    v.setUint16(this.pos + 8, n, true);
    this.bytes.set(out.payload, this.pos + FRAME_HEADER);
    this.pos += FRAME_HEADER + n;
    this.count++;
  }

  /** The packed batch (undefined when empty); the writer starts a fresh buffer. */
  take(): ArrayBuffer | undefined {
    this.closeMeeting();
    if (this.pos === 0) return undefined;
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }

  private closeMeeting(): void {
    if (this.countAt < 0) return;
    if (this.count === 0) this.pos -= 8; // nothing for that meeting: drop its section header
    else this.view.setUint32(this.countAt, this.count, true);
    this.countAt = -1;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.byteLength) return;
    const bigger = new ArrayBuffer(Math.max(this.buf.byteLength * 2, this.pos + n));
    new Uint8Array(bigger).set(this.bytes.subarray(0, this.pos));
    this.buf = bigger;
    this.view = new DataView(bigger);
    this.bytes = new Uint8Array(bigger);
  }
}

export interface BatchFrame {
  readonly legId: number;
  readonly payloadType: number;
  readonly marker: boolean;
  readonly samples: number;
  /** A view into the batch buffer. */
  readonly payload: Uint8Array;
}

/** Walk a packed batch: `onMeeting` once per meeting section with its frames. */
export function readFrameBatch(buf: ArrayBuffer, onMeeting: (meetingNum: number, frames: BatchFrame[]) => void): void {
  const v = new DataView(buf);
  const bytes = new Uint8Array(buf);
  let p = 0;
  while (p + 8 <= buf.byteLength) {
    const meetingNum = v.getUint32(p, true);
    const count = v.getUint32(p + 4, true);
    p += 8;
    const frames: BatchFrame[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const n = v.getUint16(p + 8, true);
      frames[i] = {
        legId: v.getUint32(p, true),
        payloadType: v.getUint8(p + 4),
        marker: v.getUint8(p + 5) === 1,
        samples: v.getUint16(p + 6, true),
        payload: bytes.subarray(p + FRAME_HEADER, p + FRAME_HEADER + n),
      };
      p += FRAME_HEADER + n;
    }
    onMeeting(meetingNum, frames);
  }
}
