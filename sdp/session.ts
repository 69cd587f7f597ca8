/**
 * parseSdp(): untrusted SDP text → the typed model (model.ts), or a result with a clear error. Never throws.
 *
 * Two passes over the same lines:
 *  1. our own walk checks the RFC 4566 §5 structure (v= first, one o=, one s=, known type letters, which
 *     lines may appear inside a media description, a c= for every stream) and parses the structural fields
 *     exactly (lines.ts);
 *  2. sdp-transform parses the attributes; the ones the model types are mapped and checked, the rest are
 *     kept in `other` so that writeSdp() gives them back.
 */
import { parse as transformParse } from 'sdp-transform';
import type { MediaDescription as TransformMedia, SessionDescription as TransformSession } from 'sdp-transform';
import type { Result } from '../registrar/sip/message/types.ts';
import { staticRtpmap } from './codecs.ts';
import {
  type MediaLine,
  parseBandwidth,
  parseConnection,
  parseMediaLine,
  parseOrigin,
  parseTiming,
} from './lines.ts';
import type {
  Bandwidth,
  Connection,
  Direction,
  MediaDescription,
  MediaExtras,
  Origin,
  PayloadFormat,
  RtcpAttribute,
  RtcpFeedback,
  Rtpmap,
  SessionDescription,
  SessionExtras,
  Ssrc,
  Timing,
} from './model.ts';
import { isRtpProto } from './model.ts';

/** Larger than any SDP a SIP peer sends; bounds the work done on hostile input. */
export const MAX_SDP_LENGTH = 65536;

/** RFC 4566 §5: the type letters it defines; "k=" is obsolete but still legal. */
const SESSION_TYPES = new Set(['v', 'o', 's', 'i', 'u', 'e', 'p', 'c', 'b', 't', 'r', 'z', 'k', 'a', 'm']);
/** RFC 4566 §5: a media description holds m=, then i=, c=, b=, k=, a= only. */
const MEDIA_TYPES = new Set(['i', 'c', 'b', 'k', 'a', 'm']);

interface MediaSection {
  readonly line: MediaLine;
  connection: Connection | undefined;
  readonly bandwidth: Bandwidth[];
  /** The section's a= values as written, to give back verbatim what the typed model cannot hold. */
  readonly attributes: string[];
}

interface Structure {
  readonly origin: Origin;
  readonly name: string;
  readonly connection: Connection | undefined;
  readonly bandwidth: readonly Bandwidth[];
  readonly timing: Timing;
  readonly media: readonly MediaSection[];
  /** The lines, CRLF-joined, as sdp-transform should see them. */
  readonly text: string;
}

function fail<T>(error: string): Result<T> {
  return { ok: false, error };
}

function quote(line: string): string {
  return JSON.stringify(line.length > 40 ? `${line.slice(0, 40)}…` : line);
}

