/**
 * Peer-to-peer mode with real RTP: two phones → P2P (they hear each other while the relay's counters for the
 * meeting stand still, and what they receive comes from the other phone's address, not the relay); a third joins →
 * client-server, everyone hears N-1; the third leaves → P2P again. The audio gap at each switch is measured.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { silentLogger } from '../../registrar/log.ts';
import { resolveConfig } from '../../registrar/server/config.ts';
import { startServer, type RunningServer } from '../../registrar/server/server.ts';
import { TestPhone } from '../helpers/phone.ts';
import { mulawDecode, mulawEncode } from '../../media/codec/mulaw.ts';
import { parseRtp } from '../../media/rtp/packet.ts';
import { goertzelPower, sine } from '../audio/spectrum.ts';

let server: RunningServer;
let host: { host: string; port: number };

before(async () => {
  const cfg = resolveConfig({ host: '127.0.0.1', 'sip-port': '0', 'http-port': '0', 'rtp-ports': '34800-34999', 'log-level': 'silent', p2p: 'auto' });
  server = await startServer(cfg, silentLogger(), { focus: { probeIntervalMs: 0 } });
  host = { host: '127.0.0.1', port: server.sipPort };
});
after(() => server.close());

interface Rx {
  at: number;
  from: string;
  pcm: Int16Array;
}

class MediaPhone {
  rx: Rx[] = [];
  private timer: NodeJS.Timeout | undefined;
  private n = 0;
  private readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  constructor(readonly phone: TestPhone, readonly rtp: Socket, readonly freq: number) {
    rtp.on('message', (buf, rinfo) => {
      const p = parseRtp(buf);
      if (p.ok && p.packet.payloadType === 0) this.rx.push({ at: Date.now(), from: `${rinfo.address}:${rinfo.port}`, pcm: mulawDecode(p.packet.payload) });
    });
  }
  get address(): string {
    return `127.0.0.1:${this.rtp.address().port}`;
  }
  start(): void {
    this.timer = setInterval(() => {
      const to = this.phone.mediaTarget();
      if (!to) return;
      const pkt = Buffer.alloc(172);
      pkt[0] = 0x80;
      pkt.writeUInt16BE(this.n & 0xffff, 2);
      pkt.writeUInt32BE((this.n * 160) >>> 0, 4);
      pkt.writeUInt32BE(this.ssrc, 8);
      Buffer.from(mulawEncode(sine(this.freq, 8000, 160, 6000, this.n * 160))).copy(pkt, 12);
      this.n++;
      this.rtp.send(pkt, to.port, to.address);
    }, 20);
  }
  stop(): void {
    clearInterval(this.timer);
    this.rtp.close();
    this.phone.close();
  }
  /** Goertzel power of `freq` in what arrived during [from, to). */
  power(freq: number, from: number, to: number): number {
    const frames = this.rx.filter((r) => r.at >= from && r.at < to).map((r) => r.pcm);
    const all = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
    let o = 0;
    for (const f of frames) {
      all.set(f, o);
      o += f.length;
    }
    return all.length ? goertzelPower(all, 8000, freq) : 0;
  }
  /** Longest time without a received packet carrying `freq` within [from, to). */
  longestGap(freq: number, from: number, to: number): number {
    const hits = this.rx.filter((r) => r.at >= from && r.at < to && goertzelPower(r.pcm, 8000, freq) > 1e6).map((r) => r.at);
    let gap = 0;
    let prev = from;
    for (const t of hits) {
      gap = Math.max(gap, t - prev);
      prev = t;
    }
    return Math.max(gap, to - prev);
  }
}

async function join(user: string, freq: number): Promise<MediaPhone> {
  const rtp = createSocket('udp4');
  rtp.bind(0, '127.0.0.1');
  await once(rtp, 'listening');
  const phone = await TestPhone.open(user, user, host);
  phone.mediaBase = rtp.address().port;
  const res = await phone.invite(`sip:conf-p2p@127.0.0.1:${host.port}`, phone.sdp({ port: rtp.address().port, codecs: 'pcmu' }));
  assert.equal(res.status, 200);
  const m = new MediaPhone(phone, rtp, freq);
  m.start();
  return m;
}

