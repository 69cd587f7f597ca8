/**
 * The focus calling a registered user: `invite()` as UAC of a new dialog (RFC 3261 §12.1.2, §13.2.2.4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipRequest } from '../../registrar/sip/message/types.ts';
import type { Endpoint } from '../../registrar/sip/transport/types.ts';
import { ANSWER, FOCUS_CONTACT, OFFER, parse, responseText, setup, T1, type Env } from './helpers.ts';

const BOB: Endpoint = { protocol: 'udp', address: '192.0.2.30', port: 5080 };

function call(env: Env, opts: { manualAck?: boolean; body?: string } = {}) {
  const ended: string[] = [];
  const p = env.dialogs.invite(
    'sip:bob@192.0.2.30:5080',
    BOB,
    {
      from: '"Weekly sync" <sip:conf1@192.0.2.1>',
      to: '<sip:bob@example.com>',
      localContact: FOCUS_CONTACT,
      ...(opts.body === undefined ? {} : { body: opts.body, contentType: 'application/sdp' }),
      ...(opts.manualAck ? { manualAck: true } : {}),
    },
    { onTerminated: (_d, reason) => ended.push(reason) },
  );
  const inv = env.transport.last('INVITE').msg as SipRequest;
  return { p, inv, ended };
}

test('invite(): the INVITE on the wire has a From tag, no To tag, our Contact and the offer', () => {
  const env = setup();
  const { inv } = call(env, { body: OFFER });
  const sent = env.transport.last('INVITE');
  assert.deepEqual(sent.to, BOB);
  assert.equal(inv.uri.raw, 'sip:bob@192.0.2.30:5080');
  assert.equal(inv.from.displayName, 'Weekly sync');
  assert.ok(inv.fromTag);
  assert.equal(inv.toTag, undefined);
  assert.equal(inv.get('contact'), FOCUS_CONTACT);
  assert.equal(inv.cseq.method, 'INVITE');
  assert.ok(inv.cseq.seq >= 1 && inv.cseq.seq < 2 ** 31);
  assert.equal(inv.contentType, 'application/sdp');
  assert.equal(inv.body.toString(), OFFER);
  assert.match(inv.via[0]!.branch ?? '', /^z9hG4bK/);
});

test('invite() → 180, 200: dialog from the 2xx (target = Contact, route set = Record-Route reversed), ACK through the routes', async () => {
  const env = setup();
  const { p, inv } = call(env, { body: OFFER });
  env.receive(responseText(inv, 180, 'Ringing', { toTag: 'bob1', contact: '<sip:bob@192.0.2.30:5080>' }));
  env.receive(
    responseText(inv, 200, 'OK', {
      toTag: 'bob1',
      contact: '<sip:bob@192.0.2.31:5090>',
      // As a phone echoes them: the proxy nearest to bob last.
      recordRoute: ['<sip:192.0.2.7;lr>', '<sip:192.0.2.8:5070;lr>'],
      body: ANSWER,
    }),
  );
  const { response, dialog } = await p;
  assert.equal(response.status, 200);
  assert.ok(dialog);
  assert.equal(dialog.role, 'uac');
  assert.equal(dialog.state, 'confirmed');
  assert.equal(dialog.remoteTarget, 'sip:bob@192.0.2.31:5090');
  assert.deepEqual(dialog.routeSet, ['<sip:192.0.2.8:5070;lr>', '<sip:192.0.2.7;lr>']);
  assert.equal(dialog.id.localTag, inv.fromTag);
  assert.equal(dialog.id.remoteTag, 'bob1');
  assert.equal(env.dialogs.size, 1);
  const acks = env.transport.sent.filter((s) => s.msg.kind === 'request' && s.msg.method === 'ACK');
  assert.equal(acks.length, 1);
  const ack = acks[0]!.msg as SipRequest;
  assert.equal(ack.uri.raw, 'sip:bob@192.0.2.31:5090');
  assert.deepEqual(ack.getAll('route'), ['<sip:192.0.2.8:5070;lr>', '<sip:192.0.2.7;lr>']);
  assert.deepEqual(acks[0]!.to, { protocol: 'udp', address: '192.0.2.8', port: 5070 });
  assert.equal(ack.cseq.seq, inv.cseq.seq);
  assert.equal(ack.cseq.method, 'ACK');
  assert.equal(ack.toTag, 'bob1');
  assert.equal(ack.fromTag, inv.fromTag);
  // In-dialog requests follow the same route set, with CSeq above the INVITE's.
  void env.dialogs.request(dialog, 'MESSAGE', { body: 'hi', contentType: 'text/plain' });
  const msg = env.transport.last('MESSAGE').msg as SipRequest;
  assert.deepEqual(msg.getAll('route'), ['<sip:192.0.2.8:5070;lr>', '<sip:192.0.2.7;lr>']);
  assert.equal(msg.cseq.seq, inv.cseq.seq + 1);
});

test('invite() → 486: resolves with no dialog; the transaction ACKs the 486 (same branch)', async () => {
  const env = setup();
  const { p, inv } = call(env);
  env.receive(responseText(inv, 486, 'Busy Here', { toTag: 'busy' }));
  const r = await p;
  assert.equal(r.response.status, 486);
  assert.equal(r.dialog, undefined);
  assert.equal(env.dialogs.size, 0);
  const ack = env.transport.last('ACK').msg as SipRequest;
  assert.equal(ack.via[0]!.branch, inv.via[0]!.branch);
});

test('invite() with no answer: 408 after 64*T1 (Timer B), no dialog', async () => {
  const env = setup();
  const { p } = call(env);
  env.clock.advance(64 * T1);
  const r = await p;
  assert.equal(r.response.status, 408);
  assert.equal(r.dialog, undefined);
  assert.equal(env.dialogs.size, 0);
});

test('invite(): a retransmitted 2xx is ACKed again with the same ACK, and no second dialog is created', async () => {
  const env = setup();
  const { p, inv } = call(env, { body: OFFER });
  const ok = responseText(inv, 200, 'OK', { toTag: 'bob2', contact: '<sip:bob@192.0.2.30:5080>', body: ANSWER });
  env.receive(ok);
  const { dialog } = await p;
  env.clock.advance(T1);
  env.receive(ok);
  env.clock.advance(2 * T1);
  env.receive(ok);
  const acks = env.transport.sent.filter((s) => s.msg.kind === 'request' && s.msg.method === 'ACK');
  assert.equal(acks.length, 3);
  assert.equal(new Set(acks.map((a) => a.text)).size, 1, 'byte-identical ACKs');
  assert.equal(env.dialogs.size, 1);
  assert.equal(env.dialogs.find(inv.callId, inv.fromTag!, 'bob2'), dialog);
});

test('invite(): a 2xx from a second fork is ACKed and ended with BYE; the first dialog stays', async () => {
  const env = setup();
  const { p, inv, ended } = call(env, { body: OFFER });
  env.receive(responseText(inv, 200, 'OK', { toTag: 'deskphone', contact: '<sip:bob@192.0.2.30:5080>', body: ANSWER }));
  const { dialog } = await p;
  env.receive(responseText(inv, 200, 'OK', { toTag: 'mobile', contact: '<sip:bob@192.0.2.40:5060>', body: ANSWER }));
  const acks = env.transport.requests('ACK');
  assert.deepEqual(acks.map((a) => a.toTag), ['deskphone', 'mobile']);
  const byes = env.transport.requests('BYE');
  assert.equal(byes.length, 1);
  assert.equal(byes[0]!.toTag, 'mobile');
  assert.equal(byes[0]!.uri.raw, 'sip:bob@192.0.2.40:5060');
  assert.equal(env.dialogs.size, 1);
  assert.equal(env.dialogs.find(inv.callId, inv.fromTag!, 'deskphone'), dialog);
  assert.deepEqual(ended, [], 'the owner hears nothing of the extra fork');
  // That fork's 2xx retransmitted: ACKed again even though its dialog is gone.
  env.receive(responseText(inv, 200, 'OK', { toTag: 'mobile', contact: '<sip:bob@192.0.2.40:5060>', body: ANSWER }));
  assert.equal(env.transport.requests('ACK').length, 3);
  assert.equal(env.transport.requests('BYE').length, 1);
});

test('invite() with manualAck: nothing ACKed until ack(), which carries the answer; retransmissions re-send it', async () => {
  const env = setup();
  const { p, inv } = call(env, { manualAck: true });
  const ok = responseText(inv, 200, 'OK', { toTag: 'bob3', contact: '<sip:bob@192.0.2.30:5080>', body: OFFER });
  env.receive(ok);
  const { response, dialog } = await p;
  assert.ok(dialog);
  assert.equal(env.transport.requests('ACK').length, 0);
  env.receive(ok);
  assert.equal(env.transport.requests('ACK').length, 0);
  env.dialogs.ack(dialog, response, { body: ANSWER, contentType: 'application/sdp' });
  env.receive(ok);
  const acks = env.transport.requests('ACK');
  assert.equal(acks.length, 2);
  assert.equal(acks[0]!.body.toString(), ANSWER);
  assert.equal(acks[1]!.via[0]!.branch, acks[0]!.via[0]!.branch);
});

test('the callee hangs up: BYE from bob → 200, onTerminated("bye")', async () => {
  const env = setup();
  const { p, inv, ended } = call(env);
  env.receive(responseText(inv, 200, 'OK', { toTag: 'bob4', contact: '<sip:bob@192.0.2.30:5080>' }));
  await p;
  // Bob's BYE: his From is our To (with his tag), his To is our From (with our tag).
  env.receive(
    parse<SipRequest>([
      'BYE sip:focus@192.0.2.1:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.30:5080;branch=z9hG4bKbobbye1',
      'Max-Forwards: 70',
      `From: <sip:bob@example.com>;tag=bob4`,
      `To: ${inv.get('from')}`,
      `Call-ID: ${inv.callId}`,
      'CSeq: 1 BYE',
    ]),
    { protocol: 'udp', address: '192.0.2.30', port: 5080, local: { protocol: 'udp', address: '192.0.2.1', port: 5060 } },
  );
  assert.equal(env.transport.responses(200, 'BYE').length, 1);
  assert.deepEqual(ended, ['bye']);
  assert.equal(env.dialogs.size, 0);
});
