/**
 * RFC 4475 torture messages against the running server, over UDP, byte-exact: each one gets the outcome in
 * rfc4475-outcomes.json (checked against the RFC's allowed outcomes in the vendored manifest), observed on the
 * wire through the server's SIP trace (the responses go to the Via of each message — hosts like 192.0.2.2 —
 * so the trace is where they can be seen). Each message goes to a fresh server: several of them share a Via
 * branch, so one server would rightly treat the later ones as retransmissions (§17.2.3). Then one server gets all
 * 49 in a row and still answers an OPTIONS.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { testServer } from './harness.ts';
import { UdpPeer } from '../helpers/udp-peer.ts';
import type { RunningServer } from '../../registrar/server/server.ts';

/** A response seen on the wire. Some echo the malformed header they complain about, so they are read leniently. */
interface Seen {
  status: number;
  reason: string;
  /** Transaction identity (Call-ID, top Via, CSeq lines) to tell retransmissions of earlier answers apart. */
  key: string;
}

const dir = fileURLToPath(new URL('../vectors/rfc4475/', import.meta.url));
const manifest = JSON.parse(readFileSync(`${dir}manifest.json`, 'utf8')) as Array<{ tag: string; section: string; title: string; expect: string }>;
const outcomes = JSON.parse(readFileSync(fileURLToPath(new URL('./rfc4475-outcomes.json', import.meta.url)), 'utf8')) as Record<string, string>;

let peer: UdpPeer;
const sent: Seen[] = [];

async function tracedServer(): Promise<RunningServer> {
  const server = await testServer();
  server.transport.onTrace((ev) => {
    if (ev.direction !== 'out') return;
    const text = ev.bytes.toString('latin1');
    const m = /^SIP\/2\.0 (\d{3}) (.*)\r\n/.exec(text);
    if (!m) return;
    const pick = (re: RegExp) => re.exec(text)?.[0] ?? '';
    const key = [m[1], pick(/^(?:call-id|i)[ \t]*:.*$/im), pick(/^(?:via|v)[ \t]*:.*$/im), pick(/^cseq[ \t]*:.*$/im)].join('|');
    sent.push({ status: Number(m[1]), reason: m[2]!, key });
  });
  return server;
}

before(async () => {
  peer = await UdpPeer.open();
});
after(() => peer.close());

/**
 * Final responses to earlier messages, by transaction identity: an INVITE's non-2xx is retransmitted (Timer G)
 * until an ACK that these one-shot messages never send, so later windows see those copies too.
 */
const earlier = new Set<string>();

async function finalResponseAfter(start: number, ms: number): Promise<Seen | undefined> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const fin = sent.slice(start).find((r) => r.status >= 200 && !earlier.has(r.key));
    if (fin) return fin;
    await new Promise((r) => setTimeout(r, 5));
  }
  return undefined;
}

test('every torture message has a chosen outcome the RFC allows', () => {
  assert.equal(manifest.length, 49);
  for (const m of manifest) {
    const chosen = outcomes[m.tag];
    assert.ok(chosen, `no outcome chosen for ${m.tag}`);
    const kind = chosen.startsWith('accept') ? 'accept' : chosen;
    assert.ok(m.expect.split('|').includes(kind), `${m.tag}: ${chosen} is not among the RFC's ${m.expect}`);
  }
});

for (const m of manifest) {
  test(`RFC 4475 §${m.section} ${m.tag} (${m.title}) → ${outcomes[m.tag]}`, async (t) => {
    const bytes = readFileSync(`${dir}${m.tag}.sip`);
    const server = await tracedServer();
    t.after(() => server.close());
    const start = sent.length;
    peer.send(bytes, server.sipPort);
    const expected = outcomes[m.tag]!;
    if (expected === 'ignore') {
      await new Promise((r) => setTimeout(r, 150));
      const answers = sent.slice(start).filter((r) => !earlier.has(r.key));
      assert.deepEqual(answers.map((r) => r.status), [], 'a response that matches nothing is dropped silently');
      return;
    }
    const status = Number(expected.split(':')[1]);
    const fin = await finalResponseAfter(start, 2000);
    if (fin) earlier.add(fin.key);
    assert.ok(fin, `no final response within 2 s`);
    assert.equal(fin.status, status, `answered ${fin.status} ${fin.reason}`);
    if (expected.startsWith('reject:400')) assert.ok(fin.reason.length > 'Bad Request'.length, `400 reason names the problem: "${fin.reason}"`);
  });
}

test('one server takes all 49 torture messages in a row and still answers', async (t) => {
  const server = await tracedServer();
  t.after(() => server.close());
  for (const m of manifest) peer.send(readFileSync(`${dir}${m.tag}.sip`), server.sipPort);
  const id = peer.options(server.sipPort);
  await peer.response(id, 200);
});
