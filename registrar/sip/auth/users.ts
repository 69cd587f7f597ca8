/**
 * The users file: who may register, and with which secret (RFC 3261 §22 digest credentials).
 *
 * Format — plain UTF-8 text, one user per line, meant to be written by hand:
 *
 *     # sipmeet users (realm is set in the server config; HA1 values must be computed for that realm)
 *     alice:correct horse battery staple
 *     bob:s3cret:with:colons
 *     # carol's password is "secret", stored as HA1 for realm "sipmeet":
 *     carol:{MD5}2b0cf32ef174668292674b3f39579191,{SHA-256}4063279611b5c7e1e8931e96ce546ee56a0920c14a6db21d8debf68642334fdd
 *
 * - Blank lines and lines whose first non-blank character is `#` are ignored. Surrounding whitespace and a
 *   trailing CR are stripped from every line (so a password cannot begin or end with whitespace).
 * - `username:password`: the username is everything before the FIRST colon (non-empty, no whitespace, no
 *   colon); the password is everything after it (non-empty; it may contain colons).
 * - Precomputed HA1 instead of a password: `username:{ALG}hex[,{ALG}hex...]` where ALG is `MD5`, `SHA-256` or
 *   `SHA-512-256` and hex is H(username ":" realm ":" password) in lowercase or uppercase hex of the digest's
 *   length (RFC 7616 §3.4.2), e.g. `printf '%s' 'carol:sipmeet:secret' | sha256sum`. A user given only an MD5
 *   HA1 can only authenticate with MD5 (a SHA-256 attempt is challenged again). A value is read as
 *   HA1 only when it matches this shape exactly; any other value is a password.
 * - A username may appear once.
 *
 * A malformed file is API misuse at startup: `loadUsersFile` throws an `Error` whose one-line message names the
 * file and the line, e.g. `users file /etc/sipmeet/users: line 4: expected "username:password"`.
 */
import { readFileSync } from 'node:fs';

export type DigestAlgorithm = 'MD5' | 'SHA-256' | 'SHA-512-256';

/** Hex digest length of each base algorithm (RFC 7616 §3.4.2 / RFC 8760 §2). */
export const HA1_HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = {
  'MD5': 32,
  'SHA-256': 64,
  'SHA-512-256': 64,
};

export interface UserCredentials {
  /** Cleartext password (when given). */
  readonly password?: string;
  /** Precomputed H(username:realm:password) per algorithm, lowercase hex (when given instead of a password). */
  readonly ha1?: Readonly<Partial<Record<DigestAlgorithm, string>>>;
}

/** What the authenticator needs: username → credentials. */
export interface UserDirectory {
  lookup(username: string): UserCredentials | undefined;
  readonly size: number;
}

/** A directory over a Map (also handy for tests and configs that carry users inline). */
export class MapUserDirectory implements UserDirectory {
  private readonly users: Map<string, UserCredentials>;

  constructor(users: Iterable<readonly [string, UserCredentials]> | Record<string, string | UserCredentials>) {
    this.users = new Map();
    const entries: Iterable<readonly [string, string | UserCredentials]> =
      Symbol.iterator in Object(users)
        ? (users as Iterable<readonly [string, UserCredentials]>)
        : Object.entries(users as Record<string, string | UserCredentials>);
    for (const [name, cred] of entries) {
      this.users.set(name, typeof cred === 'string' ? { password: cred } : cred);
    }
  }

  lookup(username: string): UserCredentials | undefined {
    return this.users.get(username);
  }

  get size(): number {
    return this.users.size;
  }
}

const HA1_ITEM = /^\{(MD5|SHA-256|SHA-512-256)\}([0-9a-fA-F]+)$/;
const USERNAME = /^[^\s:]+$/;

/** Parse users-file text. `fileName` only labels error messages. Throws `Error` (one line) on a bad line. */
export function parseUsers(text: string, fileName = '<users>'): MapUserDirectory {
  const users = new Map<string, UserCredentials>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fail = (msg: string): never => {
      throw new Error(`users file ${fileName}: line ${i + 1}: ${msg}`);
    };
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) fail('expected "username:password" (no colon found)');
    const username = line.slice(0, colon).trim();
    const secret = line.slice(colon + 1);
    if (username === '') fail('empty username before ":"');
    if (!USERNAME.test(username)) fail(`username ${JSON.stringify(username)} contains whitespace`);
    if (secret === '') fail(`user ${JSON.stringify(username)} has an empty password`);
    if (users.has(username)) fail(`user ${JSON.stringify(username)} is listed twice`);
    const ha1 = parseHa1List(secret);
    if (ha1 === undefined) {
      users.set(username, { password: secret });
      continue;
    }
    for (const [alg, hex] of ha1) {
      if (hex.length !== HA1_HEX_LENGTH[alg]) {
        fail(`user ${JSON.stringify(username)}: {${alg}} HA1 must be ${HA1_HEX_LENGTH[alg]} hex digits, got ${hex.length}`);
      }
    }
    const byAlg: Partial<Record<DigestAlgorithm, string>> = {};
    for (const [alg, hex] of ha1) {
      if (byAlg[alg] !== undefined) fail(`user ${JSON.stringify(username)}: {${alg}} HA1 given twice`);
      byAlg[alg] = hex.toLowerCase();
    }
    users.set(username, { ha1: byAlg });
  }
  return new MapUserDirectory(users);
}

/** `{ALG}hex,{ALG}hex` → pairs, or undefined when the value is not in that shape (then it is a password). */
function parseHa1List(value: string): Array<[DigestAlgorithm, string]> | undefined {
  if (!value.startsWith('{')) return undefined;
  const out: Array<[DigestAlgorithm, string]> = [];
  for (const item of value.split(',')) {
    const m = HA1_ITEM.exec(item.trim());
    if (!m) return undefined;
    out.push([m[1] as DigestAlgorithm, m[2]!]);
  }
  return out;
}

/** Read and parse a users file (synchronously: startup only). Throws a one-line `Error` naming file and line. */
export function loadUsersFile(path: string): MapUserDirectory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`users file ${path}: cannot read: ${(err as Error).message}`);
  }
  return parseUsers(text, path);
}
