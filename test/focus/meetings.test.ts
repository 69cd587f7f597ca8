/**
 * Meetings as SIP URIs, end to end over UDP against the real server (media relay replaced by a recorder):
 * join with an SDP answer pointing at the relay, chat relayed with sender and time and never echoed or leaked to
 * another meeting, the host ends the meeting (BYE with Reason to all, later INVITEs refused with 410), a non-host
 * cannot, the factory URI creates a meeting, bad SDP gets 488, the last one out ends the meeting.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../registrar/log.ts';
import { resolveConfig } from '../../registrar/server/config.ts';
import { startServer, type RunningServer } from '../../registrar/server/server.ts';
import { TestPhone } from '../helpers/phone.ts';
import { RelayDouble } from './relay-double.ts';
import { parseSdp } from '../../sdp/index.ts';

let server: RunningServer;
let relay: RelayDouble;
let host: { host: string; port: number };
const phones: TestPhone[] = [];

before(async () => {
  relay = new RelayDouble();
  const cfg = resolveConfig({ host: '127.0.0.1', 'sip-port': '0', 'log-level': 'silent' });
  server = await startServer(cfg, silentLogger(), { relay });
  host = { host: '127.0.0.1', port: server.sipPort };
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

test('dialling sip:conf-42@host joins a meeting: 200 with isfocus and an SDP answer on the relay', async () => {
  const alice = await phone('alice', 'Alice');
  const res = await alice.invite(uri('conf-42'), alice.sdp({ port: 7078 }));
  assert.equal(res.status, 200);
  assert.match(res.get('contact') ?? '', /<sip:conf-42@127\.0\.0\.1:\d+>;isfocus/);
  const answer = parseSdp(res.body);
  assert.ok(answer.ok);
  const audio = answer.value.media[0]!;
  const ep = relay.live('conf-42')[0]!;
  assert.equal(audio.port, ep.alloc.rtpPort, 'the answer points at the relay endpoint');
  assert.equal(audio.formats[0], '96', 'opus chosen at the offer PT');
  assert.equal(ep.remote?.rtpPort, 7078, "the relay was told the phone's media port");
  assert.equal(ep.remote?.codecs[0]?.name, 'opus');
  const list = await server.focus.list();
  const m = list.find((x) => x.id === 'conf-42')!;
  assert.equal(m.creator.aor, alice.aor.replace(`:${host.port}`, ''));
  assert.equal(m.participants.length, 1);
  assert.equal(m.participants[0]!.displayName, 'Alice');
  assert.equal(m.participants[0]!.media[0]!.codec, 'opus');
});

test('chat in a meeting reaches the others with name and time, never the sender, never another meeting', async () => {
  const alice = phones[0]!;
  const bob = await phone('bob', 'Bob');
  assert.equal((await bob.invite(uri('conf-42'))).status, 200);
  const carol = await phone('carol', 'Carol');
  assert.equal((await carol.invite(uri('conf-43'))).status, 200);

  const r = await alice.inDialog('MESSAGE', 'hello everyone');
  assert.equal(r.status, 200);
  const got = await bob.received('MESSAGE', (m) => m.body.toString().includes('hello everyone'));
  assert.match(got.body.toString(), /^\[\d\d:\d\d:\d\d\] Alice <sip:alice@[^>]+>: hello everyone$/);
  // Out-of-dialog chat to the meeting URI (Linphone's way) from a participant works too.
  assert.equal((await bob.message(uri('conf-42'), 'hi alice')).status, 200);
  await alice.received('MESSAGE', (m) => m.body.toString().includes('Bob') && m.body.toString().includes('hi alice'));
  await new Promise((res) => setTimeout(res, 200));
  assert.ok(!alice.inbox.some((m) => m.body.toString().includes('hello everyone')), 'not echoed to the sender');
  assert.ok(!carol.inbox.some((m) => m.method === 'MESSAGE'), 'nothing leaks into conf-43');
  // Someone outside the meeting cannot post into it.
  assert.equal((await carol.message(uri('conf-42'), 'let me in')).status, 403);
});

test('/who answers the asker with the roster', async () => {
  const bob = phones[1]!;
  assert.equal((await bob.inDialog('MESSAGE', '/who')).status, 200);
  const who = await bob.received('MESSAGE', (m) => m.body.toString().startsWith('in conf-42'));
  assert.match(who.body.toString(), /Alice <sip:alice@[^>]+> \(host\)/);
  assert.match(who.body.toString(), /Bob/);
});

test('mic off by re-INVITE (recvonly) is answered sendonly and shows in the roster', async () => {
  const bob = phones[1]!;
  const res = await bob.inDialog('INVITE', bob.sdp({ direction: 'recvonly' }), 'application/sdp');
  assert.equal(res.status, 200);
  bob.ack(res);
  const answer = parseSdp(res.body);
  assert.ok(answer.ok && answer.value.media[0]!.direction === 'sendonly');
  const m = (await server.focus.get('conf-42'))!;
  assert.equal(m.participants.find((p) => p.displayName === 'Bob')!.media[0]!.direction, 'recvonly');
});

test('only the host can end the meeting; when it does, everyone gets BYE with a Reason and the URI is refused', async () => {
  const [alice, bob] = phones as [TestPhone, TestPhone];
  const denied = await bob.inDialog('MESSAGE', '/end');
  assert.equal(denied.status, 403);
  assert.equal(await server.focus.cancel('conf-42', { aor: bob.aor }), 'forbidden');
  assert.equal((await alice.inDialog('MESSAGE', '/end')).status, 200);
  const bye = await bob.received('BYE');
  assert.match(bye.get('reason') ?? '', /ended by the host/);
  await alice.received('BYE');
  assert.equal(await server.focus.get('conf-42'), undefined);
  assert.equal(relay.live('conf-42').length, 0, 'media endpoints released');
  const dave = await phone('dave', 'Dave');
  const refused = await dave.invite(uri('conf-42'));
  assert.equal(refused.status, 410);
  assert.match(refused.reason, /ended/);
});

test('the factory URI creates a meeting whose URI comes back in the Contact (RFC 4579)', async () => {
  const erin = await phone('erin', 'Erin');
  const res = await erin.invite(uri('conference'));
  assert.equal(res.status, 200);
  const m = /<sip:(conf-\d+)@[^>]+>;isfocus/.exec(res.get('contact') ?? '');
  assert.ok(m, `Contact names the new meeting: ${res.get('contact')}`);
  const view = await server.focus.get(m[1]!);
  assert.equal(view?.participants[0]?.displayName, 'Erin');
});

test('unusable SDP gets 488 with a reason, and leaves no meeting behind', async () => {
  const frank = await phone('frank', 'Frank');
  const res = await frank.invite(uri('conf-88'), 'v=0\r\nthis is not sdp\r\n');
  assert.equal(res.status, 488);
  assert.match(res.reason, /SDP/);
  const video = await frank.invite(uri('conf-89'), 'v=0\r\no=f 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 18\r\n');
  assert.equal(video.status, 488, 'G.729 only: no common codec');
  assert.equal(await server.focus.get('conf-88'), undefined);
  assert.equal(await server.focus.get('conf-89'), undefined);
});

test('when the last participant hangs up the meeting ends; the others carry on until then', async () => {
  const g = await phone('gina', 'Gina');
  const h = await phone('hal', 'Hal');
  assert.equal((await g.invite(uri('conf-50'))).status, 200);
  assert.equal((await h.invite(uri('conf-50'))).status, 200);
  assert.equal((await g.inDialog('BYE')).status, 200);
  const after1 = (await server.focus.get('conf-50'))!;
  assert.deepEqual(after1.participants.map((p) => p.displayName), ['Hal']);
  assert.equal((await h.inDialog('BYE')).status, 200);
  assert.equal(await server.focus.get('conf-50'), undefined);
});

test('a participant whose media stopped (relay media-timeout) is removed with a BYE', async () => {
  const i = await phone('ivy', 'Ivy');
  const j = await phone('jon', 'Jon');
  assert.equal((await i.invite(uri('conf-60'))).status, 200);
  assert.equal((await j.invite(uri('conf-60'))).status, 200);
  const view = (await server.focus.get('conf-60'))!;
  const ivy = view.participants.find((p) => p.displayName === 'Ivy')!;
  const ep = relay.live('conf-60').find((e) => e.req.participantId === ivy.id)!;
  relay.emit({ type: 'media-timeout', meetingId: 'conf-60', participantId: ivy.id, endpointId: ep.alloc.endpointId, silentMs: 30000 });
  const bye = await i.received('BYE');
  assert.match(bye.get('reason') ?? '', /No media/);
  assert.deepEqual((await server.focus.get('conf-60'))!.participants.map((p) => p.displayName), ['Jon']);
});

test('no media ports left → 503', async () => {
  relay.exhausted = true;
  try {
    const k = await phone('kim', 'Kim');
    const res = await k.invite(uri('conf-70'));
    assert.equal(res.status, 503);
  } finally {
    relay.exhausted = false;
  }
});

test('a phone that forgot the call (481 to the liveness OPTIONS) is removed; the meeting carries on', async () => {
  const relay2 = new RelayDouble();
  const cfg = resolveConfig({ host: '127.0.0.1', 'sip-port': '0', 'http-port': '0', 'log-level': 'silent' });
  const s2 = await startServer(cfg, silentLogger(), { relay: relay2, focus: { probeIntervalMs: 200 } });
  const h2 = { host: '127.0.0.1', port: s2.sipPort };
  const lost = await TestPhone.open('lost', 'Lost', h2);
  const stay = await TestPhone.open('stay', 'Stay', h2);
  try {
    assert.equal((await lost.invite(`sip:conf-80@127.0.0.1:${h2.port}`)).status, 200);
    assert.equal((await stay.invite(`sip:conf-80@127.0.0.1:${h2.port}`)).status, 200);
    lost.answerWith.OPTIONS = 481;
    await lost.received('OPTIONS', () => true, 3000);
    const deadline = Date.now() + 3000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      names = (await s2.focus.get('conf-80'))!.participants.map((p) => p.displayName);
      if (names.length === 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(names, ['Stay']);
  } finally {
    lost.close();
    stay.close();
    await s2.close();
  }
});
