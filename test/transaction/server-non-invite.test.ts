import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipRequest } from '../../registrar/sip/message/types.ts';
import type { ServerTransaction } from '../../registrar/sip/transaction/layer.ts';
import { incoming, request, response, setup, source } from './helpers.ts';

function uas() {
  const env = setup();
  const got = { requests: [] as SipRequest[], txs: [] as ServerTransaction[] };
  env.layer.onRequest((req, tx) => {
    got.requests.push(req);
    got.txs.push(tx);
  });
  return { ...env, got };
}

test('duplicate in Trying absorbed silently, in Proceeding answered with the 1xx, in Completed with the final', () => {
  const { transport, layer, got } = uas();
  const req = request({ method: 'REGISTER' });
  layer.receive(incoming(req));
  layer.receive(incoming(req));
  assert.equal(transport.sent.length, 0, 'Trying: discarded');
  assert.equal(got.requests.length, 1);
  const tx = got.txs[0]!;
  tx.respond(response(req, 100));
  assert.equal(tx.state, 'Proceeding');
  layer.receive(incoming(req));
  assert.equal(transport.responses(100).length, 2);
  tx.respond(response(req, 200));
  assert.equal(tx.state, 'Completed');
  layer.receive(incoming(req));
  layer.receive(incoming(req));
  assert.equal(transport.responses(200).length, 3);
  assert.equal(got.requests.length, 1, 'the TU saw the request once');
  assert.equal(layer.stats().absorbedDuplicates, 4);
});

test('Timer J = 64*T1 over UDP; afterwards the same request is new again', () => {
  const { clock, transport, layer, got } = uas();
  const req = request({ method: 'OPTIONS' });
  layer.receive(incoming(req));
  got.txs[0]!.respond(response(req, 200));
  clock.advance(31_999);
  assert.equal(got.txs[0]!.state, 'Completed');
  assert.equal(transport.responses(200).length, 1, 'no response retransmission without a request retransmission');
  clock.advance(1);
  assert.equal(got.txs[0]!.state, 'Terminated');
  assert.equal(layer.stats().live.total, 0);
  layer.receive(incoming(req));
  assert.equal(got.requests.length, 2);
});

test('over TCP Timer J is zero', () => {
  const { layer, got } = uas();
  const req = request({ method: 'OPTIONS', protocol: 'tcp' });
  layer.receive(incoming(req, source('tcp')));
  got.txs[0]!.respond(response(req, 200));
  assert.equal(got.txs[0]!.state, 'Terminated');
  assert.equal(layer.stats().live.total, 0);
});

test('same branch from a different sent-by is a different transaction (§17.2.3)', () => {
  const { layer, got } = uas();
  const a = request({ method: 'OPTIONS', branch: 'z9hG4bK-shared' });
  const b = request({ method: 'OPTIONS', branch: 'z9hG4bK-shared', sentBy: '198.51.100.7:5060' });
  layer.receive(incoming(a));
  layer.receive(incoming(b));
  assert.equal(got.requests.length, 2);
});

test('a transport error sending the response terminates the transaction and tells the TU', () => {
  const { transport, layer, got } = uas();
  const req = request({ method: 'OPTIONS', protocol: 'tcp' });
  layer.receive(incoming(req, source('tcp')));
  const errors: Error[] = [];
  got.txs[0]!.onTransportError((e) => errors.push(e));
  transport.failWith = new Error('EPIPE');
  got.txs[0]!.respond(response(req, 200));
  assert.equal(errors.length, 1);
  assert.equal(got.txs[0]!.state, 'Terminated');
  assert.equal(layer.stats().live.total, 0);
});
