/**
 * re-INVITE from the phone inside a dialog where the focus is UAS (RFC 3261 §14.2, §12.2.2), glare (§14.1/§14.2),
 * CANCEL of a pending re-INVITE (§9.2) and BYE while one is pending (§15.1.2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipRequest } from '../../registrar/sip/message/types.ts';
import type { ServerTxPort } from '../../registrar/sip/dialog/dialog-layer.ts';
import { ackFor, answeredCall, ANSWER, createResponse, FOCUS_CONTACT, inDialogText, OFFER, parse, responseText, setup, type Env } from './helpers.ts';

/** A confirmed call whose owner keeps re-INVITEs (and their ports) unanswered for the test to decide. */
function callWithReinvites(env: Env, callId: string) {
  const pending: Array<{ req: SipRequest; tx: ServerTxPort }> = [];
  const c = answeredCall(env, { callId, fromTag: `tag-${callId}` }, {
    onRequest: (_d, req, tx) => {
      if (req.method === 'INVITE') pending.push({ req, tx });
      else tx.respond(createResponse(req, 200, 'OK'));
    },
  });
  env.receive(ackFor(c.call, 1));
  return { ...c, pending };
}

const reinvite2xx = (cseq: number) => (m: { kind: string; status?: number; cseq: { seq: number; method: string } }) =>
  m.kind === 'response' && m.status === 200 && m.cseq.method === 'INVITE' && m.cseq.seq === cseq;

test('re-INVITE from the phone → onRequest; acceptReinvite sends 200 (same To tag, Contact, SDP) and retransmits until the ACK', () => {
  const env = setup();
  const { call, pending, dialog, ev } = callWithReinvites(env, 're-1');
  env.receive(inDialogText(call, 'INVITE', 2, { contact: '<sip:alice@192.0.2.20:5070>', body: OFFER }));
  assert.equal(pending.length, 1);
  assert.equal(pending[0]!.req.body.toString(), OFFER);
  env.dialogs.acceptReinvite(dialog, pending[0]!.tx, { body: ANSWER, contentType: 'application/sdp' });
  const ok = env.transport.responses(200, 'INVITE').filter((r) => r.cseq.seq === 2);
  assert.equal(ok.length, 1);
  assert.equal(ok[0]!.toTag, call.toTag, 'the To tag of the dialog, not a new one');
  assert.equal(ok[0]!.get('contact'), FOCUS_CONTACT);
  assert.equal(ok[0]!.body.toString(), ANSWER);
  env.clock.advance(1600);
  assert.deepEqual(env.transport.times(reinvite2xx(2)), [0, 500, 1500]);
  env.receive(ackFor(call, 2));
  assert.deepEqual(ev.acks.map((a) => a.cseq.seq), [1, 2], 'the ACK of the re-INVITE reached onAck');
  env.clock.advance(60_000);
  assert.deepEqual(env.transport.times(reinvite2xx(2)), [0, 500, 1500]);
  assert.equal(env.dialogs.size, 1);
  assert.equal(env.transport.requests('BYE').length, 0);
});

test('re-INVITE with a new Contact refreshes the remote target: our next request goes to the new URI (§12.2.2)', async () => {
  const env = setup();
  const { call, pending, dialog } = callWithReinvites(env, 're-2');
  env.receive(inDialogText(call, 'INVITE', 2, { contact: '<sip:alice@192.0.2.99:6000>', body: OFFER }));
  env.dialogs.acceptReinvite(dialog, pending[0]!.tx, { body: ANSWER, contentType: 'application/sdp' });
  env.receive(ackFor(call, 2));
  const p = env.dialogs.request(dialog, 'MESSAGE', { body: 'moved?', contentType: 'text/plain' });
  const sent = env.transport.last('MESSAGE');
  const msg = sent.msg as SipRequest;
  assert.equal(msg.uri.raw, 'sip:alice@192.0.2.99:6000');
  assert.deepEqual(sent.to, { protocol: 'udp', address: '192.0.2.99', port: 6000 });
  env.receive(responseText(msg, 200, 'OK'));
  assert.equal((await p).status, 200);
});

test('glare: our re-INVITE is pending and the phone sends one → 491 Request Pending (§14.2); ours then completes', async () => {
  const env = setup();
  const { call, dialog, pending } = callWithReinvites(env, 're-3');
  const ours = env.dialogs.request(dialog, 'INVITE', { body: ANSWER, contentType: 'application/sdp' });
  env.receive(inDialogText(call, 'INVITE', 2, { contact: '<sip:alice@192.0.2.20:5070>', body: OFFER }));
  const r491 = env.transport.responses(491);
  assert.equal(r491.length, 1);
  assert.equal(r491[0]!.cseq.seq, 2);
  assert.equal(r491[0]!.toTag, call.toTag);
  assert.equal(pending.length, 0, 'the owner never saw the glaring INVITE');
  // The phone answers ours 491 too (both sides glared): the transaction ACKs it, the dialog lives on.
  const inv = env.transport.last('INVITE').msg as SipRequest;
  env.receive(responseText(inv, 491, 'Request Pending'));
  assert.equal((await ours).status, 491);
  assert.equal(env.dialogs.size, 1);
  // §14.1: after a 491 either side may try again: a new re-INVITE from the phone now reaches the owner.
  env.receive(inDialogText(call, 'INVITE', 3, { contact: '<sip:alice@192.0.2.20:5070>', body: OFFER }));
  assert.equal(pending.length, 1);
});

