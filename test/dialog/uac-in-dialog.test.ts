/**
 * The focus sending requests inside a dialog (RFC 3261 §12.2.1): MESSAGE/NOTIFY, re-INVITE with its ACK
 * (§13.2.2.4), timeouts (§12.2.1.2) and BYE (§15.1.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipRequest, SipResponse } from '../../registrar/sip/message/types.ts';
import { ackFor, answeredCall, ANSWER, inDialogText, OFFER, responseText, setup, T1, type Env } from './helpers.ts';

function confirmedCall(env: Env, callId: string, recordRoute?: string[]) {
  const c = answeredCall(env, { callId, fromTag: `ph-${callId}` }, recordRoute ? { recordRoute } : {});
  env.receive(ackFor(c.call, 1));
  return c;
}

test('MESSAGE in a UAS dialog: From/To with the right tags, CSeq increments, Request-URI = Contact; resolves with the final response', async () => {
  const env = setup();
  const { call, dialog } = confirmedCall(env, 'uac-1');
  const p1 = env.dialogs.request(dialog, 'MESSAGE', { body: 'Welcome to the meeting', contentType: 'text/plain' });
  const m1 = env.transport.last('MESSAGE');
  const req1 = m1.msg as SipRequest;
  assert.equal(req1.uri.raw, 'sip:alice@192.0.2.20:5070');
  assert.deepEqual(m1.to, { protocol: 'udp', address: '192.0.2.20', port: 5070 });
  // §12.2.1.1: From = local URI + local tag; To = remote URI + remote tag. As UAS, local = the INVITE's To.
  assert.equal(req1.from.uri.raw, 'sip:conf1@192.0.2.1');
  assert.equal(req1.fromTag, call.toTag);
  assert.equal(req1.to.uri.raw, 'sip:alice@example.com');
  assert.equal(req1.to.displayName, 'Alice');
  assert.equal(req1.toTag, call.fromTag);
  assert.equal(req1.callId, 'uac-1');
  assert.equal(req1.cseq.method, 'MESSAGE');
  assert.equal(req1.maxForwards, 70);
  assert.equal(req1.via[0]!.host, '192.0.2.1');
  assert.match(req1.via[0]!.branch ?? '', /^z9hG4bK/);
  assert.equal(req1.getAll('route').length, 0);
  assert.equal(req1.contentType, 'text/plain');
  assert.equal(req1.body.toString(), 'Welcome to the meeting');
  env.receive(responseText(req1, 200, 'OK'));
  const res1 = await p1;
  assert.equal(res1.status, 200);

  const p2 = env.dialogs.request(dialog, 'NOTIFY', { headers: [['Event', 'conference'], ['Subscription-State', 'active;expires=3600']] });
  const req2 = env.transport.last('NOTIFY').msg as SipRequest;
  assert.equal(req2.cseq.seq, req1.cseq.seq + 1, 'local CSeq increments by one');
  assert.equal(req2.get('event'), 'conference');
  assert.ok(req2.get('contact'), 'NOTIFY carries Contact (§8.1.1.8 / RFC 6665)');
  assert.notEqual(req2.via[0]!.branch, req1.via[0]!.branch);
  env.receive(responseText(req2, 404, 'Not Found'));
  assert.equal((await p2).status, 404);
  assert.equal(env.dialogs.size, 1, 'a 404 does not end the dialog');
});

test('UAS dialog: the route set is the INVITE\'s Record-Route in order; the request goes to the first route', async () => {
  const env = setup();
  const { dialog } = confirmedCall(env, 'uac-2', ['<sip:192.0.2.5:5062;lr>', '<sip:192.0.2.6;lr;transport=udp>']);
  assert.deepEqual(dialog.routeSet, ['<sip:192.0.2.5:5062;lr>', '<sip:192.0.2.6;lr;transport=udp>']);
  void env.dialogs.request(dialog, 'MESSAGE', { body: 'x', contentType: 'text/plain' });
  const sent = env.transport.last('MESSAGE');
  const req = sent.msg as SipRequest;
  assert.deepEqual(req.getAll('route'), ['<sip:192.0.2.5:5062;lr>', '<sip:192.0.2.6;lr;transport=udp>']);
  assert.equal(req.uri.raw, 'sip:alice@192.0.2.20:5070', 'loose routing: Request-URI stays the remote target');
  assert.deepEqual(sent.to, { protocol: 'udp', address: '192.0.2.5', port: 5062 });
});

test('no final response: 408 after 64*T1, the dialog is terminated with a BYE (§12.2.1.2)', async () => {
  const env = setup();
  const { dialog, ev } = confirmedCall(env, 'uac-3');
  const got: { res?: SipResponse } = {};
  const status = (): number | undefined => got.res?.status;
  void env.dialogs.request(dialog, 'MESSAGE', { body: 'anyone?', contentType: 'text/plain' }).then((r) => (got.res = r));
  env.clock.advance(64 * T1 - 1);
  await Promise.resolve();
  assert.equal(status(), undefined);
  // Timer E retransmissions of the MESSAGE: 0.5, 1.5, 3.5, 7.5, then every T2.
  assert.deepEqual(env.transport.times((m) => m.kind === 'request' && m.method === 'MESSAGE').slice(0, 5), [0, 500, 1500, 3500, 7500]);
  env.clock.advance(1);
  await Promise.resolve();
  assert.equal(status(), 408);
  assert.deepEqual(ev.ended, ['error']);
  assert.equal(dialog.state, 'terminated');
  assert.equal(env.dialogs.size, 0);
  const bye = env.transport.last('BYE').msg as SipRequest;
  assert.match(bye.get('reason') ?? '', /^SIP;cause=408/);
  await assert.rejects(env.dialogs.request(dialog, 'MESSAGE'), /unknown or ended/);
});

test('a 481 to an in-dialog request ends the dialog (§12.2.1.2)', async () => {
  const env = setup();
  const { dialog, ev } = confirmedCall(env, 'uac-4');
  const p = env.dialogs.request(dialog, 'INFO');
  env.receive(responseText(env.transport.last('INFO').msg as SipRequest, 481, 'Call/Transaction Does Not Exist'));
  assert.equal((await p).status, 481);
  assert.deepEqual(ev.ended, ['error']);
  assert.equal(env.dialogs.size, 0);
});

test('re-INVITE → 2xx: ACK sent at once with the INVITE\'s CSeq number and method ACK, to the refreshed target; a retransmitted 2xx is re-ACKed', async () => {
  const env = setup();
  const { dialog } = confirmedCall(env, 'uac-5');
  const p = env.dialogs.request(dialog, 'INVITE', { body: OFFER, contentType: 'application/sdp' });
  const inv = env.transport.last('INVITE').msg as SipRequest;
  assert.equal(inv.get('contact'), '<sip:focus@192.0.2.1:5060>', 'a target refresh carries our Contact');
  assert.equal(inv.body.toString(), OFFER);
  const ok = responseText(inv, 200, 'OK', { contact: '<sip:alice@192.0.2.21:5072>', body: ANSWER });
  env.receive(ok);
  const res = await p;
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), ANSWER);
  const acks = env.transport.sent.filter((s) => s.msg.kind === 'request' && s.msg.method === 'ACK');
  assert.equal(acks.length, 1);
  const ack = acks[0]!.msg as SipRequest;
  // §13.2.2.4
  assert.equal(ack.cseq.seq, inv.cseq.seq);
  assert.equal(ack.cseq.method, 'ACK');
  assert.equal(ack.callId, inv.callId);
  assert.equal(ack.fromTag, inv.fromTag);
  assert.equal(ack.toTag, inv.toTag);
  assert.notEqual(ack.via[0]!.branch, inv.via[0]!.branch, 'the ACK for a 2xx is its own transaction');
  // §12.2.1.2: the 2xx's Contact is the new remote target; the ACK already goes there.
  assert.equal(ack.uri.raw, 'sip:alice@192.0.2.21:5072');
  assert.deepEqual(acks[0]!.to, { protocol: 'udp', address: '192.0.2.21', port: 5072 });
  assert.equal(dialog.remoteTarget, 'sip:alice@192.0.2.21:5072');
  // The phone did not get our ACK and retransmits its 2xx: the same ACK goes out again.
  env.receive(ok);
  env.clock.advance(1000);
  env.receive(ok);
  const again = env.transport.sent.filter((s) => s.msg.kind === 'request' && s.msg.method === 'ACK');
  assert.equal(again.length, 3);
  assert.deepEqual(new Set(again.map((s) => s.text)).size, 1, 'byte-identical ACKs');
  // The next request's CSeq is above the re-INVITE's.
  void env.dialogs.request(dialog, 'MESSAGE');
  assert.equal((env.transport.last('MESSAGE').msg as SipRequest).cseq.seq, inv.cseq.seq + 1);
});

test('re-INVITE with manualAck: no ACK until ack(); ack() carries the SDP answer; retransmitted 2xx get that ACK again', async () => {
  const env = setup();
  const { dialog } = confirmedCall(env, 'uac-6');
  // Offerless re-INVITE: the 2xx carries the offer, the ACK the answer (§13.2.1, RFC 3264).
  const p = env.dialogs.request(dialog, 'INVITE', { manualAck: true });
  const inv = env.transport.last('INVITE').msg as SipRequest;
  assert.equal(inv.body.length, 0);
  const ok = responseText(inv, 200, 'OK', { contact: '<sip:alice@192.0.2.20:5070>', body: OFFER });
  env.receive(ok);
  const res = await p;
  assert.equal(res.status, 200);
  assert.equal(env.transport.requests('ACK').length, 0);
  env.receive(ok); // retransmitted before we ACKed: nothing to re-send yet
  assert.equal(env.transport.requests('ACK').length, 0);
  env.dialogs.ack(dialog, res, { body: ANSWER, contentType: 'application/sdp' });
  const acks1 = env.transport.requests('ACK');
  assert.equal(acks1.length, 1);
  assert.equal(acks1[0]!.cseq.seq, inv.cseq.seq);
  assert.equal(acks1[0]!.cseq.method, 'ACK');
  assert.equal(acks1[0]!.contentType, 'application/sdp');
  assert.equal(acks1[0]!.body.toString(), ANSWER);
  env.receive(ok);
  const acks2 = env.transport.requests('ACK');
  assert.equal(acks2.length, 2);
  assert.equal(acks2[1]!.body.toString(), ANSWER);
  assert.equal(acks2[1]!.via[0]!.branch, acks2[0]!.via[0]!.branch);
});

test('re-INVITE rejected 488: the transaction ACKs it (same branch), the dialog and its target are unchanged', async () => {
  const env = setup();
  const { dialog } = confirmedCall(env, 'uac-7');
  const p = env.dialogs.request(dialog, 'INVITE', { body: OFFER, contentType: 'application/sdp' });
  const inv = env.transport.last('INVITE').msg as SipRequest;
  env.receive(responseText(inv, 488, 'Not Acceptable Here', { contact: '<sip:alice@192.0.2.77>' }));
  assert.equal((await p).status, 488);
  const ack = env.transport.last('ACK').msg as SipRequest;
  assert.equal(ack.via[0]!.branch, inv.via[0]!.branch, '§17.1.1.3 ACK for a non-2xx');
  assert.equal(dialog.remoteTarget, 'sip:alice@192.0.2.20:5070');
  assert.equal(env.dialogs.size, 1);
  // A new re-INVITE may go now.
  void env.dialogs.request(dialog, 'INVITE', { body: OFFER, contentType: 'application/sdp' });
  assert.equal(env.transport.requests('INVITE').length, 2);
});

test('bye(dialog, Reason): BYE with the Reason header, dialog gone at once, onTerminated("local-bye"); resolves with the 200', async () => {
  const env = setup();
  const { dialog, ev, call } = confirmedCall(env, 'uac-8');
  const p = env.dialogs.bye(dialog, [['Reason', 'SIP;cause=200;text="Meeting ended by host"']]);
  const bye = env.transport.last('BYE').msg as SipRequest;
  assert.equal(bye.get('reason'), 'SIP;cause=200;text="Meeting ended by host"');
  assert.equal(bye.fromTag, call.toTag);
  assert.equal(bye.toTag, call.fromTag);
  assert.equal(bye.uri.raw, 'sip:alice@192.0.2.20:5070');
  assert.deepEqual(ev.ended, ['local-bye']);
  assert.equal(dialog.state, 'terminated');
  assert.equal(env.dialogs.size, 0);
  // Requests for the ended dialog now get 481 from the server.
  env.receive(inDialogText(call, 'INFO', 9));
  assert.equal(env.transport.responses(481).length, 1);
  env.receive(responseText(bye, 200, 'OK'));
  assert.equal((await p)?.status, 200);
  // A second bye() is a no-op.
  assert.equal(await env.dialogs.bye(dialog), undefined);
  assert.equal(env.transport.requests('BYE').length, 1);
});
