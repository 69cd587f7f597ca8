/**
 * `--video-in device[:/dev/videoN]` without a usable camera: one readable line on stderr and exit 2 before joining
 * (the meeting's server is a closed port: had the client tried to join, it would exit 3 "unreachable"). A device
 * node that is not a camera (/dev/null) is refused by ffmpeg's check. A bad `--video-codec` is a usage error too.
 */
import { test } from 'node:test';
import { closedPort, oneLine, runCli } from './helpers.ts';



test('no camera at the device path: exit 2 and one line, before joining', async () => {
  const uri = `sip:conf-cam@127.0.0.1:${await closedPort()}`;
  oneLine(await runCli(['join', uri, '--name', 'Ann', '--video-in', 'device:/dev/nonexistent']), 2, /^sipmeet: --video-in device:\/dev\/nonexistent: no camera \(no such device\)$/);
});

test('a device node ffmpeg cannot open as a v4l2 camera: exit 2 and one line, before joining', async () => {
  const uri = `sip:conf-cam@127.0.0.1:${await closedPort()}`;
  oneLine(await runCli(['join', uri, '--name', 'Ann', '--video-in', 'device:/dev/null']), 2, /^sipmeet: --video-in device:\/dev\/null: ffmpeg cannot open it as a v4l2 camera/);
});

test('--video-codec other than vp8 or h264, and a device path that is not one: exit 2', async () => {
  const uri = `sip:conf-cam@127.0.0.1:${await closedPort()}`;
  oneLine(await runCli(['join', uri, '--name', 'Ann', '--video-in', 'testsrc', '--video-codec', 'av1']), 2, /^sipmeet: --video-codec: expected vp8 or h264, got "av1"$/);
  oneLine(await runCli(['join', uri, '--name', 'Ann', '--video-in', 'device:video0']), 2, /^sipmeet: --video-in device:video0: expected device:\/dev\/videoN$/);
});
