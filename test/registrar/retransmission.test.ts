/**
 * RFC 3261 §17.2.2 over real UDP: a REGISTER retransmitted while its server transaction is Completed gets the
 * very same 200 (byte for byte: same To tag, same Contact expiry, same Date) from the compacted transaction, not a
 * second pass through the registrar — which would answer a same-Call-ID, same-CSeq REGISTER 500 (§10.3 step 7).
 * The server runs on a ManualClock, so "20 s later" and "after Timer J" are exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { silentLogger } from '../../registrar/log.ts';
import { ManualClock } from '../../registrar/sip/clock.ts';
import { resolveConfig } from '../../registrar/server/config.ts';
import { startServer } from '../../registrar/server/server.ts';

test('a REGISTER retransmitted 20 s later over UDP gets the identical 200; after Timer J it is a new (out-of-order) request', async () => {
  const clock = new ManualClock(0, Date.UTC(2026, 10, 26, 4, 0, 0));
  const cfg = resolveConfig({ host: '127.0.0.1', 'sip-port': '0', 'http-port': '0', 'log-level': 'silent' });
  const server = await startServer(cfg, silentLogger(), { clock });
  const sock = createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  const got: Buffer[] = [];
  let wake: (() => void) | undefined;
  sock.on('message', (b) => {
    got.push(b);
    wake?.();
  });
  const next = async (n: number): Promise<Buffer> => {
    const deadline = Date.now() + 3000;
    while (got.length < n) {
      assert.ok(Date.now() < deadline, `no response #${n}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
    return got[n - 1]!;
  };
  try {
    const port = sock.address().port;
    const register = Buffer.from(
      [
        `REGISTER sip:127.0.0.1:${server.sipPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-retrans-1;rport`,
        'Max-Forwards: 70',
        'From: "Alice" <sip:alice@127.0.0.1>;tag=a1',
        'To: <sip:alice@127.0.0.1>',
        'Call-ID: retrans-1@127.0.0.1',
        'CSeq: 7 REGISTER',
        `Contact: <sip:alice@127.0.0.1:${port}>`,
        'Expires: 600',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    sock.send(register, server.sipPort, '127.0.0.1');
    const first = await next(1);
    assert.match(first.toString(), /^SIP\/2\.0 200 /);
    assert.match(first.toString(), /;expires=600\r\n/);

    clock.advance(20_000);
    sock.send(register, server.sipPort, '127.0.0.1');
    const again = await next(2);
    assert.deepEqual(again, first, 'the retransmission gets the identical 200 (same tag, same expires=600, same Date)');
    assert.equal(server.transactions.stats().retransmissions, 1);

    clock.advance(64 * 500 - 20_000 + 500); // past Timer J (and its 500 ms bucket)
    sock.send(register, server.sipPort, '127.0.0.1');
    const late = await next(3);
    assert.match(late.toString(), /^SIP\/2\.0 500 Out of Order CSeq/, 'a new request now: §10.3 step 7 rejects the stale CSeq');
  } finally {
    sock.close();
    await server.close();
  }
});
