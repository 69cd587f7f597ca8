import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipRequest } from '../../registrar/sip/message/types.ts';
import type { ServerTransaction } from '../../registrar/sip/transaction/layer.ts';
import { incoming, response, setup, text } from './helpers.ts';

/** An RFC 2543 request: no magic cookie (optionally an old-style branch), no Max-Forwards. */
function legacy(method: string, opts: { cseq?: number; callId?: string; toTag?: string; branch?: string; via?: string } = {}): SipRequest {
  return text<SipRequest>([
    `${method} sip:bob@example.com SIP/2.0`,
    `Via: SIP/2.0/UDP ${opts.via ?? '192.0.2.30:5060'}${opts.branch ? `;branch=${opts.branch}` : ''}`,
    'From: <sip:old@example.com>;tag=1928',
    `To: <sip:bob@example.com>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
    `Call-ID: ${opts.callId ?? 'legacy-1@192.0.2.30'}`,
    `CSeq: ${opts.cseq ?? 5} ${method}`,
    'Content-Length: 0',
  ]);
}

function uas() {
  const env = setup();
  const got = { requests: [] as SipRequest[], txs: [] as ServerTransaction[], acks: [] as SipRequest[], cancels: 0 };
  env.layer.onRequest((req, tx) => {
    got.requests.push(req);
    got.txs.push(tx);
    tx.onCancel(() => {
      got.cancels++;
      tx.respond(response(req, 487, 'legacy-tag'));
    });
  });
  env.layer.onAck((ack) => got.acks.push(ack));
  return { ...env, got };
}

test('RFC 2543 INVITE retransmission matched by Request-URI, tags, Call-ID, CSeq and top Via', () => {
  const { transport, layer, got } = uas();
  layer.receive(incoming(legacy('INVITE')));
  layer.receive(incoming(legacy('INVITE')));
  assert.equal(got.requests.length, 1);
  got.txs[0]!.respond(response(got.requests[0]!, 486, 'legacy-tag'));
  layer.receive(incoming(legacy('INVITE')));
  assert.equal(transport.responses(486).length, 2, 'the retransmission gets the final response again');
  // Differing in any of the compared fields: a new transaction.
  layer.receive(incoming(legacy('INVITE', { cseq: 6 })));
  layer.receive(incoming(legacy('INVITE', { callId: 'legacy-2@192.0.2.30' })));
  layer.receive(incoming(legacy('INVITE', { via: '192.0.2.31:5060' })));
  assert.equal(got.requests.length, 4);
});

test('RFC 2543 ACK matches when its To tag equals the final response\'s; otherwise it goes to the TU', () => {
  const { clock, layer, got } = uas();
  layer.receive(incoming(legacy('INVITE')));
  const tx = got.txs[0]!;
  tx.respond(response(got.requests[0]!, 603, 'legacy-tag'));
  layer.receive(incoming(legacy('ACK', { toTag: 'other-tag' })));
  assert.equal(got.acks.length, 1, 'To tag differs: not this transaction');
  assert.equal(tx.state, 'Completed');
  layer.receive(incoming(legacy('ACK', { toTag: 'legacy-tag' })));
  assert.equal(tx.state, 'Confirmed');
  assert.equal(got.acks.length, 1);
  clock.advance(5_000);
  assert.equal(layer.stats().live.total, 0);
});

test('an old-style branch without the magic cookie still uses RFC 2543 matching', () => {
  const { layer, got } = uas();
  layer.receive(incoming(legacy('OPTIONS', { branch: '1234' })));
  layer.receive(incoming(legacy('OPTIONS', { branch: '1234' })));
  layer.receive(incoming(legacy('OPTIONS', { branch: '1234', callId: 'other@192.0.2.30' })));
  assert.equal(got.requests.length, 2);
});

test('RFC 2543 CANCEL matches its INVITE (CSeq number, tags, Call-ID, Request-URI, top Via)', () => {
  const { transport, layer, got } = uas();
  layer.receive(incoming(legacy('INVITE')));
  layer.receive(incoming(legacy('CANCEL')));
  assert.equal(got.cancels, 1);
  assert.equal(transport.responses(200).length, 1);
  assert.equal(transport.responses(487).length, 1);
  layer.receive(incoming(legacy('CANCEL', { cseq: 9 })));
  assert.equal(transport.responses(481).length, 1);
});
