/**
 * The whole client-server path: three phones dial one meeting through the SIP focus, the focus answers with the
 * real media relay's ports, each phone sends its own tone as PCMU RTP, and each hears the other two tones and not
 * its own (checked by Goertzel power in the received audio). A phone in another meeting hears none of them.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { silentLogger } from '../../registrar/log.ts';
import { resolveConfig } from '../../registrar/server/config.ts';
import { startServer, type RunningServer } from '../../registrar/server/server.ts';
import { TestPhone } from '../helpers/phone.ts';
import { parseSdp } from '../../sdp/index.ts';
import { mulawDecode } from '../../media/codec/mulaw.ts';
import { parseRtp } from '../../media/rtp/packet.ts';
import { sendTones, tailPower } from '../helpers/pcmu-tone.ts';

let server: RunningServer;
let host: { host: string; port: number };

before(async () => {
  const cfg = resolveConfig({ host: '127.0.0.1', 'sip-port': '0', 'http-port': '0', 'rtp-ports': '34000-34199', 'log-level': 'silent' });
  server = await startServer(cfg, silentLogger());
  host = { host: '127.0.0.1', port: server.sipPort };
});
after(() => server.close());

interface MediaPhone {
  phone: TestPhone;
  rtp: Socket;
  received: Int16Array[];
  freq: number;
  relay: { address: string; port: number };
}

async function join(user: string, meeting: string, freq: number): Promise<MediaPhone> {
  const rtp = createSocket('udp4');
  rtp.bind(0, '127.0.0.1');
  await once(rtp, 'listening');
  const phone = await TestPhone.open(user, user, host);
  const res = await phone.invite(`sip:${meeting}@127.0.0.1:${host.port}`, phone.sdp({ port: rtp.address().port, codecs: 'pcmu' }));
  assert.equal(res.status, 200);
  const answer = parseSdp(res.body);
  assert.ok(answer.ok);
  const m = answer.value.media[0]!;
  const address = m.connection?.address ?? answer.value.connection!.address;
  const received: Int16Array[] = [];
  rtp.on('message', (buf) => {
    const p = parseRtp(buf);
    if (p.ok && p.packet.payloadType === 0) received.push(mulawDecode(p.packet.payload));
  });
  return { phone, rtp, received, freq, relay: { address, port: m.port } };
}

test('three phones in one meeting each hear the other two tones and not their own; another meeting hears nothing', async () => {
  const a = await join('ann', 'conf-tones', 440);
  const b = await join('ben', 'conf-tones', 660);
  const c = await join('cat', 'conf-tones', 880);
  const x = await join('xena', 'conf-other', 1000);
  try {
    await sendTones([a, b, c].map((p) => ({ rtp: p.rtp, freq: p.freq, target: p.relay })), 2000);
    for (const p of [a, b, c]) {
      assert.ok(p.received.length > 40, `${p.phone.user} received audio (${p.received.length} packets)`);
      const own = tailPower(p.received, p.freq);
      const others = [a, b, c].filter((o) => o !== p).map((o) => tailPower(p.received, o.freq));
      for (const o of others) assert.ok(o > 20 * own, `${p.phone.user}: another tone (${o.toExponential(2)}) well above its own (${own.toExponential(2)})`);
    }
    const leaked = [440, 660, 880].map((f) => tailPower(x.received, f));
    const xOwnRef = tailPower(a.received, 660);
    for (const l of leaked) assert.ok(l < xOwnRef / 100, 'nothing of conf-tones reaches conf-other');
    const view = (await server.focus.get('conf-tones'))!;
    for (const p of view.participants) assert.ok(p.media[0]!.packetsIn > 50 && p.media[0]!.packetsOut > 50, `relay counters for ${p.displayName}`);
  } finally {
    for (const p of [a, b, c, x]) {
      p.rtp.close();
      p.phone.close();
    }
  }
});
