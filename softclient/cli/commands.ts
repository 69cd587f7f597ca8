/**
 * Dispatch of the client commands from `sipmeet <command>` (registrar/cli/main.ts), and the short ones:
 *   list      GET /api/conferences (see http-api.ts for why HTTP)
 *   cancel    DELETE /api/conferences/:id as the creator (--user AOR, or the AOR `join` would use for --name)
 *   register  REGISTER --user with --password; stays registered for --duration seconds (default: until Ctrl-C)
 * Every failure: one line on stderr, exit code from errors.ts.
 */
import { systemClock } from '../../registrar/sip/clock.ts';
import { SoftClient } from '../client.ts';
import { ClientError } from '../errors.ts';
import { cancelConference, listConferences } from '../http-api.ts';
import { parseApi, parseJoin, parseRegister, type RegisterSettings } from './args.ts';
import { cliLogger, runJoin } from './join-command.ts';
import { runGui } from '../gui/gui-command.ts';
import { Output } from './output.ts';
import { untilSignal } from './signals.ts';

export const CLIENT_COMMANDS = ['join', 'call', 'create', 'list', 'cancel', 'register', 'gui'] as const;
export type ClientCommand = (typeof CLIENT_COMMANDS)[number];

export const CLIENT_USAGE = `
  join <meeting-uri>  join a meeting (alias: call), e.g. sipmeet join sip:conf-42@host --name Ann
            --server HOST:PORT  SIP server (default: the meeting URI's host and port)
            --name NAME         display name; --user AOR --password P to register and authenticate
            --audio-in tone:HZ|FILE.wav|device[:NAME]|none   --audio-out FILE.wav|device[:NAME]|none   --mic on|off
                                device: an ALSA PCM through ffmpeg (default "default"; e.g. plughw:1,0)
            --video-in testsrc|FILE|device[:/dev/videoN]|none (ffmpeg; device: v4l2, default /dev/video0)
            --video-codec vp8|h264  camera codec offered first (default vp8)   --video-out DIR|none (a file per stream)
            --duration S        leave after S seconds   --json  one JSON event per line
            --stats-interval S  media status every S seconds (default 5)   --log-level LEVEL (stderr)
            stdin: a line is chat; /mic on|off, /cam on|off, /who, /leave, /end (host), /help
  create [ID]         create a meeting (factory URI, or the given id) and join it; options as join
  list                list meetings: --server HOST[:PORT] or --api http://HOST:PORT (default port 8080), --json
  cancel <meeting-uri> end a meeting for everyone via the HTTP API, as the creator --user AOR [--password P]
  register            --user AOR --password P [--server HOST:PORT] [--expires S] [--duration S]
  gui                 the graphical client in the browser, served on 127.0.0.1 (prints its URL, opens a browser)
            --server HOST:PORT  --name NAME  --port N (local HTTP port; default any)  --api http://HOST:PORT
            --user AOR --password P   --no-open (just print the URL)
  join <meeting-uri> --gui   the same, joining that meeting at once (gui options only)

  exit codes: 0 ok, 1 failure, 2 bad usage, 3 server unreachable, 4 refused, 5 authentication failed
`;

function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

export async function runClientCommand(command: ClientCommand, argv: string[]): Promise<number> {
  const out = new Output(wantsJson(argv));
  try {
    switch (command) {
      case 'join':
      case 'call':
        if (argv.includes('--gui')) return await runGui(argv);
        return await runJoin(parseJoin(argv, false), out);
      case 'create':
        return await runJoin(parseJoin(argv, true), out);
      case 'list': {
        const s = parseApi(argv, false);
        out.meetings(await listConferences(s.api));
        return 0;
      }
      case 'cancel': {
        const s = parseApi(argv, true);
        await cancelConference(s.api, s.meetingId!, s.aor, s.auth);
        out.cancelled(s.meetingId!);
        return 0;
      }
      case 'register':
        return await runRegister(parseRegister(argv), out);
      case 'gui':
        return await runGui(argv);
    }
  } catch (e) {
    if (e instanceof ClientError) {
      out.error(e.message, e.exitCode);
      return e.exitCode;
    }
    out.error((e as Error).message ?? String(e), 1);
    return 1;
  }
}

async function runRegister(s: RegisterSettings, out: Output): Promise<number> {
  if (!s.auth) throw new ClientError('usage', 'register: --password is required');
  const client = new SoftClient({ server: s.server, aor: s.aor, name: s.name, auth: s.auth, logger: cliLogger(s.logLevel) });
  try {
    await client.start();
    await client.register(s.expires);
  } catch (e) {
    await client.stop();
    throw e;
  }
  out.registered(s.aor, `${s.server.host}:${s.server.port}`, s.expires);
  await untilSignal((done) => {
    if (s.durationS !== undefined) systemClock.setTimer(s.durationS * 1000, done);
  });
  await client.stop();
  out.unregistered(s.aor);
  return 0;
}