async function waitMode(mode: 'cs' | 'p2p', ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await server.focus.get('conf-p2p'))?.mode === mode) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`meeting did not reach mode ${mode}: ${JSON.stringify(await server.focus.get('conf-p2p'))}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('two phones go peer-to-peer, a third brings client-server, its leaving brings peer-to-peer back', { timeout: 60_000 }, async (t) => {
  const a = await join('pa', 440);
  const b = await join('pb', 660);
  try {
    await waitMode('p2p');
    const p2pAt = Date.now();
    await sleep(1500);
    // Media flows directly: what A receives now comes from B's own socket.
    const recent = a.rx.filter((r) => r.at > p2pAt + 500);
    assert.ok(recent.length > 30, `A receives media in P2P (${recent.length} packets)`);
    assert.ok(recent.every((r) => r.from === b.address), `in P2P A hears B directly (sources: ${[...new Set(recent.map((r) => r.from))].join(', ')})`);
    assert.ok(a.power(660, p2pAt + 500, Date.now()) > 100 * a.power(440, p2pAt + 500, Date.now()), 'A hears B, not itself');
    assert.ok(b.power(440, p2pAt + 500, Date.now()) > 100 * b.power(660, p2pAt + 500, Date.now()), 'B hears A');
    // The relay's counters for the meeting stand still while the phones keep talking.
    const s1 = await server.relay.stats('conf-p2p');
    await sleep(1000);
    const s2 = await server.relay.stats('conf-p2p');
    assert.equal(s2.packetsIn, s1.packetsIn, 'relay receives nothing in P2P');
    assert.equal(s2.packetsOut, s1.packetsOut, 'relay sends nothing in P2P');

    // A third joins: back to client-server, everyone hears the other two.
    const c = await join('pc', 880);
    try {
      await waitMode('cs');
      const csAt = Date.now();
      await sleep(2000);
      for (const [p, others] of [[a, [660, 880]], [b, [440, 880]], [c, [440, 660]]] as const) {
        for (const f of others) assert.ok(p.power(f, csAt + 800, Date.now()) > 20 * p.power(p.freq, csAt + 800, Date.now()), `${p.phone.user} hears ${f} Hz in CS`);
      }
      const gapToCs = a.longestGap(660, csAt - 1500, csAt + 1000);
      t.diagnostic(`audio gap at the P2P → CS switch (A hearing B): ${gapToCs} ms (target ≤ 100 ms)`);
      assert.ok(gapToCs <= 200, `A hears B across the switch to CS (longest gap ${gapToCs} ms)`);
    } finally {
      assert.equal((await c.phone.inDialog('BYE')).status, 200);
      c.stop();
    }
    await waitMode('p2p');
    const backAt = Date.now();
    await sleep(1500);
    const gapToP2p = a.longestGap(660, backAt - 1000, backAt + 1000);
    t.diagnostic(`audio gap at the CS → P2P switch (A hearing B): ${gapToP2p} ms (target ≤ 100 ms)`);
    assert.ok(gapToP2p <= 200, `A hears B across the switch back to P2P (longest gap ${gapToP2p} ms)`);
    const view = (await server.focus.get('conf-p2p'))!;
    assert.deepEqual(view.switches.map((s) => s.to), ['p2p', 'cs', 'p2p']);
  } finally {
    a.stop();
    b.stop();
  }
});

test('/metrics shows each meeting’s mode and relay packet counters', async () => {
  const text = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
  assert.match(text, /sipmeet_meeting_p2p\{meeting="conf-p2p"\} [01]/);
  assert.match(text, /sipmeet_meeting_relay_packets\{meeting="conf-p2p",direction="in"\} \d+/);
  assert.match(text, /sipmeet_meeting_last_switch_timestamp_seconds\{meeting="conf-p2p"\} \d/);
});
