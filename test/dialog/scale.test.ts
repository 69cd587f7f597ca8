/**
 * A focus-sized load: 300 calls at once, one MESSAGE each way, everyone BYEd at the end. Nothing may leak: no
 * dialog, no transaction, no timer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipRequest, SipResponse } from '../../registrar/sip/message/types.ts';
import type { Dialog } from '../../registrar/sip/dialog/dialog.ts';
import { ackFor, answeredCall, inDialogText, responseText, setup, T1, type Call } from './helpers.ts';

const N = 300;

test(`${N} concurrent dialogs: create, one MESSAGE each way, BYE all → size 0, no timers or transactions left`, async () => {
  const env = setup();
  const calls: Array<{ dialog: Dialog; call: Call; ended: string[]; got: SipRequest[] }> = [];
  for (let i = 0; i < N; i++) {
    const c = answeredCall(env, { callId: `load-${i}@192.0.2.20`, fromTag: `f${i}` });
    calls.push({ dialog: c.dialog, call: c.call, ended: c.ev.ended, got: c.ev.requests });
  }
  assert.equal(env.dialogs.size, N);
  assert.equal(new Set(calls.map((c) => c.call.toTag)).size, N, 'every dialog has its own tag');
  for (const c of calls) env.receive(ackFor(c.call, 1));
  env.clock.advance(10_000);
  assert.equal(env.transport.responses(200, 'INVITE').length, N, 'the ACKs stopped every 2xx retransmission');

  // Phone → focus MESSAGE.
  for (const c of calls) env.receive(inDialogText(c.call, 'MESSAGE', 2, { body: `from ${c.call.fromTag}`, contentType: 'text/plain' }));
  assert.ok(calls.every((c) => c.got.length === 1 && c.got[0]!.body.toString() === `from ${c.call.fromTag}`));
  assert.equal(env.transport.responses(200, 'MESSAGE').length, N);

  // Focus → phone MESSAGE, each answered 200.
  const pending = calls.map((c) => env.dialogs.request(c.dialog, 'MESSAGE', { body: `to ${c.call.fromTag}`, contentType: 'text/plain' }));
  const sent = env.transport.requests('MESSAGE');
  assert.equal(sent.length, N);
  for (const m of sent) env.receive(responseText(m, 200, 'OK'));
  const results: SipResponse[] = await Promise.all(pending);
  assert.ok(results.every((r) => r.status === 200));
  // Each response resolved its own request.
  assert.deepEqual(results.map((r) => r.callId), calls.map((c) => c.call.callId));

  // Meeting over: BYE everyone.
  const byes = calls.map((c) => env.dialogs.bye(c.dialog, [['Reason', 'SIP;cause=200;text="Meeting ended by host"']]));
  assert.equal(env.dialogs.size, 0);
  const byeReqs = env.transport.requests('BYE');
  assert.equal(byeReqs.length, N);
  assert.ok(byeReqs.every((b) => b.get('reason') === 'SIP;cause=200;text="Meeting ended by host"'));
  for (const b of byeReqs) env.receive(responseText(b, 200, 'OK'));
  assert.ok((await Promise.all(byes)).every((r) => r?.status === 200));
  assert.ok(calls.every((c) => c.ended.length === 1 && c.ended[0] === 'local-bye'));

  // Timer K / Timer J / Timer L wind the transactions down; nothing else may remain.
  env.clock.advance(64 * T1 + 10_000);
  assert.equal(env.clock.pending(), 0, 'no timer left behind');
  assert.equal(env.transactions.stats().live.total, 0, 'no transaction left behind');
  assert.equal(env.dialogs.size, 0);
});
