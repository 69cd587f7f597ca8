/**
 * RFC 4566 §5 grammar of the structural fields: o=, c=, b=, t=, m=. These are checked here rather than left to
 * sdp-transform, whose regular expressions silently drop a line they do not match (an `m=audio 49170/2 …`
 * with a port count, a `b=X-YZ:128` extension bandwidth) and format the o= version with `%d` (a 64-bit version
 * loses precision). Every function takes the text after `x=` and returns a result; none throws.
 */
import type { Result } from '../registrar/sip/message/types.ts';
import type { AddressType, Bandwidth, Connection, Origin, Timing } from './model.ts';
import { isRtpProto } from './model.ts';

/** RFC 3264 §5: "The numeric value of the session id and version in the o line MUST be representable with a
 * 64 bit signed integer." */
export const MAX_SESSION_NUMBER = (1n << 63n) - 1n;

/** The m= line fields (RFC 4566 §5.14). */
export interface MediaLine {
  readonly type: string;
  readonly port: number;
  readonly portCount: number | undefined;
  readonly proto: string;
  readonly formats: readonly string[];
}

const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/; // RFC 4566 §9 token-char
const PROTO = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~/]+$/; // RFC 4566 §9 proto = token *("/" token)

function fail<T>(error: string): Result<T> {
  return { ok: false, error };
}

/** Splits on single spaces as RFC 4566 §9 writes them, tolerating runs of blanks. */
function fields(value: string): string[] {
  return value.trim().split(/[ \t]+/).filter((f) => f !== '');
}

function addressType(text: string | undefined): AddressType | undefined {
  return text === 'IP4' || text === 'IP6' ? text : undefined;
}

/** RFC 4566 §5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>. */
export function parseOrigin(value: string): Result<Origin> {
  const f = fields(value);
  if (f.length !== 6) return fail(`o= needs 6 fields, got ${f.length}`);
  const [username, sessionId, version, netType, addrType, address] = f as [string, string, string, string, string, string];
  if (!/^\d+$/.test(sessionId) || !/^\d+$/.test(version)) return fail('o= session id and version must be numbers');
  const sessionVersion = BigInt(version);
  if (BigInt(sessionId) > MAX_SESSION_NUMBER || sessionVersion > MAX_SESSION_NUMBER) {
    return fail('o= session id or version exceeds 64 bits (RFC 3264 §5)');
  }
  const type = addressType(addrType);
  if (netType !== 'IN' || type === undefined) return fail(`o= network "${netType} ${addrType}" is not IN IP4/IP6`);
  return { ok: true, value: { username, sessionId, sessionVersion, addressType: type, address } };
}

/** RFC 4566 §5.7: c=<nettype> <addrtype> <connection-address>. */
export function parseConnection(value: string): Result<Connection> {
  const f = fields(value);
  const type = addressType(f[1]);
  if (f.length !== 3 || f[0] !== 'IN' || type === undefined) return fail(`c= "${value}" is not "IN IP4|IP6 <address>"`);
  return { ok: true, value: { addressType: type, address: f[2] as string } };
}

/** RFC 4566 §5.8: b=<bwtype>:<bandwidth>. */
export function parseBandwidth(value: string): Result<Bandwidth> {
  const m = /^([^:\s]+):(\d+)$/.exec(value.trim());
  if (m === null || !TOKEN.test(m[1] as string)) return fail(`b= "${value}" is not "<bwtype>:<number>"`);
  const n = Number(m[2]);
  if (!Number.isSafeInteger(n)) return fail(`b= value ${m[2]} is too large`);
  return { ok: true, value: { type: m[1] as string, value: n } };
}

/** RFC 4566 §5.9: t=<start-time> <stop-time> (NTP seconds; 0 0 for SIP). */
export function parseTiming(value: string): Result<Timing> {
  const f = fields(value);
  if (f.length !== 2 || !f.every((x) => /^\d{1,15}$/.test(x))) return fail(`t= "${value}" is not "<start> <stop>"`);
  return { ok: true, value: { start: Number(f[0]), stop: Number(f[1]) } };
}

/** RFC 4566 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
export function parseMediaLine(value: string): Result<MediaLine> {
  const f = fields(value);
  if (f.length < 3) return fail(`m= "${value}" needs <media> <port> <proto> <fmt>...`);
  const [type, portText, proto] = f as [string, string, string];
  const formats = f.slice(3);
  if (!TOKEN.test(type)) return fail(`m= media type "${type}" is not a token`);
  const pm = /^(\d{1,10})(?:\/(\d{1,10}))?$/.exec(portText);
  if (pm === null) return fail(`m= port "${portText}" is not a number`);
  const port = Number(pm[1]);
  if (port > 65535) return fail(`m= port ${port} is out of range 0-65535`);
  const portCount = pm[2] === undefined ? undefined : Number(pm[2]);
  if (portCount !== undefined && portCount < 1) return fail(`m= port count ${portCount} must be at least 1`);
  if (!PROTO.test(proto)) return fail(`m= proto "${proto}" is malformed`);
  // RFC 4566 §5.14: the m= line carries "<fmt> ..." — at least one media format.
  if (formats.length === 0) return fail(`m=${type} lists no media formats`);
  if (isRtpProto(proto)) {
    // RFC 3550 §5.1: the RTP payload type field is 7 bits.
    const bad = formats.find((fmt) => !/^\d{1,3}$/.test(fmt) || Number(fmt) > 127);
    if (bad !== undefined) return fail(`m=${type} ${proto} format "${bad}" is not an RTP payload type 0-127`);
  }
  return { ok: true, value: { type, port, portCount, proto, formats } };
}
