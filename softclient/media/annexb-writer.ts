/**
 * A raw H.264 elementary stream file: access units appended as they arrive, already in ITU-T H.264 Annex B form
 * (start code before every NAL unit, see h264-depacketizer.ts). The format has no header, no index and no
 * timestamps — ffprobe/ffmpeg read it as "h264" and time it at their default rate — so a file cut short by a kill
 * is still readable up to its last complete write.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export class AnnexBWriter {
  private fd: number | undefined;
  frames = 0;
  bytes = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  /** Append one access unit (Annex B bytes). */
  write(data: Uint8Array): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, data, 0, data.length);
    this.frames++;
    this.bytes += data.length;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
