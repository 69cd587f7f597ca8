/**
 * The in-process media relay: `MediaRelayApi` (api.ts) over real UDP sockets.
 *
 *   createMediaRelay ─▶ MediaRelay ─┬─ PortAllocator (ports.ts)            RTP/RTCP pairs from --rtp-ports
 *                                   └─ Meeting (meeting.ts) per meeting ─┬─ Endpoint (endpoint.ts) per media line
 *                                                                        ├─ AudioRouter → audio pipeline (worker/inline)
 *                                                                        └─ VideoRouter (forward/)
 *
 * Teardown cascade (each step idempotent): close() → every meeting → every endpoint (timers stopped, sockets
 * closed, ports returned) → the meeting's audio pipeline and video router. After close() every command rejects
 * with RelayError('closed').
 */
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../registrar/sip/clock.ts';
import type { Logger } from '../registrar/log.ts';
import {
  RelayError,
  type AllocateEndpointRequest, type Direction, type EndpointAllocation, type MediaRelayApi, type MeetingMediaStats,
  type RelayEvent, type RemoteDescription,
} from './api.ts';
import type { MeetingAudioStats } from './audio/types.ts';
import { AudioWorkerHost } from './audio/worker-host.ts';
import type { AudioDriverFactory } from './audio-link/driver.ts';
import { hostDriverFactory } from './audio-link/host-driver.ts';
import { Endpoint, type EndpointStats } from './endpoint.ts';
import type { VideoRouterStats } from './forward/video-router.ts';
import { Meeting } from './meeting.ts';
import { PortAllocator } from './ports.ts';
import { randomSsrc } from '../media/rtp/outbound.ts';

export const DEFAULT_MEDIA_TIMEOUT_MS = 30_000;

export interface MediaRelayOptions {
  /** Address the sockets bind to. */
  readonly host: string;
  /** Address put in SDP (c=), e.g. the public address when binding 0.0.0.0. */
  readonly advertise: string;
  readonly portRange: { readonly min: number; readonly max: number };
  readonly clock?: Clock;
  readonly logger: Logger;
  /**
   * Where audio is mixed: 'worker' (default) — worker threads, meetings spread over the cores, off the SIP event
   * loop, on the real monotonic clock; 'inline' — on this thread, on the injected clock (tests, tiny servers).
   */
  readonly audio?: 'worker' | 'inline';
  /** Worker threads for 'worker' mode (default: defaultAudioWorkers() — one per core up to 2, then cores − 1). */
  readonly audioWorkers?: number;
  /** No packet for this long on a publishing line → 'media-timeout' (default 30 s). */
  readonly mediaTimeoutMs?: number;
  /** RFC 3550 §6.2 minimum RTCP interval in seconds (default 5). */
  readonly rtcpMinIntervalS?: number;
  /** Replace the audio pipeline altogether (tests and benchmarks that are not about audio). */
  readonly audioDriver?: AudioDriverFactory;
}

/** Extras beyond MediaRelayApi for tests, /metrics and benchmarks. */
export interface MediaRelay extends MediaRelayApi {
  /** One endpoint's stats, synchronously (undefined when unknown). */
  endpointStats(endpointId: string): EndpointStats | undefined;
  videoStats(meetingId: string): VideoRouterStats | undefined;
  /** The audio pipeline's stats for the meeting (levels, concealment, jitter buffer depth). */
  audioStats(meetingId: string): Promise<MeetingAudioStats | undefined>;
  /** The meeting's current active speaker as the audio pipeline reported it. */
  activeSpeaker(meetingId: string): string | undefined;
  /** Send an endpoint's RTCP report now (instead of waiting for the RFC 3550 §6.3 interval). */
  sendRtcpReport(endpointId: string): void;
  /** Totals over all meetings (for /metrics). */
  totals(): { meetings: number; endpoints: number; portsInUse: number; portCapacity: number; packetsIn: number; packetsOut: number; dropped: number };
}

export async function createMediaRelay(opts: MediaRelayOptions): Promise<MediaRelay> {
  return new RelayImpl(opts);
}

