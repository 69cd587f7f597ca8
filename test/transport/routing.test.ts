import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVia } from '../../registrar/sip/message/parse.ts';
import type { Via } from '../../registrar/sip/message/types.ts';
import { responseTarget, stampedVia, viaWithTransport } from '../../registrar/sip/transport/routing.ts';
import { ipv6Bytes, normalizeAddress, sameAddress, stripBrackets } from '../../registrar/sip/transport/address.ts';
import type { Source } from '../../registrar/sip/transport/types.ts';

function via(text: string): Via {
  const r = parseVia(text);
  if (!r.ok) throw new Error(`test Via did not parse: ${r.error}`);
  return r.value;
}

const udpSrc = (address: string, port: number): Source => ({
  protocol: 'udp', address, port, local: { protocol: 'udp', address: '0.0.0.0', port: 5060 },
});

test('§18.2.1: same host as the source and no rport → no change', () => {
  assert.equal(stampedVia(via('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa'), '10.0.0.1', 5060), undefined);
  assert.equal(stampedVia(via('SIP/2.0/UDP [::1]:5060;branch=z9hG4bKa'), '::1', 5060), undefined);
  assert.equal(stampedVia(via('SIP/2.0/UDP [0:0::1]:5060;branch=z9hG4bKa'), '::1', 5060), undefined);
});

test('§18.2.1: a different address or a domain name gets received=<source>', () => {
  assert.equal(
    stampedVia(via('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa'), '192.0.2.7', 5060),
    'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;received=192.0.2.7',
  );
  assert.equal(
    stampedVia(via('SIP/2.0/TCP pc33.example.com;branch=z9hG4bKa'), '2001:db8::9', 40000),
    'SIP/2.0/TCP pc33.example.com;branch=z9hG4bKa;received=2001:db8::9',
  );
});

test('RFC 3581 §4: rport without a value is filled and received is added even for the same address', () => {
  assert.equal(
    stampedVia(via('SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff'), '10.1.1.1', 9988),
    'SIP/2.0/UDP 10.1.1.1:4540;rport=9988;branch=z9hG4bKkjshdyff;received=10.1.1.1',
  );
  // rport last, and an already present received replaced rather than duplicated.
  assert.equal(
    stampedVia(via('SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bKx;received=1.1.1.1;rport'), '192.0.2.1', 9988),
    'SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bKx;received=192.0.2.1;rport=9988',
  );
});

test('§18.2.2 unreliable: maddr, then received:rport, then received/sent-by at sent-by port (default 5060)', () => {
  const src = udpSrc('192.0.2.1', 9988);
  assert.deepEqual(
    responseTarget(via('SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bKa;maddr=224.0.1.75;received=192.0.2.1;rport=9988'), src),
    { protocol: 'udp', address: '224.0.1.75', port: 4540 },
  );
  assert.deepEqual(
    responseTarget(via('SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bKa;received=192.0.2.1;rport=9988'), src),
    { protocol: 'udp', address: '192.0.2.1', port: 9988 },
  );
  assert.deepEqual(
    responseTarget(via('SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bKa;received=192.0.2.1'), src),
    { protocol: 'udp', address: '192.0.2.1', port: 4540 },
  );
  assert.deepEqual(
    responseTarget(via('SIP/2.0/UDP [2001:db8::5];branch=z9hG4bKa'), udpSrc('2001:db8::5', 7000)),
    { protocol: 'udp', address: '2001:db8::5', port: 5060 },
  );
});

test('§18.2.2 reliable: the request connection, with received/sent-by port as the fallback address', () => {
  const src: Source = {
    protocol: 'tcp', address: '192.0.2.1', port: 51000, connectionId: 7,
    local: { protocol: 'tcp', address: '0.0.0.0', port: 5060 },
  };
  assert.deepEqual(
    responseTarget(via('SIP/2.0/TCP 10.1.1.1:5070;branch=z9hG4bKa;received=192.0.2.1;rport=51000'), src),
    { protocol: 'tcp', address: '192.0.2.1', port: 5070, connectionId: 7 },
  );
});

test('a response without a top Via goes back to the request source', () => {
  assert.deepEqual(responseTarget(undefined, udpSrc('192.0.2.1', 9988)), {
    protocol: 'udp', address: '192.0.2.1', port: 9988, connectionId: undefined,
  });
});

test('§18.1.1: the top Via transport token is rewritten when a request moves to TCP', () => {
  assert.equal(
    viaWithTransport(via('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport'), 'TCP'),
    'SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKa;rport',
  );
});

test('address helpers: brackets, IPv4-mapped IPv6, comparison, IPv6 bytes', () => {
  assert.equal(stripBrackets('[::1]'), '::1');
  assert.equal(stripBrackets('10.0.0.1'), '10.0.0.1');
  assert.equal(normalizeAddress('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeAddress('::1'), '::1');
  assert.equal(sameAddress('[2001:DB8::1]', '2001:db8::1'), true);
  assert.equal(sameAddress('example.com', '192.0.2.1'), false);
  assert.equal(ipv6Bytes('2001:db8::1')!.toString('hex'), '20010db8000000000000000000000001');
  assert.equal(ipv6Bytes('::ffff:1.2.3.4')!.toString('hex'), '00000000000000000000ffff01020304');
  assert.equal(ipv6Bytes('::')!.toString('hex'), '0'.repeat(32));
  assert.equal(ipv6Bytes('1.2.3.4'), undefined);
});
