/**
 * The roster and the HTTP API against the running server: a SUBSCRIBE to a meeting gets 200 and a full
 * conference-info NOTIFY, every join/leave brings a NOTIFY with a higher version; GET /api/conferences reflects
 * each step; POST creates a meeting that phones can then join; DELETE by the creator ends it (BYE to everyone),
 * by someone else is 403; /metrics and /healthz answer.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { silentLogger } from '../../registrar/log.ts';
import { resolveConfig } from '../../registrar/server/config.ts';
import { startServer, type RunningServer } from '../../registrar/server/server.ts';
import { TestPhone } from '../helpers/phone.ts';
import { uniq } from '../helpers/udp-peer.ts';
import { RelayDouble } from './relay-double.ts';
import type { SipRequest } from '../../registrar/sip/message/types.ts';

let server: RunningServer;
let relay: RelayDouble;
let host: { host: string; port: number };
let api: string;
const phones: TestPhone[] = [];

before(async () => {
  const cfg = resolveConfig({ host: '127.0.0.1', 'sip-port': '0', 'http-port': '0', 'log-level': 'silent' });
  relay = new RelayDouble();
  server = await startServer(cfg, silentLogger(), { relay });
  host = { host: '127.0.0.1', port: server.sipPort };
  api = `http://127.0.0.1:${server.httpPort}`;
});
after(async () => {
  for (const p of phones) p.close();
  await server.close();
});

async function phone(user: string, name: string): Promise<TestPhone> {
  const p = await TestPhone.open(user, name, host);
  phones.push(p);
  return p;
}
const uri = (id: string) => `sip:${id}@127.0.0.1:${host.port}`;

function conferenceInfo(n: SipRequest): { version: number; users: Array<{ entity: string; display: string }> } {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(n.body.toString());
  const ci = doc['conference-info'];
  const raw = ci.users?.user ?? [];
  const users = (Array.isArray(raw) ? raw : [raw]).map((u: Record<string, unknown>) => ({ entity: String(u['@entity']), display: String(u['display-text']) }));
  return { version: Number(ci['@version']), users };
}

test('SUBSCRIBE to a meeting: 200, a full roster NOTIFY, then a NOTIFY with a higher version at each join and leave', async () => {
  const alice = await phone('alice', 'Alice');
  assert.equal((await alice.invite(uri('conf-7'))).status, 200);
  const watcher = await phone('watcher', 'Watcher');
  const callId = uniq('sub');
  watcher.send(
    `SUBSCRIBE ${uri('conf-7')} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${watcher.port};branch=z9hG4bK${uniq()};rport\r\nMax-Forwards: 70\r\n` +
      `From: <sip:watcher@127.0.0.1>;tag=${uniq()}\r\nTo: <${uri('conf-7')}>\r\nCall-ID: ${callId}\r\nCSeq: 1 SUBSCRIBE\r\n` +
      `Contact: <sip:watcher@127.0.0.1:${watcher.port}>\r\nEvent: conference\r\nExpires: 600\r\nAccept: application/conference-info+xml\r\nContent-Length: 0\r\n\r\n`,
  );
  const ok = await watcher.peer.response(callId, 200, 'SUBSCRIBE');
  assert.ok(Number(ok.get('expires')) > 0);
  const first = await watcher.received('NOTIFY', (n) => n.callId === callId);
  assert.match(first.get('subscription-state') ?? '', /^active/);
  assert.equal(first.get('event'), 'conference');
  const doc1 = conferenceInfo(first);
  assert.deepEqual(doc1.users.map((u) => u.display), ['Alice']);

  const bob = await phone('bob', 'Bob');
  assert.equal((await bob.invite(uri('conf-7'))).status, 200);
  const second = await watcher.received('NOTIFY', (n) => n.callId === callId && conferenceInfo(n).users.length === 2);
  assert.ok(conferenceInfo(second).version > doc1.version);

  // The relay's mixer names the loudest talker: the roster carries it (sipmeet extension element), as an AOR.
  const aliceId = (await server.focus.get('conf-7'))!.participants.find((p) => p.displayName === 'Alice')!.id;
  relay.emit({ type: 'active-speaker', meetingId: 'conf-7', participantId: aliceId });
  const speaking = await watcher.received('NOTIFY', (n) => n.callId === callId && n.body.toString().includes('active-speaker'));
  assert.match(speaking.body.toString(), /<active-speaker[^>]*>sip:alice@[^<]+<\/active-speaker>/);

  assert.equal((await bob.inDialog('BYE')).status, 200);
  const third = await watcher.received('NOTIFY', (n) => n.callId === callId && conferenceInfo(n).users.length === 1 && conferenceInfo(n).version > conferenceInfo(second).version);
  assert.deepEqual(conferenceInfo(third).users.map((u) => u.display), ['Alice']);
});

test('GET /api/conferences reflects the meeting; POST creates one; DELETE by a non-creator is 403, by the creator ends it', async () => {
  const list = (await (await fetch(`${api}/api/conferences`)).json()) as Array<{ id: string; participants: Array<{ displayName: string; media: Array<{ codec: string }> }> }>;
  const c7 = list.find((m) => m.id === 'conf-7')!;
  assert.deepEqual(c7.participants.map((p) => p.displayName), ['Alice']);
  assert.equal(c7.participants[0]!.media[0]!.codec, 'opus');

  const created = await fetch(`${api}/api/conferences`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'conf-standup', creator: 'sip:carol@127.0.0.1', displayName: 'Carol' }),
  });
  assert.equal(created.status, 201);
  const view = (await created.json()) as { uri: string; state: string };
  assert.equal(view.state, 'waiting');
  const dave = await phone('dave', 'Dave');
  assert.equal((await dave.invite(uri('conf-standup'))).status, 200);

  const denied = await fetch(`${api}/api/conferences/conf-standup?creator=${encodeURIComponent('sip:dave@127.0.0.1')}`, { method: 'DELETE' });
  assert.equal(denied.status, 403);
  const ended = await fetch(`${api}/api/conferences/conf-standup?creator=${encodeURIComponent('sip:carol@127.0.0.1')}`, { method: 'DELETE' });
  assert.equal(ended.status, 204);
  const bye = await dave.received('BYE');
  assert.match(bye.get('reason') ?? '', /ended by the host/);
  assert.equal((await fetch(`${api}/api/conferences/conf-standup`)).status, 404);
});

test('/metrics counts meetings and SIP requests; /healthz is ok', async () => {
  const text = await (await fetch(`${api}/metrics`)).text();
  assert.match(text, /sipmeet_meetings \d+/);
  assert.match(text, /sipmeet_sip_requests_total\{method="INVITE"\} [1-9]/);
  assert.equal((await fetch(`${api}/healthz`)).status, 200);
});
