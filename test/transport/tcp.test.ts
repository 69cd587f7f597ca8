import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { ManualClock } from '../../registrar/sip/clock.ts';
import { createRequest, createResponse } from '../../registrar/sip/message/build.ts';
import type { SipRequest, SipResponse } from '../../registrar/sip/message/types.ts';
import type { SipTransport } from '../../registrar/sip/transport/types.ts';
import { branch, delay, options, startTransport, statusLines, TcpPeer } from './helpers.ts';

function tcpVia(peer: TcpPeer, extra = ''): string {
  return `SIP/2.0/TCP 127.0.0.1:${peer.localPort};branch=${branch()}${extra}`;
}

test('TCP: two messages in one write are delivered as two, in order', async () => {
  const { t, inbox, port } = await startTransport();
  const peer = await TcpPeer.connect(port);
  try {
    await peer.write(options(tcpVia(peer), { callId: 'one', body: 'abc' }) + options(tcpVia(peer), { callId: 'two' }));
    const first = await inbox.next(2000, 'first');
    const second = await inbox.next(2000, 'second');
    assert.equal(first.message.callId, 'one');
    assert.equal(first.message.body.toString(), 'abc');
    assert.equal(second.message.callId, 'two');
    assert.equal(first.source.protocol, 'tcp');
    assert.equal(first.source.port, peer.localPort);
    assert.equal(first.source.connectionId, second.source.connectionId);
  } finally {
    peer.close();
    await t.close();
  }
});

test('TCP: a message split across writes (header byte by byte, body in two) is delivered once', async () => {
  const { t, inbox, port } = await startTransport();
  const peer = await TcpPeer.connect(port);
  try {
    const m = options(tcpVia(peer), { callId: 'split', body: 'hello world' });
    const headEnd = m.indexOf('\r\n\r\n') + 4;
    for (let i = 0; i < headEnd; i += 1) {
      await peer.write(m[i]!);
      if (i % 64 === 0) await delay(1); // let some bytes arrive as separate segments
    }
    await delay(5);
    assert.equal(inbox.length, 0, 'nothing before the body is complete');
    await peer.write(m.slice(headEnd, headEnd + 5));
    await delay(5);
    await peer.write(m.slice(headEnd + 5));
    const inc = await inbox.next(2000, 'split message');
    assert.equal(inc.message.callId, 'split');
    assert.equal(inc.message.body.toString(), 'hello world');
    assert.equal(await inbox.nothingWithin(30), true);
  } finally {
    peer.close();
    await t.close();
  }
});

test('TCP: RFC 5626 CRLFCRLF ping gets a CRLF pong; the connection keeps working', async () => {
  const { t, inbox, port } = await startTransport();
  const peer = await TcpPeer.connect(port);
  try {
    await peer.write('\r\n\r\n');
    await peer.until((d) => d === '\r\n', 'pong');
    await peer.write(options(tcpVia(peer), { callId: 'after-ping' }));
    assert.equal((await inbox.next(2000, 'message')).message.callId, 'after-ping');
    assert.equal(peer.received, '\r\n', 'exactly one pong');
    assert.equal(t.stats().keepAlives, 1);
  } finally {
    peer.close();
    await t.close();
  }
});

test('TCP: the response goes back on the connection the request came on; a request to that peer reuses it', async () => {
  const { t, inbox, port } = await startTransport();
  const peer = await TcpPeer.connect(port);
  try {
    // The peer claims a sent-by port nobody listens on: only the existing connection can reach it.
    await peer.write(options(`SIP/2.0/TCP 127.0.0.1:9;branch=${branch()};rport`, { callId: 'tcp-rt' }));
    const inc = await inbox.next(2000, 'request');
    const req = inc.message as SipRequest;
    assert.equal(req.via[0]!.params.get('rport'), String(peer.localPort));
    t.sendResponse(createResponse(req, 200, 'OK'), inc.source);
    await peer.until((d) => statusLines(d).length === 1, 'response on the same connection');
    assert.match(peer.received, /^SIP\/2\.0 200 OK\r\n/);

    // Our request to the peer's ip:port goes over the accepted connection (the peer has no listener at all).
    const sb = t.viaSentBy('tcp');
    const ours = createRequest({
      method: 'OPTIONS',
      uri: 'sip:peer@127.0.0.1',
      headers: [
        ['Via', `SIP/2.0/TCP ${sb.host}:${sb.port};branch=${branch()}`],
        ['Max-Forwards', '70'],
        ['From', '<sip:registrar@example.com>;tag=r1'],
        ['To', '<sip:peer@example.com>'],
        ['Call-ID', 'reverse@test'],
        ['CSeq', '7 OPTIONS'],
      ],
    });
    const sent = new Promise<Error | undefined>((r) =>
      t.sendRequest(ours, { protocol: 'tcp', address: '127.0.0.1', port: peer.localPort }, r));
    await peer.until((d) => d.includes('OPTIONS sip:peer@127.0.0.1 SIP/2.0\r\n'), 'our request');
    assert.equal(await sent, undefined);
    assert.equal(t.stats().tcpConnections, 1, 'no second connection');
  } finally {
    peer.close();
    await t.close();
  }
});

test('TCP: a bad Content-Length gets a 400 and the connection is closed', async () => {
  const { t, inbox, port } = await startTransport();
  const peer = await TcpPeer.connect(port);
  try {
    await peer.write(options(tcpVia(peer), { callId: 'bad-cl', cl: 'Content-Length: twelve\r\n' }));
    await peer.untilClosed();
    const lines = statusLines(peer.received);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^SIP\/2\.0 400 \S/);
    assert.match(peer.received, /\r\nCall-ID: bad-cl\r\n/i);
    assert.equal(inbox.length, 0);
    assert.equal(t.stats().dropped['bad-content-length'], 1);
  } finally {
    peer.close();
    await t.close();
  }
});

