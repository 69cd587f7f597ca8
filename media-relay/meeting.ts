/**
 * One meeting's media: its endpoints, its audio (AudioRouter → the audio pipeline) and its video (VideoRouter).
 * Isolation: endpoints are created with this meeting's handlers, so a packet accepted on an endpoint can only ever
 * reach this meeting's routers; nothing here looks up another meeting.
 */
import type { Clock } from '../registrar/sip/clock.ts';
import type { Logger } from '../registrar/log.ts';
import { RelayError, type Direction, type MeetingMediaStats, type RelayEvent, type RemoteDescription } from './api.ts';
import { AudioRouter } from './audio-link/audio-router.ts';
import type { AudioDriverFactory } from './audio-link/driver.ts';
import type { Endpoint, EndpointHandlers, EndpointStats } from './endpoint.ts';
import { audioCodecName } from '../media/codec/create-codec.ts';
import { isForwardableVideo } from '../media/video/keyframe.ts';
import { VideoRouter, type VideoRouterStats } from './forward/video-router.ts';

export class Meeting {
  readonly endpoints = new Map<string, Endpoint>();
  readonly video: VideoRouter;
  readonly audio: AudioRouter;
  readonly handlers: EndpointHandlers;
  /** RFC 3550 §6.5.1 CNAME of the relay in this meeting (RFC 7022: random per session). */
  readonly cname: string;
  private activeSpeaker: string | undefined;

  constructor(
    readonly id: string,
    cname: string,
    clock: Clock,
    logger: Logger,
    audioFactory: AudioDriverFactory,
    private readonly emit: (ev: RelayEvent) => void,
  ) {
    this.cname = cname;
    this.video = new VideoRouter(id, clock, logger);
    this.audio = new AudioRouter(
      id,
      audioFactory,
      {
        activeSpeaker: (p) => {
          this.activeSpeaker = p;
          this.video.setActiveSpeaker(p);
          this.emit({ type: 'active-speaker', meetingId: id, participantId: p });
        },
        dtmf: (p, digit) => this.emit({ type: 'dtmf', meetingId: id, participantId: p, digit }),
      },
      logger,
    );
    this.handlers = {
      rtp: (ep, pkt, now) => {
        if (ep.kind === 'audio') this.audio.onRtp(ep, pkt, now);
        else this.video.onRtp(ep, pkt, now);
      },
      rtcp: (ep, rtcp) => {
        if (ep.kind === 'video') this.video.onRtcp(ep, rtcp);
      },
      timeout: (ep, silentMs) =>
        this.emit({ type: 'media-timeout', meetingId: id, participantId: ep.participantId, endpointId: ep.id, silentMs: Math.round(silentMs) }),
    };
  }

  get currentSpeaker(): string | undefined {
    return this.activeSpeaker;
  }

  add(ep: Endpoint): void {
    this.endpoints.set(ep.id, ep);
    if (ep.kind === 'video') this.video.addEndpoint(ep);
  }

  /** Throws RelayError('unsupported-codec') when no negotiated codec is one the relay can mix or forward. */
  setRemote(ep: Endpoint, remote: RemoteDescription): void {
    const codecs = Array.isArray(remote.codecs) ? remote.codecs : [];
    const usable = ep.kind === 'audio' ? codecs.some((c) => audioCodecName(c) !== undefined) : codecs.some((c) => isForwardableVideo(c.name));
    if (codecs.length > 0 && !usable) {
      throw new RelayError('unsupported-codec', `no ${ep.kind} codec the relay handles in ${codecs.map((c) => c.name).join(', ')}`);
    }
    ep.setRemote(remote);
    this.changed(ep);
  }

  setDirection(ep: Endpoint, direction: Direction): void {
    ep.setDirection(direction);
    this.changed(ep);
  }

  private changed(ep: Endpoint): void {
    if (ep.kind === 'audio') this.audio.endpointChanged(ep);
    else this.video.endpointChanged(ep);
  }

  remove(ep: Endpoint): void {
    if (!this.endpoints.delete(ep.id)) return;
    if (ep.kind === 'audio') this.audio.removeEndpoint(ep);
    else this.video.removeEndpoint(ep);
    ep.close();
  }

  stats(): MeetingMediaStats & { readonly streams: readonly EndpointStats[]; readonly video: VideoRouterStats; readonly activeSpeaker: string | undefined } {
    const streams = [...this.endpoints.values()].map((e) => e.stats());
    return {
      meetingId: this.id,
      streams,
      packetsIn: streams.reduce((n, s) => n + s.packetsIn, 0),
      packetsOut: streams.reduce((n, s) => n + s.packetsOut, 0),
      video: this.video.stats(),
      activeSpeaker: this.activeSpeaker,
    };
  }

  close(): void {
    for (const ep of [...this.endpoints.values()]) this.remove(ep);
    this.audio.close();
    this.video.close();
  }
}
