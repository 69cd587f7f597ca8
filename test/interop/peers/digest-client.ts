/**
 * The UAC side of HTTP digest for the scripted phone (RFC 3261 §22.2, RFC 7616 §3.4, RFC 8760): written here
 * independently of the server's authenticator, so a shared misunderstanding cannot make both sides agree.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Challenge {
  readonly header: 'Authorization' | 'Proxy-Authorization';
  readonly realm: string;
  readonly nonce: string;
  readonly opaque?: string;
  readonly algorithm: 'MD5' | 'SHA-256';
  readonly qop?: string;
}

/** Parse `Digest k=v, k="v", …` (quoted values may contain commas). */
function params(value: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([a-zA-Z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (const m of value.replace(/^\s*Digest\s+/i, '').matchAll(re)) out.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? '');
  return out;
}

/**
 * RFC 8760 §2.4: of the challenges offered (in the server's order of preference), use the first whose algorithm we
 * support. `prefer` forces one algorithm (to check that the server accepts each one it offers).
 */
export function pickChallenge(headers: { www: string[]; proxy: string[] }, prefer?: 'MD5' | 'SHA-256'): Challenge | undefined {
  const all = [
    ...headers.www.map((v) => ['Authorization', v] as const),
    ...headers.proxy.map((v) => ['Proxy-Authorization', v] as const),
  ];
  for (const [header, v] of all) {
    if (!/^\s*Digest\b/i.test(v)) continue;
    const p = params(v);
    const alg = (p.get('algorithm') ?? 'MD5').toUpperCase();
    if (alg !== 'MD5' && alg !== 'SHA-256') continue;
    if (prefer && alg !== prefer) continue;
    const qop = p.get('qop')?.split(',').map((s) => s.trim()).includes('auth') ? 'auth' : undefined;
    return {
      header,
      realm: p.get('realm') ?? '',
      nonce: p.get('nonce') ?? '',
      algorithm: alg,
      ...(p.has('opaque') ? { opaque: p.get('opaque')! } : {}),
      ...(qop ? { qop } : {}),
    };
  }
  return undefined;
}

function h(alg: 'MD5' | 'SHA-256', s: string): string {
  return createHash(alg === 'MD5' ? 'md5' : 'sha256').update(s, 'utf8').digest('hex');
}

/** The credentials header line (name, value) for `method uri` answering `ch`. */
export function authorize(ch: Challenge, user: string, password: string, method: string, uri: string, nc = 1): readonly [string, string] {
  // RFC 7616 §3.4.2: A1 = username ":" realm ":" passwd; §3.4.3: A2 = Method ":" request-uri.
  const ha1 = h(ch.algorithm, `${user}:${ch.realm}:${password}`);
  const ha2 = h(ch.algorithm, `${method}:${uri}`);
  const ncHex = nc.toString(16).padStart(8, '0');
  const cnonce = randomBytes(8).toString('hex');
  // RFC 7616 §3.4.1: response = KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2)) with qop; RFC 2069 form without.
  const response = ch.qop ? h(ch.algorithm, `${ha1}:${ch.nonce}:${ncHex}:${cnonce}:${ch.qop}:${ha2}`) : h(ch.algorithm, `${ha1}:${ch.nonce}:${ha2}`);
  let v = `Digest username="${user}", realm="${ch.realm}", nonce="${ch.nonce}", uri="${uri}", response="${response}", algorithm=${ch.algorithm}`;
  if (ch.qop) v += `, qop=${ch.qop}, nc=${ncHex}, cnonce="${cnonce}"`;
  if (ch.opaque !== undefined) v += `, opaque="${ch.opaque}"`;
  return [ch.header, v];
}
