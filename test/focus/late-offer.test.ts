/**
 * "Late offer" (RFC 3261 §13.2.1, RFC 3264 §4): a phone may send its INVITE without SDP; the focus then offers in
 * its 200 (audio: Opus, PCMU, PCMA, G.722, telephone-event; video: VP8, H.264, on relay ports) and the answer comes
 * in the ACK. Checked with real RTP: a late-offer phone answering PCMU (video rejected) hears the other phone and
 * is heard. An ACK without an answer ends the call with a BYE that says why, and the phone leaves the roster.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { silentLogger } from '../../registrar/log.ts';
import { resolveConfig } from '../../registrar/server/config.ts';
import { startServer, type RunningServer } from '../../registrar/server/server.ts';
import { TestPhone } from '../helpers/phone.ts';
import { parseSdp, type SessionDescription } from '../../sdp/index.ts';
import { mulawDecode } from '../../media/codec/mulaw.ts';
import { parseRtp } from '../../media/rtp/packet.ts';
import { sendTones, tailPower } from '../helpers/pcmu-tone.ts';

let server: RunningServer;
let host: { host: string; port: number };

before(async () => {
  const cfg = resolveConfig({ host: '127.0.0.1', 'sip-port': '0', 'http-port': '0', 'rtp-ports': '35100-35199', 'log-level': 'silent' });
  server = await startServer(cfg, silentLogger());
  host = { host: '127.0.0.1', port: server.sipPort };
});
after(() => server.close());

interface Leg {
  rtp: Socket;
  received: Int16Array[];
  target: { address: string; port: number } | undefined;
}

async function leg(): Promise<Leg> {
  const rtp = createSocket('udp4');
  rtp.bind(0, '127.0.0.1');
  await once(rtp, 'listening');
  const l: Leg = { rtp, received: [], target: undefined };
  rtp.on('message', (buf) => {
    const p = parseRtp(buf);
    if (p.ok && p.packet.payloadType === 0) l.received.push(mulawDecode(p.packet.payload));
  });
  return l;
}

function audioTarget(sdp: SessionDescription): { address: string; port: number } {
  const m = sdp.media[0]!;
  return { address: (m.connection ?? sdp.connection)!.address, port: m.port };
}

test('an INVITE without SDP gets the focus offer in the 200; answered in the ACK, the phone hears and is heard', async () => {
  const uri = `sip:conf-late@127.0.0.1:${host.port}`;
  const early = await leg();
  const late = await leg();
  const ann = await TestPhone.open('ann', 'Ann', host);
  const bob = await TestPhone.open('bob', 'Bob', host);
  try {
    const resA = await ann.invite(uri, ann.sdp({ port: early.rtp.address().port, codecs: 'pcmu' }));
    assert.equal(resA.status, 200);
    const answerA = parseSdp(resA.body);
    assert.ok(answerA.ok);
    early.target = audioTarget(answerA.value);

    let offered: SessionDescription | undefined;
    bob.lateAnswer = (body) => {
      const o = parseSdp(body);
      assert.ok(o.ok, 'the 200 carries a parseable SDP offer');
      offered = o.value;
      const pcmu = o.value.media[0]!.payloads.find((p) => p.rtpmap?.encoding.toUpperCase() === 'PCMU')!;
      const videoFormats = o.value.media[1]!.formats.join(' ');
      return (
        `v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n` +
        `m=audio ${late.rtp.address().port} RTP/AVP ${pcmu.pt}\r\na=sendrecv\r\nm=video 0 RTP/AVP ${videoFormats}\r\n`
      );
    };
    const resB = await bob.invite(uri, '');
    assert.equal(resB.status, 200);
    assert.match(resB.get('content-type') ?? '', /application\/sdp/);
    assert.ok(offered, 'Bob answered an offer');
    const encodings = (i: number) => offered!.media[i]!.payloads.map((p) => p.rtpmap?.encoding.toLowerCase());
    assert.equal(offered.media[0]!.type, 'audio');
    assert.deepEqual(encodings(0).filter((e) => e !== 'telephone-event'), ['opus', 'pcmu', 'pcma', 'g722']);
    assert.ok(encodings(0).includes('telephone-event'), 'DTMF offered');
    assert.equal(offered.media[1]!.type, 'video');
    assert.deepEqual([...new Set(encodings(1))], ['vp8', 'h264']);
    late.target = audioTarget(offered);

    await sendTones([{ rtp: early.rtp, freq: 440, target: early.target! }, { rtp: late.rtp, freq: 880, target: late.target! }], 2000);
    assert.ok(late.received.length > 40, `Bob (late offer) receives audio (${late.received.length} packets)`);
    assert.ok(early.received.length > 40, `Ann receives audio (${early.received.length} packets)`);
    assert.ok(tailPower(late.received, 440) > 20 * tailPower(late.received, 880), 'Bob hears Ann and not himself');
    assert.ok(tailPower(early.received, 880) > 20 * tailPower(early.received, 440), 'Ann hears Bob and not herself');

    const view = (await server.focus.get('conf-late'))!;
    const b = view.participants.find((p) => p.displayName === 'Bob')!;
    assert.equal(b.state, 'connected');
    assert.equal(b.media[0]!.codec, 'PCMU', "the answer's codec is what the relay uses for Bob");
    assert.equal(b.media[1]!.codec, undefined, 'the video line Bob rejected has no codec');
  } finally {
    for (const x of [early, late]) x.rtp.close();
    ann.close();
    bob.close();
  }
});

test('an ACK without the answer ends that call with a BYE saying why; the meeting goes on without it', async () => {
  const uri = `sip:conf-late-noanswer@127.0.0.1:${host.port}`;
  const ann = await TestPhone.open('ann2', 'Ann', host);
  const cy = await TestPhone.open('cy', 'Cy', host);
  try {
    assert.equal((await ann.invite(uri, ann.sdp({ codecs: 'pcmu' }))).status, 200);
    cy.lateAnswer = () => '';
    const res = await cy.invite(uri, '');
    assert.equal(res.status, 200, 'the offer went out in the 200');
    const bye = await cy.received('BYE');
    assert.match(bye.get('reason') ?? '', /^SIP;cause=488;text="the ACK carried no SDP answer/);
    cy.reply(bye, 200, 'OK');
    const view = (await server.focus.get('conf-late-noanswer'))!;
    assert.deepEqual(
      view.participants.filter((p) => p.state !== 'left').map((p) => p.displayName),
      ['Ann'],
      'Cy is gone from the roster, Ann is still in',
    );
  } finally {
    ann.close();
    cy.close();
  }
});
