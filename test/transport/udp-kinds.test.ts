/**
 * The SIP UDP transport on both socket kinds (registrar/sip/transport/udp.ts): the native batched socket
 * (net/udp/socket.ts, recvmmsg/sendmmsg; only when the addon is built) and Node's dgram (SIPMEET_SIP_UDP=dgram, and
 * always for IPv6). Which kind a transport got; a burst from two peers — every request delivered with its own body
 * intact after later datagrams arrived (the native ring is overwritten by each batch), received/rport stamped, every
 * response back at its own source from the listening port; send callbacks for success and failure; a taken port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeUdpEnabled } from '../../net/udp/socket.ts';
import { createRequest, createResponse } from '../../registrar/sip/message/build.ts';
import type { SipRequest } from '../../registrar/sip/message/types.ts';
import { SIP_UDP_SWITCH } from '../../registrar/sip/transport/bind.ts';
import { createTransport } from '../../registrar/sip/transport/transport.ts';
import type { Incoming } from '../../registrar/sip/transport/types.ts';
import { silentLogger } from '../../registrar/log.ts';
import { branch, delay, options, startTransport, UdpPeer, type TestTransport } from './helpers.ts';

type Kind = 'native' | 'dgram';
const kinds: Kind[] = nativeUdpEnabled(SIP_UDP_SWITCH) ? ['native', 'dgram'] : ['dgram'];

/** Start a transport whose UDP socket is of `kind` (the switch is read at bind time). */
async function start(kind: Kind, host = '127.0.0.1'): Promise<TestTransport> {
  const saved = process.env[SIP_UDP_SWITCH];
  if (kind === 'dgram') process.env[SIP_UDP_SWITCH] = 'dgram';
  else delete process.env[SIP_UDP_SWITCH];
  try {
    return await startTransport({ host });
  } finally {
    if (saved === undefined) delete process.env[SIP_UDP_SWITCH];
    else process.env[SIP_UDP_SWITCH] = saved;
  }
}

test('the UDP socket kind: native when built (IPv4), dgram with SIPMEET_SIP_UDP=dgram and for IPv6', async () => {
  for (const kind of kinds) {
    const { t } = await start(kind);
    assert.equal(t.stats().udpSocket, kind);
    await t.close();
  }
  const v6 = await start('native', '::1').catch(() => undefined); // no IPv6 on this host: nothing to check
  if (v6) {
    assert.equal(v6.t.stats().udpSocket, 'dgram');
    await v6.t.close();
  }
});

for (const kind of kinds) {
  test(`${kind}: a burst from two peers — bodies intact, Via stamped, each response back at its source`, async () => {
    const { t, inbox, port } = await start(kind);
    const peers = [await UdpPeer.open(), await UdpPeer.open()];
    const N = 150;
    try {
      const sends: Promise<void>[] = [];
      for (let i = 0; i < N; i++) {
        const p = peers[i % 2]!;
        const body = `body-${i}-`.padEnd(40 + (i % 7) * 13, String.fromCharCode(0x61 + (i % 26)));
        sends.push(p.send(options(`SIP/2.0/UDP 127.0.0.1:${p.port};rport;branch=${branch()}`, { callId: `burst-${i}`, body }), port));
      }
      await Promise.all(sends);
      const got: Incoming[] = [];
      for (let i = 0; i < N; i++) got.push(await inbox.next(3000, `request ${i}`));
      // Read the bodies only now, after every datagram has been received (later batches reuse the native ring).
      const byCallId = new Map(got.map((inc) => [inc.message.callId, inc.message as SipRequest]));
      assert.equal(byCallId.size, N);
      for (let i = 0; i < N; i++) {
        const req = byCallId.get(`burst-${i}`)!;
        const p = peers[i % 2]!;
        assert.equal(req.body.toString('latin1'), `body-${i}-`.padEnd(40 + (i % 7) * 13, String.fromCharCode(0x61 + (i % 26))));
        assert.equal(req.via[0]!.params.get('rport'), String(p.port));
        assert.equal(req.via[0]!.params.get('received'), '127.0.0.1');
      }
      for (const inc of got) t.sendResponse(createResponse(inc.message as SipRequest, 200, 'OK'), inc.source);
      for (const [k, p] of peers.entries()) {
        const seen = new Set<string>();
        for (let i = 0; i < N / 2; i++) {
          const d = await p.inbox.next(3000, `response ${i} at peer ${k}`);
          assert.equal(d.rinfo.port, port, 'responses leave from the listening port');
          assert.match(d.text, /^SIP\/2\.0 200 OK\r\n/);
          seen.add(/Call-ID: (\S+)/.exec(d.text)![1]!);
        }
        // Peer k sent the even (k = 0) or odd (k = 1) call ids and got exactly those back.
        assert.deepEqual([...seen].sort(), Array.from({ length: N / 2 }, (_, j) => `burst-${2 * j + k}`).sort());
      }
      assert.equal(t.stats().received, N);
      assert.equal(t.stats().sent, N);
    } finally {
      for (const p of peers) p.close();
      await t.close();
    }
  });

  test(`${kind}: send callbacks — success is reported, an IPv6 destination on an IPv4 socket is an error`, async () => {
    const { t } = await start(kind);
    const peer = await UdpPeer.open();
    try {
      const sentBy = t.viaSentBy('udp');
      const req = (dest: number) => createRequest({
        method: 'OPTIONS',
        uri: `sip:peer@127.0.0.1:${dest}`,
        headers: [
          ['Via', `SIP/2.0/UDP ${sentBy.host}:${sentBy.port};branch=${branch()}`],
          ['Max-Forwards', '70'],
          ['From', '<sip:registrar@127.0.0.1>;tag=x1'],
          ['To', `<sip:peer@127.0.0.1:${dest}>`],
          ['Call-ID', `cb-${kind}-${dest}`],
          ['CSeq', '1 OPTIONS'],
        ],
      });
      const ok = await new Promise<Error | undefined>((r) => t.sendRequest(req(peer.port), { protocol: 'udp', address: '127.0.0.1', port: peer.port }, r));
      assert.equal(ok, undefined);
      assert.match((await peer.inbox.next(2000, 'request at peer')).text, /^OPTIONS sip:peer@/);
      const bad = await new Promise<Error | undefined>((r) => t.sendRequest(req(9), { protocol: 'udp', address: '::1', port: 9 }, r));
      assert.ok(bad instanceof Error);
      await delay(20);
    } finally {
      peer.close();
      await t.close();
    }
  });

  test(`${kind}: binding a taken UDP port fails with a readable EADDRINUSE`, async () => {
    const { t, port } = await start(kind);
    const saved = process.env[SIP_UDP_SWITCH];
    if (kind === 'dgram') process.env[SIP_UDP_SWITCH] = 'dgram';
    try {
      await assert.rejects(
        createTransport({ host: '127.0.0.1', port, protocols: ['udp'], logger: silentLogger() }),
        (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE' && /already in use/.test(err.message),
      );
    } finally {
      if (saved === undefined) delete process.env[SIP_UDP_SWITCH];
      else process.env[SIP_UDP_SWITCH] = saved;
      await t.close();
    }
  });
}
