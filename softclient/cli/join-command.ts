/**
 * `sipmeet join <uri>` / `sipmeet call <uri>` / `sipmeet create [ID]`: connect, register when credentials are
 * given, INVITE the meeting, stream, take commands from stdin, print events, and exit:
 *   0  after --duration, on /leave, on Ctrl-C (SIGINT/SIGTERM), or when the meeting ends (`ended`)
 *   3  the connection to the server was lost;  other codes from errors.ts when joining fails.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createLogger, type Logger } from '../../registrar/log.ts';
import { systemClock } from '../../registrar/sip/clock.ts';
import type { MeetingCall } from '../call.ts';
import { SoftClient } from '../client.ts';
import { ClientError } from '../errors.ts';
import { type AudioSource, openAudioInput } from '../media/audio-source.ts';
import { openAudioOutput } from '../media/audio-output.ts';
import { FfmpegVideoSource, probeVideoDevice } from '../media/ffmpeg-video-source.ts';
import { MULTI_VIDEO_FEATURE } from '../media/call-media.ts';
import type { AudioSink } from '../media/audio-stream.ts';
import type { JoinSettings } from './args.ts';
import { Output } from './output.ts';

export const STDIN_HELP = [
  'commands:',
  '  <text>          chat to everyone in the meeting',
  '  /mic on|off     microphone on / off (renegotiates: recvonly when off)',
  '  /cam on|off     camera on / off',
  '  /who            ask the focus who is here',
  '  /leave          leave the meeting',
  '  /end            end the meeting for everyone (host only)',
].join('\n');

/** Logs (pino) go to stderr so stdout stays the event stream. */
export function cliLogger(level: string): Logger {
  return createLogger({ level, fd: 2 });
}

export async function runJoin(s: JoinSettings, out: Output): Promise<number> {
  const logger = cliLogger(s.logLevel);
  if (s.videoIn.kind === 'file' && !existsSync(s.videoIn.path)) throw new ClientError('usage', `--video-in ${s.videoIn.path}: no such file`);
  if (s.videoIn.kind === 'device') {
    // No camera: say so before joining, rather than join and have ffmpeg die.
    const dev = s.videoIn.path;
    if (!existsSync(dev)) throw new ClientError('usage', `--video-in device:${dev}: no camera (no such device)`);
    const probe = await probeVideoDevice(dev);
    if (!probe.ok) throw new ClientError('usage', `--video-in device:${dev}: ${probe.error}`);
  }
  if (s.videoOut !== undefined) {
    try {
      mkdirSync(s.videoOut, { recursive: true });
    } catch (e) {
      throw new ClientError('usage', `--video-out ${s.videoOut}: ${(e as Error).message}`);
    }
  }
  const camera = s.videoIn.kind === 'none' ? undefined : new FfmpegVideoSource(s.videoIn, logger, { preferred: s.videoCodec });
  const wantsVideo = camera !== undefined || s.videoOut !== undefined;
  // A device is opened (and a dead one reported) before the call is placed.
  const src = await openAudioInput(s.audioIn, { clock: systemClock, logger });
  if (!src.ok) throw new ClientError('usage', src.error);
  const source: AudioSource = src.value;
  let sink: AudioSink | undefined;
  const client = new SoftClient({
    server: s.server,
    aor: s.aor,
    name: s.name,
    ...(s.auth ? { auth: s.auth } : {}),
    logger,
    // Received video wanted: ask the focus for one video line per participant (docs/focus.md "Several videos").
    ...(s.videoOut !== undefined ? { contactFeatures: [MULTI_VIDEO_FEATURE] } : {}),
  });
  let call: MeetingCall | undefined;
  try {
    await client.start();
    if (s.auth) await client.register();
    const opened = await openAudioOutput(s.audioOut, { clock: systemClock, logger });
    if (!opened.ok) throw new ClientError('usage', opened.error);
    sink = opened.value;
    call = await client.prepare(s.target, {
      audioIn: source,
      ...(sink ? { audioOut: sink } : {}),
      micOff: s.micOff,
      statsIntervalMs: s.statsIntervalMs,
      ...(wantsVideo ? { video: { ...(camera ? { source: camera } : {}), ...(s.videoOut !== undefined ? { outDir: s.videoOut } : {}) } } : {}),
    });
  } catch (e) {
    source.close();
    sink?.close();
    await client.stop();
    throw e;
  }
  return inMeeting(client, call, s, out);
}

function inMeeting(client: SoftClient, call: MeetingCall, s: JoinSettings, out: Output): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let firstRoster = true;
    let exitCode = 0;
    let meeting = s.target;
    let stdin: ReturnType<typeof createInterface> | undefined;
    const onSignal = () => void call.leave('interrupted');
    const finish = () => {
      stdin?.close();
      // A paused stdin pipe still holds the event loop open: let go of it so the process can exit.
      if (stdin) process.stdin.destroy();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      timer?.cancel();
      void client.stop().finally(() => resolve(exitCode));
    };
    call.on('joined', (j) => {
      meeting = j.meeting;
      out.joined(j, s.creating);
    });
    call.on('media', (m) => out.media(m));
    call.on('roster', (r) => {
      out.roster(r, firstRoster);
      firstRoster = false;
    });
    call.on('chat', (c) => out.chat(c));
    call.on('notice', (t) => out.notice(t));
    call.on('stats', (st) => out.stats(st));
    call.on('warning', (w) => out.error(w));
    call.on('left', (l) => out.left(meeting, l.reason));
    call.on('ended', (e) => {
      if (!client.ua.isConnected()) exitCode = 3;
      out.ended(meeting, e);
    });
    let timer: { cancel(): void } | undefined;
    call
      .invite()
      .then(() => {
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        if (s.durationS !== undefined) timer = systemClock.setTimer(s.durationS * 1000, () => void call.leave('duration reached'));
        stdin = readCommands(call, out);
        call.once('closed', finish);
        if (call.currentState === 'closed') finish();
      })
      .catch((e: unknown) => {
        void client.stop().finally(() => reject(e));
      });
  });
}

/** stdin lines → chat or commands (see STDIN_HELP). */
function readCommands(call: MeetingCall, out: Output): ReturnType<typeof createInterface> | undefined {
  if (process.stdin.destroyed) return undefined;
  const rl = createInterface({ input: process.stdin, terminal: false });
  const report = (p: Promise<void>) => p.catch((e: Error) => out.error(e.message));
  rl.on('line', (raw) => {
    const line = raw.trim();
    if (!line || call.currentState !== 'joined') return;
    const [word, arg] = line.split(/\s+/, 2) as [string, string | undefined];
    switch (word.toLowerCase()) {
      case '/mic':
        if (arg !== 'on' && arg !== 'off') out.error('usage: /mic on|off');
        else void report(call.setMic(arg === 'on'));
        return;
      case '/cam':
        if (arg !== 'on' && arg !== 'off') out.error('usage: /cam on|off');
        else void report(call.setCamera(arg === 'on'));
        return;
      case '/who':
        void report(call.who());
        return;
      case '/leave':
        void call.leave('left the meeting');
        return;
      case '/end':
        void report(call.end());
        return;
      case '/help':
        out.help(STDIN_HELP);
        return;
      default:
        // Plain text is chat; other /words go to the focus, which answers them (or says what it knows).
        void report(call.sendChat(line));
    }
  });
  // stdin closing (a script with no input) does not leave: --duration, /leave or a signal does.
  return rl;
}
