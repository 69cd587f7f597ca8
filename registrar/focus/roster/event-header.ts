/**
 * The SUBSCRIBE's `Event` and `Accept` headers as the roster notifier reads them (RFC 6665 §8.2.1 Event:
 * `event-type *( SEMI event-param )`, with the `id` parameter telling apart subscriptions in one dialog).
 */

export interface EventHeader {
  /** The event package, e.g. `conference`. */
  readonly type: string;
  /** The `id` parameter, when present. */
  readonly id: string | undefined;
}

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/** Undefined when the header is absent or its package is not a token. Never throws. */
export function parseEventHeader(value: string | undefined): EventHeader | undefined {
  if (value === undefined) return undefined;
  const [type = '', ...params] = value.split(';').map((x) => x.trim());
  if (!TOKEN.test(type)) return undefined;
  let id: string | undefined;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'id') id = p.slice(eq + 1).trim();
  }
  return { type, id };
}

/** The Event header value for NOTIFYs of this subscription: the package and, when given, the same `id`. */
export function formatEventHeader(e: EventHeader): string {
  return e.id !== undefined ? `${e.type};id=${e.id}` : e.type;
}

/**
 * RFC 3261 §20.1 Accept: true when the header is absent, empty, or lists `type` or a wildcard covering it
 * (`*` + `/` + `*`, `application/` + `*`). Media-range parameters (q=…) are ignored.
 */
export function accepts(acceptValues: readonly string[], type: string): boolean {
  const ranges = acceptValues.map((v) => v.split(';')[0]!.trim().toLowerCase()).filter((v) => v !== '');
  if (ranges.length === 0) return true;
  const [major] = type.split('/');
  return ranges.some((r) => r === type || r === '*/*' || r === `${major}/*`);
}
