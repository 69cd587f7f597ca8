/**
 * RFC 4733 telephone-event receiver: turns a leg's event packets into digits. These packets are never mixed.
 *
 * RFC 4733 §2.3 payload:
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     event     |E|R| volume    |          duration             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * §2.5.1.3/§2.5.1.4: all packets of one event share the RTP timestamp of its start; the end (E = 1) packet is sent
 * three times. A digit is reported once per event timestamp, on its first E packet — or, if every end packet was
 * lost, when the next event starts.
 */

/** RFC 4733 §3.2 Table 3: events 0–15 are DTMF 0–9, *, #, A–D. */
const DIGITS = '0123456789*#ABCD';
const EVENT_OFFSET = 0;
const FLAGS_OFFSET = 1;
const END_BIT = 0x80;

export class DtmfReceiver {
  private eventTs: number | undefined;
  private eventDigit: string | undefined;
  private reported = false;

  /** Feed one telephone-event payload; returns the digits completed by it (usually none or one). */
  push(payload: Uint8Array, timestamp: number): string[] {
    if (payload.length < 4) return []; // malformed: ignored (never throws)
    const event = payload[EVENT_OFFSET]!;
    const end = (payload[FLAGS_OFFSET]! & END_BIT) !== 0;
    const digit = event < DIGITS.length ? DIGITS[event]! : undefined; // flash-hook and tones: not digits
    const out: string[] = [];
    if (timestamp !== this.eventTs) {
      if (!this.reported && this.eventDigit !== undefined) out.push(this.eventDigit);
      this.eventTs = timestamp;
      this.eventDigit = digit;
      this.reported = false;
    }
    if (end && !this.reported) {
      this.reported = true;
      if (digit !== undefined) out.push(digit);
    }
    return out;
  }
}
