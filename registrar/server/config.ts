/**
 * Server configuration: embedded defaults < config file < environment (SIPMEET_*) < command-line flags.
 *
 * Defaults let a newcomer start the server and dial in from a phone on the same network: SIP on 0.0.0.0:5060
 * (UDP and TCP), advertised on the machine's first non-internal IPv4 address.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';

export interface ServerConfig {
  /** Bind address for SIP, HTTP and RTP. */
  host: string;
  /** Address written into Via/Contact/SDP: `host`, or for a wildcard bind the first non-internal address. */
  advertise: string;
  sipPort: number;
  httpPort: number;
  rtpPorts: { min: number; max: number };
  /** SIP domain served; undefined = any host name or address that reaches us is ours (single-domain server). */
  domain: string | undefined;
  /** Users file: turns on digest authentication. */
  usersFile: string | undefined;
  logLevel: string;
  /** Peer-to-peer policy for two-party meetings (`auto`: P2P while exactly two participants; `off`). */
  p2p: 'auto' | 'off';
}

export const DEFAULTS: ServerConfig = {
  host: '0.0.0.0',
  advertise: '',
  sipPort: 5060,
  httpPort: 8080,
  rtpPorts: { min: 20000, max: 20999 },
  domain: undefined,
  usersFile: undefined,
  logLevel: 'info',
  p2p: 'off',
};

/** A configuration error: the CLI prints `message` on one line and exits non-zero. */
export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Raw string options as they come from flags, env or file; keys are the long flag names. */
export type RawOptions = Partial<Record<'host' | 'sip-port' | 'http-port' | 'rtp-ports' | 'domain' | 'users' | 'log-level' | 'advertise' | 'p2p', string>>;

const ENV: Record<keyof RawOptions, string> = {
  host: 'SIPMEET_HOST',
  advertise: 'SIPMEET_ADVERTISE',
  'sip-port': 'SIPMEET_SIP_PORT',
  'http-port': 'SIPMEET_HTTP_PORT',
  'rtp-ports': 'SIPMEET_RTP_PORTS',
  domain: 'SIPMEET_DOMAIN',
  users: 'SIPMEET_USERS',
  'log-level': 'SIPMEET_LOG_LEVEL',
  p2p: 'SIPMEET_P2P',
};

export function optionsFromEnv(env: NodeJS.ProcessEnv): RawOptions {
  const out: RawOptions = {};
  for (const [k, name] of Object.entries(ENV) as Array<[keyof RawOptions, string]>) {
    const v = env[name];
    if (v !== undefined && v !== '') out[k] = v;
  }
  return out;
}

/** A JSON config file whose keys are the long flag names: `{ "sip-port": 5070, "domain": "meet.example.org" }`. */
export function optionsFromFile(path: string): RawOptions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new ConfigError(`config file ${path} must hold a JSON object`);
  const out: RawOptions = {};
  for (const [k, v] of Object.entries(obj)) {
    if (!(k in ENV)) throw new ConfigError(`config file ${path}: unknown key "${k}" (known: ${Object.keys(ENV).join(', ')})`);
    out[k as keyof RawOptions] = String(v);
  }
  return out;
}

function port(name: string, v: string, allowZero = true): number {
  if (!/^\d+$/.test(v)) throw new ConfigError(`--${name} must be a port number, got "${v}"`);
  const n = Number(v);
  if (n > 65535 || (!allowZero && n === 0)) throw new ConfigError(`--${name} must be between ${allowZero ? 0 : 1} and 65535, got ${v}`);
  return n;
}

export function firstExternalAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return '127.0.0.1';
}

/** Merge the layers (later wins) and validate. */
export function resolveConfig(...layers: RawOptions[]): ServerConfig {
  const raw: RawOptions = Object.assign({}, ...layers);
  const cfg: ServerConfig = { ...DEFAULTS, rtpPorts: { ...DEFAULTS.rtpPorts } };
  if (raw.host !== undefined) {
    if (isIP(raw.host) === 0) throw new ConfigError(`--host must be an IPv4 or IPv6 address, got "${raw.host}"`);
    cfg.host = raw.host;
  }
  if (raw['sip-port'] !== undefined) cfg.sipPort = port('sip-port', raw['sip-port']);
  if (raw['http-port'] !== undefined) cfg.httpPort = port('http-port', raw['http-port']);
  if (raw['rtp-ports'] !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(raw['rtp-ports']);
    if (!m) throw new ConfigError(`--rtp-ports must look like 20000-20999, got "${raw['rtp-ports']}"`);
    const min = port('rtp-ports', m[1]!, false);
    const max = port('rtp-ports', m[2]!, false);
    if (max < min + 1) throw new ConfigError(`--rtp-ports: the range ${min}-${max} is empty or too small`);
    cfg.rtpPorts = { min, max };
  }
  if (raw.domain !== undefined) {
    if (!/^[A-Za-z0-9.\-:[\]]+$/.test(raw.domain)) throw new ConfigError(`--domain must be a host name or address, got "${raw.domain}"`);
    cfg.domain = raw.domain.toLowerCase();
  }
  if (raw.users !== undefined) cfg.usersFile = raw.users;
  if (raw['log-level'] !== undefined) {
    if (!LOG_LEVELS.includes(raw['log-level'])) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${raw['log-level']}"`);
    cfg.logLevel = raw['log-level'];
  }
  if (raw.p2p !== undefined) {
    if (raw.p2p !== 'auto' && raw.p2p !== 'off') throw new ConfigError(`--p2p must be auto or off, got "${raw.p2p}"`);
    cfg.p2p = raw.p2p;
  }
  if (raw.advertise !== undefined) {
    if (isIP(raw.advertise) === 0) throw new ConfigError(`--advertise must be an IP address, got "${raw.advertise}"`);
    cfg.advertise = raw.advertise;
  } else {
    cfg.advertise = cfg.host === '0.0.0.0' ? firstExternalAddress() : cfg.host === '::' ? '::1' : cfg.host;
  }
  return cfg;
}