/** Pass 1: RFC 4566 §5 structure and the structural fields. */
function readStructure(text: string): Result<Structure> {
  // RFC 4566 §5: "The sequence CRLF (0x0d0a) is used to end a record, although parsers SHOULD be tolerant and
  // also accept records terminated with a single newline character."
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) return fail('empty session description');

  let origin: Origin | undefined;
  let name: string | undefined;
  let timing: Timing | undefined;
  let connection: Connection | undefined;
  const bandwidth: Bandwidth[] = [];
  const media: MediaSection[] = [];
  const kept: string[] = [];

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const at = `line ${i + 1}`;
    // A lone CR would end a line for sdp-transform (it splits on CR too) but not for us: refuse it.
    if (line.includes('\r')) return fail(`${at}: bare CR inside a line`);
    const m = /^([a-z])=(.*)$/s.exec(line);
    if (m === null) return fail(`${at}: ${quote(line)} is not <type>=<value>`);
    const type = m[1] as string;
    const value = m[2] as string;
    kept.push(line);

    // RFC 4566 §5.1: "v=0" — the first line of every session description.
    if (i === 0) {
      if (type !== 'v') return fail(`${at}: a session description starts with "v=", not ${quote(line)}`);
      if (value.trim() !== '0') return fail(`${at}: unsupported SDP version "v=${value}"`);
      continue;
    }
    // RFC 4566 §5: "SDP parsers MUST completely ignore any session description that contains a type letter
    // that it does not understand."
    if (!SESSION_TYPES.has(type)) return fail(`${at}: unknown type letter "${type}="`);

    const section = media[media.length - 1];
    if (type === 'm') {
      const r = parseMediaLine(value);
      if (!r.ok) return fail(`${at}: ${r.error}`);
      media.push({ line: r.value, connection: undefined, bandwidth: [], attributes: [] });
      continue;
    }
    if (section !== undefined) {
      if (!MEDIA_TYPES.has(type)) return fail(`${at}: "${type}=" is not allowed inside a media description`);
      if (type === 'a') {
        section.attributes.push(value);
      } else if (type === 'c') {
        const r = parseConnection(value);
        if (!r.ok) return fail(`${at}: ${r.error}`);
        // Deviation: RFC 4566 §5.7 allows several c= per medium (layered multicast); the first is kept.
        section.connection ??= r.value;
      } else if (type === 'b') {
        const r = parseBandwidth(value);
        if (!r.ok) return fail(`${at}: ${r.error}`);
        section.bandwidth.push(r.value);
      }
      continue;
    }
    switch (type) {
      case 'v':
        return fail(`${at}: a second "v=" line`);
      case 'o': {
        // RFC 4566 §5.2: exactly one o= (it identifies the session).
        if (origin !== undefined) return fail(`${at}: a second "o=" line`);
        const r = parseOrigin(value);
        if (!r.ok) return fail(`${at}: ${r.error}`);
        origin = r.value;
        break;
      }
      case 's':
        // RFC 4566 §5.3: "There MUST be one and only one "s=" field per session description."
        if (name !== undefined) return fail(`${at}: a second "s=" line`);
        name = value;
        break;
      case 'c': {
        if (connection !== undefined) return fail(`${at}: a second session-level "c=" line`);
        const r = parseConnection(value);
        if (!r.ok) return fail(`${at}: ${r.error}`);
        connection = r.value;
        break;
      }
      case 'b': {
        const r = parseBandwidth(value);
        if (!r.ok) return fail(`${at}: ${r.error}`);
        bandwidth.push(r.value);
        break;
      }
      case 't': {
        const r = parseTiming(value);
        if (!r.ok) return fail(`${at}: ${r.error}`);
        // Deviation: several time descriptions (t= with r=/z=) are legal but meaningless for SIP (RFC 3264
        // §5: "t=0 0"); the first one is kept.
        timing ??= r.value;
        break;
      }
      default:
        break; // i= u= e= p= r= z= k= a=: sdp-transform's part (k= is obsolete and dropped by it).
    }
  }
  if (origin === undefined) return fail('no "o=" line (RFC 4566 §5.2)');
  if (name === undefined) return fail('no "s=" line (RFC 4566 §5.3)');
  // RFC 4566 §5.7: "A session description MUST contain either at least one "c=" field in each media
  // description or a single "c=" field at the session level."
  if (connection === undefined) {
    const bare = media.findIndex((s) => s.connection === undefined);
    if (bare >= 0) return fail(`m= line ${bare + 1} (${media[bare]?.line.type}) has no "c=" and there is no session-level one`);
  }
  return {
    ok: true,
    value: {
      origin,
      name,
      connection,
      bandwidth,
      // Deviation: RFC 4566 §5.9 makes t= mandatory; some SIP peers omit it, and it can only mean "0 0".
      timing: timing ?? { start: 0, stop: 0 },
      media,
      text: `${kept.join('\r\n')}\r\n`,
    },
  };
}

/** A positive finite number from an sdp-transform value, else undefined. */
function positive(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;
}

type TransformRtp = TransformMedia['rtp'][number];

