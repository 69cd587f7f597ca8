/**
 * Body framing (RFC 3261 §18.3, §20.14) on UDP datagrams and on stream-framed messages, and `frameLength` for a
 * TCP reader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameLength, keepaliveLength, parseMessage } from '../../registrar/sip/message/index.ts';

const HEAD = [
  'MESSAGE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKcl',
  'From: <sip:alice@example.com>;tag=a1',
  'To: <sip:bob@example.com>',
  'Call-ID: cl-1@192.0.2.1',
  'CSeq: 1 MESSAGE',
  'Max-Forwards: 70',
  'Content-Type: text/plain',
];
const message = (cl: string[], body: string): Buffer => Buffer.from([...HEAD, ...cl, '', body].join('\r\n'));

test('UDP: no Content-Length → the body is the rest of the datagram (§18.3)', () => {
  const r = parseMessage(message([], 'hello world'));
  assert.ok(r.ok);
  assert.equal(r.message.body.toString(), 'hello world');
  assert.equal(r.message.contentLength, 11);
});

test('UDP: Content-Length smaller than the rest → body truncated, the rest discarded', () => {
  const r = parseMessage(message(['Content-Length: 5'], 'hello world'));
  assert.ok(r.ok);
  assert.equal(r.message.body.toString(), 'hello');
});

test('UDP: Content-Length larger than the bytes present → 400 with the request', () => {
  const r = parseMessage(message(['Content-Length: 12'], 'hello world'));
  assert.ok(!r.ok && r.request);
  assert.equal(r.error, 'Bad Request - Content-Length larger than body');
});

test('negative, non-numeric and conflicting Content-Length are 400; identical repeats are harmless', () => {
  for (const cl of [['Content-Length: -1'], ['Content-Length: 1x'], ['Content-Length:'], ['l: 5', 'Content-Length: 6']]) {
    const r = parseMessage(message(cl, 'hello world'));
    assert.ok(!r.ok && r.request, cl.join('|'));
    assert.match(r.error, /Content-Length/);
  }
  const same = parseMessage(message(['Content-Length: 5', 'l: 5'], 'hello world'));
  assert.ok(same.ok);
  assert.equal(same.message.body.toString(), 'hello');
});

test('stream: a framed message parses the same; an unterminated header section is refused', () => {
  const r = parseMessage(message(['Content-Length: 11'], 'hello world'), { stream: true });
  assert.ok(r.ok);
  assert.equal(r.message.body.toString(), 'hello world');
  const cut = Buffer.from(HEAD.join('\r\n') + '\r\n');
  assert.equal(parseMessage(cut, { stream: true }).ok, false);
  // On UDP the same bytes are read to the end of the datagram (RFC 4475 baddn archive copy).
  const udp = parseMessage(cut);
  assert.ok(udp.ok);
});

test('leading CRLFs before the start line are ignored (§7.5)', () => {
  const r = parseMessage(Buffer.concat([Buffer.from('\r\n\r\n'), message(['Content-Length: 2'], 'hi')]));
  assert.ok(r.ok);
  assert.equal(r.message.body.toString(), 'hi');
});

test('bare-LF header section; a bare-LF body is data', () => {
  const body = 'a\n\nb';
  const lf = Buffer.from([...HEAD, `Content-Length: ${body.length}`, '', body].join('\n'));
  const r = parseMessage(lf);
  assert.ok(r.ok);
  assert.equal(r.message.body.toString(), body);
});

test('frameLength: whole messages, partial input, pipelined messages, errors', () => {
  const one = message(['Content-Length: 11'], 'hello world');
  assert.equal(frameLength(one), one.length);
  assert.equal(frameLength(one.subarray(0, one.length - 1)), 'need-more');
  assert.equal(frameLength(one.subarray(0, 40)), 'need-more');
  const two = Buffer.concat([one, one]);
  assert.equal(frameLength(two), one.length);
  assert.equal(frameLength(two.subarray(one.length)), one.length);
  const withPing = Buffer.concat([Buffer.from('\r\n\r\n'), one]);
  assert.equal(frameLength(withPing), withPing.length, 'leading CRLFs belong to the frame');
  assert.equal(keepaliveLength(withPing), 4);
  assert.equal(keepaliveLength(one), 0);
  assert.equal(frameLength(Buffer.from('\r\n')), 'need-more');
  const compact = message(['l: 2'], 'hi');
  assert.equal(frameLength(compact), compact.length);
  const noCl = message([], '');
  assert.equal(frameLength(noCl), noCl.length, 'missing Content-Length on a stream reads as 0');
  assert.deepEqual(frameLength(message(['Content-Length: -999'], 'x')), { error: 'Invalid Content-Length' });
  assert.deepEqual(frameLength(message(['Content-Length: 13', 'Content-Length: 5'], 'x')), {
    error: 'Conflicting Content-Length headers',
  });
  assert.deepEqual(frameLength(Buffer.alloc(70000, 0x41)), { error: 'Header section too large' });
});
