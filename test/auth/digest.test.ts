import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ManualClock } from '../../registrar/sip/clock.ts';
import { parseMessage } from '../../registrar/sip/message/parse.ts';
import type { SipRequest } from '../../registrar/sip/message/types.ts';
import { DigestAuthenticator, type VerifyResult } from '../../registrar/sip/auth/digest.ts';
import { computeHa1, computeResponse, type DigestAlgorithmName } from '../../registrar/sip/auth/hash.ts';
import { parseCredentials } from '../../registrar/sip/auth/credentials.ts';
import { MapUserDirectory } from '../../registrar/sip/auth/users.ts';

const REALM = 'sipmeet';

function request(opts: {
  method?: string;
  uri?: string;
  auth?: string[];
  proxyAuth?: string[];
  cseq?: number;
  userAgent?: string;
}): SipRequest {
  const method = opts.method ?? 'REGISTER';
  const uri = opts.uri ?? 'sip:sipmeet.test';
  const lines = [
    `${method} ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds',
    'Max-Forwards: 70',
    'To: <sip:alice@sipmeet.test>',
    'From: <sip:alice@sipmeet.test>;tag=1928301774',
    'Call-ID: a84b4c76e66710@192.0.2.10',
    `CSeq: ${opts.cseq ?? 1} ${method}`,
    'Contact: <sip:alice@192.0.2.10:5062>',
    ...(opts.userAgent ? [`User-Agent: ${opts.userAgent}`] : []),
    ...(opts.auth ?? []).map((a) => `Authorization: ${a}`),
    ...(opts.proxyAuth ?? []).map((a) => `Proxy-Authorization: ${a}`),
    'Content-Length: 0',
    '',
    '',
  ];
  const r = parseMessage(Buffer.from(lines.join('\r\n')));
  assert.ok(r.ok, `test message must parse: ${r.ok ? '' : r.error}`);
  assert.equal(r.message.kind, 'request');
  return r.message as SipRequest;
}

/** What a UAC does with one challenge (RFC 7616 §3.4): build the Authorization value. */
function answer(
  challengeValue: string,
  o: { username?: string; password?: string; method?: string; uri?: string; nc?: number; cnonce?: string; realm?: string } = {},
): string {
  const c = parseCredentials(challengeValue);
  assert.ok(c.ok);
  const p = c.value.params;
  const algorithm = (p.get('algorithm') ?? 'MD5') as DigestAlgorithmName;
  const username = o.username ?? 'alice';
  const realm = o.realm ?? p.get('realm')!;
  const nonce = p.get('nonce')!;
  const uri = o.uri ?? 'sip:sipmeet.test';
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = o.cnonce ?? '0a4f113b';
  const base = algorithm.replace('-sess', '') as 'MD5' | 'SHA-256';
  const response = computeResponse({
    algorithm,
    ha1: computeHa1(base, username, realm, o.password ?? 'wonderland'),
    nonce,
    method: o.method ?? 'REGISTER',
    uri,
    qop: 'auth',
    cnonce,
    nc,
  });
  return (
    `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="${uri}", ` +
    `response="${response}", algorithm=${algorithm}, cnonce="${cnonce}", opaque="${p.get('opaque')}", qop=auth, nc=${nc}`
  );
}

function setup(opts: { algorithms?: DigestAlgorithmName[]; allowNoQop?: boolean; maxTrackedNonces?: number } = {}) {
  const clock = new ManualClock(1_000);
  const users = new MapUserDirectory({ alice: 'wonderland', bob: 'builder' });
  const auth = new DigestAuthenticator({ realm: REALM, users, clock, ...opts });
  return { clock, auth };
}

/** The challenge header values (WWW-Authenticate) for one algorithm. */
function challengeFor(auth: DigestAuthenticator, algorithm: string, role: 'registrar' | 'proxy' = 'registrar'): string {
  const h = auth.challenge(undefined, { role }).find(([, v]) => v.includes(`algorithm=${algorithm}`));
  assert.ok(h, `a ${algorithm} challenge`);
  return h[1];
}

function assertFail(r: VerifyResult, status: number, stale = false): void {
  assert.equal(r.ok, false, 'expected a rejection');
  if (r.ok) return;
  assert.equal(r.status, status, `status (${r.reason})`);
  assert.equal(r.stale ?? false, stale, `stale (${r.reason})`);
}

test('RFC 7616 §3.9.1 example: MD5 and SHA-256 responses for Mufasa', () => {
  const common = {
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    method: 'GET',
    uri: '/dir/index.html',
    qop: 'auth',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    nc: '00000001',
  };
  const realm = 'http-auth@example.org';
  assert.equal(
    computeResponse({ ...common, algorithm: 'MD5', ha1: computeHa1('MD5', 'Mufasa', realm, 'Circle of Life') }),
    '8ca523f5e9506fed4657c9700eebdbec',
  );
  assert.equal(
    computeResponse({ ...common, algorithm: 'SHA-256', ha1: computeHa1('SHA-256', 'Mufasa', realm, 'Circle of Life') }),
    '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
  );
});

test('credentials parser: quoted strings keep commas and escaped quotes', () => {
  const r = parseCredentials('Digest username="a,b\\"c", realm="x y", nc=00000001 , qop=auth');
  assert.ok(r.ok);
  assert.equal(r.value.scheme, 'Digest');
  assert.equal(r.value.params.get('username'), 'a,b"c');
  assert.equal(r.value.params.get('realm'), 'x y');
  assert.equal(r.value.params.get('nc'), '00000001');
  assert.equal(r.value.params.get('qop'), 'auth');
  assert.equal(parseCredentials('Digest username="open').ok, false);
  assert.equal(parseCredentials('Digest nonce="a", nonce="b"').ok, false);
});

test('no credentials → 401 with a SHA-256 then an MD5 challenge (RFC 8760)', () => {
  const { auth } = setup();
  const req = request({});
  const r = auth.verify(req);
  assertFail(r, 401);
  assert.equal(r.ok, false);
  if (r.ok) return;
  const res = auth.reject(req, r, { toTag: 'abc' });
  assert.equal(res.status, 401);
  const challenges = res.headers.filter((h) => h.name === 'www-authenticate').map((h) => h.value);
  assert.equal(challenges.length, 2);
  const parsed = challenges.map((c) => parseCredentials(c));
  assert.ok(parsed[0]!.ok && parsed[1]!.ok);
  if (!parsed[0]!.ok || !parsed[1]!.ok) return;
  assert.equal(parsed[0]!.value.params.get('algorithm'), 'SHA-256');
  assert.equal(parsed[1]!.value.params.get('algorithm'), 'MD5');
  for (const c of parsed) {
    if (!c.ok) continue;
    assert.equal(c.value.scheme, 'Digest');
    assert.equal(c.value.params.get('realm'), REALM);
    assert.equal(c.value.params.get('qop'), 'auth');
    assert.ok((c.value.params.get('nonce') ?? '').length >= 16);
    assert.ok(c.value.params.get('opaque'));
    assert.equal(c.value.params.get('stale'), undefined);
  }
});

test('good SHA-256 and good MD5 credentials are accepted', () => {
  const { auth } = setup();
  for (const alg of ['SHA-256', 'MD5']) {
    const req = request({ auth: [answer(challengeFor(auth, alg))] });
    assert.deepEqual(auth.verify(req), { ok: true, username: 'alice' });
  }
});

test('wrong password and unknown user → a fresh, non-stale 401 challenge', () => {
  const { auth } = setup();
  assertFail(auth.verify(request({ auth: [answer(challengeFor(auth, 'SHA-256'), { password: 'guess' })] })), 401);
  assertFail(auth.verify(request({ auth: [answer(challengeFor(auth, 'MD5'), { username: 'mallory' })] })), 401);
});

test('a replayed or lower nonce-count is rejected with a stale challenge; a higher one passes', () => {
  const { auth } = setup();
  const ch = challengeFor(auth, 'SHA-256');
  const first = request({ auth: [answer(ch, { nc: 1 })] });
  assert.equal(auth.verify(first).ok, true);
  assertFail(auth.verify(request({ auth: [answer(ch, { nc: 1 })], cseq: 2 })), 401, true);
  assert.equal(auth.verify(request({ auth: [answer(ch, { nc: 3 })], cseq: 3 })).ok, true);
  assertFail(auth.verify(request({ auth: [answer(ch, { nc: 2 })], cseq: 4 })), 401, true);
});

test('an expired nonce → 401 whose challenges carry stale=true', () => {
  const { auth, clock } = setup();
  const ch = challengeFor(auth, 'SHA-256');
  clock.advance(299_000);
  assert.equal(auth.verify(request({ auth: [answer(ch, { nc: 1 })] })).ok, true, 'still valid at 299 s');
  clock.advance(2_000);
  const req = request({ auth: [answer(ch, { nc: 2 })], cseq: 2 });
  const r = auth.verify(req);
  assertFail(r, 401, true);
  if (r.ok) return;
  const res = auth.reject(req, r);
  const values = res.headers.filter((h) => h.name === 'www-authenticate').map((h) => h.value);
  assert.equal(values.length, 2);
  for (const v of values) assert.match(v, /stale=true/);
  // The client retries with the new nonce and the same password: accepted.
  assert.equal(auth.verify(request({ auth: [answer(values[0]!)], cseq: 3 })).ok, true);
});

test('an expired nonce with a wrong password is not stale', () => {
  const { auth, clock } = setup();
  const ch = challengeFor(auth, 'MD5');
  clock.advance(301_000);
  assertFail(auth.verify(request({ auth: [answer(ch, { password: 'nope' })] })), 401);
});

test('a nonce not issued by us (another process) with the right password → stale', () => {
  const { auth } = setup();
  const other = setup().auth;
  assertFail(auth.verify(request({ auth: [answer(challengeFor(other, 'SHA-256'))] })), 401, true);
});

test('credentials for a foreign realm are ignored: challenge', () => {
  const { auth } = setup();
  const foreign = answer(challengeFor(auth, 'SHA-256'), { realm: 'elsewhere.example' });
  assertFail(auth.verify(request({ auth: [foreign] })), 401);
  // ...but the right ones are found among several Authorization headers (RFC 3261 §22.3).
  const good = answer(challengeFor(auth, 'SHA-256'));
  assert.equal(auth.verify(request({ auth: [foreign, good] })).ok, true);
});

test('RFC 4475 §3.3.7 regaut01: an unknown scheme counts as no credentials → 401', () => {
  const { auth } = setup();
  const r = parseMessage(readFileSync(new URL('../location/vectors/regaut01.sip', import.meta.url)));
  assert.ok(r.ok && r.message.kind === 'request');
  assertFail(auth.verify(r.message as SipRequest), 401);
});

test('uri not designating the Request-URI → 400; missing cnonce with qop → 400', () => {
  const { auth } = setup();
  const ch = challengeFor(auth, 'SHA-256');
  assertFail(auth.verify(request({ auth: [answer(ch, { uri: 'sip:other.test' })] })), 400);
  const noCnonce = answer(ch).replace(/, cnonce="[^"]*"/, '');
  assertFail(auth.verify(request({ auth: [noCnonce] })), 400);
  assertFail(auth.verify(request({ auth: ['Digest username="alice", realm="sipmeet", nonce="x'] })), 400);
});

test('the digest uri may differ in text from the Request-URI if it designates the same resource', () => {
  const { auth } = setup();
  const req = request({ uri: 'sip:SIPMEET.test;transport=udp', auth: [answer(challengeFor(auth, 'MD5'), { uri: 'sip:sipmeet.test' })] });
  assert.equal(auth.verify(req).ok, true);
});

test('proxy role: Proxy-Authorization is read, 407 with Proxy-Authenticate, Authorization ignored', () => {
  const { auth } = setup();
  const invite = (o: { auth?: string[]; proxyAuth?: string[] }) => request({ method: 'INVITE', uri: 'sip:bob@sipmeet.test', ...o });
  const www = answer(challengeFor(auth, 'SHA-256'), { method: 'INVITE', uri: 'sip:bob@sipmeet.test' });
  const r = auth.verify(invite({ auth: [www] }), { role: 'proxy' });
  assertFail(r, 407);
  if (r.ok) return;
  const res = auth.reject(invite({}), r);
  assert.equal(res.status, 407);
  assert.equal(res.headers.filter((h) => h.name === 'proxy-authenticate').length, 2);
  assert.equal(res.headers.filter((h) => h.name === 'www-authenticate').length, 0);
  const prox = answer(challengeFor(auth, 'SHA-256', 'proxy'), { method: 'INVITE', uri: 'sip:bob@sipmeet.test' });
  assert.equal(auth.verify(invite({ proxyAuth: [prox] }), { role: 'proxy' }).ok, true);
});

test('an algorithm we do not offer, and a response without qop, get a challenge; allowNoQop accepts RFC 2069', () => {
  const { auth } = setup({ algorithms: ['SHA-256'] });
  assert.equal(auth.challenge().length, 1);
  const md5 = answer(challengeFor(auth, 'SHA-256')).replace('algorithm=SHA-256', 'algorithm=MD5');
  assertFail(auth.verify(request({ auth: [md5] })), 401);

  const rfc2069 = (a: DigestAuthenticator): string => {
    const p = parseCredentials(challengeFor(a, 'MD5'));
    assert.ok(p.ok);
    const nonce = p.value.params.get('nonce')!;
    const response = computeResponse({
      algorithm: 'MD5',
      ha1: computeHa1('MD5', 'alice', REALM, 'wonderland'),
      nonce,
      method: 'REGISTER',
      uri: 'sip:sipmeet.test',
    });
    return `Digest username="alice", realm="${REALM}", nonce="${nonce}", uri="sip:sipmeet.test", response="${response}"`;
  };
  const strict = setup().auth;
  assertFail(strict.verify(request({ auth: [rfc2069(strict)] })), 401);
  const lax = setup({ allowNoQop: true }).auth;
  assert.equal(lax.verify(request({ auth: [rfc2069(lax)] })).ok, true);
});

test('users with only a precomputed MD5 HA1 authenticate with MD5 only', () => {
  const clock = new ManualClock();
  const users = new MapUserDirectory({ carol: { ha1: { MD5: computeHa1('MD5', 'carol', REALM, 'pw') } } });
  const auth = new DigestAuthenticator({ realm: REALM, users, clock });
  const md5 = answer(challengeFor(auth, 'MD5'), { username: 'carol', password: 'pw' });
  assert.deepEqual(auth.verify(request({ auth: [md5] })), { ok: true, username: 'carol' });
  const sha = answer(challengeFor(auth, 'SHA-256'), { username: 'carol', password: 'pw' });
  assertFail(auth.verify(request({ auth: [sha] })), 401);
});

test('-sess variants are verified when configured', () => {
  const { auth } = setup({ algorithms: ['SHA-256-sess', 'MD5-sess'] });
  for (const alg of ['SHA-256-sess', 'MD5-sess']) {
    assert.equal(auth.verify(request({ auth: [answer(challengeFor(auth, alg))] })).ok, true, alg);
  }
});

test('the nonce-count table is bounded; a nonce whose history was evicted is refused as stale', () => {
  const { auth, clock } = setup({ maxTrackedNonces: 2 });
  const chs: string[] = [];
  for (let i = 0; i < 3; i++) {
    chs.push(challengeFor(auth, 'SHA-256'));
    clock.advance(10);
  }
  for (const ch of chs) assert.equal(auth.verify(request({ auth: [answer(ch, { nc: 1 })] })).ok, true);
  // The first nonce was evicted to make room for the third: its nc=1 could be replayed undetected,
  // so even a higher nc is refused (stale) rather than trusted.
  assertFail(auth.verify(request({ auth: [answer(chs[0]!, { nc: 2 })] })), 401, true);
  // The tracked ones still enforce their counts.
  assertFail(auth.verify(request({ auth: [answer(chs[2]!, { nc: 1 })] })), 401, true);
  assert.equal(auth.verify(request({ auth: [answer(chs[2]!, { nc: 2 })] })).ok, true);
});

test('baresip 1.x (libre 1.x gives up on a non-MD5 first challenge) is challenged with MD5 alone; others get SHA-256 first', () => {
  const clock = new ManualClock();
  const auth = new DigestAuthenticator({ realm: 'sipmeet.test', users: new MapUserDirectory({ alice: 'secret' }), clock });
  const old = auth.challenge(request({ userAgent: 'baresip v1.0.0 (x86_64/linux)' }));
  assert.deepEqual(old.map(([, v]) => /algorithm=([\w-]+)/.exec(v)![1]), ['MD5']);
  const linphone = auth.challenge(request({ userAgent: 'Linphonec/5.1.65' }));
  assert.deepEqual(linphone.map(([, v]) => /algorithm=([\w-]+)/.exec(v)![1]), ['SHA-256', 'MD5']);
});
