/**
 * Rewrites forwarded video into ONE continuous outgoing RTP stream per receiver leg: our SSRC, sequence numbers
 * that go up by one across source switches, timestamps that keep advancing with wall time across them.
 *
 * RFC 3550 §7.2 lets a translator change SSRC/sequence/timestamp if it does so consistently; §5.1 asks the
 * receiver-visible sequence to increase by one per packet. So each source segment gets offsets:
 *
 *     out_seq = (src_seq + seqOffset) mod 2^16        out_ts = (src_ts + tsOffset) mod 2^32
 *
 * chosen at the segment's first packet so that out_seq = last_out_seq + 1 and out_ts = last_out_ts + the wall time
 * since the last packet sent (in 90 kHz units, at least 1).
 *
 * A switch (new active speaker, a receiver's first source, a publisher's new SSRC after a re-INVITE) only happens
 * at a keyframe of the new source: until then the old source keeps flowing (no black frames, no decoder garbage),
 * and the caller is told a keyframe is needed.
 *
 *      want(B)            first keyframe packet of B
 *   A ─────────▶ A (B pending) ─────────────────────────▶ B
 *   (A's packets forwarded; B's dropped until its keyframe)
 *
 * Within a segment, a source sequence jump beyond RFC 3550 A.1's MAX_DROPOUT / MAX_MISORDER (a sender restarting
 * its numbering under the same SSRC) re-bases the segment once the next packet confirms it.
 *
 * Pure: no sockets or timers; `nowMs` comes from the caller's injected clock.
 */
import { seqDiff } from '../jitter/serial.ts';

interface Segment {
  readonly sourceId: string;
  readonly ssrc: number;
  /**
   * Extended (never wrapping) output sequence number of the segment's first packet. Extended numbers keep the
   * RFC 1982 comparisons valid for streams longer than 2^15 packets (a 16-bit "is it older" test would flip after
   * 32768 packets — at 20k packets/s, within two seconds).
   */
  readonly startOutExt: number;
  readonly seqOffset: number;
  readonly tsOffset: number;
}

/** Where a past output sequence number came from (NACK mapping). */
export interface SourcePosition {
  readonly sourceId: string;
  readonly ssrc: number;
  readonly seq: number;
  readonly seqOffset: number;
  readonly tsOffset: number;
}

export type RewriteVerdict = 'forward' | 'drop' | 'need-keyframe';

/** How many past segments are kept for NACK mapping. */
const MAX_SEGMENTS = 8;
/** RFC 3550 A.1: the largest forward and backward sequence jumps still taken as loss / reordering. */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

export class StreamRewriter {
  /** Set by `rewrite` when the verdict is 'forward'. */
  outSeq = 0;
  outTs = 0;
  /** True when the last 'forward' started a new segment (a switch happened). */
  switched = false;
  /** Switches done (for stats). */
  switches = 0;

  private target: string | undefined;
  private current: Segment | undefined;
  private readonly segments: Segment[] = [];
  private lastOutSeq: number;
  /** Extended form of lastOutSeq (starts at 0 = "one before the first packet"). */
  private lastOutExt = 0;
  private lastOutTs: number;
  private lastOutAtMs: number | undefined;
  /** RFC 3550 A.1 bad_seq: after a large jump, the source sequence number that confirms it (the next one). */
  private probation: number | undefined;

  /**
   * @param initialSeq first output sequence number (RFC 3550 §5.1: random)
   * @param initialTs first output timestamp (random)
   */
  constructor(initialSeq: number, initialTs: number, private readonly clockRate = 90000) {
    this.lastOutSeq = (initialSeq - 1) & 0xffff;
    this.lastOutTs = initialTs >>> 0;
  }

  /** The source this stream should show (undefined: none). */
  want(sourceId: string | undefined): void {
    this.target = sourceId;
  }

  get wanted(): string | undefined {
    return this.target;
  }

  /** The source currently flowing out, if any. */
  get currentSource(): string | undefined {
    return this.current?.sourceId;
  }

  get waitingForKeyframe(): boolean {
    return this.target !== undefined && this.current?.sourceId !== this.target;
  }

  /** Stop forwarding the current source (camera off); the next packet of the wanted source must be a keyframe. */
  detach(): void {
    this.current = undefined;
  }

