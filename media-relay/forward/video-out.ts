/**
 * One receiver leg's outgoing video stream: a 'subscribe' line fixed to one publisher, or a single-video 'main'
 * line that follows the active speaker. Holds the rewriter that makes it one continuous stream.
 */
import { randomInt } from 'node:crypto';
import type { Endpoint } from '../endpoint.ts';
import { StreamRewriter } from '../../media/video/rewriter.ts';

export type VideoOutMode =
  | { readonly kind: 'fixed'; readonly publisher: string }
  /** Follows the active speaker — only while the participant has no subscribe lines (a phone). */
  | { readonly kind: 'speaker' };

export class VideoOut {
  readonly rewriter: StreamRewriter;
  /** Packets dropped because this leg did not negotiate the publisher's codec. */
  codecMismatch = 0;

  constructor(readonly endpoint: Endpoint, readonly mode: VideoOutMode) {
    this.rewriter = new StreamRewriter(randomInt(0, 0x10000), randomInt(0, 0xffffffff), 90000);
  }

  /** The PT this leg negotiated for the codec (RFC 3551 §6: per leg), or undefined. */
  payloadTypeFor(codecName: string): number | undefined {
    const codecs = this.endpoint.remote?.codecs;
    if (codecs === undefined) return undefined;
    for (let i = 0; i < codecs.length; i++) if (codecs[i]!.name === codecName) return codecs[i]!.payloadType;
    return undefined;
  }
}
