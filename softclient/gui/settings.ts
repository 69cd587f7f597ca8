/**
 * The GUI's identity and server: `sipmeet gui [--server HOST:PORT] [--name NAME] [--port N] [--api URL]
 * [--user AOR --password P] [--no-open] [--log-level L]`, and the lobby's changes to name and server.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { ClientError } from '../errors.ts';
import { DEFAULT_API_PORT, DEFAULT_SIP_PORT, type HostPort, parseHostPort } from '../cli/args.ts';

export interface GuiSettings {
  readonly server: HostPort;
  /** The server's HTTP API base, e.g. `http://127.0.0.1:8080`. */
  readonly api: string;
  /** The API was given explicitly (else it follows the server's host). */
  readonly apiFixed: boolean;
  readonly name: string;
  /** `--user`: a fixed AOR (else derived from the name and the server). */
  readonly user: string | undefined;
  readonly auth: { readonly username: string; readonly password: string } | undefined;
}

export interface GuiCommandSettings extends GuiSettings {
  /** Local HTTP port (0 = any). */
  readonly port: number;
  readonly open: boolean;
  readonly logLevel: string;
  /** `join … --gui`: the meeting to join once the page is up. */
  readonly joinTarget: string | undefined;
}

function hostForUri(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function slug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return s || 'guest';
}

/** Our AOR: `--user`, or `sip:<slug of the name>@<server host>` (as `sipmeet join` does). */
export function aorOf(s: GuiSettings): string {
  const u = s.user;
  if (u === undefined) return `sip:${slug(s.name)}@${hostForUri(s.server.host)}`;
  if (/^sips?:/i.test(u)) return u;
  if (u.includes('@')) return `sip:${u}`;
  return `sip:${u}@${hostForUri(s.server.host)}`;
}

export function defaultApi(server: HostPort): string {
  return `http://${hostForUri(server.host)}:${DEFAULT_API_PORT}`;
}

/** Apply the lobby's changes (name, server); throws ClientError('usage') with one line when bad. */
export function withChanges(s: GuiSettings, change: { name?: string; server?: string }): GuiSettings {
  let next = s;
  if (change.name !== undefined) {
    const name = change.name.trim();
    if (!name || name.length > 64 || /[\r\n"<>]/.test(name)) throw new ClientError('usage', 'name: 1 to 64 characters, without quotes or angle brackets');
    next = { ...next, name };
  }
  if (change.server !== undefined && change.server.trim() !== `${hostForUri(s.server.host)}:${s.server.port}`) {
    const server = parseHostPort(change.server, DEFAULT_SIP_PORT);
    next = { ...next, server, api: next.apiFixed ? next.api : defaultApi(server) };
  }
  return next;
}

/** `gui` options (and `join <uri> --gui`: the same with the meeting to join). */
export function parseGuiArgs(argv: string[]): GuiCommandSettings {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        server: { type: 'string' },
        name: { type: 'string' },
        port: { type: 'string' },
        api: { type: 'string' },
        user: { type: 'string' },
        password: { type: 'string' },
        open: { type: 'boolean' },
        'no-open': { type: 'boolean' },
        gui: { type: 'boolean' },
        'log-level': { type: 'string' },
      },
    });
  } catch (e) {
    throw new ClientError('usage', (e as Error).message.split('\n')[0]!);
  }
  const v = parsed.values;
  if (parsed.positionals.length > 1) throw new ClientError('usage', `unexpected argument "${parsed.positionals[1]}"`);
  const joinTarget = parsed.positionals[0];
  let server: HostPort = { host: '127.0.0.1', port: DEFAULT_SIP_PORT };
  if (v.server !== undefined) server = parseHostPort(v.server);
  else if (joinTarget !== undefined) {
    const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;?>]+)(?::(\d+))?/i.exec(joinTarget);
    if (m) server = { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : DEFAULT_SIP_PORT };
  }
  const port = v.port === undefined ? 0 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ClientError('usage', `--port: expected a port number, got "${v.port}"`);
  const api = v.api ?? defaultApi(server);
  if (!/^https?:\/\/[^/\s]+\/?$/.test(api)) throw new ClientError('usage', `--api: expected http://HOST:PORT, got "${api}"`);
  if (v.password !== undefined && v.user === undefined) throw new ClientError('usage', '--password needs --user');
  const name = v.name ?? userInfo().username ?? 'guest';
  const base: GuiSettings = { server, api: api.replace(/\/$/, ''), apiFixed: v.api !== undefined, name, user: v.user, auth: undefined };
  const aor = aorOf(base);
  const username = /^sips?:([^@]+)@/i.exec(aor)?.[1] ?? slug(name);
  return {
    ...base,
    auth: v.password !== undefined ? { username, password: v.password } : undefined,
    port,
    open: v['no-open'] !== true,
    logLevel: v['log-level'] ?? 'silent',
    joinTarget,
  };
}
