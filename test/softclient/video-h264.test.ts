/**
 * H.264 from the real CLI through the real focus/relay: Vic prefers H.264 (`--video-codec h264`), so its offer
 * lists H.264 first and the focus answers it (RFC 3264 §6.1: the offerer's first codec it supports); ffmpeg
 * encodes testsrc with libx264 and sends RFC 6184 mode 1. Wen and Xan ask for one video line per participant;
 * the focus offers them Vic's line with the codec Vic sends (no transcoding), and each writes it to
 * `<label>.h264`, which ffprobe reads as H.264 320×240.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cli, startTestServer, tempDir, type CliEvent, type TestServer } from './helpers.ts';

const run = promisify(execFile);
let srv: TestServer;
before(async () => {
  srv = await startTestServer('38600-38799');
});
after(() => srv.close());

type Figures = { framesReceived: number; label?: string; codec?: string };

/** The latest stats of the line labelled `label` (a publisher's own line). */
function lineStats(c: Cli, label: string): Figures | undefined {
  const stats = c.events.filter((e) => e.event === 'stats');
  const last = stats[stats.length - 1] as (CliEvent & { video?: Figures; videoStreams?: Figures[] }) | undefined;
  return [last?.video, ...(last?.videoStreams ?? [])].find((v) => v?.label === label);
}

async function ffprobe(path: string): Promise<{ codec: string; width: number; height: number; frames: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', path]);
  const s = (JSON.parse(stdout) as { streams: Array<{ codec_name: string; width: number; height: number; nb_read_frames: string }> }).streams[0]!;
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames) };
}

test('--video-codec h264: Vic sends H.264, Wen and Xan write <label>.h264 files ffprobe reads as h264 320x240', { timeout: 120_000 }, async () => {
  const meeting = srv.uri('conf-h264');
  const dir = tempDir();
  const common = ['--json', '--stats-interval', '0.5'];
  const vic = new Cli(['join', meeting, '--name', 'Vic', '--video-in', 'testsrc', '--video-codec', 'h264', '--audio-in', 'tone:440', ...common]);
  const wen = new Cli(['join', meeting, '--name', 'Wen', '--video-out', join(dir, 'wen'), ...common]);
  const xan = new Cli(['join', meeting, '--name', 'Xan', '--video-out', join(dir, 'xan'), ...common]);
  try {
    const vicVideo = await vic.waitEvent('media', (e) => e.kind === 'video');
    assert.deepEqual([vicVideo.codec, vicVideo.direction, vicVideo.camera], ['h264/90000', 'sendrecv', true]);
    const labels: string[] = [];
    for (const c of [wen, xan]) {
      const line = await c.waitEvent('media', (e) => e.kind === 'video' && typeof e.label === 'string' && e.direction === 'recvonly', 30_000);
      assert.equal(line.codec, 'h264/90000', 'the focus offers Vic’s line as H.264');
      labels.push(line.label as string);
    }
    assert.equal(labels[0], labels[1], 'the same participant id at both');
    const label = labels[0]!;
    for (const c of [wen, xan]) await c.waitFor((x) => (lineStats(x, label)?.framesReceived ?? 0) >= 15, 30_000, `H.264 frames on line ${label}`);

    for (const c of [vic, wen, xan]) c.send('/leave');
    for (const c of [vic, wen, xan]) assert.equal((await c.waitExit()).code, 0);
    for (const file of [join(dir, 'wen', `${label}.h264`), join(dir, 'xan', `${label}.h264`)]) {
      const p = await ffprobe(file);
      assert.deepEqual([p.codec, p.width, p.height], ['h264', 320, 240], file);
      assert.ok(p.frames >= 10, `${file} holds the frames (${p.frames})`);
    }
  } finally {
    for (const c of [vic, wen, xan]) c.kill();
  }
});