test('a second INVITE while the first is unanswered → 500 with Retry-After 0..10 (§14.2); we may not send one either', async () => {
  const env = setup();
  const { call, dialog, pending } = callWithReinvites(env, 're-4');
  env.receive(inDialogText(call, 'INVITE', 2, { body: OFFER }));
  env.receive(inDialogText(call, 'INVITE', 3, { body: OFFER }));
  const r500 = env.transport.responses(500);
  assert.equal(r500.length, 1);
  assert.equal(r500[0]!.cseq.seq, 3);
  const retry = Number(r500[0]!.get('retry-after'));
  assert.ok(Number.isInteger(retry) && retry >= 0 && retry <= 10, `Retry-After ${retry}`);
  assert.equal(pending.length, 1);
  // §14.1: no INVITE of ours while theirs is in progress.
  await assert.rejects(env.dialogs.request(dialog, 'INVITE', { body: ANSWER, contentType: 'application/sdp' }), /§14\.1/);
  assert.equal(env.transport.requests('INVITE').length, 0);
});

test('a re-INVITE answered through tx.respond (not rejectReinvite) still frees the dialog for the next one', () => {
  const env = setup();
  const { call, pending } = callWithReinvites(env, 're-5');
  env.receive(inDialogText(call, 'INVITE', 2, { body: OFFER }));
  pending[0]!.tx.respond(createResponse(pending[0]!.req, 488, 'Not Acceptable Here'));
  assert.equal(env.transport.responses(488).length, 1);
  env.receive(inDialogText(call, 'ACK', 2, { viaBranch: pending[0]!.req.via[0]!.branch }));
  env.receive(inDialogText(call, 'INVITE', 3, { body: OFFER }));
  assert.equal(pending.length, 2);
  assert.equal(env.transport.responses(500).length, 0);
});

test('rejectReinvite: 488 with the dialog tag; the dialog is unchanged', () => {
  const env = setup();
  const { call, pending, dialog } = callWithReinvites(env, 're-5b');
  const target = dialog.remoteTarget;
  env.receive(inDialogText(call, 'INVITE', 2, { body: OFFER }));
  env.dialogs.rejectReinvite(dialog, pending[0]!.tx, 488);
  const r = env.transport.responses(488);
  assert.equal(r.length, 1);
  assert.equal(r[0]!.toTag, call.toTag);
  assert.equal(r[0]!.reason, 'Not Acceptable Here');
  assert.equal(dialog.remoteTarget, target);
  assert.equal(env.dialogs.size, 1);
});

test('CANCEL of a pending re-INVITE: 200 to the CANCEL, 487 to the INVITE; the next re-INVITE is accepted', () => {
  const env = setup();
  const { call, pending } = callWithReinvites(env, 're-6');
  const inv = inDialogText(call, 'INVITE', 2, { body: OFFER });
  env.receive(inv);
  const cancel = parse<SipRequest>([
    'CANCEL sip:focus@192.0.2.1:5060 SIP/2.0',
    `Via: ${inv.get('via')}`,
    'Max-Forwards: 70',
    `From: ${inv.get('from')}`,
    `To: ${inv.get('to')}`,
    `Call-ID: ${inv.callId}`,
    'CSeq: 2 CANCEL',
  ]);
  env.receive(cancel);
  assert.equal(env.transport.responses(200, 'CANCEL').length, 1);
  const r487 = env.transport.responses(487, 'INVITE');
  assert.equal(r487.length, 1);
  assert.equal(r487[0]!.toTag, call.toTag);
  env.receive(inDialogText(call, 'INVITE', 3, { body: OFFER }));
  assert.equal(pending.length, 2);
  assert.equal(env.transport.responses(500).length, 0);
});

test('BYE while the phone\'s re-INVITE is unanswered: 200 to the BYE and 487 to the re-INVITE (§15.1.2)', () => {
  const env = setup();
  const { call, pending, ev } = callWithReinvites(env, 're-7');
  env.receive(inDialogText(call, 'INVITE', 2, { body: OFFER }));
  env.receive(inDialogText(call, 'BYE', 3));
  assert.equal(env.transport.responses(200, 'BYE').length, 1);
  assert.equal(env.transport.responses(487, 'INVITE').length, 1);
  assert.equal(pending.length, 1);
  assert.deepEqual(ev.ended, ['bye']);
  assert.equal(env.dialogs.size, 0);
});

test('a re-INVITE that nobody handles (no onRequest) → 488', () => {
  const env = setup();
  env.receive(parse<SipRequest>([
    'INVITE sip:conf1@192.0.2.1:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.20:5070;branch=z9hG4bKnohandler1',
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=nh',
    'To: <sip:conf1@192.0.2.1>',
    'Call-ID: re-8',
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@192.0.2.20:5070>',
  ]));
  const d = env.dialogs.acceptInvite(env.invites[0]!.tx, { localContact: FOCUS_CONTACT }, {});
  const call = { callId: 're-8', fromTag: 'nh', toTag: d.id.localTag };
  env.receive(ackFor(call, 1));
  env.receive(inDialogText(call, 'INVITE', 2, { body: OFFER }));
  assert.equal(env.transport.responses(488).length, 1);
  env.receive(inDialogText(call, 'INFO', 3));
  assert.equal(env.transport.responses(200, 'INFO').length, 1);
});
