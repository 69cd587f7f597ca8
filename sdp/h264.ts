/**
 * H.264 media format configuration matching (RFC 6184 §8.1, §8.2.2).
 *
 * RFC 6184 §8.2.2: "The parameters identifying a media format configuration for H.264 are profile-level-id and
 * packetization-mode. These media format configuration parameters (except for the level part of
 * profile-level-id) MUST be used symmetrically; that is, the answerer MUST either maintain all configuration
 * parameters or remove the media format (payload type) completely if one or more of the parameter values are
 * not supported."
 *
 * So two H.264 formats are compatible when packetization-mode is equal and the profiles (not the levels) are.
 * profile-level-id is three bytes (RFC 6184 §8.1): profile_idc, profile-iop (constraint_set0..5 flags), level_idc.
 * The profile a decoder implements is named by profile_idc AND some constraint flags, as in the table below
 * (the same patterns as libwebrtc's h264_profile_level_id: constrained baseline can be signalled three ways).
 */
import { parseFmtpParams } from './fmtp.ts';

export type H264Profile =
  | 'constrained-baseline'
  | 'baseline'
  | 'main'
  | 'extended'
  | 'high'
  | 'constrained-high'
  | 'high-10'
  | 'high-422'
  | 'high-444';

/** RFC 6184 §8.1: without profile-level-id, the Baseline profile without additional constraints at Level 1. */
export const DEFAULT_PROFILE_LEVEL_ID = '42000a';
/** RFC 6184 §8.1: packetization-mode absent means 0 (single NAL unit mode). */
export const DEFAULT_PACKETIZATION_MODE = 0;

/** [profile_idc, iop mask, iop value, profile]: first match wins. Bits: 0x80 = constraint_set0 … 0x04 = set5. */
const PROFILE_PATTERNS: ReadonlyArray<readonly [number, number, number, H264Profile]> = [
  [0x42, 0x40, 0x40, 'constrained-baseline'], // Baseline with constraint_set1 (decodable by Main)
  [0x4d, 0x80, 0x80, 'constrained-baseline'], // Main with constraint_set0
  [0x58, 0xc0, 0xc0, 'constrained-baseline'], // Extended with constraint_set0 and set1
  [0x42, 0x40, 0x00, 'baseline'],
  [0x58, 0xc0, 0x80, 'baseline'], // Extended with constraint_set0 only
  [0x4d, 0x80, 0x00, 'main'],
  [0x58, 0x80, 0x00, 'extended'],
  [0x64, 0x0c, 0x0c, 'constrained-high'], // High with constraint_set4 and set5
  [0x64, 0x00, 0x00, 'high'],
  [0x6e, 0x00, 0x00, 'high-10'],
  [0x7a, 0x00, 0x00, 'high-422'],
  [0xf4, 0x00, 0x00, 'high-444'],
];

export interface H264Config {
  readonly profile: H264Profile | undefined;
  /** profile_idc and profile-iop as written, for profiles the table does not name. */
  readonly profileIdc: number;
  readonly profileIop: number;
  readonly level: number;
  readonly packetizationMode: number;
}

/** Reads the configuration from an H.264 a=fmtp value (absent parameters take their RFC 6184 defaults). */
export function parseH264Config(fmtp: string | undefined): H264Config | undefined {
  const params = parseFmtpParams(fmtp ?? '');
  const pli = params.get('profile-level-id') ?? DEFAULT_PROFILE_LEVEL_ID;
  if (!/^[0-9a-f]{6}$/i.test(pli)) return undefined;
  const mode = params.get('packetization-mode');
  const packetizationMode = mode === undefined ? DEFAULT_PACKETIZATION_MODE : Number(mode);
  if (!Number.isInteger(packetizationMode) || packetizationMode < 0 || packetizationMode > 2) return undefined;
  const profileIdc = parseInt(pli.slice(0, 2), 16);
  const profileIop = parseInt(pli.slice(2, 4), 16);
  const level = parseInt(pli.slice(4, 6), 16);
  const match = PROFILE_PATTERNS.find(([idc, mask, value]) => idc === profileIdc && (profileIop & mask) === value);
  return { profile: match?.[3], profileIdc, profileIop, level, packetizationMode };
}

/**
 * RFC 6184 §8.2.2: same packetization-mode, same profile (levels may differ). A profile the table does not
 * name must match byte for byte. An unparseable profile-level-id or packetization-mode matches nothing.
 */
export function h264Compatible(a: string | undefined, b: string | undefined): boolean {
  const x = parseH264Config(a);
  const y = parseH264Config(b);
  if (x === undefined || y === undefined) return false;
  if (x.packetizationMode !== y.packetizationMode) return false;
  if (x.profile !== undefined || y.profile !== undefined) return x.profile === y.profile;
  return x.profileIdc === y.profileIdc && x.profileIop === y.profileIop;
}
