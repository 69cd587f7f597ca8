/**
 * Issue 8 with two bundled clients (the real CLI): with `--p2p auto` the meeting goes peer-to-peer, both clients
 * say so (`mode` event / "media: peer-to-peer" line), they hear each other's tone while the relay's counters for the
 * meeting stand still, and a third client brings client-server back (announced too).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readWavFile } from '../../softclient/media/wav.ts';
import { goertzelPower } from '../audio/spectrum.ts';
import { Cli, startTestServer, tempDir, type TestServer } from './helpers.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer('37400-37599', undefined, 'auto');
});
after(() => srv.close());

function power(path: string, hz: number): number {
  const wav = readWavFile(path);
  assert.ok(wav.ok, `${path} is a readable WAV`);
  const { sampleRate, samples } = wav.value;
  const last = samples.subarray(samples.length - Math.round(1.5 * sampleRate), samples.length - Math.round(0.3 * sampleRate));
  return goertzelPower(last, sampleRate, hz);
}

test('two CLI clients go peer-to-peer: they say so, hear each other, the relay stands still; a third brings client-server', { timeout: 90_000 }, async () => {
  const dir = tempDir();
  const meeting = srv.uri('conf-direct');
  const ann = new Cli(['join', meeting, '--name', 'Ann', '--audio-in', 'tone:440', '--audio-out', join(dir, 'ann.wav'), '--json']);
  const ben = new Cli(['join', meeting, '--name', 'Ben', '--audio-in', 'tone:660', '--audio-out', join(dir, 'ben.wav')]);
  let cat: Cli | undefined;
  try {
    await ann.waitEvent('mode', (e) => e.mode === 'p2p', 30_000);
    await ben.waitFor((c) => c.lines.some((l) => l.startsWith('media: peer-to-peer')), 15_000, 'Ben told peer-to-peer');
    await new Promise((r) => setTimeout(r, 1000));
    const s1 = await srv.server.relay.stats('conf-direct');
    await new Promise((r) => setTimeout(r, 2000));
    const s2 = await srv.server.relay.stats('conf-direct');
    assert.equal(s2.packetsIn, s1.packetsIn, 'the relay receives nothing in peer-to-peer');
    assert.equal(s2.packetsOut, s1.packetsOut, 'the relay sends nothing in peer-to-peer');

    cat = new Cli(['join', meeting, '--name', 'Cat', '--audio-in', 'tone:880', '--json']);
    // Both were told "client-server" once at the start: wait for a second announcement, after peer-to-peer.
    await ann.waitFor((c) => {
      const modes = c.events.filter((e) => e.event === 'mode').map((e) => e.mode);
      return modes.lastIndexOf('cs') > modes.indexOf('p2p');
    }, 30_000, 'Ann told client-server after peer-to-peer');
    await ben.waitFor((c) => {
      const p2p = c.lines.findIndex((l) => l.startsWith('media: peer-to-peer'));
      const cs = c.lines.map((l, i) => (l.startsWith('media: client-server') ? i : -1));
      return Math.max(...cs) > p2p;
    }, 15_000, 'Ben told client-server after peer-to-peer');
    const view = await srv.server.focus.get('conf-direct');
    assert.deepEqual(view?.switches.map((s) => s.to), ['p2p', 'cs']);
    for (const c of [ann, ben, cat]) c.send('/leave');
    await Promise.all([ann, ben, cat].map((c) => c.waitExit(20_000)));
    // The recordings' tail (after the third joined) and what they heard in P2P both hold the other one's tone.
    assert.ok(power(join(dir, 'ann.wav'), 660) > 20 * power(join(dir, 'ann.wav'), 440), 'Ann hears Ben, not herself');
    assert.ok(power(join(dir, 'ben.wav'), 440) > 20 * power(join(dir, 'ben.wav'), 660), 'Ben hears Ann, not himself');
  } finally {
    for (const c of [ann, ben, cat]) c?.kill();
  }
});
