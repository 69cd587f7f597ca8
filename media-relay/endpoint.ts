/**
 * One participant media line on the relay: its UDP socket pair, symmetric-RTP latching, the per-line packet
 * counters and the media-timeout liveness check. It knows nothing about mixing or forwarding: accepted packets go
 * to the meeting through `EndpointHandlers`.
 *
 * Symmetric RTP (RFC 4961 §3: "a device ... sends RTP packets from the same port it receives them on"; the latching
 * of RFC 7362 §4): until the participant's first valid packet, media goes to the address and port from its SDP.
 * The source (address:port) of the first valid RTP packet is latched — media goes only there and RTP is accepted
 * only from there; RTCP latches separately on its own first valid packet. Anything else (another source, a bad
 * header, a payload type not negotiated on this line) is dropped and counted by reason. A `setRemote` with a new
 * address or ports (re-INVITE) re-arms latching.
 *
 * Security note (RFC 7362 §5.1, "media hijacking"): before the first packet, whoever sends first wins the latch; the
 * relay narrows this to packets that parse as RTP with a negotiated payload type, and allocates ports round-robin so
 * a released port is reused last.
 *
 * Hot path: no throws; a dropped packet costs a counter increment and a debug log (pino's level is the switch).
 */
import type { Clock, TimerHandle } from '../registrar/sip/clock.ts';
import type { Logger } from '../registrar/log.ts';
import { RelayError, type CodecSpec, type Direction, type MediaKind, type RemoteDescription, type StreamStats, type VideoRole } from './api.ts';
import type { PortPair } from './ports.ts';
import { isRtcp } from '../media/rtcp/header.ts';
import { parseRtcp, type RtcpParseResult } from '../media/rtcp/packet.ts';
import { RtcpSession } from '../media/rtcp/session.ts';
import { OutboundStream } from '../media/rtp/outbound.ts';
import { parseRtp, type RtpPacket } from '../media/rtp/packet.ts';

export interface EndpointHandlers {
  /** An accepted RTP packet (latched source, good header, negotiated PT, participant sending). */
  rtp(ep: Endpoint, pkt: RtpPacket, nowMs: number): void;
  /** Accepted RTCP (latched source), already parsed; the endpoint's own RtcpSession has seen it. */
  rtcp(ep: Endpoint, rtcp: RtcpParseResult, nowMs: number): void;
  /** No packet for `silentMs` ≥ the media timeout (once per silence). */
  timeout(ep: Endpoint, silentMs: number): void;
}

export interface EndpointInit {
  readonly id: string;
  readonly meetingId: string;
  readonly participantId: string;
  readonly kind: MediaKind;
  readonly videoRole: VideoRole | undefined;
  readonly ports: PortPair;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly localSsrc: number;
  readonly cname: string;
  readonly mediaTimeoutMs: number;
  readonly rtcpMinIntervalS?: number;
  readonly handlers: EndpointHandlers;
}

export interface Address {
  readonly address: string;
  readonly port: number;
}

/** Drop reasons (the keys of StreamStats.dropped). */
export type DropReason =
  | 'not-negotiated' // before setRemote: no codecs known yet
  | 'wrong-source' // not the latched address:port (another NAT binding, another meeting's participant, an attacker)
  | 'bad-header' // RTP header does not parse (RFC 3550 §5.1)
  | 'unknown-pt' // payload type not negotiated on this line
  | 'not-sending' // the participant said recvonly/inactive, yet sends RTP
  | 'bad-rtcp' // RTCP framing fault with nothing usable
  | 'closed';

const DEFAULT_CLOCK_RATE = { audio: 8000, video: 90000 } as const;
/** Session bandwidth assumed for the RTCP interval when SDP gives none (bits/s). */
const SESSION_BW = { audio: 64_000, video: 1_000_000 } as const;

