/**
 * Sender Report (SR, PT 200) and Receiver Report (RR, PT 201): RFC 3550 §6.4.1 and §6.4.2.
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |V=2|P|    RC   |   PT=SR=200   |             length            |  header
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                         SSRC of sender                        |  +4
 *    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *    |              NTP timestamp, most significant word             |  +8   sender info
 *    |             NTP timestamp, least significant word             |  +12  (SR only)
 *    |                         RTP timestamp                         |  +16
 *    |                     sender's packet count                     |  +20
 *    |                      sender's octet count                     |  +24
 *    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *    |                 report blocks (RC × 24 octets)                |  SR: +28, RR: +8
 *    +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *    |                  profile-specific extensions                  |  (ignored)
 */
import { RTCP_RR, RTCP_SR, readU32, writeHeader, writeU32, type RtcpChunk } from './header.ts';
import { MAX_REPORT_BLOCKS, REPORT_BLOCK_LENGTH, readReportBlock, writeReportBlock, type ReportBlock } from './report-block.ts';

const SSRC_OFFSET = 4;
const NTP_MSW_OFFSET = 8;
const NTP_LSW_OFFSET = 12;
const RTP_TS_OFFSET = 16;
const PACKET_COUNT_OFFSET = 20;
const OCTET_COUNT_OFFSET = 24;
const SR_BLOCKS_OFFSET = 28;
const RR_BLOCKS_OFFSET = 8;

export interface SenderReport {
  readonly type: 'sr';
  readonly ssrc: number;
  readonly ntpSeconds: number;
  readonly ntpFraction: number;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
  readonly reports: readonly ReportBlock[];
}

export interface ReceiverReport {
  readonly type: 'rr';
  readonly ssrc: number;
  readonly reports: readonly ReportBlock[];
}

function readBlocks(bytes: Uint8Array, start: number, count: number): ReportBlock[] | undefined {
  if (start + count * REPORT_BLOCK_LENGTH > bytes.length) return undefined;
  const out: ReportBlock[] = [];
  for (let i = 0; i < count; i++) out.push(readReportBlock(bytes, start + i * REPORT_BLOCK_LENGTH));
  return out;
}

export function parseSenderReport(c: RtcpChunk): SenderReport | undefined {
  const b = c.bytes;
  if (b.length < SR_BLOCKS_OFFSET) return undefined;
  const reports = readBlocks(b, SR_BLOCKS_OFFSET, c.count);
  if (!reports) return undefined;
  return {
    type: 'sr',
    ssrc: readU32(b, SSRC_OFFSET),
    ntpSeconds: readU32(b, NTP_MSW_OFFSET),
    ntpFraction: readU32(b, NTP_LSW_OFFSET),
    rtpTimestamp: readU32(b, RTP_TS_OFFSET),
    packetCount: readU32(b, PACKET_COUNT_OFFSET),
    octetCount: readU32(b, OCTET_COUNT_OFFSET),
    reports,
  };
}

export function parseReceiverReport(c: RtcpChunk): ReceiverReport | undefined {
  const b = c.bytes;
  if (b.length < RR_BLOCKS_OFFSET) return undefined;
  const reports = readBlocks(b, RR_BLOCKS_OFFSET, c.count);
  if (!reports) return undefined;
  return { type: 'rr', ssrc: readU32(b, SSRC_OFFSET), reports };
}

export function writeSenderReport(sr: Omit<SenderReport, 'type'>): Buffer {
  const n = Math.min(sr.reports.length, MAX_REPORT_BLOCKS);
  const size = SR_BLOCKS_OFFSET + n * REPORT_BLOCK_LENGTH;
  const buf = Buffer.alloc(size);
  writeHeader(buf, n, RTCP_SR, size);
  writeU32(buf, SSRC_OFFSET, sr.ssrc >>> 0);
  writeU32(buf, NTP_MSW_OFFSET, sr.ntpSeconds >>> 0);
  writeU32(buf, NTP_LSW_OFFSET, sr.ntpFraction >>> 0);
  writeU32(buf, RTP_TS_OFFSET, sr.rtpTimestamp >>> 0);
  writeU32(buf, PACKET_COUNT_OFFSET, sr.packetCount >>> 0);
  writeU32(buf, OCTET_COUNT_OFFSET, sr.octetCount >>> 0);
  for (let i = 0; i < n; i++) writeReportBlock(buf, SR_BLOCKS_OFFSET + i * REPORT_BLOCK_LENGTH, sr.reports[i]!);
  return buf;
}

export function writeReceiverReport(rr: Omit<ReceiverReport, 'type'>): Buffer {
  const n = Math.min(rr.reports.length, MAX_REPORT_BLOCKS);
  const size = RR_BLOCKS_OFFSET + n * REPORT_BLOCK_LENGTH;
  const buf = Buffer.alloc(size);
  writeHeader(buf, n, RTCP_RR, size);
  writeU32(buf, SSRC_OFFSET, rr.ssrc >>> 0);
  for (let i = 0; i < n; i++) writeReportBlock(buf, RR_BLOCKS_OFFSET + i * REPORT_BLOCK_LENGTH, rr.reports[i]!);
  return buf;
}

/**
 * Rewrite a forwarded SR in place for a translator leg (RFC 3550 §7.2): the sender SSRC and the RTP timestamp are
 * mapped into the rewritten stream; the NTP time stays (it is the publisher's wall clock for lip sync).
 * `bytes` must be an SR sub-packet from `splitCompound` (checked: ≥ 28 octets).
 */
export function rewriteSenderReport(bytes: Uint8Array, ssrc: number, rtpTimestamp: number): boolean {
  if (bytes.length < SR_BLOCKS_OFFSET || bytes[1] !== RTCP_SR) return false;
  writeU32(bytes, SSRC_OFFSET, ssrc >>> 0);
  writeU32(bytes, RTP_TS_OFFSET, rtpTimestamp >>> 0);
  return true;
}
