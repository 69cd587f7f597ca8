/**
 * Command-line options of the client commands (`join`/`call`, `create`, `list`, `cancel`, `register`), checked
 * into typed settings. Bad input → ClientError('usage') with one readable line.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { ClientError } from '../errors.ts';
import { type AudioSourceSpec, parseAudioIn } from '../media/audio-source.ts';
import { type AudioSinkSpec, parseAudioOut } from '../media/audio-output.ts';
import { parseVideoCodec, parseVideoIn, type VideoCodecName, type VideoSourceSpec } from '../media/ffmpeg-video-source.ts';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface Identity {
  readonly name: string;
  readonly aor: string;
  readonly auth?: { readonly username: string; readonly password: string };
}

export interface JoinSettings extends Identity {
  readonly target: string;
  readonly server: HostPort;
  readonly audioIn: AudioSourceSpec;
  /** A WAV file, an ALSA device or none. */
  readonly audioOut: AudioSinkSpec;
  readonly videoIn: VideoSourceSpec;
  /** `--video-codec`: the camera codec offered first (default vp8). */
  readonly videoCodec: VideoCodecName;
  readonly videoOut: string | undefined;
  /** Seconds, or undefined: until /leave, Ctrl-C or the meeting's end. */
  readonly durationS: number | undefined;
  readonly json: boolean;
  readonly micOff: boolean;
  readonly statsIntervalMs: number;
  readonly logLevel: string;
  /** `create`: dialled the factory URI or a new id. */
  readonly creating: boolean;
}

export interface ApiSettings extends Identity {
  readonly api: string;
  readonly server: HostPort;
  readonly json: boolean;
  /** `cancel`: the meeting id. */
  readonly meetingId?: string;
}

export interface RegisterSettings extends Identity {
  readonly server: HostPort;
  readonly expires: number;
  readonly durationS: number | undefined;
  readonly json: boolean;
  readonly logLevel: string;
}

export const DEFAULT_SIP_PORT = 5060;
export const DEFAULT_API_PORT = 8080;
const DEFAULT_SERVER: HostPort = { host: '127.0.0.1', port: DEFAULT_SIP_PORT };

const common = {
  server: { type: 'string' },
  name: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  json: { type: 'boolean' },
  'log-level': { type: 'string' },
} as const;

const mediaOptions = {
  'audio-in': { type: 'string' },
  'audio-out': { type: 'string' },
  'video-in': { type: 'string' },
  'video-out': { type: 'string' },
  'video-codec': { type: 'string' },
  duration: { type: 'string' },
  mic: { type: 'string' },
  'stats-interval': { type: 'string' },
} as const;

function usage(msg: string): ClientError {
  return new ClientError('usage', msg);
}

type OptionSpec = Record<string, { readonly type: 'string' | 'boolean' }>;
interface Parsed {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

function parse(argv: string[], options: OptionSpec): Parsed {
  try {
    const r = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    throw usage((e as Error).message.split('\n')[0]!);
  }
}

/** "host:port", "[v6]:port" or "host" (port 5060). */
export function parseHostPort(text: string, defaultPort = DEFAULT_SIP_PORT): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+))(?::(\d+))?$/.exec(text.trim());
  if (!m) throw usage(`--server: expected HOST:PORT, got "${text}"`);
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (!(port > 0 && port < 65536)) throw usage(`--server: bad port in "${text}"`);
  return { host: m[1] ?? m[2]!, port };
}

/** Host and port of a `sip:` URI (RFC 3261 §19.1.1), for "Without --server, the meeting URI's host and port". */
export function uriHostPort(uri: string): HostPort | undefined {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;?>]+)(?::(\d+))?/i.exec(uri);
  if (!m) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : DEFAULT_SIP_PORT };
}

function hostForUri(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The user part of a meeting URI (its id): `sip:conf-42@host` → `conf-42`. */
export function meetingIdOf(uri: string): string | undefined {
  const m = /^sips?:([^@;?]+)@/i.exec(uri);
  return m?.[1] ?? (/^[A-Za-z0-9._-]+$/.test(uri) ? uri : undefined);
}

function slug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return s || 'guest';
}

function identity(values: Parsed['values'], server: HostPort): Identity {
  const name = (values.name as string | undefined) ?? userInfo().username ?? 'guest';
  const user = values.user as string | undefined;
  const password = values.password as string | undefined;
  let aor: string;
  if (user === undefined) aor = `sip:${slug(name)}@${hostForUri(server.host)}`;
  else if (/^sips?:/i.test(user)) aor = user;
  else if (user.includes('@')) aor = `sip:${user}`;
  else aor = `sip:${user}@${hostForUri(server.host)}`;
  if (!/^sips?:[^@\s]+@[^\s]+$/i.test(aor)) throw usage(`--user: expected an AOR like sip:alice@example.com, got "${user}"`);
  if (password !== undefined && user === undefined) throw usage('--password needs --user');
  const username = /^sips?:([^@]+)@/i.exec(aor)![1]!;
  return { name, aor, ...(password !== undefined ? { auth: { username, password } } : {}) };
}

function seconds(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw usage(`${flag}: expected seconds, got "${text}"`);
  return n;
}

