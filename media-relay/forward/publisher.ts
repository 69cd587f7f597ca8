/**
 * One participant's published camera (its 'main' video endpoint): the SSRC it sends, the retransmission cache,
 * keyframe requests toward it, and the receiver streams interested in it.
 */
import type { Clock } from '../../registrar/sip/clock.ts';
import type { Endpoint } from '../endpoint.ts';
import { writeFir, writeNack, writePli } from '../../media/rtcp/feedback.ts';
import { KeyframeRequester } from './keyframe-requester.ts';
import { keyframeDetector, type KeyframeDetector } from '../../media/video/keyframe.ts';
import { RetransmitCache } from './retransmit-cache.ts';
import type { VideoOut } from './video-out.ts';

/** An upstream NACK for the same sequence number is not repeated within this window (RFC 4585 §3.5 spirit). */
const UPSTREAM_NACK_HOLD_MS = 200;

export class Publisher {
  /** Latest SSRC heard from the publisher (RFC 3550 §8: it may change, e.g. after a re-INVITE). */
  ssrc: number | undefined;
  readonly cache = new RetransmitCache();
  readonly keyframes: KeyframeRequester;
  /** Receiver streams showing or waiting for this publisher (kept in an array for the hot loop). */
  outs: VideoOut[] = [];
  keyframesSeen = 0;
  pliSent = 0;
  firSent = 0;
  nacksForwarded = 0;
  private firSeq = 0;
  private detectors: Array<KeyframeDetector | undefined> = new Array(128);
  private codecNames: Array<string | undefined> = new Array(128);
  private readonly nackedAt = new Map<number, number>();

  constructor(readonly participantId: string, readonly endpoint: Endpoint, private readonly clock: Clock) {
    this.keyframes = new KeyframeRequester(clock, (repeat) => this.sendKeyframeRequest(repeat));
    this.refreshCodecs();
  }

  /** Camera on: the participant sends video (RFC 3264 direction from its side). */
  get cameraOn(): boolean {
    return this.endpoint.participantSends;
  }

  /** Rebuild the PT tables after setRemote (PTs are per leg, RFC 3551 §6). */
  refreshCodecs(): void {
    this.detectors = new Array(128);
    this.codecNames = new Array(128);
    for (const c of this.endpoint.remote?.codecs ?? []) {
      this.detectors[c.payloadType] = keyframeDetector(c.name);
      this.codecNames[c.payloadType] = c.name;
    }
  }

  detectorFor(pt: number): KeyframeDetector | undefined {
    return this.detectors[pt];
  }

  codecNameFor(pt: number): string | undefined {
    return this.codecNames[pt];
  }

  /**
   * PLI (RFC 4585 §6.3.1), or FIR (RFC 5104 §4.3.1) when the publisher negotiated 'ccm fir' but not 'nack pli'.
   * Sender SSRC: ours on this leg; media SSRC: the publisher's.
   */
  private sendKeyframeRequest(repeat: boolean): boolean {
    const ssrc = this.ssrc;
    if (ssrc === undefined || !this.endpoint.remote || this.endpoint.isClosed) return false;
    const fb = this.endpoint.remote.codecs[0]?.rtcpFb;
    const useFir = fb !== undefined && fb.includes('ccm fir') && !fb.includes('nack pli');
    if (useFir) {
      if (!repeat) this.firSeq = (this.firSeq + 1) & 0xff;
      this.endpoint.sendRtcp(writeFir(this.endpoint.localSsrc, [{ ssrc, seqNr: this.firSeq }]));
      this.firSent++;
    } else {
      this.endpoint.sendRtcp(writePli(this.endpoint.localSsrc, ssrc));
      this.pliSent++;
    }
    return true;
  }

  /** Forward a receiver's NACK upstream for packets the cache does not hold (source sequence numbers). */
  forwardNack(ssrc: number, seqs: readonly number[]): void {
    const now = this.clock.now();
    if (this.nackedAt.size > 1024) {
      for (const [s, t] of this.nackedAt) if (now - t > UPSTREAM_NACK_HOLD_MS) this.nackedAt.delete(s);
    }
    const fresh = seqs.filter((s) => {
      const t = this.nackedAt.get(s);
      return t === undefined || now - t > UPSTREAM_NACK_HOLD_MS;
    });
    if (fresh.length === 0) return;
    for (const s of fresh) this.nackedAt.set(s, now);
    fresh.sort((a, b) => ((a - fresh[0]!) & 0xffff) - ((b - fresh[0]!) & 0xffff));
    this.endpoint.sendRtcp(writeNack(this.endpoint.localSsrc, ssrc, fresh));
    this.nacksForwarded++;
  }

  close(): void {
    this.keyframes.close();
    this.cache.clear();
    this.outs = [];
  }
}