export class Endpoint {
  readonly id: string;
  readonly meetingId: string;
  readonly participantId: string;
  readonly kind: MediaKind;
  readonly videoRole: VideoRole | undefined;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly localSsrc: number;
  /** RFC 3550 §6.5.1 CNAME the relay uses on this leg. */
  readonly cname: string;
  readonly outbound: OutboundStream;
  readonly rtcp: RtcpSession;
  remote: RemoteDescription | undefined;
  direction: Direction = 'sendrecv';

  packetsIn = 0;
  bytesIn = 0;
  packetsOut = 0;
  bytesOut = 0;
  rtcpIn = 0;
  rtcpOut = 0;
  readonly dropped: Record<string, number> = {};
  /** Monotonic time of the last accepted packet (the wall-clock form is derived when stats are read, not per packet). */
  private lastPacketMs: number | undefined;

  private rtpLatch: Address | undefined;
  private rtcpLatch: Address | undefined;
  /** The SDP's RTP address (where RTP goes before latching), kept as one object: no allocation per packet sent. */
  private sdpRtp: Address | undefined;
  /** PT → negotiated codec (RFC 3551 §6: PT numbers are per leg). */
  private codecByPt: Array<CodecSpec | undefined> = new Array(128);
  private lastActivityMs: number;
  private timeoutTimer: TimerHandle | undefined;
  private timedOut = false;
  private closed = false;
  private readonly ports: PortPair;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly handlers: EndpointHandlers;
  private readonly mediaTimeoutMs: number;

  constructor(init: EndpointInit) {
    this.id = init.id;
    this.meetingId = init.meetingId;
    this.participantId = init.participantId;
    this.kind = init.kind;
    this.videoRole = init.videoRole;
    this.ports = init.ports;
    this.rtpPort = init.ports.rtpPort;
    this.rtcpPort = init.ports.rtcpPort;
    this.clock = init.clock;
    this.handlers = init.handlers;
    this.mediaTimeoutMs = init.mediaTimeoutMs;
    this.localSsrc = init.localSsrc;
    this.cname = init.cname;
    this.log = init.logger.child({ component: 'endpoint', endpoint: init.id, meeting: init.meetingId, participant: init.participantId });
    this.lastActivityMs = init.clock.now();
    this.outbound = new OutboundStream(init.localSsrc, DEFAULT_CLOCK_RATE[init.kind]);
    this.rtcp = new RtcpSession({
      clock: init.clock,
      localSsrc: init.localSsrc,
      cname: init.cname,
      outbound: this.outbound,
      // RFC 3550 §7.3: a mixer is the synchronisation source of its output and sends SRs; for video the relay is a
      // translator (§7.2) and forwards the publisher's SRs instead.
      sendsSr: init.kind === 'audio',
      sessionBandwidthBps: SESSION_BW[init.kind],
      ...(init.rtcpMinIntervalS === undefined ? {} : { minIntervalS: init.rtcpMinIntervalS }),
      send: (buf) => this.sendRtcp(buf),
    });
    init.ports.rtp.onDatagram((msg, address, port) => this.onRtpSocket(msg, address, port));
    init.ports.rtp.onError((err) => this.log.warn({ err: err.message }, 'rtp socket error'));
    if (init.ports.rtcp) {
      const rtcp = init.ports.rtcp;
      rtcp.onDatagram((msg, address, port) => this.onRtcpPacket(rtcp.borrowed ? Buffer.from(msg) : msg, address, port));
      rtcp.onError((err) => this.log.warn({ err: err.message }, 'rtcp socket error'));
    }
  }

  /** Video 'main' line or audio: the participant publishes here (media timeout applies). */
  get publishes(): boolean {
    return this.kind === 'audio' || this.videoRole === undefined || this.videoRole === 'main';
  }

  /** From the participant's point of view: does it send us media? (RFC 3264 §5.1) */
  get participantSends(): boolean {
    return this.remote !== undefined && (this.direction === 'sendrecv' || this.direction === 'sendonly');
  }

  /** Does the participant take media from us? */
  get participantReceives(): boolean {
    return this.remote !== undefined && (this.direction === 'sendrecv' || this.direction === 'recvonly');
  }

