/**
 * Participants that show several videos (Contact feature tag `+sipmeet.video-streams`, RFC 3840) get one labelled
 * video line per other publisher by re-INVITE; a publisher leaving or turning its camera off disables its line
 * (port 0, the line stays: RFC 3264 §8.2); a phone without the tag keeps a single video line. Real relay.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../registrar/log.ts';
import { resolveConfig } from '../../registrar/server/config.ts';
import { startServer, type RunningServer } from '../../registrar/server/server.ts';
import { TestPhone } from '../helpers/phone.ts';
import { parseSdp } from '../../sdp/index.ts';

let server: RunningServer;
let host: { host: string; port: number };
const phones: TestPhone[] = [];

before(async () => {
  const cfg = resolveConfig({ host: '127.0.0.1', 'sip-port': '0', 'http-port': '0', 'rtp-ports': '34600-34799', 'log-level': 'silent' });
  server = await startServer(cfg, silentLogger(), { focus: { probeIntervalMs: 0 } });
  host = { host: '127.0.0.1', port: server.sipPort };
});
after(async () => {
  for (const p of phones) p.close();
  await server.close();
});

async function phone(user: string, multi: boolean, base: number): Promise<TestPhone> {
  const p = await TestPhone.open(user, user, host);
  if (multi) p.contactParams = ';+sipmeet.video-streams';
  p.mediaBase = base;
  phones.push(p);
  return p;
}
const meeting = () => `sip:conf-video@127.0.0.1:${host.port}`;

/** The labelled, live video lines of the phone's latest offer from the focus. */
async function liveVideoLabels(p: TestPhone, count: number): Promise<string[]> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const last = p.offers.at(-1);
    if (last) {
      const sdp = parseSdp(last.body);
      if (sdp.ok) {
        const labels = sdp.value.media.filter((m, i) => i > 1 && m.type === 'video' && m.port !== 0).map((m) => m.label ?? '?');
        if (labels.length === count) return labels;
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const last = p.offers.at(-1);
  throw new Error(`${p.user}: expected ${count} live per-publisher lines; last offer:\n${last?.body.toString() ?? '(none)'}`);
}

test('a second publisher joining gives the first one a labelled sendonly video line for it, and vice versa', async () => {
  const a = await phone('amy', true, 41000);
  const b = await phone('bo', true, 42000);
  const c = await phone('cy', false, 43000);
  assert.equal((await a.invite(meeting(), a.sdp({ port: 41000, video: { port: 41002 } }))).status, 200);
  assert.equal((await b.invite(meeting(), b.sdp({ port: 42000, video: { port: 42002 } }))).status, 200);
  assert.equal((await c.invite(meeting(), c.sdp({ port: 43000, video: { port: 43002 } }))).status, 200);
  const view = (await server.focus.get('conf-video'))!;
  const id = (name: string) => view.participants.find((p) => p.displayName === name)!.id;
  const aLabels = await liveVideoLabels(a, 2);
  assert.deepEqual(aLabels.sort(), [id('bo'), id('cy')].sort());
  const bLabels = await liveVideoLabels(b, 2);
  assert.deepEqual(bLabels.sort(), [id('amy'), id('cy')].sort());
  const offer = parseSdp(a.offers.at(-1)!.body);
  assert.ok(offer.ok);
  for (const m of offer.value.media.slice(2)) assert.equal(m.direction, 'sendonly', 'the focus only sends on per-publisher lines');
  assert.equal(c.offers.length, 0, 'a phone without the feature tag is never re-INVITEd for video');
  const after2 = (await server.focus.get('conf-video'))!;
  const amy = after2.participants.find((p) => p.displayName === 'amy')!;
  assert.equal(amy.media.filter((m) => m.kind === 'video').length, 3, 'the roster/API lists the main line and two subscriptions');
});

test("a publisher's camera off (re-INVITE recvonly) disables its line for the others; leaving does too", async () => {
  const [a, b, c] = phones as [TestPhone, TestPhone, TestPhone];
  const res = await c.inDialog('INVITE', c.sdp({ port: 43000, video: { port: 43002, direction: 'recvonly' } }), 'application/sdp');
  assert.equal(res.status, 200);
  c.ack(res);
  assert.equal((await liveVideoLabels(a, 1)).length, 1);
  const offer = parseSdp(a.offers.at(-1)!.body);
  assert.ok(offer.ok);
  assert.equal(offer.value.media.length, 4, 'the disabled line keeps its place');
  assert.equal((await b.inDialog('BYE')).status, 200);
  assert.equal((await liveVideoLabels(a, 0)).length, 0);
});
