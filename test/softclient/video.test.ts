/**
 * Video through the real CLI and the real focus/relay: Vic sends ffmpeg's `testsrc` as VP8 RTP; Wen and Xan
 * receive it and write IVF files that ffprobe reads. `/cam off` (a re-INVITE with video recvonly) stops the
 * stream at the others and shows in their roster; `/cam on` brings it back.
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
  srv = await startTestServer('37600-37799');
});
after(() => srv.close());

function framesIn(c: Cli): number {
  const stats = c.events.filter((e) => e.event === 'stats');
  const last = stats[stats.length - 1] as (CliEvent & { video?: { framesReceived: number } }) | undefined;
  return last?.video?.framesReceived ?? 0;
}

async function ffprobe(path: string): Promise<{ codec: string; width: number; height: number; frames: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', path]);
  const s = (JSON.parse(stdout) as { streams: Array<{ codec_name: string; width: number; height: number; nb_read_frames: string }> }).streams[0]!;
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames) };
}

test('testsrc video reaches two others as IVF files ffprobe reads; /cam off stops it, /cam on brings it back', async () => {
  const meeting = srv.uri('conf-video');
  const dir = tempDir();
  const common = ['--json', '--stats-interval', '0.5'];
  const vic = new Cli(['join', meeting, '--name', 'Vic', '--video-in', 'testsrc', '--audio-in', 'tone:440', ...common]);
  const wen = new Cli(['join', meeting, '--name', 'Wen', '--video-out', join(dir, 'wen'), ...common]);
  const xan = new Cli(['join', meeting, '--name', 'Xan', '--video-out', join(dir, 'xan'), ...common]);
  try {
    const vicVideo = await vic.waitEvent('media', (e) => e.kind === 'video');
    assert.deepEqual([vicVideo.codec, vicVideo.direction, vicVideo.camera], ['vp8/90000', 'sendrecv', true]);
    for (const c of [wen, xan]) await c.waitFor((x) => framesIn(x) >= 15, 15_000, 'video frames at a receiver');

    vic.send('/cam off');
    await vic.waitEvent('media', (e) => e.kind === 'video' && e.direction === 'recvonly');
    await wen.waitEvent('roster', (e) =>
      (e.participants as Array<{ name: string; media: Array<{ type: string; status: string }> }>).some(
        (p) => p.name === 'Vic' && p.media.some((m) => m.type === 'video' && m.status === 'recvonly'),
      ),
    );
    await new Promise((r) => setTimeout(r, 1000));
    const stopped = framesIn(wen);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(framesIn(wen), stopped, 'no video reaches Wen while the camera is off');

    vic.send('/cam on');
    await vic.waitFor((c) => c.events.filter((e) => e.event === 'media' && e.kind === 'video' && e.direction === 'sendrecv' && e.camera === true).length >= 2, 5000, 'camera on again');
    await wen.waitFor((x) => framesIn(x) >= stopped + 10, 10_000, 'video again after /cam on');

    for (const c of [vic, wen, xan]) c.send('/leave');
    for (const c of [vic, wen, xan]) assert.equal((await c.waitExit()).code, 0);
    for (const who of ['wen', 'xan']) {
      const p = await ffprobe(join(dir, who, 'main.ivf'));
      assert.deepEqual([p.codec, p.width, p.height], ['vp8', 320, 240], `${who}'s file`);
      assert.ok(p.frames >= 25, `${who}'s file holds the frames (${p.frames})`);
    }
  } finally {
    for (const c of [vic, wen, xan]) c.kill();
  }
});
