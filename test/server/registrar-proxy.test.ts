/**
 * The server end to end over UDP: a phone registers, another calls it through the server, chat is routed,
 * CANCEL is propagated, bad input is answered 400 and never stops the server.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { testServer } from './harness.ts';
import { UdpPeer, uniq } from '../helpers/udp-peer.ts';
import type { RunningServer } from '../../registrar/server/server.ts';
import type { SipRequest } from '../../registrar/sip/message/types.ts';

let server: RunningServer;
let alice: UdpPeer;
let bob: UdpPeer;
let port: number;

before(async () => {
  server = await testServer();
  port = server.sipPort;
  alice = await UdpPeer.open();
  bob = await UdpPeer.open();
});
after(async () => {
  alice.close();
  bob.close();
  await server.close();
});

function register(peer: UdpPeer, user: string, expires = 600): string {
  const callId = uniq('reg');
  peer.send(
    `REGISTER sip:127.0.0.1:${port} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${uniq()};rport
Max-Forwards: 70
From: <sip:${user}@127.0.0.1>;tag=${uniq()}
To: <sip:${user}@127.0.0.1>
Call-ID: ${callId}
CSeq: 1 REGISTER
Contact: <sip:${user}@127.0.0.1:${peer.port}>
Expires: ${expires}
Content-Length: 0

`,
    port,
  );
  return callId;
}

/** Answer a request received by a peer with `status`, echoing its Via/From/To/Call-ID/CSeq (as a phone would). */
function answer(peer: UdpPeer, req: SipRequest, status: number, reason: string, toTag?: string, extra = ''): void {
  const vias = req.getAll('via').map((v) => `Via: ${v}`).join('\n');
  const to = req.get('to')! + (toTag && req.toTag === undefined ? `;tag=${toTag}` : '');
  const top = req.via[0]!;
  peer.send(
    `SIP/2.0 ${status} ${reason}
${vias}
From: ${req.get('from')}
To: ${to}
Call-ID: ${req.callId}
CSeq: ${req.cseq.seq} ${req.cseq.method}
${extra}Content-Length: 0

`,
    Number(top.params.get('rport') ?? top.port ?? 5060),
    top.params.get('received') ?? top.host,
  );
}

test('REGISTER is answered 200 with the binding and its expiry; OPTIONS gets 200 with Allow', async () => {
  const callId = register(alice, 'alice');
  const res = await alice.response(callId, 200);
  const contacts = res.contacts();
  assert.ok(contacts.ok && !contacts.value.star);
  assert.equal(contacts.value.contacts.length, 1);
  assert.equal(contacts.value.contacts[0]!.uri.port, alice.port);
  assert.equal(contacts.value.contacts[0]!.params.get('expires'), '600');

  const oid = bob.options(port);
  const ok = await bob.response(oid, 200);
  assert.match(ok.get('allow') ?? '', /INVITE/);
  assert.match(ok.get('allow') ?? '', /MESSAGE/);
});

test('Bob calls registered Alice through the server: Alice rings, answers, Bob sees 180 and 200', async () => {
  register(alice, 'alice');
  const callId = uniq('call');
  bob.send(
    `INVITE sip:alice@127.0.0.1:${port} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${bob.port};branch=z9hG4bK${uniq()};rport
Max-Forwards: 70
From: "Bob" <sip:bob@127.0.0.1>;tag=${uniq()}
To: <sip:alice@127.0.0.1>
Call-ID: ${callId}
CSeq: 1 INVITE
Contact: <sip:bob@127.0.0.1:${bob.port}>
Content-Length: 0

`,
    port,
  );
  const inv = await alice.request('INVITE', 3000, (r) => r.callId === callId);
  // §16.6: the proxy retargets to the contact, adds its own Via on top and decrements Max-Forwards.
  assert.equal(inv.uri.port, alice.port);
  assert.equal(inv.via.length, 2);
  assert.equal(inv.via[0]!.port, port);
  assert.equal(inv.maxForwards, 69);
  answer(alice, inv, 180, 'Ringing', 'alicetag');
  const ringing = await bob.response(callId, 180);
  assert.equal(ringing.via.length, 1, 'the proxy removes its own Via before relaying (§16.7 step 3)');
  answer(alice, inv, 200, 'OK', 'alicetag', `Contact: <sip:alice@127.0.0.1:${alice.port}>\n`);
  const ok = await bob.response(callId, 200, 'INVITE');
  assert.equal(ok.toTag, 'alicetag');
});