/** RFC 4566 §6 rtpmap: <encoding name>/<clock rate>[/<encoding parameters>]; channels must be a count. */
function toRtpmap(r: TransformRtp): Rtpmap | undefined {
  const clockRate = positive(r.rate);
  const encoding = String(r.codec);
  if (encoding === '' || clockRate === undefined || !Number.isInteger(clockRate)) return undefined;
  if (r.encoding === undefined) return { encoding, clockRate };
  const channels = positive(r.encoding);
  if (channels === undefined || !Number.isInteger(channels)) return undefined;
  return { encoding, clockRate, channels };
}

/** RFC 3605 §2.1: a=rtcp:<port> [<nettype> <addrtype> <connection-address>]. */
function toRtcp(r: NonNullable<TransformMedia['rtcp']>): RtcpAttribute | undefined {
  if (!isPort(r.port)) return undefined;
  if (r.address === undefined) return { port: r.port };
  if (r.netType !== 'IN' || (r.ipVer !== 4 && r.ipVer !== 6)) return undefined;
  return { port: r.port, connection: { addressType: r.ipVer === 4 ? 'IP4' : 'IP6', address: String(r.address) } };
}

function optionalString(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

/**
 * The a= lines of a section named `name` (and, for per-format attributes, about `payload`), as written. What
 * sdp-transform matched for a typed attribute but fails our checks goes back to `invalid` from these, so a
 * malformed line is written back exactly as it came.
 */
function rawAttributes(section: MediaSection, name: string, payload?: unknown): { value: string }[] {
  const prefix = payload === undefined ? `${name}:` : `${name}:${String(payload)}`;
  return section.attributes
    .filter((a) => (payload === undefined ? a === name || a.startsWith(prefix) : a === prefix || a.startsWith(`${prefix} `) || a.startsWith(`${prefix}\t`)))
    .map((value) => ({ value }));
}

/** Pass 2 for one m= line: typed attributes from sdp-transform; what fails its check goes back to `invalid`. */
function readMedia(section: MediaSection, t: TransformMedia): MediaDescription {
  const { line } = section;
  const invalid: { value: string }[] = [...(t.invalid ?? [])];
  /** `skip`: how many of the matching lines the typed model already holds (the first of a repeated one). */
  const keepRaw = (name: string, payload?: unknown, skip = 0): void => {
    for (const raw of rawAttributes(section, name, payload).slice(skip)) {
      if (!invalid.some((v) => v.value === raw.value)) invalid.push(raw);
    }
  };
  const listed = (payload: unknown): boolean => line.formats.includes(String(payload));
  const rtpmaps = new Map<number, Rtpmap>();
  for (const r of t.rtp ?? []) {
    const rtpmap = toRtpmap(r);
    // Malformed, or for a PT the m= line does not list, or repeated (RFC 4566 §6: "Up to one rtpmap
    // attribute can be defined for each media format"): kept as written.
    if (rtpmap === undefined || !listed(r.payload)) keepRaw('rtpmap', r.payload);
    else if (rtpmaps.has(r.payload)) keepRaw('rtpmap', r.payload, 1);
    else rtpmaps.set(r.payload, rtpmap);
  }
  const fmtps = new Map<number, string>();
  for (const f of t.fmtp ?? []) {
    if (!listed(f.payload)) keepRaw('fmtp', f.payload);
    else if (fmtps.has(f.payload)) keepRaw('fmtp', f.payload, 1);
    else fmtps.set(f.payload, String(f.config));
  }
  const feedback: { payload: string; fb: RtcpFeedback }[] = [
    ...(t.rtcpFbTrrInt ?? []).map((x) => ({ payload: String(x.payload), fb: { type: 'trr-int', param: String(x.value) } })),
    ...(t.rtcpFb ?? []).map((x) => ({
      payload: String(x.payload),
      fb: x.subtype === undefined ? { type: String(x.type) } : { type: String(x.type), param: String(x.subtype) },
    })),
  ];
  for (const { payload } of feedback) if (payload !== '*' && !listed(payload)) keepRaw('rtcp-fb', payload);

  const payloads: PayloadFormat[] = isRtpProto(line.proto)
    ? line.formats.map((fmt) => {
        const pt = Number(fmt);
        const own = rtpmaps.get(pt);
        return {
          pt,
          // RFC 3551 §6: a static payload type needs no rtpmap; RFC 3264 §6.1 only requires one for dynamic PTs.
          rtpmap: own ?? staticRtpmap(pt),
          rtpmapInSdp: own !== undefined,
          fmtp: fmtps.get(pt),
          rtcpFb: feedback.filter((f) => f.payload === fmt).map((f) => f.fb),
        };
      })
    : [];

  let rtcp: RtcpAttribute | undefined;
  if (t.rtcp !== undefined) {
    rtcp = toRtcp(t.rtcp);
    if (rtcp === undefined) keepRaw('rtcp');
  }
  const ptime = positive(t.ptime);
  if (t.ptime !== undefined && ptime === undefined) keepRaw('ptime');
  const maxptime = positive(t.maxptime);
  if (t.maxptime !== undefined && maxptime === undefined) keepRaw('maxptime');

  // RFC 5576 §4.1: <ssrc-id> is a 32-bit integer.
  const ssrcs: Ssrc[] = [];
  for (const x of t.ssrcs ?? []) {
    const id = x.id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff) keepRaw('ssrc', id);
    else ssrcs.push(x.value === undefined ? { id, attribute: String(x.attribute) } : { id, attribute: String(x.attribute), value: String(x.value) });
  }

  const {
    type: _type, port: _port, protocol: _protocol, payloads: _payloads, connection: _c, bandwidth: _b,
    direction, rtp: _rtp, fmtp: _fmtp, rtcpFb: _fb, rtcpFbTrrInt: _trr, rtcp: _rtcp, rtcpMux, ptime: _ptime,
    maxptime: _maxptime, mid, label, ssrcs: _ssrcs, invalid: _invalid, ...rest
  } = t;
  const { content, ...other } = rest as typeof rest & { content?: unknown };
  const extras: MediaExtras = invalid.length > 0 ? { ...other, invalid } : other;

  return {
    type: line.type,
    port: line.port,
    portCount: line.portCount,
    proto: line.proto,
    formats: line.formats,
    payloads,
    connection: section.connection,
    bandwidth: section.bandwidth,
    direction: direction as Direction | undefined,
    rtcp,
    rtcpMux: rtcpMux !== undefined,
    ptime,
    maxptime,
    mid: optionalString(mid),
    label: optionalString(label),
    content: optionalString(content),
    ssrcs,
    rtcpFbAll: feedback.filter((f) => f.payload === '*').map((f) => f.fb),
    other: extras,
  };
}

