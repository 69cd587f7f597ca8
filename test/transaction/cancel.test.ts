import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serialize } from '../../registrar/sip/message/serialize.ts';
import type { SipRequest } from '../../registrar/sip/message/types.ts';
import type { ServerTransaction } from '../../registrar/sip/transaction/layer.ts';
import type { ClientHandlers } from '../../registrar/sip/transaction/types.ts';
import { incoming, peer, request, response, setup } from './helpers.ts';

/** The CANCEL a §9.1 client sends for `invite`. */
function cancelFor(invite: SipRequest): SipRequest {
  return request({ method: 'CANCEL', branch: invite.via[0]!.branch!, cseq: invite.cseq.seq });
}

function uas(withCancelHandler: boolean) {
  const env = setup();
  const got = { txs: [] as ServerTransaction[], cancels: [] as SipRequest[], requests: [] as string[] };
  env.layer.onRequest((req, tx) => {
    got.requests.push(req.method);
    got.txs.push(tx);
    if (withCancelHandler) {
      tx.onCancel((c) => {
        got.cancels.push(c);
        tx.respond(response(req, 487, 'uas-tag'));
      });
    }
  });
  return { ...env, got };
}

test('CANCEL for a pending INVITE: 200 to the CANCEL, the TU notified and answering 487, ACK absorbed', () => {
  const { clock, transport, layer, got } = uas(true);
  const invite = request();
  layer.receive(incoming(invite));
  got.txs[0]!.respond(response(invite, 180, 'uas-tag'));
  layer.receive(incoming(cancelFor(invite)));
  const ok = transport.responses(200);
  assert.equal(ok.length, 1);
  assert.equal(ok[0]!.cseq.method, 'CANCEL');
  assert.equal(ok[0]!.toTag, 'uas-tag', '§9.2: same To tag as the INVITE responses');
  assert.equal(got.cancels.length, 1);
  assert.deepEqual(got.requests, ['INVITE'], 'CANCEL is handled by the layer, not passed to onRequest');
  assert.equal(transport.responses(487).length, 1);
  assert.equal(got.txs[0]!.state, 'Completed');
  // A retransmitted CANCEL: the 200 again, no second notification.
  layer.receive(incoming(cancelFor(invite)));
  assert.equal(transport.responses(200).length, 2);
  assert.equal(got.cancels.length, 1);
  layer.receive(incoming(request({ method: 'ACK', branch: invite.via[0]!.branch!, toTag: 'uas-tag' })));
  assert.equal(got.txs[0]!.state, 'Confirmed');
  clock.advance(64_000);
  assert.equal(layer.stats().live.total, 0);
});

test('without an onCancel handler the layer answers the INVITE 487 itself', () => {
  const { transport, layer } = uas(false);
  const invite = request();
  layer.receive(incoming(invite));
  layer.receive(incoming(cancelFor(invite)));
  assert.equal(transport.responses(200).length, 1);
  const r487 = transport.responses(487);
  assert.equal(r487.length, 1);
  assert.equal(r487[0]!.cseq.method, 'INVITE');
  assert.ok(r487[0]!.toTag, '487 carries a To tag');
});

test('CANCEL matching nothing gets 481', () => {
  const { transport, layer, got } = uas(true);
  layer.receive(incoming(request({ method: 'CANCEL' })));
  assert.equal(transport.responses(481).length, 1);
  assert.equal(layer.stats().cancelNoMatch, 1);
  assert.deepEqual(got.requests, []);
});

test('CANCEL for an INVITE already answered: 200, no effect', () => {
  const { transport, layer, got } = uas(true);
  const invite = request();
  layer.receive(incoming(invite));
  got.txs[0]!.respond(response(invite, 200, 'uas-tag'));
  layer.receive(incoming(cancelFor(invite)));
  assert.equal(transport.responses(200).filter((r) => r.cseq.method === 'CANCEL').length, 1);
  assert.equal(got.cancels.length, 0);
  assert.equal(transport.responses(487).length, 0);
});

test('UAC cancel before any provisional is delayed until one arrives; the CANCEL follows §9.1', () => {
  const { clock, transport, layer } = setup();
  const final: number[] = [];
  const handlers: ClientHandlers = { onFinal: (r) => final.push(r.status), onTimeout: () => {}, onTransportError: () => {} };
  const invite = request({ cseq: 42, routes: ['<sip:edge.example.com;lr>'] });
  const tx = layer.sendRequest(invite, peer('udp'), handlers);
  assert.equal(layer.cancel(tx), true);
  assert.equal(layer.cancel(tx), false, 'one CANCEL per INVITE');
  clock.advance(1_000);
  assert.equal(transport.requests('CANCEL').length, 0, '§9.1: not before a provisional');
  layer.receive(incoming(response(invite, 180)));
  const cancels = transport.requests('CANCEL');
  assert.equal(cancels.length, 1);
  const lines = serialize(cancels[0]!).toString('utf8').split('\r\n');
  const header = (name: string) => lines.filter((l) => l.startsWith(name + ':')).map((l) => l.slice(name.length + 1).trim());
  assert.equal(lines[0], `CANCEL ${invite.uri.raw} SIP/2.0`);
  assert.deepEqual(header('Via'), [invite.getAll('via')[0]]);
  assert.deepEqual(header('Route'), ['<sip:edge.example.com;lr>']);
  assert.deepEqual(header('To'), [invite.get('to')]);
  assert.deepEqual(header('From'), [invite.get('from')]);
  assert.deepEqual(header('Call-ID'), [invite.callId]);
  assert.deepEqual(header('CSeq'), ['42 CANCEL']);
  // The CANCEL's own transaction retransmits over UDP (Timer E).
  clock.advance(500);
  assert.equal(transport.requests('CANCEL').length, 2);
  layer.receive(incoming(response(cancels[0]!, 200)));
  layer.receive(incoming(response(invite, 487)));
  assert.deepEqual(final, [487]);
});

test('UAC cancel after the final response sends nothing; a deferred cancel dies with a final response', () => {
  const { clock, transport, layer } = setup();
  const handlers: ClientHandlers = { onFinal: () => {}, onTimeout: () => {}, onTransportError: () => {} };
  const a = request();
  const txA = layer.sendRequest(a, peer('udp'), handlers);
  layer.receive(incoming(response(a, 486)));
  assert.equal(layer.cancel(txA), false);
  const b = request({ callId: 'call-2' });
  const txB = layer.sendRequest(b, peer('udp'), handlers);
  assert.equal(layer.cancel(txB), true);
  layer.receive(incoming(response(b, 603)));
  clock.advance(40_000);
  assert.equal(transport.requests('CANCEL').length, 0);
});

test('cancel() on a non-INVITE transaction is API misuse', () => {
  const { layer } = setup();
  const handlers: ClientHandlers = { onFinal: () => {}, onTimeout: () => {}, onTransportError: () => {} };
  const tx = layer.sendRequest(request({ method: 'OPTIONS' }), peer('udp'), handlers);
  assert.throws(() => layer.cancel(tx), TypeError);
});
