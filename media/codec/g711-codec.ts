/**
 * PCMU / PCMA as an AudioCodec (RFC 3551 §4.5.14: 8000 Hz, one octet per sample, clock rate 8000).
 */
import type { AudioCodec } from './types.ts';
import { mulawDecode, mulawEncode } from './mulaw.ts';
import { alawDecode, alawEncode } from './alaw.ts';
import { FrameRepeatPlc } from './fallback-plc.ts';

const FRAME = 160; // 20 ms at 8000 Hz

export class G711Codec implements AudioCodec {
  readonly sampleRate = 8000;
  readonly frameSamples = FRAME;
  readonly rtpFrameSamples = FRAME;
  private readonly plc = new FrameRepeatPlc(FRAME);

  constructor(readonly name: 'pcmu' | 'pcma') {}

  decode(payload: Uint8Array): Int16Array | null {
    // Any length is valid G.711 (one sample per octet); an empty payload carries nothing.
    if (payload.length === 0) return null;
    const pcm = this.name === 'pcmu' ? mulawDecode(payload) : alawDecode(payload);
    this.plc.remember(pcm);
    return pcm;
  }

  encode(pcm: Int16Array): Uint8Array {
    return this.name === 'pcmu' ? mulawEncode(pcm) : alawEncode(pcm);
  }

  conceal(): Int16Array {
    return this.plc.conceal();
  }
}