/** Parses an SDP body (RFC 4566). Untrusted input: every problem is an error result, never an exception. */
export function parseSdp(input: string | Buffer): Result<SessionDescription> {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.length > MAX_SDP_LENGTH) return fail(`session description longer than ${MAX_SDP_LENGTH} characters`);
  const structure = readStructure(text);
  if (!structure.ok) return structure;
  const s = structure.value;

  let parsed: TransformSession;
  try {
    parsed = transformParse(s.text);
  } catch (err) {
    // sdp-transform is regular expressions over validated lines; this guards against a bug there only.
    return fail(`attribute parsing failed: ${(err as Error).message}`);
  }
  const transformMedia = parsed.media;
  if (transformMedia.length !== s.media.length) return fail('m= line count mismatch while parsing attributes');

  const {
    version: _v, origin: _o, name: _n, timing: _t, connection: _c, bandwidth: _b, direction, media: _m, ...other
  } = parsed;
  const sessionOther: SessionExtras = other;
  return {
    ok: true,
    value: {
      origin: s.origin,
      name: s.name,
      connection: s.connection,
      bandwidth: s.bandwidth,
      timing: s.timing,
      direction: direction as Direction | undefined,
      media: s.media.map((section, i) => readMedia(section, transformMedia[i] as TransformMedia)),
      other: sessionOther,
    },
  };
}
