/**
 * Registration with digest authentication on (a users file): a phone is challenged with SHA-256 and MD5
 * (RFC 8760), answers the challenge (the response computed here independently, RFC 7616 §3.4.1) and is
 * registered; a wrong password and a replayed nonce-count are refused; registering someone else's AOR is 403.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testServer } from './harness.ts';
import { UdpPeer, uniq } from '../helpers/udp-peer.ts';
import type { RunningServer } from '../../registrar/server/server.ts';

let server: RunningServer;
let peer: UdpPeer;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipmeet-auth-'));
  writeFileSync(join(dir, 'users'), 'alice:wonderland\nbob:builder\n');
  server = await testServer({ users: join(dir, 'users'), domain: 'meet.test' });
  peer = await UdpPeer.open();
});
after(async () => {
  peer.close();
  await server.close();
});

const h = (alg: 'sha256' | 'md5', s: string) => createHash(alg).update(s).digest('hex');

function challengeParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of value.replace(/^Digest\s+/i, '').matchAll(/(\w+)=("([^"]*)"|[^,\s]+)/g)) out[m[1]!.toLowerCase()] = m[3] ?? m[2]!;
  return out;
}

function sendRegister(opts: { user: string; aorUser?: string; callId: string; cseq: number; auth?: string }): void {
  const port = server.sipPort;
  peer.send(
    `REGISTER sip:meet.test SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${uniq()};rport
Max-Forwards: 70
From: <sip:${opts.aorUser ?? opts.user}@meet.test>;tag=${uniq()}
To: <sip:${opts.aorUser ?? opts.user}@meet.test>
Call-ID: ${opts.callId}
CSeq: ${opts.cseq} REGISTER
Contact: <sip:${opts.user}@127.0.0.1:${peer.port}>
${opts.auth ? `Authorization: ${opts.auth}\n` : ''}Expires: 300
Content-Length: 0

`,
    port,
  );
}

function authorization(alg: 'SHA-256' | 'MD5', user: string, password: string, ch: Record<string, string>, nc: string): string {
  const f = alg === 'SHA-256' ? 'sha256' : 'md5';
  const uri = 'sip:meet.test';
  const cnonce = uniq('cn');
  const ha1 = h(f, `${user}:${ch.realm}:${password}`);
  const ha2 = h(f, `REGISTER:${uri}`);
  const response = h(f, `${ha1}:${ch.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${user}", realm="${ch.realm}", nonce="${ch.nonce}", uri="${uri}", response="${response}", algorithm=${alg}, cnonce="${cnonce}", opaque="${ch.opaque}", qop=auth, nc=${nc}`;
}

test('REGISTER without credentials is challenged with SHA-256 first, then MD5', async () => {
  const callId = uniq('a1');
  sendRegister({ user: 'alice', callId, cseq: 1 });
  const res = await peer.response(callId, 401);
  const challenges = res.getAll('www-authenticate');
  assert.equal(challenges.length, 2);
  assert.equal(challengeParams(challenges[0]!).algorithm, 'SHA-256');
  assert.equal(challengeParams(challenges[1]!).algorithm, 'MD5');
  assert.equal(challengeParams(challenges[0]!).realm, 'meet.test');
  assert.match(challenges[0]!, /qop="auth"/);
});

for (const alg of ['SHA-256', 'MD5'] as const) {
  test(`answering the ${alg} challenge registers the phone; replaying the same nc is refused`, async () => {
    const callId = uniq('a2');
    sendRegister({ user: 'alice', callId, cseq: 1 });
    const res = await peer.response(callId, 401);
    const ch = challengeParams(res.getAll('www-authenticate').find((c) => c.includes(`algorithm=${alg}`))!);
    const auth = authorization(alg, 'alice', 'wonderland', ch, '00000001');
    sendRegister({ user: 'alice', callId, cseq: 2, auth });
    const ok = await peer.response(callId, 200);
    const c = ok.contacts();
    assert.ok(c.ok && !c.value.star && c.value.contacts.some((x) => x.uri.port === peer.port));
    sendRegister({ user: 'alice', callId, cseq: 3, auth });
    const replay = await peer.waitFor((m) => m.kind === 'response' && m.callId === callId && m.cseq.seq === 3, 3000, 'answer to the replay');
    assert.ok(replay.kind === 'response' && replay.status === 401, 'a replayed nonce-count gets a fresh challenge');
  });
}

test('a wrong password is challenged again, never registered', async () => {
  const callId = uniq('a3');
  sendRegister({ user: 'bob', callId, cseq: 1 });
  const res = await peer.response(callId, 401);
  const ch = challengeParams(res.getAll('www-authenticate')[0]!);
  sendRegister({ user: 'bob', callId, cseq: 2, auth: authorization('SHA-256', 'bob', 'not-the-password', ch, '00000001') });
  const again = await peer.waitFor((m) => m.kind === 'response' && m.callId === callId && m.cseq.seq === 2, 3000, 'answer');
  assert.ok(again.kind === 'response' && again.status === 401);
  assert.equal(server.registrar.lookup('sip:bob@meet.test').length, 0);
});

test("bob's valid credentials cannot register alice's address: 403", async () => {
  const callId = uniq('a4');
  sendRegister({ user: 'bob', aorUser: 'alice', callId, cseq: 1 });
  const res = await peer.response(callId, 401);
  const ch = challengeParams(res.getAll('www-authenticate')[0]!);
  sendRegister({ user: 'bob', aorUser: 'alice', callId, cseq: 2, auth: authorization('SHA-256', 'bob', 'builder', ch, '00000001') });
  await peer.response(callId, 403);
});
