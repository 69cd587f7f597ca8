/**
 * Building our own descriptions (offers and answers): one m= section, one whole session. Every RTP format gets
 * an a=rtpmap, static ones too — RFC 3264 §6.1: "the answer MUST contain rtpmap attributes to define the
 * payload type mappings for dynamic payload types, and SHOULD contain mappings for static payload types."
 */
import type {
  Bandwidth,
  Direction,
  MediaDescription,
  Origin,
  PayloadFormat,
  RtcpFeedback,
  Rtpmap,
  SessionDescription,
  Timing,
} from './model.ts';
import { addressTypeOf } from './origin.ts';
import { type Extmap, toTransformExt } from './extmap.ts';

export interface LocalFormat {
  readonly pt: number;
  readonly rtpmap: Rtpmap;
  readonly fmtp?: string | undefined;
  readonly rtcpFb?: readonly RtcpFeedback[];
}

export interface LocalMediaInit {
  readonly type: string;
  readonly port: number;
  readonly proto: string;
  readonly formats: readonly LocalFormat[];
  /** Always written explicitly at media level. */
  readonly direction: Direction;
  readonly rtcpMux?: boolean;
  readonly ptime?: number | undefined;
  readonly bandwidth?: readonly Bandwidth[];
  readonly mid?: string | undefined;
  readonly label?: string | undefined;
  /** RFC 8285 a=extmap lines. */
  readonly extmaps?: readonly Extmap[];
}

/** An m= section we send: formats in the given order, each with rtpmap, fmtp and rtcp-fb. */
export function localMedia(init: LocalMediaInit): MediaDescription {
  const payloads: PayloadFormat[] = init.formats.map((f) => ({
    pt: f.pt,
    rtpmap: f.rtpmap,
    rtpmapInSdp: true,
    fmtp: f.fmtp,
    rtcpFb: f.rtcpFb ?? [],
  }));
  return {
    type: init.type,
    port: init.port,
    portCount: undefined,
    proto: init.proto,
    formats: init.formats.map((f) => String(f.pt)),
    payloads,
    connection: undefined,
    bandwidth: init.bandwidth ?? [],
    direction: init.direction,
    rtcp: undefined,
    rtcpMux: init.rtcpMux ?? false,
    ptime: init.ptime,
    maxptime: undefined,
    mid: init.mid,
    label: init.label,
    content: undefined,
    ssrcs: [],
    rtcpFbAll: [],
    other: init.extmaps && init.extmaps.length > 0 ? { ext: toTransformExt(init.extmaps) } : {},
  };
}

/**
 * A stream we refuse or disable: port 0 and the format list kept (RFC 3264 §6: "To reject an offered stream,
 * the port number in the corresponding stream in the answer MUST be set to zero. Any media formats listed are
 * ignored. At least one MUST be present, as specified by SDP.").
 */
export function disabledMedia(from: {
  readonly type: string;
  readonly proto: string;
  readonly formats: readonly string[];
  readonly payloads?: readonly PayloadFormat[];
  readonly mid?: string | undefined;
}): MediaDescription {
  return {
    type: from.type,
    port: 0,
    portCount: undefined,
    proto: from.proto,
    formats: from.formats,
    // Same formats, none of their attributes: the m= line alone says it all.
    payloads: (from.payloads ?? []).map((p) => ({ pt: p.pt, rtpmap: p.rtpmap, rtpmapInSdp: false, fmtp: undefined, rtcpFb: [] })),
    connection: undefined,
    bandwidth: [],
    direction: undefined,
    rtcp: undefined,
    rtcpMux: false,
    ptime: undefined,
    maxptime: undefined,
    mid: from.mid,
    label: undefined,
    content: undefined,
    ssrcs: [],
    rtcpFbAll: [],
    other: {},
  };
}

/** A whole description of ours: one session-level c= for our media address. */
export function localSession(init: {
  readonly origin: Origin;
  readonly name: string;
  readonly address: string;
  readonly timing: Timing;
  readonly media: readonly MediaDescription[];
}): SessionDescription {
  return {
    origin: init.origin,
    // RFC 4566 §5.3: s= must not be empty; "-" when there is nothing to say.
    name: init.name === '' ? '-' : init.name,
    connection: { addressType: addressTypeOf(init.address), address: init.address },
    bandwidth: [],
    timing: init.timing,
    direction: undefined,
    media: init.media,
    other: {},
  };
}
