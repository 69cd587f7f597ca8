import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serialize } from '../../registrar/sip/message/serialize.ts';
import type { SipResponse } from '../../registrar/sip/message/types.ts';
import type { ClientHandlers } from '../../registrar/sip/transaction/types.ts';
import { incoming, peer, request, response, setup } from './helpers.ts';

function recorder() {
  const seen = { provisional: [] as number[], final: [] as number[], timeout: [] as SipResponse[], transport: [] as SipResponse[] };
  const handlers: ClientHandlers = {
    onProvisional: (r) => seen.provisional.push(r.status),
    onFinal: (r) => seen.final.push(r.status),
    onTimeout: (r) => seen.timeout.push(r),
    onTransportError: (_e, r) => seen.transport.push(r),
  };
  return { seen, handlers };
}

test('INVITE to a silent UDP peer: Timer A retransmits at 0.5,1,2,4,8,16 s; Timer B at 32 s gives the TU a 408', () => {
  const { clock, transport, layer } = setup();
  const { seen, handlers } = recorder();
  layer.sendRequest(request(), peer('udp'), handlers);
  clock.advance(31_999);
  assert.deepEqual(transport.requestTimes('INVITE'), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.equal(seen.timeout.length, 0);
  clock.advance(1);
  assert.equal(seen.timeout.length, 1);
  assert.equal(seen.timeout[0]!.status, 408);
  assert.equal(layer.stats().live.total, 0);
  clock.advance(120_000);
  assert.equal(transport.sent.length, 7, 'nothing is sent after Timer B');
  assert.equal(seen.timeout.length, 1);
  assert.equal(layer.stats().retransmissions, 6);
  assert.equal(clock.pending(), 0, 'no timer left behind');
});

test('INVITE over TCP: one send, no retransmission, Timer B still fires at 64*T1', () => {
  const { clock, transport, layer } = setup();
  const { seen, handlers } = recorder();
  layer.sendRequest(request({ protocol: 'tcp' }), peer('tcp'), handlers);
  clock.advance(31_999);
  assert.deepEqual(transport.requestTimes('INVITE'), [0]);
  assert.equal(seen.timeout.length, 0);
  clock.advance(1);
  assert.equal(seen.timeout[0]?.status, 408);
  assert.equal(layer.stats().live.total, 0);
});

test('configured T1 scales Timers A and B', () => {
  const { clock, transport, layer } = setup({ T1: 100 });
  const { seen, handlers } = recorder();
  layer.sendRequest(request(), peer('udp'), handlers);
  clock.advance(6_400);
  assert.deepEqual(transport.requestTimes('INVITE'), [0, 100, 300, 700, 1500, 3100, 6300]);
  assert.equal(seen.timeout.length, 1);
});

test('486 is ACKed by the transaction with the §17.1.1.3 headers, retransmissions re-ACKed, Timer D ends it', () => {
  const { clock, transport, layer } = setup();
  const { seen, handlers } = recorder();
  const invite = request({ cseq: 7, routes: ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>'] });
  const tx = layer.sendRequest(invite, peer('udp'), handlers);
  clock.advance(100);
  layer.receive(incoming(response(invite, 486, 'busy-tag')));
  assert.equal(tx.state, 'Completed');
  assert.deepEqual(seen.final, [486]);

  const acks = transport.requests('ACK');
  assert.equal(acks.length, 1);
  const lines = serialize(acks[0]!).toString('utf8').split('\r\n');
  assert.equal(lines[0], 'ACK sip:bob@example.com SIP/2.0');
  const header = (name: string) => lines.filter((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':')).map((l) => l.slice(name.length + 1).trim());
  assert.deepEqual(header('Via'), [invite.getAll('via')[0]], 'a single Via equal to the INVITE top Via');
  assert.deepEqual(header('Route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  assert.deepEqual(header('From'), [invite.get('from')]);
  assert.deepEqual(header('To'), ['<sip:bob@example.com>;tag=busy-tag']);
  assert.deepEqual(header('Call-ID'), [invite.callId]);
  assert.deepEqual(header('CSeq'), ['7 ACK']);

  // Response retransmissions: each re-ACKed, none shown to the TU.
  layer.receive(incoming(response(invite, 486, 'busy-tag')));
  layer.receive(incoming(response(invite, 486, 'busy-tag')));
  assert.equal(transport.requests('ACK').length, 3);
  assert.deepEqual(seen.final, [486]);
  assert.equal(transport.requests('INVITE').length, 1, 'no INVITE retransmission after the final response');

  // Timer D: 32 s over UDP.
  clock.advance(31_999);
  assert.equal(tx.state, 'Completed');
  clock.advance(1);
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.stats().live.total, 0);
  layer.receive(incoming(response(invite, 486, 'busy-tag')));
  assert.equal(transport.requests('ACK').length, 3, 'after Timer D a late 486 is a stray');
  assert.equal(layer.stats().strayResponses, 1);
});

test('non-2xx over TCP: ACK sent, Timer D is zero', () => {
  const { transport, layer } = setup();
  const { handlers } = recorder();
  const invite = request({ protocol: 'tcp' });
  const tx = layer.sendRequest(invite, peer('tcp'), handlers);
  layer.receive(incoming(response(invite, 603)));
  assert.equal(transport.requests('ACK').length, 1);
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.stats().live.total, 0);
});

test('1xx stops Timer A and goes to the TU; 2xx goes to the TU, its retransmissions too (RFC 6026 Accepted), no ACK by the layer', () => {
  const { clock, transport, layer } = setup();
  const { seen, handlers } = recorder();
  const invite = request();
  const tx = layer.sendRequest(invite, peer('udp'), handlers);
  clock.advance(600);
  layer.receive(incoming(response(invite, 180)));
  assert.equal(tx.state, 'Proceeding');
  assert.deepEqual(seen.provisional, [180]);
  clock.advance(60_000);
  assert.deepEqual(transport.requestTimes('INVITE'), [0, 500], 'no retransmission in Proceeding');
  assert.equal(seen.timeout.length, 0, 'Timer B does not run in Proceeding');
  layer.receive(incoming(response(invite, 200)));
  assert.equal(tx.state, 'Accepted');
  layer.receive(incoming(response(invite, 200)));
  assert.deepEqual(seen.final, [200, 200]);
  assert.equal(transport.requests('ACK').length, 0, 'the TU acknowledges 2xx end-to-end');
  clock.advance(32_000); // Timer M
  assert.equal(tx.state, 'Terminated');
  assert.equal(layer.stats().live.total, 0);
});

test('transport error: TU told (synthesised 503), transaction terminated', () => {
  const { clock, transport, layer } = setup();
  const { seen, handlers } = recorder();
  transport.failWith = new Error('ECONNREFUSED');
  const tx = layer.sendRequest(request({ protocol: 'tcp' }), peer('tcp'), handlers);
  assert.equal(tx.state, 'Terminated');
  assert.equal(seen.transport.length, 1);
  assert.equal(seen.transport[0]!.status, 503);
  clock.advance(64_000);
  assert.equal(seen.timeout.length, 0);
  assert.equal(layer.stats().live.total, 0);
});

test('a response to the CANCEL matches the CANCEL transaction, not the INVITE sharing its branch', () => {
  const { transport, layer } = setup();
  const inv = recorder();
  const can = recorder();
  const invite = request();
  const tx = layer.sendRequest(invite, peer('udp'), inv.handlers);
  layer.receive(incoming(response(invite, 180)));
  assert.equal(layer.cancel(tx, can.handlers), true);
  const cancel = transport.requests('CANCEL')[0]!;
  assert.equal(cancel.via[0]!.branch, invite.via[0]!.branch);
  layer.receive(incoming(response(cancel, 200)));
  assert.deepEqual(can.seen.final, [200]);
  assert.deepEqual(inv.seen.final, []);
  assert.equal(tx.state, 'Proceeding');
  layer.receive(incoming(response(invite, 487)));
  assert.deepEqual(inv.seen.final, [487]);
  assert.equal(transport.requests('ACK').length, 1);
});
