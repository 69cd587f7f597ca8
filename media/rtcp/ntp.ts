/**
 * NTP timestamps for RTCP (RFC 3550 §4): "seconds relative to 0h UTC on 1 January 1900", a 32.32 fixed-point
 * number; LSR/DLSR use "the middle 32 bits out of 64 in the NTP timestamp" (§6.4.1), i.e. 16.16 seconds.
 */

/** Seconds from 1900-01-01 to 1970-01-01 (RFC 868). */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;

export interface NtpTime {
  readonly seconds: number;
  readonly fraction: number;
}

/** Wall-clock milliseconds since the Unix epoch → NTP 32.32. */
export function ntpFromWallMs(ms: number): NtpTime {
  const secs = Math.floor(ms / 1000);
  const frac = Math.floor(((ms - secs * 1000) / 1000) * 0x1_0000_0000);
  return { seconds: (secs + NTP_UNIX_OFFSET_S) >>> 0, fraction: frac >>> 0 };
}

/** The middle 32 bits (16.16) of an NTP timestamp: what LSR carries. */
export function ntpMiddle32(t: NtpTime): number {
  return (((t.seconds & 0xffff) << 16) | (t.fraction >>> 16)) >>> 0;
}

/**
 * RFC 3550 §6.4.1: "the source ... can compute the total round-trip propagation delay to that receiver by recording
 * the time A when this reception report block is received ... It calculates the total round-trip time A-LSR using
 * the last SR timestamp (LSR) field, and then subtracting this field to leave the round-trip propagation delay as
 * (A - LSR - DLSR)."  All three in 1/65536 s; returns milliseconds, or undefined when LSR is 0 (no SR seen yet).
 */
export function rttMs(arrivalMiddle32: number, lsr: number, dlsr: number): number | undefined {
  if (lsr === 0) return undefined;
  const units = (arrivalMiddle32 - lsr - dlsr) >>> 0;
  if (units > 0x7fffffff) return 0; // clock skew made it negative
  return (units / 65536) * 1000;
}
