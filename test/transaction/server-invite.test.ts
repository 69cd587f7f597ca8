import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipRequest } from '../../registrar/sip/message/types.ts';
import type { ServerTransaction } from '../../registrar/sip/transaction/layer.ts';
import { incoming, newBranch, request, response, setup, source } from './helpers.ts';

/** A layer whose TU records requests/ACKs and keeps the server transactions. */
function uas(respond?: (req: SipRequest, tx: ServerTransaction) => void) {
  const env = setup();
  const got = { requests: [] as SipRequest[], txs: [] as ServerTransaction[], acks: [] as SipRequest[], timeouts: 0 };
  env.layer.onRequest((req, tx) => {
    got.requests.push(req);
    got.txs.push(tx);
    if (tx.kind === 'serverInvite') tx.onTimeout(() => got.timeouts++);
    respond?.(req, tx);
  });
  env.layer.onAck((ack) => got.acks.push(ack));
  return { ...env, got };
}

test('100 Trying after 200 ms when the TU is silent', () => {
  const { clock, transport, layer, got } = uas();
  layer.receive(incoming(request()));
  assert.equal(got.requests.length, 1);
  clock.advance(199);
  assert.equal(transport.responses(100).length, 0);
  clock.advance(1);
  assert.deepEqual(transport.responseTimes(100), [200]);
  assert.equal(transport.responses(100)[0]!.cseq.method, 'INVITE');
  assert.equal(layer.stats().tryingSent, 1);
});

test('no 100 Trying when the TU answers at once', () => {
  const { clock, transport, layer } = uas((req, tx) => tx.respond(response(req, 180)));
  layer.receive(incoming(request()));
  clock.advance(10_000);
  assert.equal(transport.responses(100).length, 0);
  assert.equal(transport.responses(180).length, 1);
});

test('retransmitted INVITE: absorbed, the last provisional resent; TU sees one request', () => {
  const { clock, transport, layer, got } = uas();
  const invite = request();
  layer.receive(incoming(invite));
  layer.receive(incoming(invite)); // before any response: nothing to resend
  assert.equal(transport.sent.length, 0);
  clock.advance(300); // 100 Trying at 200 ms
  layer.receive(incoming(invite));
  assert.equal(transport.responses(100).length, 2);
  got.txs[0]!.respond(response(invite, 180));
  layer.receive(incoming(invite));
  assert.equal(transport.responses(180).length, 2);
  assert.equal(got.requests.length, 1);
  assert.equal(layer.stats().absorbedDuplicates, 3);
});

