/**
 * Compacted Completed non-INVITE server transactions over UDP (RFC 3261 §17.2.2; completed-store.ts):
 * the layer keeps only the final response's bytes and source, re-sends exactly those bytes for a retransmitted
 * request until Timer J, and runs Timer J for all of them on one clock timer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipRequest, SipResponse } from '../../registrar/sip/message/types.ts';
import { createResponse } from '../../registrar/sip/message/build.ts';
import { serialize } from '../../registrar/sip/message/serialize.ts';
import type { ServerTransaction } from '../../registrar/sip/transaction/layer.ts';
import { incoming, request, response, setup, source } from './helpers.ts';

function uas(timers?: { T1: number }) {
  const env = setup(timers);
  const got = { requests: [] as SipRequest[], txs: [] as ServerTransaction[] };
  env.layer.onRequest((req, tx) => {
    got.requests.push(req);
    got.txs.push(tx);
    tx.respond(response(req, 200, `tag-${got.requests.length}`));
  });
  return { ...env, got };
}

test('a REGISTER retransmitted 20 s after its 200 gets the identical 200, not a second TU request', () => {
  const { clock, transport, layer, got } = uas();
  const req = request({ method: 'REGISTER' });
  layer.receive(incoming(req));
  assert.equal(transport.responses(200).length, 1);
  const first = serialize(transport.responses(200)[0]!);
  clock.advance(20_000);
  layer.receive(incoming(req));
  const again = transport.responses(200);
  assert.equal(again.length, 2, 'the final response is re-sent');
  assert.deepEqual(serialize(again[1]!), first, 'byte for byte the same 200 (same To tag)');
  assert.equal(again[1]!.toTag, 'tag-1');
  assert.equal(got.requests.length, 1, 'the TU saw the REGISTER once');
  assert.deepEqual(transport.sent[1]!.to, transport.sent[0]!.to, 'sent to the same source');
  const s = layer.stats();
  assert.equal(s.retransmissions, 1);
  assert.equal(s.absorbedDuplicates, 1);
  assert.equal(s.live.serverNonInvite, 1, 'still live (Completed) until Timer J');
});

test('Timer J of compacted transactions: ends 64*T1 after Completed (within one wheel bucket), then the request is new', () => {
  const { clock, transport, layer, got } = uas();
  const a = request({ method: 'REGISTER', callId: 'a' });
  const b = request({ method: 'REGISTER', callId: 'b' });
  layer.receive(incoming(a));
  clock.advance(300);
  layer.receive(incoming(b)); // Completed at 300 ms: Timer J due at 32.3 s, its bucket ends at 32.5 s
  assert.ok(clock.pending() <= 1, 'one clock timer for all compacted transactions');
  clock.advance(32_000 - 300 - 1);
  assert.equal(got.txs[0]!.state, 'Completed');
  assert.equal(layer.stats().live.total, 2);
  clock.advance(1); // t = 32 s
  assert.equal(got.txs[0]!.state, 'Terminated', 'the TU-held transaction follows its record');
  assert.equal(got.txs[1]!.state, 'Completed');
  assert.equal(layer.stats().live.total, 1);
  clock.advance(299); // t = 32.299 s: not yet 64*T1 after b's 200
  layer.receive(incoming(b));
  assert.equal(got.requests.length, 2, 'b still absorbed before its Timer J');
  assert.equal(transport.responses(200).length, 3);
  clock.advance(201); // t = 32.5 s
  assert.equal(got.txs[1]!.state, 'Terminated');
  assert.equal(layer.stats().live.total, 0);
  assert.equal(clock.pending(), 0, 'no timer left');
  layer.receive(incoming(a));
  assert.equal(got.requests.length, 3, 'after Timer J a retransmission is a new request');
});

test('many compacted transactions run on one clock timer and all end', () => {
  const { clock, layer } = uas();
  for (let i = 0; i < 1000; i++) {
    layer.receive(incoming(request({ method: 'REGISTER', callId: `c${i}` })));
    if (i % 10 === 0) clock.advance(37);
  }
  assert.equal(layer.stats().live.serverNonInvite, 1000);
  assert.ok(clock.pending() <= 1);
  clock.advance(32_000 + 500);
  assert.equal(layer.stats().live.total, 0);
  assert.equal(clock.pending(), 0);
});

test('a transport error re-sending from a compacted transaction ends it and tells the TU', () => {
  const env = setup();
  const errors: Error[] = [];
  env.layer.onRequest((req, tx) => {
    tx.onTransportError((e) => errors.push(e));
    tx.respond(response(req, 200));
  });
  const req = request({ method: 'OPTIONS' });
  env.layer.receive(incoming(req));
  env.transport.failWith = new Error('EHOSTUNREACH');
  env.layer.receive(incoming(req));
  assert.equal(errors.length, 1);
  assert.equal(env.layer.stats().live.total, 0);
  assert.equal(env.layer.stats().transportErrors, 1);
});

test('the TU may end a compacted transaction; close() ends the rest and leaves no timer', () => {
  const { clock, layer, got } = uas();
  layer.receive(incoming(request({ method: 'REGISTER', callId: 'x' })));
  layer.receive(incoming(request({ method: 'REGISTER', callId: 'y' })));
  got.txs[0]!.transition('Terminated');
  assert.equal(got.txs[0]!.state, 'Terminated');
  assert.throws(() => got.txs[0]!.transition('Terminated'), /illegal transition Terminated -> Terminated/);
  assert.equal(layer.stats().live.total, 1);
  layer.close();
  assert.equal(got.txs[1]!.state, 'Terminated');
  assert.equal(layer.stats().live.total, 0);
  assert.equal(clock.pending(), 0);
});

test('over TCP nothing is compacted (Timer J is zero)', () => {
  const { layer, got } = uas();
  layer.receive(incoming(request({ method: 'REGISTER', protocol: 'tcp' }), source('tcp')));
  assert.equal(got.txs[0]!.state, 'Terminated');
  assert.equal(layer.stats().live.total, 0);
});

test('with a small T1 the wheel resolution follows it (Timer J = 64*T1 still holds)', () => {
  const { clock, layer, got } = uas({ T1: 100 });
  layer.receive(incoming(request({ method: 'REGISTER' })));
  clock.advance(6_399);
  assert.equal(got.txs[0]!.state, 'Completed');
  clock.advance(1);
  assert.equal(got.txs[0]!.state, 'Terminated');
});

test('thousands of compacted transactions across several byte chunks: each retransmission gets its own bytes', () => {
  const env = setup();
  const reqs: SipRequest[] = [];
  env.layer.onRequest((req, tx) => {
    // A 2 KB body unique to the request: 3000 of them fill several 1 MiB chunks of the store.
    tx.respond(createResponse(req, 200, undefined, { toTag: `t${reqs.length}`, body: `${req.callId};`.repeat(200).slice(0, 2000) }));
  });
  for (let i = 0; i < 3000; i++) {
    const req = request({ method: 'REGISTER', callId: `chunk-${i}` });
    reqs.push(req);
    env.layer.receive(incoming(req));
    if (i % 100 === 0) env.clock.advance(100);
  }
  const firstBytes = env.transport.sent.map((s) => serialize(s.msg));
  for (const i of [0, 1, 777, 1500, 2999]) {
    env.layer.receive(incoming(reqs[i]!));
    const last = env.transport.sent[env.transport.sent.length - 1]!;
    assert.deepEqual(serialize(last.msg), firstBytes[i], `retransmission ${i}`);
    assert.ok((last.msg as SipResponse).body.toString().startsWith(`chunk-${i};chunk-${i};`), `body of ${i}`);
  }
  assert.equal(env.layer.stats().live.serverNonInvite, 3000);
  env.clock.advance(40_000);
  assert.equal(env.layer.stats().live.total, 0);
  assert.equal(env.clock.pending(), 0);
  // The store is reused afterwards.
  env.layer.receive(incoming(reqs[5]!));
  env.layer.receive(incoming(reqs[5]!));
  assert.equal(env.layer.stats().live.serverNonInvite, 1);
  assert.deepEqual(serialize(env.transport.sent[env.transport.sent.length - 1]!.msg), serialize(env.transport.sent[env.transport.sent.length - 2]!.msg));
});
