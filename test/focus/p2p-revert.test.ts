/**
 * A peer-to-peer attempt where one side's media cannot arrive reverts to client-server by itself: in P2P both
 * phones' RTCP still goes to the relay (a=rtcp, RFC 3605); a phone whose receiver reports name no source (it hears
 * nothing, RFC 3550 §6.4) brings the meeting back to the relay, and that pair is not tried again.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { silentLogger } from '../../registrar/log.ts';
import { resolveConfig } from '../../registrar/server/config.ts';
import { startServer, type RunningServer } from '../../registrar/server/server.ts';
import { TestPhone } from '../helpers/phone.ts';
import { parseSdp } from '../../sdp/index.ts';

let server: RunningServer;
let host: { host: string; port: number };

before(async () => {
  const cfg = resolveConfig({ host: '127.0.0.1', 'sip-port': '0', 'http-port': '0', 'rtp-ports': '35000-35099', 'log-level': 'silent', p2p: 'auto' });
  server = await startServer(cfg, silentLogger(), { focus: { probeIntervalMs: 0, p2pVerifyMs: 1500 } });
  host = { host: '127.0.0.1', port: server.sipPort };
});
after(() => server.close());

/** RFC 3550 §6.4.2: an RR with no report blocks (RC = 0): "I hear no one". */
function emptyRr(ssrc: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x80;
  b[1] = 201;
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(ssrc, 4);
  return b;
}

test('direct media that never arrives: back to client-server within seconds, and it stays there', { timeout: 30_000 }, async () => {
  const a = await TestPhone.open('ra', 'ra', host);
  const b = await TestPhone.open('rb', 'rb', host);
  const rtcpB = createSocket('udp4');
  rtcpB.bind(0, '127.0.0.1');
  await once(rtcpB, 'listening');
  // B answers the focus's P2P offer with a port nobody listens on: A's media goes nowhere.
  const dead = createSocket('udp4');
  dead.bind(0, '127.0.0.1');
  await once(dead, 'listening');
  b.mediaBase = dead.address().port;
  dead.close();
  try {
    assert.equal((await a.invite(`sip:conf-rev@127.0.0.1:${host.port}`, a.sdp({ codecs: 'pcmu' }))).status, 200);
    assert.equal((await b.invite(`sip:conf-rev@127.0.0.1:${host.port}`, b.sdp({ codecs: 'pcmu' }))).status, 200);
    const deadline = Date.now() + 5000;
    while ((await server.focus.get('conf-rev'))?.mode !== 'p2p' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await server.focus.get('conf-rev'))?.mode, 'p2p');
    // B's description now sends its RTCP to the relay: B reports hearing no one, every 500 ms.
    const offer = b.offers.at(-1);
    assert.ok(offer, 'B got the P2P offer');
    const sdp = parseSdp(offer.body);
    assert.ok(sdp.ok);
    const audio = sdp.value.media[0]!;
    assert.ok(audio.rtcp, 'the P2P offer carries a=rtcp (RFC 3605) toward the relay');
    const to = { port: audio.rtcp.port, address: audio.rtcp.connection?.address ?? '127.0.0.1' };
    const rr = setInterval(() => rtcpB.send(emptyRr(0xb0b), to.port, to.address), 500);
    try {
      const until = Date.now() + 8000;
      while ((await server.focus.get('conf-rev'))?.mode !== 'cs' && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    } finally {
      clearInterval(rr);
    }
    const view = (await server.focus.get('conf-rev'))!;
    assert.equal(view.mode, 'cs');
    assert.deepEqual(view.switches.map((s) => s.to), ['p2p', 'cs']);
    assert.match(view.switches[1]!.reason, /direct media did not reach rb/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await server.focus.get('conf-rev'))!.mode, 'cs', 'the same pair is not tried again');
  } finally {
    rtcpB.close();
    a.close();
    b.close();
  }
});