test('non-2xx final over UDP: Timer G retransmits at 0.5,1,2,4,4 s … until Timer H; the TU is told no ACK came', () => {
  const { clock, transport, layer, got } = uas();
  const invite = request();
  layer.receive(incoming(invite));
  got.txs[0]!.respond(response(invite, 486));
  clock.advance(31_999);
  assert.deepEqual(
    transport.responseTimes(486),
    [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
  );
  assert.equal(got.timeouts, 0);
  clock.advance(1);
  assert.equal(got.timeouts, 1, 'Timer H');
  assert.equal(got.txs[0]!.state, 'Terminated');
  clock.advance(60_000);
  assert.equal(transport.responses(486).length, 11);
  assert.equal(layer.stats().live.total, 0);
});

test('retransmitted INVITE in Completed: the final response is resent', () => {
  const { transport, layer, got } = uas();
  const invite = request();
  layer.receive(incoming(invite));
  got.txs[0]!.respond(response(invite, 404));
  layer.receive(incoming(invite));
  assert.equal(transport.responses(404).length, 2);
  assert.equal(got.requests.length, 1);
});

test('ACK for the non-2xx is absorbed (not passed to the TU), stops Timer G; Timer I then terminates', () => {
  const { clock, transport, layer, got } = uas();
  const invite = request();
  layer.receive(incoming(invite));
  const tx = got.txs[0]!;
  const final = response(invite, 486, 'uas-tag');
  tx.respond(final);
  clock.advance(600); // one retransmission at 500
  // The ACK a client transaction builds for a non-2xx: same branch as the INVITE, To tag of the response.
  const ack = request({ method: 'ACK', branch: invite.via[0]!.branch!, toTag: 'uas-tag' });
  layer.receive(incoming(ack));
  assert.equal(tx.state, 'Confirmed');
  assert.equal(got.acks.length, 0, 'ACK absorbed by the transaction');
  layer.receive(incoming(ack)); // retransmitted ACK, also absorbed
  assert.equal(got.acks.length, 0);
  clock.advance(4_999);
  assert.equal(tx.state, 'Confirmed');
  assert.equal(transport.responses(486).length, 2, 'no retransmission after the ACK');
  clock.advance(1);
  assert.equal(tx.state, 'Terminated', 'Timer I = T4');
  assert.equal(got.timeouts, 0);
  assert.equal(layer.stats().live.total, 0);
});

test('over TCP: no Timer G, and the ACK terminates at once (Timer I = 0)', () => {
  const { clock, transport, layer, got } = uas();
  const invite = request({ protocol: 'tcp' });
  layer.receive(incoming(invite, source('tcp')));
  const tx = got.txs[0]!;
  tx.respond(response(invite, 480));
  clock.advance(20_000);
  assert.equal(transport.responses(480).length, 1);
  layer.receive(incoming(request({ method: 'ACK', branch: invite.via[0]!.branch!, protocol: 'tcp', toTag: 'peer-tag' }), source('tcp')));
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.stats().live.total, 0);
});

test('2xx: Accepted absorbs INVITE retransmissions, the TU retransmits its 2xx, the ACK goes to the TU, Timer L ends it', () => {
  const { clock, transport, layer, got } = uas();
  const invite = request();
  layer.receive(incoming(invite));
  const tx = got.txs[0]!;
  const ok = response(invite, 200, 'uas-tag');
  tx.respond(ok);
  assert.equal(tx.state, 'Accepted');
  layer.receive(incoming(invite));
  assert.equal(got.requests.length, 1, 'retransmitted INVITE not shown to the TU again');
  assert.equal(transport.responses(200).length, 1, 'the transaction does not retransmit 2xx itself');
  clock.advance(500);
  tx.respond(ok); // the TU's own 2xx retransmission (§13.3.1.4)
  assert.equal(transport.responses(200).length, 2);
  // The ACK for a 2xx is a new transaction with its own branch: it reaches the TU.
  layer.receive(incoming(request({ method: 'ACK', branch: newBranch(), toTag: 'uas-tag' })));
  assert.equal(got.acks.length, 1);
  assert.equal(layer.stats().acksToTu, 1);
  clock.advance(31_499);
  assert.equal(tx.state, 'Accepted');
  clock.advance(1);
  assert.equal(tx.state, 'Terminated', 'Timer L = 64*T1');
  assert.equal(layer.stats().live.total, 0);
});

test('ACK matching no transaction goes to onAck', () => {
  const { layer, got } = uas();
  layer.receive(incoming(request({ method: 'ACK', toTag: 'x' })));
  assert.equal(got.acks.length, 1);
});

test('a response the TU sends after the final one is discarded', () => {
  const { transport, layer, got } = uas();
  const invite = request();
  layer.receive(incoming(invite));
  got.txs[0]!.respond(response(invite, 486));
  got.txs[0]!.respond(response(invite, 180));
  got.txs[0]!.respond(response(invite, 500));
  assert.equal(transport.sent.length, 1);
});

test('a TU handler that throws gets the request answered 500', () => {
  const { transport, layer } = uas(() => {
    throw new Error('TU bug');
  });
  layer.receive(incoming(request({ method: 'OPTIONS' })));
  assert.equal(transport.responses(500).length, 1);
});
