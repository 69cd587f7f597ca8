import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { createRequest, createResponse } from '../../registrar/sip/message/build.ts';
import type { SipRequest } from '../../registrar/sip/message/types.ts';
import { STUN_MAGIC_COOKIE } from '../../registrar/sip/transport/stun.ts';
import { branch, options, startTransport, TcpPeer, UdpPeer } from './helpers.ts';

test('UDP OPTIONS with rport: received/rport are added and the response comes back to the source port', async () => {
  const { t, inbox, port } = await startTransport();
  const a = await UdpPeer.open();
  const b = await UdpPeer.open();
  try {
    // sent-by names B's port, but the packet leaves from A: with rport the response must go to A (RFC 3581 §4).
    await a.send(options(`SIP/2.0/UDP 127.0.0.1:${b.port};rport;branch=${branch()}`), port);
    const inc = await inbox.next(2000, 'OPTIONS');
    assert.equal(inc.message.kind, 'request');
    const req = inc.message as SipRequest;
    const top = req.via[0]!;
    assert.equal(top.params.get('rport'), String(a.port));
    assert.equal(top.params.get('received'), '127.0.0.1');
    assert.deepEqual(
      { protocol: inc.source.protocol, address: inc.source.address, port: inc.source.port },
      { protocol: 'udp', address: '127.0.0.1', port: a.port },
    );
    t.sendResponse(createResponse(req, 200, 'OK'), inc.source);
    const got = await a.inbox.next(2000, 'response at A');
    assert.match(got.text, /^SIP\/2\.0 200 OK\r\n/);
    // The response came from the listening port and carries the stamped Via.
    assert.equal(got.rinfo.port, port);
    assert.match(got.text, new RegExp(`rport=${a.port}`));
    assert.equal(await b.inbox.nothingWithin(100), true);
  } finally {
    a.close();
    b.close();
    await t.close();
  }
});

test('UDP without rport: the response goes to the sent-by port (received host when sent-by differs)', async () => {
  const { t, inbox, port } = await startTransport();
  const a = await UdpPeer.open();
  const b = await UdpPeer.open();
  try {
    // §18.2.1: sent-by host 192.0.2.44 differs from the source → received=127.0.0.1; §18.2.2: to received at
    // the sent-by port (B), not to the packet's source port (A).
    await a.send(options(`SIP/2.0/UDP 192.0.2.44:${b.port};branch=${branch()}`), port);
    const inc = await inbox.next(2000, 'OPTIONS');
    const req = inc.message as SipRequest;
    assert.equal(req.via[0]!.params.get('received'), '127.0.0.1');
    assert.equal(req.via[0]!.params.has('rport'), false);
    t.sendResponse(createResponse(req, 200, 'OK'), inc.source);
    const got = await b.inbox.next(2000, 'response at B');
    assert.match(got.text, /^SIP\/2\.0 200 OK\r\n/);
    assert.equal(await a.inbox.nothingWithin(100), true);
  } finally {
    a.close();
    b.close();
    await t.close();
  }
});

test('a garbage datagram is dropped and counted; the next good message still gets through', async () => {
  const { t, inbox, port } = await startTransport();
  const a = await UdpPeer.open();
  try {
    await a.send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x41, 0x0d, 0x0a]), port);
    await a.send('this is not SIP\r\n\r\n', port);
    await a.send(options(`SIP/2.0/UDP 127.0.0.1:${a.port};branch=${branch()}`, { callId: 'after-garbage' }), port);
    const inc = await inbox.next(2000, 'good OPTIONS');
    assert.equal(inc.message.callId, 'after-garbage');
    const s = t.stats();
    assert.equal(s.dropped['unparseable'], 2);
    assert.equal(s.parseErrors, 2);
    assert.equal(s.answered400, 0);
    assert.equal(inbox.length, 0);
    assert.equal(a.inbox.length, 0);
  } finally {
    a.close();
    await t.close();
  }
});

test('a request with a broken Via parameter but good other headers is answered 400 with a reason phrase', async () => {
  const { t, inbox, port } = await startTransport();
  const a = await UdpPeer.open();
  try {
    await a.send(options(`SIP/2.0/UDP 127.0.0.1:${a.port};branch=${branch()};=broken`), port);
    const got = await a.inbox.next(2000, '400');
    assert.match(got.text, /^SIP\/2\.0 400 \S.*\r\n/);
    assert.match(got.text, /\r\nCall-ID: call-\d+@test\r\n/i);
    assert.equal(t.stats().answered400, 1);
    assert.equal(await inbox.nothingWithin(50), true, 'the handler never sees it');
  } finally {
    a.close();
    await t.close();
  }
});

