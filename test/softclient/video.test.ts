/**
 * Video through the real CLI and the real focus/relay: Vic sends ffmpeg's `testsrc` as VP8 RTP; Wen and Xan ask
 * for one video line per participant (Contact `+sipmeet.video-streams`), get Vic's as a labelled line and write
 * it to `<dir>/<label>.ivf`, which ffprobe reads. `/cam off` (a re-INVITE with video recvonly) ends Vic's line at
 * the others (port 0) and shows in their roster; `/cam on` brings a new line, written to `<label>-2.ivf`.
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

type Figures = { framesReceived: number; label?: string };

/** Video frames received, by the latest stats event: the main line plus every live publisher line. */
function framesIn(c: Cli): number {
  const stats = c.events.filter((e) => e.event === 'stats');
  const last = stats[stats.length - 1] as (CliEvent & { video?: Figures; videoStreams?: Figures[] }) | undefined;
  return (last?.video?.framesReceived ?? 0) + (last?.videoStreams ?? []).reduce((n, v) => n + v.framesReceived, 0);
}

/** Video frames received on the line labelled `label` (a publisher's own line, written to `<label>.ivf`). */
function framesOn(c: Cli, label: string): number {
  const stats = c.events.filter((e) => e.event === 'stats');
  const last = stats[stats.length - 1] as (CliEvent & { video?: Figures; videoStreams?: Figures[] }) | undefined;
  return [last?.video, ...(last?.videoStreams ?? [])].filter((v) => v?.label === label).reduce((n, v) => n + v!.framesReceived, 0);
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
    for (const c of [wen, xan]) await c.waitFor((x) => framesIn(x) >= 15, 30_000, 'video frames at a receiver');
    const line = await wen.waitEvent('media', (e) => e.kind === 'video' && typeof e.label === 'string' && e.direction === 'recvonly');
    const label = line.label as string;
    // The file checked below holds what came on Vic's own line, not the main line (which also carries Vic as the
    // active speaker): wait for enough on that line at both receivers before the camera goes off.
    for (const c of [wen, xan]) await c.waitFor((x) => framesOn(x, label) >= 15, 30_000, `frames on line ${label}`);
    const roster = await wen.waitEvent('roster', (e) => (e.participants as Array<{ name: string }>).some((p) => p.name === 'Vic'));
    const vicInRoster = (roster.participants as Array<{ name: string; media: Array<{ id: string; type: string }> }>).find((p) => p.name === 'Vic')!;
    assert.ok(vicInRoster.media.some((m) => m.type === 'video' && m.id.startsWith(`${label}-`)), `the line's label ${label} is Vic's roster id`);

    vic.send('/cam off');
    await vic.waitEvent('media', (e) => e.kind === 'video' && e.direction === 'recvonly');
    await wen.waitEvent('roster', (e) =>
      (e.participants as Array<{ name: string; media: Array<{ type: string; status: string }> }>).some(
        (p) => p.name === 'Vic' && p.media.some((m) => m.type === 'video' && m.status === 'recvonly'),
      ),
    );
    await wen.waitEvent('media', (e) => e.label === label && e.direction === 'rejected');
    await new Promise((r) => setTimeout(r, 1000));
    const stopped = framesIn(wen);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(framesIn(wen), stopped, 'no video reaches Wen while the camera is off');

    vic.send('/cam on');
    await vic.waitFor((c) => c.events.filter((e) => e.event === 'media' && e.kind === 'video' && e.direction === 'sendrecv' && e.camera === true).length >= 2, 15_000, 'camera on again');
    await wen.waitFor((x) => framesIn(x) >= stopped + 10, 20_000, 'video again after /cam on');
    // The closed line left Wen's stats at 'rejected': what counts on `label` now is the new line (`<label>-2.ivf`).
    await wen.waitFor((x) => framesOn(x, label) >= 15, 20_000, `frames on the new line ${label}`);

    for (const c of [vic, wen, xan]) c.send('/leave');
    for (const c of [vic, wen, xan]) assert.equal((await c.waitExit()).code, 0);
    for (const file of [join(dir, 'wen', `${label}.ivf`), join(dir, 'xan', `${label}.ivf`), join(dir, 'wen', `${label}-2.ivf`)]) {
      const p = await ffprobe(file);
      assert.deepEqual([p.codec, p.width, p.height], ['vp8', 320, 240], file);
      assert.ok(p.frames >= 10, `${file} holds the frames (${p.frames})`);
    }
  } finally {
    for (const c of [vic, wen, xan]) c.kill();
  }
});
