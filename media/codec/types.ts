/**
 * The audio codec interface the mixer uses: one instance per direction-independent codec state (an input leg
 * decodes with its own instance; every output stream encodes with its own instance).
 *
 * PCM is mono, 16-bit, at the codec's own `sampleRate` (8000 for G.711, 16000 for G.722, 48000 for Opus);
 * resampling to the 48 kHz mix bus is the mixer's job.
 */
export type AudioCodecName = 'pcmu' | 'pcma' | 'g722' | 'opus';

export interface AudioCodec {
  readonly name: AudioCodecName;
  /** PCM sample rate of decode(), encode() and conceal(). */
  readonly sampleRate: number;
  /** PCM samples in one 20 ms frame at `sampleRate` (what encode() takes, what conceal() returns). */
  readonly frameSamples: number;
  /** RTP timestamp units of one 20 ms frame (160 for G.722: RFC 3551 §4.5.2 keeps its clock at 8000). */
  readonly rtpFrameSamples: number;
  /**
   * Decode one RTP payload (any duration the format allows). Never throws on untrusted input: returns null when
   * the payload cannot be decoded (the caller conceals and counts).
   */
  decode(payload: Uint8Array): Int16Array | null;
  /** Encode exactly `frameSamples` samples into one payload. */
  encode(pcm: Int16Array): Uint8Array;
  /** One 20 ms frame standing in for a lost packet (packet loss concealment). */
  conceal(): Int16Array;
}
