/**
 * RFC 6464 through the whole client-server path: phones that offer the client-to-mixer audio level extension get it
 * in the focus's answer (RFC 8285 §7: the offer's id, recvonly — the relay reads levels, it sends none), send their
 * levels, and the relay's mixer stops decoding the quiet one — while every phone still hears the talker. A phone
 * that does not offer the extension is answered without it and decoded every tick.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { silentLogger } from '../../registrar/log.ts';
import { resolveConfig } from '../../registrar/server/config.ts';
import { startServer, type RunningServer } from '../../registrar/server/server.ts';
import type { MediaRelay } from '../../media-relay/relay.ts';
import { TestPhone } from '../helpers/phone.ts';
import { parseSdp } from '../../sdp/index.ts';
import { mulawDecode, mulawEncode } from '../../media/codec/mulaw.ts';
import { audioLevelExtension, pcmAudioLevel } from '../../media/rtp/audio-level.ts';
import { buildRtp, parseRtp } from '../../media/rtp/packet.ts';
import { sine } from '../audio/spectrum.ts';
import { tailPower } from '../helpers/pcmu-tone.ts';

let server: RunningServer;
let host: { host: string; port: number };

before(async () => {
  const cfg = resolveConfig({ host: '127.0.0.1', 'sip-port': '0', 'http-port': '0', 'rtp-ports': '34600-34699', 'log-level': 'silent' });
  server = await startServer(cfg, silentLogger());
  host = { host: '127.0.0.1', port: server.sipPort };
});
after(() => server.close());

interface Member {
  phone: TestPhone;
  rtp: Socket;
  received: Int16Array[];
  relay: { address: string; port: number };
  answerSdp: string;
  /** The extension id it sends levels under (undefined: it does not). */
  extId: number | undefined;
}

async function join(user: string, extId: number | undefined): Promise<Member> {
  const rtp = createSocket('udp4');
  rtp.bind(0, '127.0.0.1');
  await once(rtp, 'listening');
  const phone = await TestPhone.open(user, user, host);
  let offer = phone.sdp({ port: rtp.address().port, codecs: 'pcmu' });
  if (extId !== undefined) offer = offer.replace(/(m=audio [^\r]*\r\n)/, `$1a=extmap:${extId} urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n`);
  const res = await phone.invite(`sip:conf-levels@127.0.0.1:${host.port}`, offer);
  assert.equal(res.status, 200);
  const answer = parseSdp(res.body);
  assert.ok(answer.ok);
  const m = answer.value.media[0]!;
  const received: Int16Array[] = [];
  rtp.on('message', (buf) => {
    const p = parseRtp(buf);
    if (p.ok && p.packet.payloadType === 0) received.push(mulawDecode(p.packet.payload));
  });
  return { phone, rtp, received, relay: { address: m.connection?.address ?? answer.value.connection!.address, port: m.port }, answerSdp: res.body.toString(), extId };
}

/** 20 ms PCMU packets in real time: `freq` 0 is digital silence; each carries its RFC 6464 level when extId is set. */
async function send(members: ReadonlyArray<{ m: Member; freq: number }>, ms: number): Promise<void> {
  for (let i = 0; i < ms / 20; i++) {
    members.forEach(({ m, freq }, k) => {
      const pcm = freq > 0 ? sine(freq, 8000, 160, 6000, i * 160) : new Int16Array(160);
      const extension = m.extId === undefined ? undefined : audioLevelExtension(m.extId, pcmAudioLevel(pcm));
      const pkt = buildRtp({ payloadType: 0, sequenceNumber: i, timestamp: i * 160, ssrc: 0x7000 + k, ...(extension ? { extension } : {}) }, mulawEncode(pcm));
      m.rtp.send(pkt, m.relay.port, m.relay.address);
    });
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('phones that offer RFC 6464 levels get them in the answer; the quiet one is not decoded and all hear the talker', async () => {
  const talker = await join('tia', 3);
  const quiet = await join('quinn', 5);
  const plain = await join('pat', undefined);
  try {
    assert.match(talker.answerSdp, /a=extmap:3\/recvonly urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n/);
    assert.match(quiet.answerSdp, /a=extmap:5\/recvonly urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n/);
    assert.doesNotMatch(plain.answerSdp, /extmap/, 'not offered, not answered (RFC 8285 §7)');

    await send([{ m: talker, freq: 440 }, { m: quiet, freq: 0 }, { m: plain, freq: 0 }], 2000);

    const view = (await server.focus.get('conf-levels'))!;
    const idOf = (user: string) => view.participants.find((p) => p.aor.includes(`sip:${user}@`))!.id;
    const stats = await (server.relay as MediaRelay).audioStats(view.id);
    assert.ok(stats);
    const t = stats.legs[idOf('tia')]!;
    const q = stats.legs[idOf('quinn')]!;
    const p = stats.legs[idOf('pat')]!;
    assert.ok(q.decodesSkipped >= 60 && q.decoded <= 3, `quinn (quiet, sends levels): ${q.decodesSkipped} skipped, ${q.decoded} decoded`);
    assert.ok(p.decoded >= 60 && p.decodesSkipped === 0, `pat (quiet, no levels): decoded every tick (${p.decoded})`);
    assert.ok(t.decoded >= 60 && t.decodesSkipped === 0, `tia (talking): decoded (${t.decoded})`);
    for (const listener of [quiet, plain]) {
      const heard = tailPower(listener.received, 440);
      const off = tailPower(listener.received, 1000);
      assert.ok(listener.received.length > 40 && heard > 100 * off, `${listener.phone.user} hears tia's tone (power ${heard.toExponential(2)}, 1 kHz ${off.toExponential(2)})`);
    }
  } finally {
    for (const m of [talker, quiet, plain]) {
      m.rtp.close();
      m.phone.close();
    }
  }
});