  get latchedTo(): Address | undefined {
    return this.rtpLatch;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  codecFor(pt: number): CodecSpec | undefined {
    return this.codecByPt[pt];
  }

  /** The PT this leg negotiated for `name` (lowercase encoding name), if any. */
  payloadTypeFor(name: string): number | undefined {
    return this.remote?.codecs.find((c) => c.name === name)?.payloadType;
  }

  /** Apply the negotiated description (first call and every re-INVITE). Throws RelayError on a bad request. */
  setRemote(remote: RemoteDescription): void {
    if (this.closed) throw new RelayError('closed', `endpoint ${this.id} is released`);
    if (typeof remote.address !== 'string' || remote.address === '' || !validPort(remote.rtpPort) || !validPort(remote.rtcpPort)) {
      throw new RelayError('bad-request', `bad remote address ${remote.address}:${remote.rtpPort}/${remote.rtcpPort}`);
    }
    if (!Array.isArray(remote.codecs) || remote.codecs.length === 0) throw new RelayError('bad-request', 'no codecs');
    const extId = remote.audioLevelExtId;
    // RFC 8285 §5: ids 1–14 (one-byte form) and 1–255 (two-byte form); 0 and 15 in the one-byte form are reserved.
    if (extId !== undefined && (!Number.isInteger(extId) || extId < 1 || extId > 255)) {
      throw new RelayError('bad-request', `bad audio level extension id ${extId}`);
    }
    const table: Array<CodecSpec | undefined> = new Array(128);
    for (const c of [...remote.codecs, ...(remote.telephoneEvent ? [remote.telephoneEvent] : [])]) {
      if (!Number.isInteger(c.payloadType) || c.payloadType < 0 || c.payloadType > 127) {
        throw new RelayError('bad-request', `bad payload type ${c.payloadType}`);
      }
      table[c.payloadType] = c;
    }
    const prev = this.remote;
    const moved = prev === undefined || prev.address !== remote.address || prev.rtpPort !== remote.rtpPort || prev.rtcpPort !== remote.rtcpPort;
    this.remote = remote;
    this.sdpRtp = { address: remote.address, port: remote.rtpPort };
    this.codecByPt = table;
    this.direction = remote.direction;
    this.outbound.clockRate = remote.codecs[0]!.clockRate;
    if (moved) {
      // RFC 4961 style re-latch: a re-INVITE moved the participant; wait for its first packet from the new place.
      if (prev !== undefined) this.log.info({ address: remote.address, port: remote.rtpPort }, 'remote moved, latching re-armed');
      this.rtpLatch = undefined;
      this.rtcpLatch = undefined;
    }
    if (prev === undefined) this.rtcp.start();
    this.restartLiveness();
  }

  /** Mic/camera off and on, hold, peer-to-peer parking: liveness restarts from now. */
  setDirection(direction: Direction): void {
    if (direction === this.direction) return;
    this.direction = direction;
    this.restartLiveness();
  }

  private restartLiveness(): void {
    this.lastActivityMs = this.clock.now();
    this.timedOut = false;
    if (this.remote !== undefined && this.publishes && this.timeoutTimer === undefined && !this.closed) this.armTimeout(this.mediaTimeoutMs);
  }

  // ── receive ──────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * A datagram on the RTP port. With the native socket (`ports.rtp.borrowed`, audio and video lines alike) `buf` is
   * a view into its receive ring, valid only during this call. What outlives the call is copied where it is kept:
   * audio RTP by the audio host (the worker's PacketRing `write`, or a payload slice for the inline engine; DTMF
   * is read there, from the copy); video by its router (retransmission cache, extra receivers; the last copy is
   * sent in place); RTCP here, before parsing (its parse keeps views). The latch keeps only the address string and
   * port, the counters and RtcpSession.onRtp only numbers.
   */
  private onRtpSocket(buf: Buffer, address: string, port: number): void {
    // RFC 5761 §4: demultiplex RTCP arriving on the RTP port (rtcp-mux, or a peer that muxes anyway).
    if (isRtcp(buf)) {
      this.onRtcpPacket(this.ports.rtp.borrowed ? Buffer.from(buf) : buf, address, port);
      return;
    }
    if (this.remote === undefined) return this.drop('not-negotiated', address, port);
    const latch = this.rtpLatch;
    if (latch !== undefined && (latch.port !== port || latch.address !== address)) return this.drop('wrong-source', address, port);
    const pkt = parseRtp(buf);
    if (!pkt.ok) return this.drop('bad-header', address, port, pkt.reason);
    const codec = this.codecByPt[pkt.payloadType];
    if (codec === undefined) return this.drop('unknown-pt', address, port, pkt.payloadType);
    if (latch === undefined) {
      this.rtpLatch = { address, port };
      this.log.info({ address, port }, 'rtp latched');
    }
    const now = this.clock.now();
    this.noteActivity(now);
    if (this.direction === 'recvonly' || this.direction === 'inactive') return this.drop('not-sending', address, port);
    this.packetsIn++;
    this.bytesIn += buf.length;
    this.rtcp.onRtp(pkt.ssrc, pkt.sequenceNumber, pkt.timestamp, codec.clockRate, now);
    this.handlers.rtp(this, pkt, now);
  }

  private onRtcpPacket(buf: Buffer, address: string, port: number): void {
    if (this.remote === undefined) return this.drop('not-negotiated', address, port);
    const latch = this.rtcpLatch;
    if (latch !== undefined && (latch.port !== port || latch.address !== address)) return this.drop('wrong-source', address, port);
    const parsed = parseRtcp(buf);
    if (parsed.packets.length === 0) return this.drop('bad-rtcp', address, port, parsed.error ?? parsed.skipped.join(','));
    if (parsed.error || parsed.skipped.length) this.log.debug({ error: parsed.error, skipped: parsed.skipped }, 'rtcp partly skipped');
    if (latch === undefined) {
      this.rtcpLatch = { address, port };
      this.log.info({ address, port }, 'rtcp latched');
    }
    const now = this.clock.now();
    this.noteActivity(now);
    this.rtcpIn++;
    this.rtcp.onRtcp(parsed.packets, now, buf.length);
    this.handlers.rtcp(this, parsed, now);
  }

  private drop(reason: DropReason, address: string, port: number, detail?: unknown): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    if (this.log.isLevelEnabled('debug')) {
      this.log.debug({ tag: 'rtp-drop', reason, detail, from: `${address}:${port}` }, 'packet dropped');
    }
  }

