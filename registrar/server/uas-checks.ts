/**
 * The UAS core's request inspection, RFC 3261 §8.2.1–§8.2.3, in the RFC's order. A request that fails a check
 * gets the response returned here and goes no further. Pure: no I/O, no state.
 */
import type { SipRequest } from '../sip/message/types.ts';

/** Methods this server understands (§8.2.1: others get 405 if known-but-not-allowed, 501 if unknown). */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'MESSAGE', 'INFO', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'PRACK', 'REFER'] as const;
export const ALLOW_HEADER = ALLOWED_METHODS.join(', ');

/** Option tags we support (RFC 3261 §19.2; RFC 3327 path). Anything else in Require → 420. */
export const SUPPORTED_OPTION_TAGS = ['path'] as const;

/** Body types accepted per method (§8.2.3). INVITE/UPDATE/ACK/PRACK carry session descriptions only. */
const SDP_METHODS = new Set(['INVITE', 'UPDATE', 'ACK', 'PRACK']);

export interface Rejection {
  status: number;
  reason: string;
  headers: Array<readonly [string, string]>;
}

function mediaTypeMatches(range: string, type: string): boolean {
  const r = range.split(';')[0]!.trim().toLowerCase();
  if (r === '*/*' || r === type) return true;
  return r.endsWith('/*') && type.startsWith(r.slice(0, -1));
}

export function inspectRequest(req: SipRequest): Rejection | undefined {
  // §8.2.1 Method Inspection: an unknown method → 501 Not Implemented (with Allow, §20.5).
  if (!(ALLOWED_METHODS as readonly string[]).includes(req.method)) {
    return { status: 501, reason: 'Not Implemented', headers: [['Allow', ALLOW_HEADER]] };
  }
  // §8.2.2.1 To and Request-URI: a scheme we do not understand → 416 Unsupported URI Scheme.
  const scheme = req.uri.scheme;
  if (scheme !== 'sip' && scheme !== 'sips') {
    return { status: 416, reason: `Unsupported URI Scheme - ${scheme || 'none'}`, headers: [] };
  }
  // §8.2.2.3 Require: option tags we do not support → 420 Bad Extension with Unsupported listing them.
  // ACK and CANCEL are exempt (§8.2.2.3).
  if (req.method !== 'ACK' && req.method !== 'CANCEL') {
    const unsupported = req
      .getAll('require')
      .map((t) => t.trim())
      .filter((t) => t !== '' && !(SUPPORTED_OPTION_TAGS as readonly string[]).includes(t.toLowerCase()));
    if (unsupported.length > 0) {
      return { status: 420, reason: 'Bad Extension', headers: [['Unsupported', unsupported.join(', ')]] };
    }
  }
  // §8.2.3 Content Processing: a body type we cannot process → 415 with Accept. CANCEL/BYE bodies are ignored.
  if (req.body.length > 0 && SDP_METHODS.has(req.method)) {
    const ct = req.contentType;
    if (ct !== 'application/sdp') {
      return { status: 415, reason: 'Unsupported Media Type', headers: [['Accept', 'application/sdp']] };
    }
  }
  // §8.2.3 / §20.1: an INVITE whose Accept excludes SDP cannot get our answer → 406 with a Warning (§20.43).
  if (req.method === 'INVITE' && req.has('accept')) {
    const ranges = req.getAll('accept').filter((r) => r.trim() !== '');
    if (ranges.length > 0 && !ranges.some((r) => mediaTypeMatches(r, 'application/sdp'))) {
      return {
        status: 406,
        reason: 'Not Acceptable',
        headers: [['Warning', '399 sipmeet "answers carry application/sdp, which the Accept header excludes"']],
      };
    }
  }
  return undefined;
}