/** `join <uri>` / `call <uri>` / `create [ID]`. */
export function parseJoin(argv: string[], creating: boolean): JoinSettings {
  const { values, positionals } = parse(argv, { ...common, ...mediaOptions });
  if (positionals.length > 1) throw usage(`unexpected argument "${positionals[1]}"`);
  const arg = positionals[0];
  let server: HostPort;
  let target: string;
  if (creating) {
    server = values.server !== undefined ? parseHostPort(values.server as string) : DEFAULT_SERVER;
    const h = `${hostForUri(server.host)}:${server.port}`;
    // RFC 4579 §5.1: INVITE to the factory URI creates a meeting; an unknown meeting id creates it ad hoc.
    if (arg === undefined) target = `sip:conference@${h}`;
    else if (/^sips?:/i.test(arg)) target = arg;
    else if (/^[A-Za-z0-9._-]+$/.test(arg)) target = `sip:${arg}@${h}`;
    else throw usage(`create: bad meeting id "${arg}"`);
  } else {
    if (arg === undefined) throw usage('join: missing the meeting URI (e.g. sip:conf-42@host)');
    if (!/^sips?:[^@\s]+@\S+$/i.test(arg)) throw usage(`join: "${arg}" is not a meeting URI like sip:conf-42@host`);
    target = arg;
    const fromUri = uriHostPort(arg);
    if (values.server === undefined && !fromUri) throw usage(`join: no server in "${arg}"; give --server HOST:PORT`);
    server = values.server !== undefined ? parseHostPort(values.server as string) : fromUri!;
  }
  const audioIn = parseAudioIn((values['audio-in'] as string | undefined) ?? 'none');
  if (!audioIn.ok) throw usage(audioIn.error);
  const audioOut = parseAudioOut((values['audio-out'] as string | undefined) ?? 'none');
  if (!audioOut.ok) throw usage(audioOut.error);
  const mic = values.mic as string | undefined;
  if (mic !== undefined && mic !== 'on' && mic !== 'off') throw usage(`--mic: expected on or off, got "${mic}"`);
  const videoIn = parseVideoIn((values['video-in'] as string | undefined) ?? 'none');
  if (!videoIn.ok) throw usage(videoIn.error);
  const videoCodec = parseVideoCodec((values['video-codec'] as string | undefined) ?? 'vp8');
  if (!videoCodec.ok) throw usage(videoCodec.error);
  const videoOutText = (values['video-out'] as string | undefined) ?? 'none';
  return {
    ...identity(values, server),
    target,
    server,
    audioIn: audioIn.value,
    audioOut: audioOut.value,
    videoIn: videoIn.value,
    videoCodec: videoCodec.value,
    videoOut: videoOutText === 'none' ? undefined : videoOutText,
    durationS: seconds(values.duration as string | undefined, '--duration'),
    json: values.json === true,
    micOff: mic === 'off',
    statsIntervalMs: (seconds(values['stats-interval'] as string | undefined, '--stats-interval') ?? 5) * 1000,
    logLevel: (values['log-level'] as string | undefined) ?? 'silent',
    creating,
  };
}

/** `list` and `cancel <uri>`: the HTTP API at --api (default http://<server host>:8080). */
export function parseApi(argv: string[], cancel: boolean): ApiSettings {
  const { values, positionals } = parse(argv, { ...common, api: { type: 'string' } });
  if (positionals.length > (cancel ? 1 : 0)) throw usage(`unexpected argument "${positionals[cancel ? 1 : 0]}"`);
  let meetingId: string | undefined;
  let server: HostPort = values.server !== undefined ? parseHostPort(values.server as string) : DEFAULT_SERVER;
  if (cancel) {
    const arg = positionals[0];
    if (arg === undefined) throw usage('cancel: missing the meeting URI (e.g. sip:conf-42@host)');
    meetingId = meetingIdOf(arg);
    if (!meetingId) throw usage(`cancel: "${arg}" is not a meeting URI like sip:conf-42@host`);
    if (values.server === undefined) server = uriHostPort(arg) ?? server;
  }
  const api = (values.api as string | undefined) ?? `http://${hostForUri(server.host)}:${DEFAULT_API_PORT}`;
  if (!/^https?:\/\/[^/\s]+\/?$/.test(api)) throw usage(`--api: expected http://HOST:PORT, got "${api}"`);
  return { ...identity(values, server), api: api.replace(/\/$/, ''), server, json: values.json === true, ...(meetingId ? { meetingId } : {}) };
}

/** `register --user AOR --password P [--server HOST:PORT] [--expires S] [--duration S]`. */
export function parseRegister(argv: string[]): RegisterSettings {
  const { values, positionals } = parse(argv, { ...common, expires: { type: 'string' }, duration: { type: 'string' } });
  if (positionals.length > 0) throw usage(`unexpected argument "${positionals[0]}"`);
  if (values.user === undefined) throw usage('register: --user AOR is required');
  const user = values.user as string;
  const fromUser = /^sips?:/i.test(user) ? uriHostPort(user) : undefined;
  const server = values.server !== undefined ? parseHostPort(values.server as string) : (fromUser ?? DEFAULT_SERVER);
  const expires = seconds(values.expires as string | undefined, '--expires') ?? 600;
  return {
    ...identity(values, server),
    server,
    expires,
    durationS: seconds(values.duration as string | undefined, '--duration'),
    json: values.json === true,
    logLevel: (values['log-level'] as string | undefined) ?? 'silent',
  };
}