test('a malformed ACK is dropped, never answered', async () => {
  const { t, port } = await startTransport();
  const a = await UdpPeer.open();
  try {
    const ack = options(`SIP/2.0/UDP 127.0.0.1:${a.port};branch=${branch()};=broken`)
      .replace('OPTIONS sip:', 'ACK sip:').replace('CSeq: 1 OPTIONS', 'CSeq: 1 ACK');
    await a.send(ack, port);
    assert.equal(await a.inbox.nothingWithin(150), true);
    assert.equal(t.stats().answered400, 0);
    assert.equal(t.stats().dropped['bad-ack'], 1);
  } finally {
    a.close();
    await t.close();
  }
});

test('an oversize datagram is dropped and counted', async () => {
  const { t, inbox, port } = await startTransport({ maxMessageSize: 600 });
  const a = await UdpPeer.open();
  try {
    await a.send(options(`SIP/2.0/UDP 127.0.0.1:${a.port};branch=${branch()}`, { body: 'x'.repeat(700) }), port);
    await a.send(options(`SIP/2.0/UDP 127.0.0.1:${a.port};branch=${branch()}`, { callId: 'small' }), port);
    const inc = await inbox.next(2000, 'small OPTIONS');
    assert.equal(inc.message.callId, 'small');
    assert.equal(t.stats().dropped['oversize'], 1);
    assert.equal(inbox.length, 0);
  } finally {
    a.close();
    await t.close();
  }
});

test('UDP keep-alives: CRLFCRLF is ignored, a STUN Binding request gets our view of the source address', async () => {
  const { t, inbox, port } = await startTransport();
  const a = await UdpPeer.open();
  try {
    await a.send('\r\n\r\n', port);
    const txid = Buffer.from('0123456789ab', 'latin1');
    const stun = Buffer.alloc(20);
    stun.writeUInt16BE(0x0001, 0);
    stun.writeUInt16BE(0, 2);
    stun.writeUInt32BE(STUN_MAGIC_COOKIE, 4);
    txid.copy(stun, 8);
    await a.send(stun, port);
    const res = (await a.inbox.next(2000, 'STUN response')).buf;
    assert.equal(res.readUInt16BE(0), 0x0101);
    assert.equal(res.subarray(8, 20).toString('latin1'), '0123456789ab');
    assert.equal(res.readUInt16BE(20), 0x0020); // XOR-MAPPED-ADDRESS
    assert.equal(res[25], 0x01); // IPv4
    assert.equal(res.readUInt16BE(26) ^ (STUN_MAGIC_COOKIE >>> 16), a.port);
    assert.equal((res.readUInt32BE(28) ^ STUN_MAGIC_COOKIE) >>> 0, 0x7f000001);
    assert.equal(await inbox.nothingWithin(30), true);
    assert.equal(t.stats().keepAlives, 1);
    assert.equal(t.stats().stunBindings, 1);
    assert.equal(a.inbox.length, 0, 'no answer to the CRLF keep-alive');
  } finally {
    a.close();
    await t.close();
  }
});

test('IPv6: OPTIONS to [::1] with a bracketed Via sent-by gets its response', async () => {
  const { t, inbox, port } = await startTransport({ host: '::1' });
  const a = await UdpPeer.open('::1');
  try {
    assert.deepEqual(t.viaSentBy('udp'), { host: '[::1]', port, transport: 'UDP' });
    await a.send(options(`SIP/2.0/UDP [::1]:${a.port};branch=${branch()}`), port);
    const inc = await inbox.next(2000, 'OPTIONS over IPv6');
    assert.equal(inc.source.address, '::1');
    const req = inc.message as SipRequest;
    assert.equal(req.via[0]!.params.has('received'), false, 'sent-by equals the source: no received');
    t.sendResponse(createResponse(req, 200, 'OK'), inc.source);
    const got = await a.inbox.next(2000, 'response over IPv6');
    assert.match(got.text, /^SIP\/2\.0 200 OK\r\n/);
    assert.match(got.text, new RegExp(`Via: SIP/2\\.0/UDP \\[::1\\]:${a.port};branch=`));
  } finally {
    a.close();
    await t.close();
  }
});

