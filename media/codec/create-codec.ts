/**
 * Negotiated payload format (SDP rtpmap, media/types.ts CodecSpec) → AudioCodec instance.
 */
import type { CodecSpec } from '../types.ts';
import type { AudioCodec, AudioCodecName } from './types.ts';
import { G711Codec } from './g711-codec.ts';
import { G722Codec } from './g722-codec.ts';
import { OpusCodec } from './opus-codec.ts';

/** The audio formats the mixer can decode and encode, or undefined (e.g. telephone-event, an unknown codec). */
export function audioCodecName(spec: CodecSpec): AudioCodecName | undefined {
  switch (spec.name.toLowerCase()) {
    case 'pcmu':
      return 'pcmu';
    case 'pcma':
      return 'pcma';
    case 'g722':
      return 'g722';
    case 'opus':
      return 'opus';
    default:
      return undefined;
  }
}

/** A fresh codec state for `spec`, or undefined when the format is not an audio codec we handle. */
export function createCodec(spec: CodecSpec): AudioCodec | undefined {
  const name = audioCodecName(spec);
  switch (name) {
    case 'pcmu':
    case 'pcma':
      return new G711Codec(name);
    case 'g722':
      return new G722Codec();
    case 'opus': {
      const fmtp = parseFmtp(spec.fmtp);
      const max = Number(fmtp.get('maxaveragebitrate'));
      return new OpusCodec({
        ...(Number.isFinite(max) && max > 0 ? { bitrate: Math.min(max, 32000) } : {}),
        inbandFec: fmtp.get('useinbandfec') === '1',
      });
    }
    default:
      return undefined;
  }
}

/** `a=fmtp` parameters "k=v;k2=v2" (RFC 7587 §7: case-insensitive names). */
function parseFmtp(fmtp: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!fmtp) return out;
  for (const part of fmtp.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return out;
}