test('TCP: a missing Content-Length gets a 400 and the connection is closed', async () => {
  const { t, port } = await startTransport();
  const peer = await TcpPeer.connect(port);
  try {
    await peer.write(options(tcpVia(peer), { callId: 'no-cl', cl: '' }));
    await peer.untilClosed();
    assert.match(statusLines(peer.received)[0] ?? '', /^SIP\/2\.0 400 /);
    assert.equal(t.stats().dropped['missing-content-length'], 1);
  } finally {
    peer.close();
    await t.close();
  }
});

test('TCP: an oversize message closes the connection; other connections are unaffected', async () => {
  const { t, inbox, port } = await startTransport({ maxMessageSize: 1000 });
  const bad = await TcpPeer.connect(port);
  const good = await TcpPeer.connect(port);
  try {
    await bad.write(options(tcpVia(bad), { body: 'z'.repeat(2000) }));
    await bad.untilClosed();
    assert.equal(bad.received, '', 'no answer');
    assert.equal(t.stats().dropped['oversize'], 1);
    await good.write(options(tcpVia(good), { callId: 'still-fine' }));
    assert.equal((await inbox.next(2000, 'good message')).message.callId, 'still-fine');
    assert.equal(inbox.length, 0);
  } finally {
    bad.close();
    good.close();
    await t.close();
  }
});

test('TCP: an idle connection is closed after the idle timeout on the injected clock', async () => {
  const clock = new ManualClock();
  const { t, inbox, port } = await startTransport({ clock, tcpIdleTimeoutMs: 60_000 });
  const peer = await TcpPeer.connect(port);
  try {
    await peer.write(options(tcpVia(peer)));
    await inbox.next(2000, 'message');
    clock.advance(40_000);
    await peer.write('\r\n\r\n'); // activity at t=40s (a keep-alive counts)
    await peer.until((d) => d === '\r\n', 'pong');
    clock.advance(40_000); // t=80s: 40s idle, still open
    await delay(20);
    assert.equal(peer.closed, false);
    assert.equal(t.stats().tcpConnections, 1);
    clock.advance(25_000); // t=105s: 65s idle
    await peer.untilClosed();
    assert.equal(t.stats().tcpConnections, 0);
  } finally {
    peer.close();
    await t.close();
  }
});

async function listenPeer(): Promise<{ port: number; accepted: Promise<Socket>; close: () => void }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection').then(([s]) => s as Socket);
  return { port: (server.address() as { port: number }).port, accepted, close: () => server.close() };
}

function request(t: SipTransport, callId: string): SipRequest {
  const sb = t.viaSentBy('tcp');
  return createRequest({
    method: 'OPTIONS',
    uri: 'sip:peer@127.0.0.1',
    headers: [
      ['Via', `SIP/2.0/TCP ${sb.host}:${sb.port};branch=${branch()}`],
      ['Max-Forwards', '70'],
      ['From', '<sip:registrar@example.com>;tag=r1'],
      ['To', '<sip:peer@example.com>'],
      ['Call-ID', callId],
      ['CSeq', '1 OPTIONS'],
    ],
  });
}

test('TCP: sendRequest opens a connection; the response on it is delivered; a second request reuses it', async () => {
  const { t, inbox } = await startTransport();
  const lp = await listenPeer();
  try {
    const req = request(t, 'outbound@test');
    const dest = { protocol: 'tcp' as const, address: '127.0.0.1', port: lp.port };
    t.sendRequest(req, dest);
    const peer = TcpPeer.wrap(await lp.accepted);
    await peer.until((d) => d.endsWith('\r\n\r\n'), 'request');
    await peer.write(
      `SIP/2.0 200 OK\r\nVia: ${req.via[0]!.raw}\r\nFrom: <sip:registrar@example.com>;tag=r1\r\n` +
        'To: <sip:peer@example.com>;tag=p1\r\nCall-ID: outbound@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
    );
    const inc = await inbox.next(2000, 'response');
    assert.equal(inc.message.kind, 'response');
    assert.equal((inc.message as SipResponse).status, 200);
    t.sendRequest(request(t, 'second@test'), dest);
    await peer.until((d) => d.includes('second@test'), 'second request on the same connection');
    assert.equal(t.stats().tcpConnections, 1);
    peer.close();
  } finally {
    lp.close();
    await t.close();
  }
});

test('TCP: a response whose top Via is not ours is discarded (§18.1.2)', async () => {
  const { t, inbox, port } = await startTransport();
  const peer = await TcpPeer.connect(port);
  try {
    await peer.write(
      `SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 192.0.2.99:5060;branch=${branch()}\r\nFrom: <sip:a@b>;tag=1\r\n` +
        'To: <sip:c@d>;tag=2\r\nCall-ID: stray@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
    );
    await peer.write(options(tcpVia(peer), { callId: 'next' }));
    assert.equal((await inbox.next(2000, 'next request')).message.callId, 'next');
    assert.equal(t.stats().dropped['response-not-ours'], 1);
  } finally {
    peer.close();
    await t.close();
  }
});

test('TCP: a connect failure is reported to the send callback', async () => {
  const { t } = await startTransport();
  const lp = await listenPeer();
  lp.close(); // the port is now closed
  await delay(10);
  try {
    const err = await new Promise<Error | undefined>((r) =>
      t.sendRequest(request(t, 'refused@test'), { protocol: 'tcp', address: '127.0.0.1', port: lp.port }, r));
    assert.ok(err instanceof Error);
    assert.equal((err as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    assert.equal(t.stats().tcpConnections, 0);
  } finally {
    await t.close();
  }
});