  private noteActivity(now: number): void {
    this.lastActivityMs = now;
    this.lastPacketMs = now;
    if (this.timedOut) {
      this.timedOut = false;
      if (this.publishes && this.timeoutTimer === undefined) this.armTimeout(this.mediaTimeoutMs);
    }
  }

  /** Wall-clock time (ms since the epoch) of the last accepted packet. */
  get lastPacketWallMs(): number | undefined {
    return this.lastPacketMs === undefined ? undefined : this.clock.wallNow() - (this.clock.now() - this.lastPacketMs);
  }

  // ── media timeout ────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * One timer per endpoint, re-armed for the remaining time instead of reset per packet (a packet only stores its
   * arrival time). Any accepted packet counts, RTCP included: a muted participant (recvonly) still sends RTCP.
   * An 'inactive' line expects nothing (hold, or parked while the participants talk peer to peer): no timeout.
   */
  private armTimeout(ms: number): void {
    this.timeoutTimer = this.clock.setTimer(Math.max(1, ms), () => {
      this.timeoutTimer = undefined;
      if (this.closed) return;
      const silent = this.clock.now() - this.lastActivityMs;
      if (this.direction === 'inactive') {
        this.armTimeout(this.mediaTimeoutMs);
      } else if (silent >= this.mediaTimeoutMs) {
        this.timedOut = true;
        this.log.info({ silentMs: Math.round(silent) }, 'media timeout');
        this.handlers.timeout(this, silent);
      } else {
        this.armTimeout(this.mediaTimeoutMs - silent);
      }
    });
  }

  // ── send ─────────────────────────────────────────────────────────────────────────────────────────────────────

  /** Where RTP goes: the latched source, else the SDP address (before the first packet). */
  rtpDestination(): Address | undefined {
    return this.rtpLatch ?? this.sdpRtp;
  }

  /** Send RTP to the participant if it takes media from us. Returns whether it went out. */
  sendRtp(buf: Uint8Array, payloadOctets: number, timestamp: number, nowMs: number): boolean {
    if (this.closed || !this.participantReceives) return false;
    const to = (this.rtpLatch ?? this.sdpRtp)!;
    this.ports.rtp.send(buf, to.port, to.address);
    this.packetsOut++;
    this.bytesOut += buf.length;
    this.outbound.sent(payloadOctets, timestamp, nowMs);
    return true;
  }

  /** Resend a packet already counted (NACK answered from the cache). */
  resendRtp(buf: Uint8Array): void {
    if (this.closed || !this.participantReceives) return;
    const to = this.rtpDestination()!;
    this.ports.rtp.send(buf, to.port, to.address);
    this.packetsOut++;
    this.bytesOut += buf.length;
  }

  /**
   * Send RTCP (also for sendonly/inactive lines: RFC 3264 §5.1 "RTCP is still sent"). With rtcp-mux it goes on the
   * RTP port (RFC 5761 §5.1.3).
   */
  sendRtcp(buf: Uint8Array): void {
    if (this.closed || !this.remote) return;
    const mux = this.remote.rtcpMux || this.ports.rtcp === undefined;
    const to = this.rtcpLatch ?? (mux ? this.rtpDestination()! : { address: this.remote.address, port: this.remote.rtcpPort });
    const socket = mux || !this.ports.rtcp ? this.ports.rtp : this.ports.rtcp;
    socket.send(buf, to.port, to.address);
    this.rtcpOut++;
  }

  // ── stats / teardown ─────────────────────────────────────────────────────────────────────────────────────────

  stats(): EndpointStats {
    const s: EndpointStats = {
      endpointId: this.id,
      participantId: this.participantId,
      kind: this.kind,
      codec: this.remote?.codecs[0]?.name,
      direction: this.direction,
      packetsIn: this.packetsIn,
      bytesIn: this.bytesIn,
      packetsOut: this.packetsOut,
      bytesOut: this.bytesOut,
      dropped: { ...this.dropped },
      packetsLost: this.rtcp.packetsLost,
      jitterMs: this.rtcp.jitterMs,
      rtcpIn: this.rtcpIn,
      rtcpOut: this.rtcpOut,
      localSsrc: this.localSsrc,
      ...(this.rtcp.rttMs === undefined ? {} : { rttMs: this.rtcp.rttMs }),
      ...(this.rtcp.remoteReception === undefined ? {} : { remoteReception: this.rtcp.remoteReception }),
      ...(this.rtcp.lastReportAt === undefined ? {} : { lastReportAt: this.rtcp.lastReportAt }),
      peerReportBlocks: this.rtcp.foreignBlocks,
      ...(this.lastPacketMs === undefined ? {} : { lastPacketAt: this.lastPacketWallMs }),
      ...(this.rtpLatch === undefined ? {} : { latchedTo: this.rtpLatch }),
    };
    return s;
  }

  /** Stop timers, close the sockets, return the ports (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timeoutTimer?.cancel();
    this.timeoutTimer = undefined;
    this.rtcp.stop();
    this.ports.release();
  }
}

/** StreamStats plus what tests and /metrics read. */
export interface EndpointStats extends StreamStats {
  readonly rtcpIn: number;
  readonly rtcpOut: number;
  /** Our SSRC on this leg (RFC 3550 §8.1). */
  readonly localSsrc: number;
  /** What the participant's report blocks say about our stream (RFC 3550 §6.4.1). */
  readonly remoteReception?: { readonly fractionLost: number; readonly cumulativeLost: number; readonly jitter: number };
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p > 0 && p <= 65535;
}
