import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { isIP } from 'node:net';
import { silentLogger } from '../../registrar/log.ts';
import { createTransport } from '../../registrar/sip/transport/transport.ts';

test('port 0: UDP and TCP are bound on the same OS-chosen port and advertised in Via sent-by', async () => {
  const t = await createTransport({ host: '127.0.0.1', port: 0, logger: silentLogger() });
  try {
    const [udp, tcp] = t.listening;
    assert.equal(udp!.protocol, 'udp');
    assert.equal(tcp!.protocol, 'tcp');
    assert.ok(udp!.port > 0);
    assert.equal(tcp!.port, udp!.port);
    assert.deepEqual(t.viaSentBy('tcp'), { host: '127.0.0.1', port: udp!.port, transport: 'TCP' });
    assert.deepEqual(t.viaSentBy('udp'), { host: '127.0.0.1', port: udp!.port, transport: 'UDP' });
  } finally {
    await t.close();
  }
});

test('binding a second transport on a port in use rejects with a clear message; close() frees the port', async () => {
  const first = await createTransport({ host: '127.0.0.1', port: 0, logger: silentLogger() });
  const port = first.listening[0]!.port;
  await assert.rejects(
    createTransport({ host: '127.0.0.1', port, logger: silentLogger() }),
    { message: `SIP port ${port}/udp is already in use on 127.0.0.1` },
  );
  await first.close();
  const again = await createTransport({ host: '127.0.0.1', port, logger: silentLogger() });
  assert.equal(again.listening[0]!.port, port);
  await again.close();
});

test('only the TCP port taken: the error names tcp, and the UDP socket is released', async () => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  try {
    await assert.rejects(
      createTransport({ host: '127.0.0.1', port, logger: silentLogger() }),
      { message: `SIP port ${port}/tcp is already in use on 127.0.0.1` },
    );
    // UDP alone on that port works (the failed attempt did not leak its UDP socket).
    const udpOnly = await createTransport({ host: '127.0.0.1', port, protocols: ['udp'], logger: silentLogger() });
    assert.deepEqual(udpOnly.listening.map((e) => e.protocol), ['udp']);
    await udpOnly.close();
  } finally {
    server.close();
  }
});

test('IPv6 bind on ::1 and wildcard binds advertise a concrete address', async () => {
  const v6 = await createTransport({ host: '::1', port: 0, logger: silentLogger() });
  assert.equal(v6.listening[0]!.address, '::1');
  await v6.close();
  const any = await createTransport({ host: '0.0.0.0', port: 0, logger: silentLogger() });
  try {
    const host = any.viaSentBy('udp').host;
    assert.equal(isIP(host), 4);
    assert.notEqual(host, '0.0.0.0');
  } finally {
    await any.close();
  }
  const named = await createTransport({ host: '127.0.0.1', port: 0, advertise: 'sip.example.com', logger: silentLogger() });
  assert.equal(named.viaSentBy('udp').host, 'sip.example.com');
  await named.close();
});
