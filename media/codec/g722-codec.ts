/**
 * G.722 as an AudioCodec. RFC 3551 §4.5.2: 16 kHz audio, but the RTP clock rate is 8000 ("an erroneous value
 * in RFC 1890 ... retained for backward compatibility"), so a 20 ms frame is 320 samples and 160 timestamp units.
 */
import type { AudioCodec } from './types.ts';
import { G722Encoder } from './g722-encoder.ts';
import { G722Decoder } from './g722-decoder.ts';
import { FrameRepeatPlc } from './fallback-plc.ts';

const FRAME = 320; // 20 ms at 16 kHz

export class G722Codec implements AudioCodec {
  readonly name = 'g722' as const;
  readonly sampleRate = 16000;
  readonly frameSamples = FRAME;
  readonly rtpFrameSamples = 160;
  private readonly encoder = new G722Encoder();
  private readonly decoder = new G722Decoder();
  private readonly plc = new FrameRepeatPlc(FRAME);

  decode(payload: Uint8Array): Int16Array | null {
    if (payload.length === 0) return null;
    const pcm = this.decoder.decode(payload);
    this.plc.remember(pcm);
    return pcm;
  }

  encode(pcm: Int16Array): Uint8Array {
    return this.encoder.encode(pcm);
  }

  conceal(): Int16Array {
    return this.plc.conceal();
  }
}
