/**
 * RFC 4566 §6 a=fmtp:<format> <format specific parameters>. The value is opaque to SDP; nearly every payload
 * format (RFC 7587 opus, RFC 6184 H.264, RFC 7741 VP8, RFC 4733 telephone-event aside) uses the
 * `name=value;name=value` form of media type parameters (RFC 4855 §3), which this reads.
 */

/** Parameters by lowercased name (RFC 2045 §5.1: parameter names are not case sensitive); a bare token maps to ''. */
export function parseFmtpParams(config: string): ReadonlyMap<string, string> {
  const params = new Map<string, string>();
  for (const part of config.split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) params.set(item.toLowerCase(), '');
    else params.set(item.slice(0, eq).trim().toLowerCase(), item.slice(eq + 1).trim());
  }
  return params;
}
