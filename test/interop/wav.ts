/**
 * WAV files for the interop tests: read what Linphone and baresip recorded (RIFF/WAVE, 16-bit PCM, mono or stereo,
 * any rate — 8, 16 and 48 kHz are what they write) and write the tone files they play as their "microphone".
 *
 * Written in code rather than with sox, so the tests need no extra tool. A recorder that is killed before it
 * closes its file leaves the RIFF/data sizes at 0 (or stale): the reader then trusts the file length instead.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface Wav {
  readonly sampleRate: number;
  readonly channels: number;
  /** First channel only (a stereo file is reduced to its left channel: every peer here records mono content). */
  readonly samples: Int16Array;
}

export interface WavReadOptions {
  /** The file is still being written: read up to its current end whatever its header says. */
  live?: boolean;
  /** With `live`: the format of a file whose header is not written yet (all zeros), e.g. linphonec's. */
  assume?: { sampleRate: number; channels: number };
}

/** Parse a RIFF/WAVE buffer with 16-bit PCM (format 1, or 0xFFFE extensible with PCM inside). */
export function parseWav(buf: Buffer, opts: WavReadOptions = {}): Wav {
  // linphonec's recorder writes a zeroed 44-byte header and fills it in when it closes the file.
  if (opts.live && opts.assume && buf.length >= 44 && buf.subarray(0, 44).every((b) => b === 0)) {
    const { sampleRate, channels } = opts.assume;
    const frames = Math.floor((buf.length - 44) / (2 * channels));
    const samples = new Int16Array(frames);
    for (let i = 0; i < frames; i++) samples[i] = buf.readInt16LE(44 + i * 2 * channels);
    return { sampleRate, channels, samples };
  }
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`not a RIFF/WAVE file (${buf.length} bytes)`);
  }
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = { format: buf.readUInt16LE(body), channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV: data chunk before fmt chunk');
      if ((fmt.format !== 1 && fmt.format !== 0xfffe) || fmt.bits !== 16) throw new Error(`WAV: only 16-bit PCM is read (format ${fmt.format}, ${fmt.bits} bits)`);
      // An unfinished file (recorder killed): size 0 or past the end → everything up to the end of the file.
      // A file still being written (`live`): its header sizes may be stale → everything up to the end of the file.
      const end = opts.live || size === 0 || body + size > buf.length ? buf.length : body + size;
      const frame = 2 * fmt.channels;
      const frames = Math.floor((end - body) / frame);
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = buf.readInt16LE(body + i * frame);
      return { sampleRate: fmt.rate, channels: fmt.channels, samples };
    }
    off = body + size + (size & 1);
  }
  throw new Error('WAV: no data chunk');
}

export function readWav(path: string, opts: WavReadOptions = {}): Wav {
  return parseWav(readFileSync(path), opts);
}

/** A 16-bit PCM WAV of `samples` (mono). */
export function encodeWav(samples: Int16Array, sampleRate: number, channels = 1): Buffer {
  const data = samples.length * 2;
  const out = Buffer.alloc(44 + data);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + data, 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * channels * 2, 28);
  out.writeUInt16LE(channels * 2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, 44 + 2 * i);
  return out;
}

/**
 * Write a mono sine tone WAV: `seconds` long at `sampleRate`, amplitude `amplitude` (int16 scale). Make it longer
 * than the call: baresip's aufile source stops sending RTP at the end of the file (Linphone loops it).
 */
export function writeToneWav(path: string, opts: { freq: number; sampleRate: number; seconds: number; amplitude?: number }): string {
  const n = Math.round(opts.sampleRate * opts.seconds);
  const amp = opts.amplitude ?? 8000;
  const s = new Int16Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.round(amp * Math.sin((2 * Math.PI * opts.freq * i) / opts.sampleRate));
  writeFileSync(path, encodeWav(s, opts.sampleRate));
  return path;
}

/** White noise of the given RMS (int16 units; 33 ≈ −60 dBFS: an open microphone in a quiet room), seeded. */
export function writeNoiseWav(path: string, opts: { sampleRate: number; seconds: number; rms: number }): string {
  const n = Math.round(opts.sampleRate * opts.seconds);
  const s = new Int16Array(n);
  const half = opts.rms * Math.sqrt(3); // uniform ±a has RMS a/√3
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    s[i] = Math.round((x / 4294967296) * 2 * half - half);
  }
  writeFileSync(path, encodeWav(s, opts.sampleRate));
  return path;
}