test('Bob CANCELs before Alice answers: Alice gets the CANCEL, Bob gets 200 for the CANCEL and 487 for the INVITE', async () => {
  register(alice, 'alice');
  const callId = uniq('cancel');
  const branch = `z9hG4bK${uniq()}`;
  const from = `<sip:bob@127.0.0.1>;tag=${uniq()}`;
  const common = (method: string) => `${method} sip:alice@127.0.0.1:${port} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${bob.port};branch=${branch};rport
Max-Forwards: 70
From: ${from}
To: <sip:alice@127.0.0.1>
Call-ID: ${callId}
CSeq: 7 ${method}
`;
  bob.send(`${common('INVITE')}Contact: <sip:bob@127.0.0.1:${bob.port}>\nContent-Length: 0\n\n`, port);
  const inv = await alice.request('INVITE', 3000, (r) => r.callId === callId);
  answer(alice, inv, 180, 'Ringing', 'ring2');
  await bob.response(callId, 180);
  bob.send(`${common('CANCEL')}Content-Length: 0\n\n`, port);
  await bob.response(callId, 200, 'CANCEL');
  const cancel = await alice.request('CANCEL', 3000, (r) => r.callId === callId);
  assert.equal(cancel.cseq.seq, inv.cseq.seq);
  answer(alice, cancel, 200, 'OK');
  answer(alice, inv, 487, 'Request Terminated', 'ring2');
  const terminated = await bob.response(callId, 487, 'INVITE');
  assert.equal(terminated.status, 487);
});

test('MESSAGE to a registered user is delivered with its text; to an unknown user it gets 404', async () => {
  register(alice, 'alice');
  const callId = uniq('msg');
  bob.send(
    `MESSAGE sip:alice@127.0.0.1:${port} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${bob.port};branch=z9hG4bK${uniq()};rport
Max-Forwards: 70
From: "Bob" <sip:bob@127.0.0.1>;tag=${uniq()}
To: <sip:alice@127.0.0.1>
Call-ID: ${callId}
CSeq: 1 MESSAGE
Content-Type: text/plain
Content-Length: 11

hello alice`,
    port,
  );
  const msg = await alice.request('MESSAGE', 3000, (r) => r.callId === callId);
  assert.equal(msg.body.toString(), 'hello alice');
  assert.equal(msg.from.displayName, 'Bob');
  answer(alice, msg, 200, 'OK', 'm1');
  await bob.response(callId, 200, 'MESSAGE');

  const lost = uniq('msg404');
  bob.send(
    `MESSAGE sip:nobody@127.0.0.1:${port} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${bob.port};branch=z9hG4bK${uniq()};rport
Max-Forwards: 70
From: <sip:bob@127.0.0.1>;tag=${uniq()}
To: <sip:nobody@127.0.0.1>
Call-ID: ${lost}
CSeq: 1 MESSAGE
Content-Type: text/plain
Content-Length: 2

hi`,
    port,
  );
  await bob.response(lost, 404);
});

test('garbage and a broken request never stop the server: 400 names the problem, the next OPTIONS is answered', async () => {
  bob.send(Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10]), port);
  bob.send('this is not SIP\r\n\r\n', port);
  const bad = bob.options(port, 'INVITE');
  const r400 = await bob.response(bad, 400);
  assert.match(r400.reason, /CSeq/i);
  const good = bob.options(port);
  await bob.response(good, 200);
});

test('BYE outside any dialog gets 481', async () => {
  const id = uniq('bye');
  bob.send(
    `BYE sip:alice@127.0.0.1:${port} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${bob.port};branch=z9hG4bK${uniq()}
Max-Forwards: 70
From: <sip:bob@127.0.0.1>;tag=${uniq()}
To: <sip:alice@127.0.0.1>;tag=nosuchdialog
Call-ID: ${id}
CSeq: 2 BYE
Content-Length: 0

`,
    port,
  );
  await bob.response(id, 481);
});
