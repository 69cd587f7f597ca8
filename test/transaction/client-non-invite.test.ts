import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientHandlers } from '../../registrar/sip/transaction/types.ts';
import { incoming, peer, request, response, setup } from './helpers.ts';

function recorder() {
  const seen = { provisional: [] as number[], final: [] as number[], timeout: [] as number[], transport: [] as number[] };
  const handlers: ClientHandlers = {
    onProvisional: (r) => seen.provisional.push(r.status),
    onFinal: (r) => seen.final.push(r.status),
    onTimeout: (r) => seen.timeout.push(r.status),
    onTransportError: (_e, r) => seen.transport.push(r.status),
  };
  return { seen, handlers };
}

test('non-INVITE to a silent UDP peer: Timer E at 0.5,1,2,4,4,4… s (capped at T2), Timer F at 32 s', () => {
  const { clock, transport, layer } = setup();
  const { seen, handlers } = recorder();
  layer.sendRequest(request({ method: 'OPTIONS' }), peer('udp'), handlers);
  clock.advance(31_999);
  assert.deepEqual(
    transport.requestTimes('OPTIONS'),
    [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
  );
  assert.deepEqual(seen.timeout, []);
  clock.advance(1);
  assert.deepEqual(seen.timeout, [408]);
  clock.advance(60_000);
  assert.equal(transport.sent.length, 11, 'nothing after Timer F');
  assert.equal(layer.stats().live.total, 0);
  assert.equal(clock.pending(), 0);
});

test('a provisional moves to Proceeding; from then on Timer E retransmits every T2', () => {
  const { clock, transport, layer } = setup();
  const { seen, handlers } = recorder();
  const req = request({ method: 'REGISTER' });
  const tx = layer.sendRequest(req, peer('udp'), handlers);
  clock.advance(600);
  layer.receive(incoming(response(req, 100)));
  assert.equal(tx.state, 'Proceeding');
  assert.deepEqual(seen.provisional, [100]);
  clock.advance(31_399); // up to t = 31 999
  // E was pending for t=1500 (2*T1 after the retransmission at 500); it then resets to T2 = 4 s.
  assert.deepEqual(
    transport.requestTimes('REGISTER'),
    [0, 500, 1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500],
  );
  clock.advance(1);
  assert.deepEqual(seen.timeout, [408], 'Timer F also ends Proceeding');
  assert.equal(tx.state, 'Terminated');
});

test('final response: TU told once, retransmissions absorbed, Timer K = T4 over UDP', () => {
  const { clock, transport, layer } = setup();
  const { seen, handlers } = recorder();
  const req = request({ method: 'OPTIONS' });
  const tx = layer.sendRequest(req, peer('udp'), handlers);
  clock.advance(100);
  layer.receive(incoming(response(req, 200)));
  assert.equal(tx.state, 'Completed');
  layer.receive(incoming(response(req, 200)));
  layer.receive(incoming(response(req, 200)));
  assert.deepEqual(seen.final, [200]);
  assert.equal(layer.stats().absorbedDuplicates, 2);
  clock.advance(10_000);
  assert.equal(transport.requests('OPTIONS').length, 1, 'no retransmission once completed');
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.stats().live.total, 0);
});

test('Timer K fires exactly T4 after the final response', () => {
  const { clock, layer } = setup();
  const { handlers } = recorder();
  const req = request({ method: 'OPTIONS' });
  const tx = layer.sendRequest(req, peer('udp'), handlers);
  layer.receive(incoming(response(req, 404)));
  clock.advance(4_999);
  assert.equal(tx.state, 'Completed');
  clock.advance(1);
  assert.equal(tx.state, 'Terminated');
});

test('non-INVITE over TCP: single send, Timer K = 0', () => {
  const { clock, transport, layer } = setup();
  const { seen, handlers } = recorder();
  const req = request({ method: 'OPTIONS', protocol: 'tcp' });
  const tx = layer.sendRequest(req, peer('tcp'), handlers);
  clock.advance(20_000);
  assert.deepEqual(transport.requestTimes('OPTIONS'), [0]);
  layer.receive(incoming(response(req, 200)));
  assert.deepEqual(seen.final, [200]);
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.stats().live.total, 0);
});

test('transport error on a retransmission: TU gets a 503, no more sends', () => {
  const { clock, transport, layer } = setup();
  const { seen, handlers } = recorder();
  layer.sendRequest(request({ method: 'OPTIONS' }), peer('udp'), handlers);
  transport.failWith = new Error('ENETUNREACH');
  clock.advance(500);
  assert.deepEqual(seen.transport, [503]);
  clock.advance(60_000);
  assert.equal(transport.sent.length, 2);
  assert.deepEqual(seen.timeout, []);
});
