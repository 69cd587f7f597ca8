/**
 * IVF, the VP8 test-vector container (libvpx; the layout ffprobe/ffmpeg read as "ivf"):
 *
 *   file header, 32 octets (little endian)           frame header, 12 octets, then the frame
 *   0   "DKIF"                                        0  frame size (4)
 *   4   version 0 (2)   6  header size 32 (2)         4  presentation timestamp in timebase units (8)
 *   8   FourCC "VP80"                                 12 frame data
 *   12  width (2)       14 height (2)
 *   16  timebase denominator (4)  20 numerator (4)    — here 90000/1: RTP timestamps as they come
 *   24  number of frames (4)      28 unused (4)
 *
 * Frames are written as they arrive; the frame count is rewritten every `flushEvery` frames and on close, so a
 * file cut short by a kill still opens.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const HEADER = 32;
const FRAME_HEADER = 12;

export class IvfWriter {
  private fd: number | undefined;
  private offset = HEADER;
  private firstTs: number | undefined;
  private lastPts = -1;
  frames = 0;

  constructor(
    readonly path: string,
    private width: number,
    private height: number,
    private readonly flushEvery = 15,
  ) {
    this.fd = openSync(path, 'w');
    this.writeHeader();
  }

  private writeHeader(): void {
    if (this.fd === undefined) return;
    const h = Buffer.alloc(HEADER);
    h.write('DKIF', 0, 'latin1');
    h.writeUInt16LE(0, 4);
    h.writeUInt16LE(HEADER, 6);
    h.write('VP80', 8, 'latin1');
    h.writeUInt16LE(this.width, 12);
    h.writeUInt16LE(this.height, 14);
    h.writeUInt32LE(90000, 16);
    h.writeUInt32LE(1, 20);
    h.writeUInt32LE(this.frames, 24);
    writeSync(this.fd, h, 0, HEADER, 0);
  }

  /** Append one frame with its 90 kHz RTP timestamp (unwrapped against the first; kept increasing). */
  write(data: Uint8Array, rtpTimestamp: number, size?: { width: number; height: number }): void {
    if (this.fd === undefined) return;
    if (size && (this.width === 0 || this.height === 0)) {
      this.width = size.width;
      this.height = size.height;
    }
    this.firstTs ??= rtpTimestamp;
    let pts = (rtpTimestamp - this.firstTs) >>> 0; // RFC 3550 timestamps wrap at 2^32
    if (pts <= this.lastPts) pts = this.lastPts + 1;
    this.lastPts = pts;
    const fh = Buffer.alloc(FRAME_HEADER);
    fh.writeUInt32LE(data.length, 0);
    fh.writeBigUInt64LE(BigInt(pts), 4);
    writeSync(this.fd, fh, 0, FRAME_HEADER, this.offset);
    writeSync(this.fd, data, 0, data.length, this.offset + FRAME_HEADER);
    this.offset += FRAME_HEADER + data.length;
    this.frames++;
    if (this.frames % this.flushEvery === 0 || this.frames === 1) this.writeHeader();
  }

  close(): void {
    if (this.fd === undefined) return;
    this.writeHeader();
    closeSync(this.fd);
    this.fd = undefined;
  }
}
