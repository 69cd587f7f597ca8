/**
 * The types the shared media stages (media/: codecs, jitter buffer, RTP, RTCP) take from their callers — the media
 * relay (media-relay/) and the softclient (softclient/media/). They live here, not in either caller, so that nothing
 * under media/ imports from media-relay/ or softclient/; media-relay/api.ts and media-relay/audio/types.ts
 * re-export them, so the relay's public API is unchanged.
 */

/** One negotiated payload format, as both sides agreed in SDP (payload type numbers are per leg). */
export interface CodecSpec {
  readonly payloadType: number;
  /** Lowercase encoding name: 'opus', 'pcmu', 'pcma', 'g722', 'vp8', 'h264', 'telephone-event'. */
  readonly name: string;
  readonly clockRate: number;
  readonly channels?: number;
  readonly fmtp?: string;
  /**
   * Negotiated RFC 4585 §4.2 a=rtcp-fb values for this PT (wildcard ones included), as "type param" strings:
   * 'nack', 'nack pli', 'ccm fir'. Video: the relay asks for keyframes with PLI, or FIR (RFC 5104) when only
   * 'ccm fir' was negotiated; absent means PLI.
   */
  readonly rtcpFb?: readonly string[];
}

/** A parsed RTP packet's fields the audio stages need (RFC 3550 §5.1). `payload` is a view, copied if kept. */
export interface RtpIn {
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly marker: boolean;
  readonly payload: Uint8Array;
  /**
   * RFC 6464 client-to-mixer audio level of this packet in −dBov (0 loudest … 127 silence), when the leg negotiated
   * the extension and the packet carries it (media/rtp/audio-level.ts). The mixer skips decoding quiet legs by it.
   */
  readonly audioLevel?: number | undefined;
}