class RelayImpl implements MediaRelay {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly ports: PortAllocator;
  private readonly meetings = new Map<string, Meeting>();
  private readonly endpoints = new Map<string, { ep: Endpoint; meeting: Meeting }>();
  private readonly ssrcs = new Set<number>();
  private readonly handlers: Array<(ev: RelayEvent) => void> = [];
  private readonly audioFactory: AudioDriverFactory;
  private readonly audioHost: AudioWorkerHost | undefined;
  private nextId = 1;
  private closed = false;
  private readonly idPrefix = randomBytes(3).toString('hex');

  constructor(private readonly opts: MediaRelayOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger.child({ component: 'media-relay' });
    this.ports = new PortAllocator(opts.host, opts.portRange, opts.logger);
    if (opts.audioDriver) {
      this.audioFactory = opts.audioDriver;
    } else {
      this.audioHost =
        opts.audio === 'inline'
          ? new AudioWorkerHost({ logger: opts.logger, inline: true, clock: this.clock })
          : new AudioWorkerHost({ logger: opts.logger, ...(opts.audioWorkers === undefined ? {} : { workers: opts.audioWorkers }) });
      this.audioFactory = hostDriverFactory(this.audioHost);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new RelayError('closed', 'media relay is closed');
  }

  private lookup(endpointId: string): { ep: Endpoint; meeting: Meeting } {
    const e = this.endpoints.get(endpointId);
    if (!e) throw new RelayError('unknown-endpoint', `no endpoint ${endpointId}`);
    return e;
  }

  private emit(ev: RelayEvent): void {
    for (const h of this.handlers) {
      try {
        h(ev);
      } catch (err) {
        this.log.error({ err: (err as Error).message, event: ev.type }, 'relay event handler threw');
      }
    }
  }

  async allocateEndpoint(req: AllocateEndpointRequest): Promise<EndpointAllocation> {
    this.checkOpen();
    if (typeof req.meetingId !== 'string' || req.meetingId === '' || typeof req.participantId !== 'string' || req.participantId === '') {
      throw new RelayError('bad-request', 'meetingId and participantId are required');
    }
    if (req.kind !== 'audio' && req.kind !== 'video') throw new RelayError('bad-request', `bad kind ${String(req.kind)}`);
    const role = req.kind === 'video' ? req.videoRole ?? 'main' : undefined;
    if (role !== undefined && role !== 'main' && (typeof role !== 'object' || typeof role.subscribeTo !== 'string')) {
      throw new RelayError('bad-request', 'bad videoRole');
    }
    const pair = await this.ports.allocate(req.rtcpMux, req.kind);
    if (this.closed) {
      pair.release();
      throw new RelayError('closed', 'media relay is closed');
    }
    let meeting = this.meetings.get(req.meetingId);
    if (!meeting) {
      const cname = `sipmeet-${randomBytes(6).toString('hex')}@${this.opts.advertise}`;
      meeting = new Meeting(req.meetingId, cname, this.clock, this.opts.logger, this.audioFactory, (ev) => this.emit(ev));
      this.meetings.set(req.meetingId, meeting);
    }
    const localSsrc = randomSsrc(this.ssrcs);
    this.ssrcs.add(localSsrc);
    const id = `ep-${this.idPrefix}-${this.nextId++}`;
    const ep = new Endpoint({
      id,
      meetingId: req.meetingId,
      participantId: req.participantId,
      kind: req.kind,
      videoRole: role,
      ports: pair,
      clock: this.clock,
      logger: this.opts.logger,
      localSsrc,
      cname: meeting.cname,
      mediaTimeoutMs: this.opts.mediaTimeoutMs ?? DEFAULT_MEDIA_TIMEOUT_MS,
      ...(this.opts.rtcpMinIntervalS === undefined ? {} : { rtcpMinIntervalS: this.opts.rtcpMinIntervalS }),
      handlers: meeting.handlers,
    });
    meeting.add(ep);
    this.endpoints.set(id, { ep, meeting });
    this.log.info({ endpoint: id, meeting: req.meetingId, participant: req.participantId, kind: req.kind, rtpPort: pair.rtpPort }, 'endpoint allocated');
    return { endpointId: id, address: this.opts.advertise, rtpPort: pair.rtpPort, rtcpPort: pair.rtcpPort };
  }

  async setRemote(endpointId: string, remote: RemoteDescription): Promise<void> {
    this.checkOpen();
    const { ep, meeting } = this.lookup(endpointId);
    meeting.setRemote(ep, remote);
  }

  async setDirection(endpointId: string, direction: Direction): Promise<void> {
    this.checkOpen();
    if (!['sendrecv', 'sendonly', 'recvonly', 'inactive'].includes(direction)) throw new RelayError('bad-request', `bad direction ${direction}`);
    const { ep, meeting } = this.lookup(endpointId);
    meeting.setDirection(ep, direction);
  }

  async releaseEndpoint(endpointId: string): Promise<void> {
    this.checkOpen();
    const e = this.endpoints.get(endpointId);
    if (!e) return; // idempotent: released twice is fine
    this.releaseOne(e.ep, e.meeting);
  }

  /** Packets of endpoints already released, so `totals()` only ever grows (a Prometheus counter). */
  private retired = { packetsIn: 0, packetsOut: 0, dropped: 0 };

  private retire(ep: Endpoint): void {
    this.retired.packetsIn += ep.packetsIn;
    this.retired.packetsOut += ep.packetsOut;
    for (const n of Object.values(ep.dropped)) this.retired.dropped += n;
  }

  private releaseOne(ep: Endpoint, meeting: Meeting): void {
    this.retire(ep);
    this.endpoints.delete(ep.id);
    this.ssrcs.delete(ep.localSsrc);
    meeting.remove(ep);
    if (meeting.endpoints.size === 0) {
      meeting.close();
      this.meetings.delete(meeting.id);
    }
    this.log.info({ endpoint: ep.id, meeting: meeting.id }, 'endpoint released');
  }

  async releaseMeeting(meetingId: string): Promise<void> {
    this.checkOpen();
    const meeting = this.meetings.get(meetingId);
    if (!meeting) return;
    for (const ep of [...meeting.endpoints.values()]) {
      this.retire(ep);
      this.endpoints.delete(ep.id);
      this.ssrcs.delete(ep.localSsrc);
    }
    meeting.close();
    this.meetings.delete(meetingId);
    this.log.info({ meeting: meetingId }, 'meeting released');
  }

  async stats(meetingId: string): Promise<MeetingMediaStats> {
    this.checkOpen();
    const meeting = this.meetings.get(meetingId);
    if (!meeting) return { meetingId, streams: [], packetsIn: 0, packetsOut: 0 };
    return meeting.stats();
  }

  onEvent(handler: (ev: RelayEvent) => void): void {
    this.handlers.push(handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const m of this.meetings.values()) m.close();
    this.meetings.clear();
    this.endpoints.clear();
    this.ssrcs.clear();
    await this.audioHost?.close();
    this.log.info('media relay closed');
  }

  endpointStats(endpointId: string): EndpointStats | undefined {
    return this.endpoints.get(endpointId)?.ep.stats();
  }

  videoStats(meetingId: string): VideoRouterStats | undefined {
    return this.meetings.get(meetingId)?.video.stats();
  }

  audioStats(meetingId: string): Promise<MeetingAudioStats | undefined> {
    return this.audioHost?.stats(meetingId) ?? Promise.resolve(undefined);
  }

  activeSpeaker(meetingId: string): string | undefined {
    return this.meetings.get(meetingId)?.currentSpeaker;
  }

  sendRtcpReport(endpointId: string): void {
    this.lookup(endpointId).ep.rtcp.sendReport();
  }

  async mediaTotals(): Promise<{ packetsIn: number; packetsOut: number; dropped: number }> {
    const t = this.totals();
    return { packetsIn: t.packetsIn, packetsOut: t.packetsOut, dropped: t.dropped };
  }

  totals(): ReturnType<MediaRelay['totals']> {
    let { packetsIn, packetsOut, dropped } = this.retired;
    for (const { ep } of this.endpoints.values()) {
      packetsIn += ep.packetsIn;
      packetsOut += ep.packetsOut;
      for (const n of Object.values(ep.dropped)) dropped += n;
    }
    return {
      meetings: this.meetings.size,
      endpoints: this.endpoints.size,
      portsInUse: this.ports.allocated,
      portCapacity: this.ports.capacity,
      packetsIn,
      packetsOut,
      dropped,
    };
  }
}
