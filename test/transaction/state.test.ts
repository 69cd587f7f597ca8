import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequest } from '../../registrar/sip/message/build.ts';
import type { ServerTransaction } from '../../registrar/sip/transaction/layer.ts';
import { IllegalTransitionError } from '../../registrar/sip/transaction/state.ts';
import { TransactionTimers } from '../../registrar/sip/transaction/timers.ts';
import type { ClientHandlers } from '../../registrar/sip/transaction/types.ts';
import { incoming, newBranch, peer, request, response, setup, source } from './helpers.ts';

const quiet: ClientHandlers = { onFinal: () => {}, onTimeout: () => {}, onTransportError: () => {} };

test('client machines: illegal edges throw, legal ones do not', () => {
  const { layer } = setup();
  const invite = request();
  const inv = layer.sendRequest(invite, peer('udp'), quiet);
  assert.throws(() => inv.transition('Calling' as never), IllegalTransitionError);
  layer.receive(incoming(response(invite, 486)));
  assert.equal(inv.state, 'Completed');
  assert.throws(() => inv.transition('Proceeding' as never), /client INVITE transaction: illegal transition Completed -> Proceeding/);
  assert.throws(() => inv.transition('Accepted' as never), IllegalTransitionError);
  inv.transition('Terminated');
  assert.throws(() => inv.transition('Terminated'), IllegalTransitionError);

  const opts = layer.sendRequest(request({ method: 'OPTIONS' }), peer('udp'), quiet);
  assert.throws(() => opts.transition('Trying' as never), IllegalTransitionError);
  opts.transition('Proceeding');
  assert.throws(() => opts.transition('Trying' as never), IllegalTransitionError);
  assert.equal(layer.stats().live.clientNonInvite, 1);
});

test('server machines: illegal edges throw', () => {
  const { layer } = setup();
  const txs: ServerTransaction[] = [];
  layer.onRequest((_r, tx) => txs.push(tx));
  layer.receive(incoming(request()));
  layer.receive(incoming(request({ method: 'OPTIONS' })));
  const [inv, opt] = txs as [ServerTransaction, ServerTransaction];
  assert.equal(inv.kind, 'serverInvite');
  assert.throws(() => inv.transition('Confirmed' as never), /server INVITE transaction: illegal transition Proceeding -> Confirmed/);
  assert.throws(() => opt.transition('Trying' as never), IllegalTransitionError);
});

test('API misuse throws: bad responses, ACK or branchless requests, reused branches', () => {
  const { layer } = setup();
  const txs: ServerTransaction[] = [];
  layer.onRequest((_r, tx) => txs.push(tx));
  const req = request({ method: 'OPTIONS' });
  layer.receive(incoming(req));
  assert.throws(() => txs[0]!.respond(req as never), TypeError);
  assert.throws(() => layer.sendRequest(request({ method: 'ACK' }), peer(), quiet), TypeError);
  assert.throws(() => layer.sendRequest(request({ branch: null }), peer(), quiet), TypeError);
  const branch = newBranch();
  layer.sendRequest(request({ branch }), peer(), quiet);
  assert.throws(() => layer.sendRequest(request({ branch }), peer(), quiet), /already in use/);
  assert.throws(() => layer.sendAck(req, peer()), TypeError);
});

test('untrusted input never throws: strays are dropped and counted', () => {
  const { layer } = setup();
  const req = request({ method: 'OPTIONS' });
  layer.receive(incoming(response(req, 200)));
  layer.receive(incoming(response(request({ branch: null }), 200)));
  assert.equal(layer.stats().strayResponses, 2);
  layer.receive(incoming(req)); // no onRequest handler
  layer.receive(incoming(request({ method: 'ACK' }))); // no onAck handler
  assert.equal(layer.stats().straysDropped, 2);
});

