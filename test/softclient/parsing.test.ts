/**
 * What the client reads from the focus: RFC 4575 rosters (full, partial, stale, a skipped version), RFC 3862 CPIM
 * chat and the focus's plain notices, RFC 3326 Reason headers; and the TCP transport's framing of a server stream
 * that splits and joins messages arbitrarily (RFC 3261 §18.3, Content-Length); VP8 depacketization (RFC 7741).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { parseIncoming } from '../../softclient/chat/cpim.ts';
import { Roster } from '../../softclient/roster/roster.ts';
import { describeReason, parseReason } from '../../softclient/sip/reason.ts';
import { TcpTransport } from '../../softclient/sip/tcp-transport.ts';
import { contactUri } from '../../softclient/call.ts';
import { parseJoin } from '../../softclient/cli/args.ts';
import { Vp8Depacketizer, vp8DescriptorLength } from '../../softclient/media/vp8-depacketizer.ts';

const doc = (version: number, state: 'full' | 'partial', users: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:conf-1@h" state="${state}" version="${version}">` +
  `<conference-description><subject>conf-1</subject></conference-description><users${state === 'partial' ? ' state="partial"' : ''}>${users}</users></conference-info>`;
const user = (aor: string, name: string, audio: string, host = false) =>
  `<user entity="${aor}" state="full"><display-text>${name}</display-text><roles><entry>${host ? 'host' : 'participant'}</entry></roles>` +
  `<endpoint entity="${aor}:5070" state="full"><status>connected</status><media id="p-0"><type>audio</type><status>${audio}</status></media></endpoint></user>`;

test('roster: full state, partial add/change/delete, stale versions ignored, a gap reported', () => {
  const r = new Roster();
  const a = r.apply(doc(1, 'full', user('sip:ann@h', 'Ann &amp; Co', 'sendrecv', true)));
  assert.ok(a.ok && a.change);
  assert.deepEqual(a.change.users.map((u) => [u.name, u.roles, u.media[0]?.status]), [['Ann & Co', ['host'], 'sendrecv']]);
  const b = r.apply(doc(2, 'partial', user('sip:ben@h', 'Ben', 'sendrecv')));
  assert.ok(b.ok && b.change);
  assert.deepEqual(b.change.joined.map((u) => u.aor), ['sip:ben@h']);
  assert.equal(b.change.users.length, 2);
  const stale = r.apply(doc(2, 'full', ''));
  assert.deepEqual(stale, { ok: true, change: undefined }, 'RFC 4575 §4.6: not above the last version → discarded');
  const c = r.apply(doc(3, 'partial', user('sip:ben@h', 'Ben', 'recvonly')));
  assert.ok(c.ok && c.change);
  assert.deepEqual(c.change.changed.map((u) => u.media[0]?.status), ['recvonly']);
  const d = r.apply(doc(5, 'partial', '<user entity="sip:ann@h" state="deleted"/>'));
  assert.ok(d.ok && d.change);
  assert.equal(d.change.gap, true);
  assert.deepEqual(d.change.left.map((u) => u.aor), ['sip:ann@h']);
  assert.deepEqual(r.list.map((u) => u.aor), ['sip:ben@h']);
  assert.equal(r.apply('<conference-info version="9"><users><user').ok, false, 'malformed XML is refused, not thrown');
  assert.equal(r.apply('<!DOCTYPE x [<!ENTITY a "b">]><conference-info version="9"/>').ok, false, 'no DTDs');
});

test('chat: CPIM from the focus, its plain form, and notices', () => {
  const cpim =
    'From: "Ann \\"A\\" Lee" <sip:ann@h>\r\nTo: <sip:conf-1@h>\r\nDateTime: 2026-03-01T10:11:12.000Z\r\n\r\n' +
    'Content-Type: text/plain;charset=utf-8\r\nContent-Length: 9\r\n\r\nhi: there';
  assert.deepEqual(parseIncoming('message/cpim', cpim), {
    kind: 'chat',
    chat: { from: 'sip:ann@h', name: 'Ann "A" Lee', at: '2026-03-01T10:11:12.000Z', text: 'hi: there' },
  });
  assert.deepEqual(parseIncoming('text/plain;charset=utf-8', '[10:11:12] Ben <sip:ben@h>: yo', new Date('2026-03-01T23:00:00Z')), {
    kind: 'chat',
    chat: { from: 'sip:ben@h', name: 'Ben', at: '2026-03-01T10:11:12.000Z', text: 'yo' },
  });
  assert.deepEqual(parseIncoming('text/plain', 'in conf-1: Ann <sip:ann@h> (host)'), { kind: 'notice', text: 'in conf-1: Ann <sip:ann@h> (host)' });
  assert.equal(parseIncoming('message/cpim', 'no blank line').kind, 'unsupported');
  assert.equal(parseIncoming('image/png', 'x').kind, 'unsupported');
});

test('Reason (RFC 3326) and the focus Contact', () => {
  const r = parseReason('Q.850;cause=16;text="Meeting ended by the host"');
  assert.deepEqual(r, { protocol: 'Q.850', cause: 16, text: 'Meeting ended by the host' });
  assert.equal(describeReason(parseReason('SIP ;cause=200 ;text="Call completed, elsewhere"')), 'Call completed, elsewhere');
  assert.equal(describeReason(parseReason('Q.850;cause=41')), 'Q.850 cause 41');
  assert.equal(parseReason(''), undefined);
  assert.deepEqual(contactUri('<sip:conf-101@10.0.0.1:5060;transport=tcp>;isfocus'), { uri: 'sip:conf-101@10.0.0.1:5060', isFocus: true });
  assert.deepEqual(contactUri('sip:conf-1@h'), { uri: 'sip:conf-1@h', isFocus: false });
});

test('join arguments: server from the meeting URI, AOR from the name or --user', () => {
  const a = parseJoin(['sip:conf-42@10.1.2.3:5070', '--name', 'Zoë Q'], false);
  assert.deepEqual([a.server, a.aor, a.name, a.auth], [{ host: '10.1.2.3', port: 5070 }, 'sip:zo-q@10.1.2.3', 'Zoë Q', undefined]);
  const b = parseJoin(['sip:conf-42@example.com', '--server', '[::1]:6000', '--user', 'alice', '--password', 'pw'], false);
  assert.deepEqual([b.server, b.aor, b.auth], [{ host: '::1', port: 6000 }, 'sip:alice@[::1]', { username: 'alice', password: 'pw' }]);
  const c = parseJoin(['--server', 'h:7000'], true);
  assert.equal(c.target, 'sip:conference@h:7000', 'create without an id dials the RFC 4579 factory URI');
  assert.throws(() => parseJoin(['sip:conf-1@h', '--password', 'x'], false), /--password needs --user/);
});

test('TCP transport: messages split across and joined within chunks are delivered whole', async () => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const conn = once(server, 'connection') as Promise<[Socket]>;
  const silent = { error() {}, warn() {}, log() {}, debug() {} };
  const t = new TcpTransport(silent as never, { host: '127.0.0.1', port: (server.address() as { port: number }).port });
  const got: string[] = [];
  t.onMessage = (m) => got.push(m);
  await t.connect();
  const [sock] = await conn;
  sock.setNoDelay(true); // no Nagle: each write is its own segment
  const body = 'héllo';
  const msg = `MESSAGE sip:a@h SIP/2.0\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const two = Buffer.from(`\r\n\r\n${msg}${msg}`);
  sock.write(two.subarray(0, 30));
  await new Promise((r) => setTimeout(r, 20));
  sock.write(two.subarray(30, two.length - 2));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(got.length, 1, 'the first is whole, the second waits for its last body octets');
  sock.write(two.subarray(two.length - 2));
  for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(got, [msg, msg]);
  await t.disconnect();
  assert.equal(t.isConnected(), false);
  server.close();
});

test('VP8 depacketizer (RFC 7741): frames from S/marker packets, a loss waits for a key frame', () => {
  const d = new Vp8Depacketizer();
  // A key frame in two packets: descriptor X=1 with a 15-bit PictureID, then the VP8 header (P=0, 9d 01 2a, 320x240).
  const key1 = Uint8Array.of(0x90, 0x80, 0x80, 0x01, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00);
  const key2 = Uint8Array.of(0x80, 0x80, 0x80, 0x01, 0xaa, 0xbb);
  assert.deepEqual(d.push(10, 9000, false, key1), {});
  const k = d.push(11, 9000, true, key2).frame!;
  assert.deepEqual([k.keyframe, k.width, k.height, k.data.length], [true, 320, 240, 12]);
  const inter = (seq: number, ts: number) => d.push(seq, ts, true, Uint8Array.of(0x10, 0x01, 0x02, 0x03));
  assert.equal(inter(12, 12000).frame?.keyframe, false);
  assert.deepEqual(inter(14, 18000), { needKeyframe: true }, 'seq 13 lost: the inter frame after it is not shown');
  assert.deepEqual(inter(15, 21000), { needKeyframe: true });
  assert.deepEqual(d.push(16, 24000, false, key1), {});
  assert.equal(d.push(17, 24000, true, key2).frame?.keyframe, true, 'a key frame repairs the stream');
  assert.equal(vp8DescriptorLength(Uint8Array.of(0x80)), -1, 'X set but no extension octet');
});