function bigRequest(t: { viaSentBy: (p: 'udp') => { host: string; port: number } }, size: number): SipRequest {
  const sb = t.viaSentBy('udp');
  return createRequest({
    method: 'MESSAGE',
    uri: 'sip:bob@127.0.0.1',
    headers: [
      ['Via', `SIP/2.0/UDP ${sb.host}:${sb.port};branch=${branch()};rport`],
      ['Max-Forwards', '70'],
      ['From', '<sip:alice@example.com>;tag=x1'],
      ['To', '<sip:bob@example.com>'],
      ['Call-ID', `big-${size}@test`],
      ['CSeq', '1 MESSAGE'],
      ['Content-Type', 'text/plain'],
    ],
    body: 'y'.repeat(size),
  });
}

test('sendRequest over UDP leaves from the listening port', async () => {
  const { t, port } = await startTransport();
  const b = await UdpPeer.open();
  try {
    const done = new Promise<Error | undefined>((r) => t.sendRequest(bigRequest(t, 10), { protocol: 'udp', address: '127.0.0.1', port: b.port }, r));
    const got = await b.inbox.next(2000, 'request at B');
    assert.match(got.text, /^MESSAGE sip:bob@127\.0\.0\.1 SIP\/2\.0\r\n/);
    assert.equal(got.rinfo.port, port);
    assert.equal(await done, undefined);
  } finally {
    b.close();
    await t.close();
  }
});

test('§18.1.1: a request over 1300 bytes for UDP goes over TCP with the Via transport changed', async () => {
  const { t } = await startTransport();
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const peerPort = (server.address() as { port: number }).port;
  try {
    const accepted = once(server, 'connection');
    t.sendRequest(bigRequest(t, 1400), { protocol: 'udp', address: '127.0.0.1', port: peerPort });
    const [sock] = await accepted;
    const peer = TcpPeer.wrap(sock);
    const data = await peer.until((d) => d.includes('y'.repeat(1400)), 'large request over TCP');
    assert.match(data, /^MESSAGE sip:bob@127\.0\.0\.1 SIP\/2\.0\r\n/);
    assert.match(data, /\r\nVia: SIP\/2\.0\/TCP 127\.0\.0\.1:\d+;branch=z9hG4bK-test-\d+;rport\r\n/);
    peer.close();
  } finally {
    server.close();
    await t.close();
  }
});

test('§18.1.1: when the TCP connection is refused the large request falls back to UDP', async () => {
  const { t } = await startTransport();
  const b = await UdpPeer.open(); // nothing listens on TCP at this port
  try {
    const done = new Promise<Error | undefined>((r) => t.sendRequest(bigRequest(t, 1400), { protocol: 'udp', address: '127.0.0.1', port: b.port }, r));
    const got = await b.inbox.next(3000, 'large request over UDP');
    assert.match(got.text, /\r\nVia: SIP\/2\.0\/UDP /);
    assert.equal(await done, undefined);
  } finally {
    b.close();
    await t.close();
  }
});

test('dual-stack wildcard ::: an IPv4 peer is seen as plain IPv4 and gets its response', async () => {
  const { t, inbox, port } = await startTransport({ host: '::' });
  const a = await UdpPeer.open('127.0.0.1');
  try {
    await a.send(options(`SIP/2.0/UDP 127.0.0.1:${a.port};rport;branch=${branch()}`), port);
    const inc = await inbox.next(2000, 'OPTIONS via dual stack');
    assert.equal(inc.source.address, '127.0.0.1');
    const req = inc.message as SipRequest;
    assert.equal(req.via[0]!.params.get('received'), '127.0.0.1');
    t.sendResponse(createResponse(req, 200, 'OK'), inc.source);
    assert.match((await a.inbox.next(2000, 'response')).text, /^SIP\/2\.0 200 OK\r\n/);
  } finally {
    a.close();
    await t.close();
  }
});

test('a handler that throws does not stop the transport', async () => {
  const { t, port } = await startTransport();
  const a = await UdpPeer.open();
  try {
    let calls = 0;
    t.onMessage((inc) => {
      calls++;
      if (calls === 1) throw new Error('TU bug');
      t.sendResponse(createResponse(inc.message as SipRequest, 200, 'OK'), inc.source);
    });
    await a.send(options(`SIP/2.0/UDP 127.0.0.1:${a.port};rport;branch=${branch()}`), port);
    await a.send(options(`SIP/2.0/UDP 127.0.0.1:${a.port};rport;branch=${branch()}`), port);
    assert.match((await a.inbox.next(2000, 'response to the second')).text, /^SIP\/2\.0 200 OK\r\n/);
    assert.equal(calls, 2);
    assert.equal(t.stats().dropped['handler-error'], 1);
  } finally {
    a.close();
    await t.close();
  }
});