test('timers: RFC values from T1/T2/T4, configurable, validated', () => {
  const t = new TransactionTimers();
  assert.deepEqual([t.T1, t.T2, t.T4], [500, 4000, 5000]);
  assert.deepEqual([t.TIMER_A, t.TIMER_B, t.TIMER_E, t.TIMER_F, t.TIMER_G, t.TIMER_H], [500, 32000, 500, 32000, 500, 32000]);
  assert.deepEqual([t.TIMER_D(false), t.TIMER_D(true)], [32000, 0]);
  assert.deepEqual([t.TIMER_I(false), t.TIMER_I(true)], [5000, 0]);
  assert.deepEqual([t.TIMER_J(false), t.TIMER_J(true)], [32000, 0]);
  assert.deepEqual([t.TIMER_K(false), t.TIMER_K(true)], [5000, 0]);
  assert.ok(t.TIMER_C > 180_000);
  assert.deepEqual([t.nextTimerE(500), t.nextTimerE(1000), t.nextTimerE(2000), t.nextTimerE(4000)], [1000, 2000, 4000, 4000]);
  assert.deepEqual([t.nextTimerG(500), t.nextTimerG(4000)], [1000, 4000]);
  assert.equal(t.nextTimerA(16_000), 32_000);
  const big = new TransactionTimers({ T1: 1000, T2: 8000, T4: 10_000 });
  assert.deepEqual([big.TIMER_B, big.TIMER_D(false), big.TIMER_K(false)], [64_000, 64_000, 10_000]);
  assert.throws(() => new TransactionTimers({ T1: 0 }), RangeError);
  assert.throws(() => new TransactionTimers({ T1: 5000, T2: 4000 }), RangeError);
});

test('no leaks: hundreds of mixed transactions all end, stats().live drops to zero, no timer left', () => {
  const { clock, transport, layer } = setup();
  const N = 200;
  layer.onRequest((req, tx) => tx.respond(response(req, req.method === 'INVITE' ? 486 : 200)));
  for (let i = 0; i < N; i++) {
    const inv = request({ callId: `c${i}` });
    layer.sendRequest(inv, peer('udp'), quiet);
    layer.receive(incoming(response(inv, 486)));
    const reg = request({ method: 'REGISTER', callId: `r${i}` });
    layer.sendRequest(reg, peer(i % 2 ? 'tcp' : 'udp'), quiet);
    layer.receive(incoming(response(reg, 200)));
    layer.receive(incoming(request({ callId: `s${i}` }), source(i % 2 ? 'tcp' : 'udp')));
    layer.receive(incoming(request({ method: 'OPTIONS', callId: `o${i}` })));
  }
  const s = layer.stats();
  assert.equal(s.created.clientInvite + s.created.clientNonInvite + s.created.serverInvite + s.created.serverNonInvite, 4 * N);
  assert.ok(s.live.total > 0);
  clock.advance(64 * 500 + 1);
  assert.equal(layer.stats().live.total, 0);
  assert.equal(clock.pending(), 0);
  assert.ok(transport.sent.length > 4 * N);
});

test('close() terminates everything without TU callbacks', () => {
  const { clock, layer } = setup();
  let calls = 0;
  const counting: ClientHandlers = { onFinal: () => calls++, onTimeout: () => calls++, onTransportError: () => calls++ };
  layer.sendRequest(request(), peer(), counting);
  layer.sendRequest(request({ method: 'OPTIONS' }), peer(), counting);
  layer.onRequest(() => {});
  layer.receive(incoming(request({ callId: 'x' })));
  layer.close();
  assert.equal(layer.stats().live.total, 0);
  clock.advance(100_000);
  assert.equal(calls, 0);
  assert.equal(clock.pending(), 0);
});

test('a request built without a branch (RFC 2543 peer style) is accepted by the server side only', () => {
  const req = createRequest({
    method: 'OPTIONS',
    uri: 'sip:bob@example.com',
    headers: [
      ['Via', 'SIP/2.0/UDP 192.0.2.20:5070'],
      ['From', '<sip:a@example.com>;tag=1'],
      ['To', '<sip:bob@example.com>'],
      ['Call-ID', 'nb@x'],
      ['CSeq', '1 OPTIONS'],
    ],
  });
  const { layer } = setup();
  let seen = 0;
  layer.onRequest((r, tx) => {
    seen++;
    tx.respond(response(r, 200));
  });
  layer.receive(incoming(req));
  layer.receive(incoming(req));
  assert.equal(seen, 1);
  assert.throws(() => layer.sendRequest(req, peer(), quiet), TypeError);
});
