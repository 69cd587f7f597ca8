/**
 * The relay core's side of one meeting's audio: RTP in from each audio endpoint to the audio pipeline, mixed frames
 * out as RTP to each listener. The relay is an RFC 3550 §7.3 mixer: each listener's stream has the relay's own SSRC
 * for that leg, sequence numbers +1 per packet and timestamps advancing by the frame's samples (kept running across
 * frames not sent, §5.1), and the relay sends SRs for it and RRs for each input (media/rtcp/session.ts).
 * Deviation: no CSRC list (§7.3 makes it optional; the mix may contain everyone but the listener).
 */
import type { Logger } from '../../registrar/log.ts';
import type { AudioLegConfig, AudioOut } from '../audio/types.ts';
import type { Endpoint } from '../endpoint.ts';
import { buildRtp, type RtpPacket } from '../../media/rtp/packet.ts';
import { readAudioLevel } from '../../media/rtp/audio-level.ts';
import type { AudioDriver, AudioDriverFactory } from './driver.ts';

interface Leg {
  readonly ep: Endpoint;
  /** Tick of the last frame sent (-1: none yet). */
  lastTick: number;
  /** Marker on the first packet of the stream (RFC 3551 §4.1 talkspurt start). */
  first: boolean;
}

export interface AudioRouterEvents {
  activeSpeaker(participantId: string | undefined): void;
  dtmf(participantId: string, digit: string): void;
}

export class AudioRouter {
  private readonly legs = new Map<string, Leg>();
  private readonly driver: AudioDriver;
  private readonly log: Logger;
  framesSent = 0;

  constructor(meetingId: string, factory: AudioDriverFactory, events: AudioRouterEvents, logger: Logger) {
    this.log = logger.child({ component: 'audio-router', meeting: meetingId });
    this.driver = factory(meetingId, {
      frames: (outs, tick, now) => this.onFrames(outs, tick, now),
      activeSpeaker: (p) => events.activeSpeaker(p),
      dtmf: (p, d) => events.dtmf(p, d),
    });
  }

  private legConfig(ep: Endpoint): AudioLegConfig {
    const remote = ep.remote!;
    return {
      participantId: ep.participantId,
      codecs: remote.codecs,
      ...(remote.telephoneEvent ? { telephoneEventPt: remote.telephoneEvent.payloadType } : {}),
      sending: ep.participantSends,
      receiving: ep.participantReceives,
    };
  }

  /** setRemote or setDirection on an audio endpoint: add the leg once negotiated, else update it. */
  endpointChanged(ep: Endpoint): void {
    if (ep.remote === undefined) return;
    const leg = this.legs.get(ep.participantId);
    if (leg && leg.ep === ep) {
      this.driver.updateLeg(this.legConfig(ep));
      return;
    }
    if (leg) this.driver.removeLeg(ep.participantId); // a second audio line replaces the first
    this.legs.set(ep.participantId, { ep, lastTick: -1, first: true });
    this.driver.addLeg(this.legConfig(ep));
    this.log.debug({ participant: ep.participantId, codec: ep.remote.codecs[0]?.name }, 'audio leg added');
  }

  removeEndpoint(ep: Endpoint): void {
    const leg = this.legs.get(ep.participantId);
    if (!leg || leg.ep !== ep) return;
    this.legs.delete(ep.participantId);
    this.driver.removeLeg(ep.participantId);
  }

  onRtp(ep: Endpoint, pkt: RtpPacket, nowMs: number): void {
    if (this.legs.get(ep.participantId)?.ep !== ep) return;
    // RFC 6464: the level rides to the mixer with the packet (absent or malformed: undefined, the leg is decoded).
    const extId = ep.remote?.audioLevelExtId;
    if (extId !== undefined) pkt.audioLevel = readAudioLevel(pkt.extensionProfile, pkt.extensionData, extId);
    this.driver.push(ep.participantId, pkt, nowMs);
  }

  private onFrames(outs: readonly AudioOut[], tick: number, nowMs: number): void {
    for (const out of outs) {
      const leg = this.legs.get(out.participantId);
      if (leg === undefined) continue;
      const ep = leg.ep;
      const stream = ep.outbound;
      // §5.1: the timestamp follows the sampling clock; frames not sent (listener muted us, DTX) still advance it.
      if (leg.lastTick >= 0 && tick - leg.lastTick > 1) stream.skipSamples((tick - leg.lastTick - 1) * out.samples);
      leg.lastTick = tick;
      if (!ep.participantReceives) {
        stream.skipSamples(out.samples);
        continue;
      }
      const { seq, timestamp } = stream.takeFrame(out.samples);
      const pkt = buildRtp(
        { payloadType: out.payloadType, sequenceNumber: seq, timestamp, ssrc: ep.localSsrc, marker: out.marker || leg.first },
        out.payload,
      );
      leg.first = false;
      ep.sendRtp(pkt, out.payload.length, timestamp, nowMs);
      this.framesSent++;
    }
  }

  close(): void {
    this.driver.close();
    this.legs.clear();
  }
}
