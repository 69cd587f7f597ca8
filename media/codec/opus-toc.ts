/**
 * RFC 6716 §3.1 Opus TOC byte:
 *
 *    0 1 2 3 4 5 6 7
 *   +-+-+-+-+-+-+-+-+
 *   | config  |s| c |     config: mode/bandwidth/frame size (Table 2), s: stereo, c: frame count code
 *   +-+-+-+-+-+-+-+-+
 */

/** Frame duration in 1/10 ms of a TOC config (RFC 6716 Table 2). */
export function opusFrameTenthsMs(toc: number): number {
  const config = toc >> 3;
  if (config < 12) return [100, 200, 400, 600][config & 3]!; // SILK-only NB/MB/WB: 10, 20, 40, 60 ms
  if (config < 16) return [100, 200][config & 1]!; //            Hybrid SWB/FB: 10, 20 ms
  return [25, 50, 100, 200][config & 3]!; //                     CELT-only NB…FB: 2.5, 5, 10, 20 ms
}

/** CELT-only fullband, 20 ms, mono, one frame (c = 0). */
export const TOC_CELT_FB_20MS = (31 << 3) | 0;

/**
 * A one-byte packet "TOC with c = 0 and no frame data": RFC 6716 §3.2.1 says a zero-length frame means the frame
 * was lost/DTX, so a decoder run on it performs its packet loss concealment for exactly one frame of the TOC's
 * duration. Keeps the config of the last real packet when it is a 20 ms one (so the decoder stays in its mode).
 */
export function plcPacketFor(lastToc: number | undefined): Uint8Array {
  const toc = lastToc !== undefined && opusFrameTenthsMs(lastToc) === 200 ? lastToc & 0xf8 : TOC_CELT_FB_20MS;
  return Uint8Array.of(toc);
}