  /**
   * Decide on one packet of `sourceId` and, on 'forward', set outSeq/outTs. 'need-keyframe': the packet is from the
   * wanted source but cannot start a segment (not a keyframe start) — the caller should ask for one.
   */
  rewrite(sourceId: string, ssrc: number, seq: number, ts: number, keyframeStart: boolean, nowMs: number): RewriteVerdict {
    this.switched = false;
    const cur = this.current;
    if (cur !== undefined && cur.sourceId === sourceId && cur.ssrc === ssrc) {
      const outSeq = (seq + cur.seqOffset) & 0xffff;
      const d = seqDiff(this.lastOutSeq, outSeq);
      if (d > MAX_DROPOUT || d < -MAX_MISORDER) {
        // RFC 3550 A.1: after a jump this large, "if the next packet received has the next higher sequence number,
        // it is considered the valid start of a new packet sequence presumably caused by an extended dropout or a
        // sender restart" (same SSRC); a lone packet is dropped as stray. Confirmed, the segment is re-based so the
        // output continues by one. (Without this a backward jump froze the receiver's video until the numbers
        // wrapped round.)
        if (seq !== this.probation) {
          this.probation = (seq + 1) & 0xffff;
          return 'drop';
        }
        this.probation = undefined;
        this.startSegment(sourceId, ssrc, seq, ts, nowMs, false);
        return 'forward';
      }
      this.probation = undefined;
      // Same segment. A packet older than the segment's first one (reordered across the switch) would collide with
      // the previous segment's output numbers: drop it.
      const ext = this.lastOutExt + d;
      if (ext < cur.startOutExt) return 'drop';
      this.emit(outSeq, ext, (ts + cur.tsOffset) >>> 0, nowMs);
      return 'forward';
    }
    if (sourceId !== this.target) return 'drop';
    if (!keyframeStart) return 'need-keyframe';
    this.startSegment(sourceId, ssrc, seq, ts, nowMs, true);
    return 'forward';
  }

  /**
   * Start a segment at this packet, continuing the output numbering (RFC 3550 §5.1 continuity across the switch):
   * a switch to a new source (or SSRC) at its keyframe, or a re-base of the same source after a sequence jump.
   */
  private startSegment(sourceId: string, ssrc: number, seq: number, ts: number, nowMs: number, isSwitch: boolean): void {
    const outSeq = (this.lastOutSeq + 1) & 0xffff;
    const elapsed = this.lastOutAtMs === undefined ? 0 : nowMs - this.lastOutAtMs;
    const outTs = (this.lastOutTs + Math.max(1, Math.round((elapsed * this.clockRate) / 1000))) >>> 0;
    const seg: Segment = {
      sourceId,
      ssrc,
      startOutExt: this.lastOutExt + 1,
      seqOffset: (outSeq - seq) & 0xffff,
      tsOffset: (outTs - ts) >>> 0,
    };
    this.current = seg;
    this.segments.push(seg);
    if (this.segments.length > MAX_SEGMENTS) this.segments.shift();
    this.switched = isSwitch;
    if (isSwitch) this.switches++;
    this.emit(outSeq, seg.startOutExt, outTs, nowMs);
  }

  private emit(outSeq: number, ext: number, outTs: number, nowMs: number): void {
    this.outSeq = outSeq;
    this.outTs = outTs;
    if (ext > this.lastOutExt) {
      this.lastOutSeq = outSeq;
      this.lastOutExt = ext;
      this.lastOutTs = outTs;
      this.lastOutAtMs = nowMs;
    }
  }

  /** Map an output sequence number back to its source packet (for NACK), if it is from a remembered segment. */
  toSource(outSeq: number): SourcePosition | undefined {
    const behind = seqDiff(outSeq, this.lastOutSeq);
    if (behind < 0) return undefined; // never sent
    const ext = this.lastOutExt - behind;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i]!;
      if (ext >= s.startOutExt) {
        return { sourceId: s.sourceId, ssrc: s.ssrc, seq: (outSeq - s.seqOffset) & 0xffff, seqOffset: s.seqOffset, tsOffset: s.tsOffset };
      }
    }
    return undefined;
  }

  /** The output timestamp for a source timestamp of the current segment (translating an SR, RFC 3550 §7.2). */
  translateTimestamp(sourceId: string, ssrc: number, ts: number): number | undefined {
    const cur = this.current;
    if (cur === undefined || cur.sourceId !== sourceId || cur.ssrc !== ssrc) return undefined;
    return (ts + cur.tsOffset) >>> 0;
  }
}
