/**
 * writeSdp(): the model → SDP text with CRLF line ends (RFC 4566 §5: "The sequence CRLF (0x0d0a) is used to
 * end a record"), through sdp-transform's writer so that the attributes kept in `other` come back as they
 * were read.
 *
 * sdp-transform writes attributes in its grammar's order (all a=rtpmap, then all a=fmtp, …), not in the order
 * they were read; RFC 4566 gives attribute order no meaning.
 */
import { write as transformWrite } from 'sdp-transform';
import type { MediaDescription as TransformMedia, SessionDescription as TransformSession } from 'sdp-transform';
import type { Bandwidth, Connection, MediaDescription, Origin, RtcpFeedback, SessionDescription } from './model.ts';

type TransformBandwidth = NonNullable<TransformMedia['bandwidth']>[number];

function connectionOf(c: Connection): { version: number; ip: string } {
  return { version: c.addressType === 'IP4' ? 4 : 6, ip: c.address };
}

function bandwidthOf(list: readonly Bandwidth[]): TransformBandwidth[] | undefined {
  // sdp-transform's type names the five IANA types only; its writer prints any "<type>:<value>".
  return list.length === 0 ? undefined : list.map((b) => ({ type: b.type as TransformBandwidth['type'], limit: b.value }));
}

/** RFC 4566 §5.2, written here (not by sdp-transform, whose `%d` rounds a version above 2^53). */
export function formatOrigin(o: Origin): string {
  return `o=${o.username} ${o.sessionId} ${o.sessionVersion} IN ${o.addressType} ${o.address}`;
}

/** RFC 4566 §5.14, written here (sdp-transform has no `<port>/<number of ports>`). */
export function formatMediaLine(m: MediaDescription): string {
  const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
  return `m=${m.type} ${port} ${m.proto} ${m.formats.join(' ')}`;
}

function feedbackOf(m: MediaDescription): Pick<TransformMedia, 'rtcpFb' | 'rtcpFbTrrInt'> {
  const all: { payload: string | number; fb: RtcpFeedback }[] = [
    ...m.rtcpFbAll.map((fb) => ({ payload: '*', fb })),
    ...m.payloads.flatMap((p) => p.rtcpFb.map((fb) => ({ payload: p.pt, fb }))),
  ];
  const trrInt = all.filter((x) => x.fb.type === 'trr-int' && x.fb.param !== undefined && /^\d+$/.test(x.fb.param));
  const others = all.filter((x) => !trrInt.includes(x));
  return {
    rtcpFbTrrInt: trrInt.length === 0 ? undefined : trrInt.map((x) => ({ payload: x.payload, value: Number(x.fb.param) })),
    rtcpFb: others.length === 0 ? undefined : others.map((x) => ({ payload: x.payload, type: x.fb.type, subtype: x.fb.param })),
  };
}

function mediaOf(m: MediaDescription): TransformMedia {
  const media: TransformMedia & { content?: string } = {
    ...m.other,
    type: m.type,
    port: m.port,
    protocol: m.proto,
    payloads: m.formats.join(' '),
    connection: m.connection === undefined ? undefined : connectionOf(m.connection),
    bandwidth: bandwidthOf(m.bandwidth),
    rtp: m.payloads.flatMap((p) =>
      p.rtpmapInSdp && p.rtpmap !== undefined
        ? [{ payload: p.pt, codec: p.rtpmap.encoding, rate: p.rtpmap.clockRate, encoding: p.rtpmap.channels }]
        : [],
    ),
    fmtp: m.payloads.flatMap((p) => (p.fmtp === undefined ? [] : [{ payload: p.pt, config: p.fmtp }])),
    ...feedbackOf(m),
    rtcp:
      m.rtcp === undefined
        ? undefined
        : m.rtcp.connection === undefined
          ? { port: m.rtcp.port }
          : { port: m.rtcp.port, netType: 'IN', ipVer: m.rtcp.connection.addressType === 'IP4' ? 4 : 6, address: m.rtcp.connection.address },
    rtcpMux: m.rtcpMux ? 'rtcp-mux' : undefined,
    ptime: m.ptime,
    maxptime: m.maxptime,
    direction: m.direction,
    mid: m.mid,
    label: m.label,
    content: m.content,
    ssrcs: m.ssrcs.length === 0 ? undefined : m.ssrcs.map((s) => ({ ...s })),
  };
  return media;
}

/** Writes a session description; every line ends with CRLF. */
export function writeSdp(session: SessionDescription): string {
  const description: TransformSession = {
    ...session.other,
    version: 0,
    // Replaced below by formatOrigin(); sdp-transform only needs something to print.
    origin: { username: '-', sessionId: '0', sessionVersion: 0, netType: 'IN', ipVer: 4, address: '-' },
    name: session.name,
    connection: session.connection === undefined ? undefined : connectionOf(session.connection),
    bandwidth: bandwidthOf(session.bandwidth),
    timing: { start: session.timing.start, stop: session.timing.stop },
    direction: session.direction,
    media: session.media.map(mediaOf),
  };
  const lines = transformWrite(description).split('\r\n');
  let media = 0;
  const out = lines.map((line) => {
    if (line.startsWith('o=')) return formatOrigin(session.origin);
    if (line.startsWith('m=')) return formatMediaLine(session.media[media++] as MediaDescription);
    return line;
  });
  return out.join('\r\n');
}
