/**
 * WAV (RIFF/WAVE, PCM 16-bit) reading and streaming writing.
 *
 *   offset  size  field
 *   0       4     "RIFF"
 *   4       4     RIFF chunk size = 36 + data size (little endian)
 *   8       4     "WAVE"
 *   12      4     "fmt "      16: fmt chunk size, 1: PCM, channels, sample rate, byte rate, block align, 16 bits
 *   36      4     "data"
 *   40      4     data size
 *   44            samples (int16 little endian, interleaved)
 *
 * The writer keeps the file valid while it grows: the two size fields are rewritten every `flushEveryMs` of audio
 * and on close, so a recording cut short by a kill still opens (at most that much audio is missing from the
 * header's count).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

export const WAV_HEADER_LENGTH = 44;

export interface WavAudio {
  readonly sampleRate: number;
  /** Mono (channels are averaged when the file has several). */
  readonly samples: Int16Array;
}

export type WavResult = { readonly ok: true; readonly value: WavAudio } | { readonly ok: false; readonly error: string };

/** Parse a PCM 16-bit WAV file's bytes. Never throws on a bad file: `{ ok: false, error }`. */
export function parseWav(buf: Buffer): WavResult {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    return { ok: false, error: 'not a RIFF/WAVE file' };
  }
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ' && body + 16 <= buf.length) {
      fmt = { format: buf.readUInt16LE(body), channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) return { ok: false, error: 'data chunk before fmt chunk' };
      // 0xFFFE is WAVE_FORMAT_EXTENSIBLE (PCM sub-format assumed); 1 is plain PCM.
      if ((fmt.format !== 1 && fmt.format !== 0xfffe) || fmt.bits !== 16) return { ok: false, error: `only 16-bit PCM WAV is supported (format ${fmt.format}, ${fmt.bits} bits)` };
      if (fmt.channels < 1 || fmt.rate < 1000) return { ok: false, error: 'bad WAV format chunk' };
      // A header still saying 0 (a recording cut short) or too much: take what is there.
      if (size === 0 || body + size > buf.length) size = buf.length - body;
      const frames = Math.floor(size / (2 * fmt.channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < fmt.channels; c++) sum += buf.readInt16LE(body + (i * fmt.channels + c) * 2);
        samples[i] = Math.round(sum / fmt.channels);
      }
      return { ok: true, value: { sampleRate: fmt.rate, samples } };
    }
    off = body + size + (size & 1); // RIFF chunks are padded to even sizes
  }
  return { ok: false, error: 'no data chunk' };
}

export function readWavFile(path: string): WavResult {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  return parseWav(buf);
}

function header(sampleRate: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(WAV_HEADER_LENGTH);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28); // byte rate
  h.writeUInt16LE(2, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** Mono 16-bit WAV written as it is produced. */
export class WavWriter {
  private fd: number | undefined;
  private dataBytes = 0;
  private sinceFlush = 0;

  constructor(
    readonly path: string,
    readonly sampleRate: number,
    private readonly flushEveryMs = 1000,
  ) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, header(sampleRate, 0), 0, WAV_HEADER_LENGTH, 0);
  }

  /** Samples written so far. */
  get length(): number {
    return this.dataBytes / 2;
  }

  write(samples: Int16Array): void {
    if (this.fd === undefined) return;
    const bytes = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
    // Int16Array is platform-endian; WAV is little endian (every platform Node runs on here is).
    writeSync(this.fd, bytes, 0, bytes.length, WAV_HEADER_LENGTH + this.dataBytes);
    this.dataBytes += bytes.length;
    this.sinceFlush += samples.length;
    if (this.sinceFlush >= (this.sampleRate * this.flushEveryMs) / 1000) this.flushHeader();
  }

  private flushHeader(): void {
    if (this.fd === undefined) return;
    this.sinceFlush = 0;
    writeSync(this.fd, header(this.sampleRate, this.dataBytes), 0, WAV_HEADER_LENGTH, 0);
  }

  /** Write the final sizes and close. Idempotent. */
  close(): void {
    if (this.fd === undefined) return;
    this.flushHeader();
    closeSync(this.fd);
    this.fd = undefined;
  }
}
