/**
 * The focus as UAS: a phone calls in (RFC 3261 §12.1.1, §13.3.1.4), then talks inside the dialog (§12.2.2, §15.1.2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ackFor, answeredCall, ANSWER, FOCUS_CONTACT, inDialogText, inviteText, phone, setup, T1 } from './helpers.ts';

const is2xxInvite = (m: { kind: string; status?: number; cseq: { method: string } }) =>
  m.kind === 'response' && m.status === 200 && m.cseq.method === 'INVITE';

test('INVITE → acceptInvite: 200 OK with our To tag, Contact, copied Record-Route and the SDP answer', () => {
  const env = setup();
  const { ok, invite, dialog } = answeredCall(env, { callId: 'uas-1@192.0.2.20', fromTag: 'ph1' }, {
    recordRoute: ['<sip:192.0.2.5;lr>', '<sip:192.0.2.6;lr>'],
  });
  assert.equal(ok.status, 200);
  assert.ok(ok.toTag && ok.toTag.length >= 4, 'the 200 carries a To tag');
  assert.equal(ok.fromTag, 'ph1');
  assert.equal(ok.callId, 'uas-1@192.0.2.20');
  assert.equal(ok.via[0]!.branch, invite.via[0]!.branch);
  assert.equal(ok.get('contact'), FOCUS_CONTACT);
  // §12.1.1: Record-Route copied into the 2xx, same order.
  assert.deepEqual(ok.getAll('record-route'), ['<sip:192.0.2.5;lr>', '<sip:192.0.2.6;lr>']);
  assert.equal(ok.contentType, 'application/sdp');
  assert.equal(ok.body.toString(), ANSWER);
  assert.equal(env.dialogs.size, 1);
  assert.equal(dialog.state, 'confirmed');
  assert.equal(env.dialogs.find('uas-1@192.0.2.20', ok.toTag!, 'ph1'), dialog);
  // No 100 Trying: the TU answered at once.
  assert.equal(env.transport.responses(100).length, 0);
});

test('UDP: the 2xx is retransmitted at T1, 2T1, 4T1 … capped at T2 until the ACK; the ACK stops it and reaches onAck', () => {
  const env = setup();
  const { call, ev } = answeredCall(env, { callId: 'uas-2', fromTag: 'ph2' });
  env.clock.advance(8000);
  // Sent at 0 (by the transaction), then 0.5, 1.5, 3.5, 7.5 s (intervals 0.5, 1, 2, 4 s).
  assert.deepEqual(env.transport.times(is2xxInvite), [0, 500, 1500, 3500, 7500]);
  assert.equal(ev.acks.length, 0);
  env.receive(ackFor(call, 1));
  assert.equal(ev.acks.length, 1);
  assert.equal(ev.acks[0]!.method, 'ACK');
  env.clock.advance(60_000);
  assert.equal(env.transport.times(is2xxInvite).length, 5, 'no retransmission after the ACK');
  // A retransmitted ACK is absorbed, not reported again.
  env.receive(ackFor(call, 1));
  assert.equal(ev.acks.length, 1);
  assert.equal(env.transport.requests('BYE').length, 0);
  assert.deepEqual(ev.ended, []);
});

test('an ACK with the wrong CSeq does not stop the retransmissions', () => {
  const env = setup();
  const { call, ev } = answeredCall(env, { callId: 'uas-2b', fromTag: 'ph2b' });
  env.receive(ackFor(call, 7));
  assert.equal(ev.acks.length, 0);
  env.clock.advance(1600);
  assert.deepEqual(env.transport.times(is2xxInvite), [0, 500, 1500]);
});

test('no ACK within 64*T1: 2xx sent 11 times, then the session is ended with a BYE carrying a Reason header', () => {
  const env = setup();
  const { call, ev, dialog } = answeredCall(env, { callId: 'uas-3', fromTag: 'ph3' });
  env.clock.advance(64 * T1 - 1);
  assert.deepEqual(env.transport.times(is2xxInvite), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal(env.transport.requests('BYE').length, 0);
  env.clock.advance(1);
  const bye = env.transport.last('BYE');
  assert.equal(bye.at, 64 * T1);
  const req = bye.msg as import('../../registrar/sip/message/types.ts').SipRequest;
  assert.match(req.get('reason') ?? '', /^SIP;cause=\d{3}/);
  assert.equal(req.uri.raw, 'sip:alice@192.0.2.20:5070', 'BYE goes to the remote target (the INVITE Contact)');
  assert.equal(req.fromTag, call.toTag);
  assert.equal(req.toTag, 'ph3');
  assert.deepEqual(bye.to, { protocol: 'udp', address: '192.0.2.20', port: 5070 });
  assert.deepEqual(ev.ended, ['ack-timeout']);
  assert.equal(dialog.state, 'terminated');
  assert.equal(env.dialogs.size, 0);
  env.clock.advance(60_000);
  assert.equal(env.transport.times(is2xxInvite).length, 11);
});

test('TCP: the 2xx is sent once (no retransmission); the ACK is still awaited for 64*T1', () => {
  const env = setup();
  const { ev } = answeredCall(env, { callId: 'uas-4', fromTag: 'ph4', transport: 'TCP' });
  env.clock.advance(64 * T1 - 1);
  assert.deepEqual(env.transport.times(is2xxInvite), [0]);
  env.clock.advance(1);
  const bye = env.transport.last('BYE');
  assert.equal(bye.to.protocol, 'tcp', 'Contact has transport=tcp');
  assert.equal((bye.msg as import('../../registrar/sip/message/types.ts').SipRequest).via[0]!.transport, 'TCP');
  assert.deepEqual(ev.ended, ['ack-timeout']);
});

test('TCP: the ACK arrives, nothing else is sent', () => {
  const env = setup();
  const { call, ev } = answeredCall(env, { callId: 'uas-4b', fromTag: 'ph4b', transport: 'TCP' });
  env.receive(ackFor(call, 1), phone('tcp'));
  assert.equal(ev.acks.length, 1);
  env.clock.advance(120_000);
  assert.equal(env.transport.sent.length, 1);
  assert.equal(env.dialogs.size, 1);
});

test('BYE from the phone → 200 OK, onTerminated("bye"), dialog gone; a later request gets 481', () => {
  const env = setup();
  const { call, ev, dialog } = answeredCall(env, { callId: 'uas-5', fromTag: 'ph5' });
  env.receive(ackFor(call, 1));
  env.receive(inDialogText(call, 'BYE', 2));
  const ok = env.transport.responses(200, 'BYE');
  assert.equal(ok.length, 1);
  assert.equal(ok[0]!.toTag, call.toTag);
  assert.deepEqual(ev.ended, ['bye']);
  assert.equal(dialog.state, 'terminated');
  assert.equal(env.dialogs.size, 0);
  env.receive(inDialogText(call, 'MESSAGE', 3, { body: 'hi', contentType: 'text/plain' }));
  assert.equal(env.transport.responses(481).length, 1);
  assert.deepEqual(env.handled, [true, false]);
});

test('BYE before the ACK stops the 2xx retransmissions', () => {
  const env = setup();
  const { call, ev } = answeredCall(env, { callId: 'uas-5b', fromTag: 'ph5b' });
  env.clock.advance(600);
  env.receive(inDialogText(call, 'BYE', 2));
  env.clock.advance(60_000);
  assert.deepEqual(env.transport.times(is2xxInvite), [0, 500]);
  assert.deepEqual(ev.ended, ['bye']);
  assert.equal(env.transport.requests('BYE').length, 0, 'no BYE of ours');
});

test('MESSAGE from the phone reaches onRequest; its response goes out on the wire', () => {
  const env = setup();
  const { call, ev } = answeredCall(env, { callId: 'uas-6', fromTag: 'ph6' });
  env.receive(ackFor(call, 1));
  env.receive(inDialogText(call, 'MESSAGE', 2, { body: 'hello focus', contentType: 'text/plain' }));
  assert.equal(ev.requests.length, 1);
  assert.equal(ev.requests[0]!.body.toString(), 'hello focus');
  const res = env.transport.responses(undefined, 'MESSAGE');
  assert.equal(res.length, 1);
  assert.equal(res[0]!.status, 200);
  assert.equal(res[0]!.cseq.seq, 2);
});

test('a CSeq lower than the last one → 500 and the owner never sees the request (§12.2.2)', () => {
  const env = setup();
  const { call, ev } = answeredCall(env, { callId: 'uas-7', fromTag: 'ph7' });
  env.receive(ackFor(call, 1));
  env.receive(inDialogText(call, 'MESSAGE', 5, { body: 'a', contentType: 'text/plain' }));
  env.receive(inDialogText(call, 'MESSAGE', 4, { body: 'b', contentType: 'text/plain' }));
  env.receive(inDialogText(call, 'MESSAGE', 5, { body: 'c', contentType: 'text/plain' }));
  const statuses = env.transport.responses(undefined, 'MESSAGE').map((r) => [r.cseq.seq, r.status]);
  assert.deepEqual(statuses, [[5, 200], [4, 500], [5, 500]]);
  assert.equal(ev.requests.length, 1);
  assert.equal(env.dialogs.size, 1, 'an out-of-order request does not end the dialog');
});

test('a request for an unknown dialog: handleRequest returns false (the server answers 481)', () => {
  const env = setup();
  answeredCall(env, { callId: 'uas-8', fromTag: 'ph8' });
  // Right Call-ID, wrong tags.
  env.receive(inDialogText({ callId: 'uas-8', fromTag: 'ph8', toTag: 'not-ours' }, 'BYE', 2));
  env.receive(inDialogText({ callId: 'other', fromTag: 'x', toTag: 'y' }, 'INFO', 1));
  assert.deepEqual(env.handled, [false, false]);
  assert.equal(env.transport.responses(481).length, 2);
  assert.equal(env.dialogs.size, 1);
  assert.equal(env.dialogs.handleAck(ackFor({ callId: 'nope', fromTag: 'a', toTag: 'b' }, 1)), false);
});

test('ACK carrying the SDP answer (the INVITE had no offer, §13.2.1) reaches onAck with its body', () => {
  const env = setup();
  const ev = { acks: [] as string[] };
  env.receive(inviteText({ callId: 'uas-9', fromTag: 'ph9' }, { body: '' }));
  const inv = env.invites[0]!;
  const d = env.dialogs.acceptInvite(inv.tx, { localContact: FOCUS_CONTACT, body: ANSWER, contentType: 'application/sdp' }, {
    onAck: (_d, ack) => ev.acks.push(ack.body.toString()),
  });
  env.receive(inDialogText({ callId: 'uas-9', fromTag: 'ph9', toTag: d.id.localTag }, 'ACK', 1, { body: 'v=0\r\n' }));
  assert.deepEqual(ev.acks, ['v=0\r\n']);
});
