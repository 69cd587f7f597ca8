/**
 * Parse a (compound) RTCP packet into typed sub-packets: RFC 3550 §6.1 framing first (`splitCompound`), then each
 * sub-packet alone. One malformed or unknown sub-packet is skipped and reported; it costs nothing else (the werift
 * lesson in shared/field-notes.md). Never throws.
 */
import { parseBye, type Goodbye } from './bye.ts';
import {
  FMT_FIR, FMT_NACK, FMT_PLI, parseFir, parseNack, parsePli,
  type FullIntraRequest, type GenericNack, type PictureLossIndication,
} from './feedback.ts';
import { RTCP_APP, RTCP_BYE, RTCP_PSFB, RTCP_RR, RTCP_RTPFB, RTCP_SDES, RTCP_SR, splitCompound, type RtcpChunk, type SplitError } from './header.ts';
import { parseSdes, type SourceDescription } from './sdes.ts';
import { parseReceiverReport, parseSenderReport, type ReceiverReport, type SenderReport } from './sender-report.ts';

export type RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Goodbye | GenericNack | PictureLossIndication | FullIntraRequest;

export interface RtcpParseResult {
  readonly packets: RtcpPacket[];
  /** The framed SR sub-packets as they arrived (a translator forwards them rewritten). */
  readonly chunks: readonly RtcpChunk[];
  /** Sub-packets skipped: 'app' (RFC 3550 §6.7, not used here), 'unknown-<pt>', 'bad-<type>'. */
  readonly skipped: string[];
  /** Framing fault (see splitCompound), if any. */
  readonly error?: SplitError;
}

export function parseRtcp(buf: Uint8Array): RtcpParseResult {
  const split = splitCompound(buf);
  const packets: RtcpPacket[] = [];
  const skipped: string[] = [];
  for (const c of split.chunks) {
    const p = parseChunk(c);
    if (typeof p === 'string') skipped.push(p);
    else packets.push(p);
  }
  return split.error ? { packets, chunks: split.chunks, skipped, error: split.error } : { packets, chunks: split.chunks, skipped };
}

function parseChunk(c: RtcpChunk): RtcpPacket | string {
  switch (c.packetType) {
    case RTCP_SR:
      return parseSenderReport(c) ?? 'bad-sr';
    case RTCP_RR:
      return parseReceiverReport(c) ?? 'bad-rr';
    case RTCP_SDES:
      return parseSdes(c) ?? 'bad-sdes';
    case RTCP_BYE:
      return parseBye(c) ?? 'bad-bye';
    case RTCP_APP:
      return 'app';
    case RTCP_RTPFB:
      if (c.count === FMT_NACK) return parseNack(c) ?? 'bad-nack';
      return `rtpfb-${c.count}`;
    case RTCP_PSFB:
      if (c.count === FMT_PLI) return parsePli(c) ?? 'bad-pli';
      if (c.count === FMT_FIR) return parseFir(c) ?? 'bad-fir';
      return `psfb-${c.count}`;
    default:
      return `unknown-${c.packetType}`;
  }
}
