/**
 * Through the real CLI: Ann, Ben and Cat join one meeting with their own tones (440 / 660 / 880 Hz) and record
 * what they hear; Xena is alone in another meeting. Each recording holds the other two tones and not its own;
 * chat reaches the others of the same meeting with the sender's name and the time, never the sender itself and
 * never the other meeting; /who is answered; /leave exits 0 with a `left` event.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readWavFile } from '../../softclient/media/wav.ts';
import { goertzelPower } from '../audio/spectrum.ts';
import { Cli, startTestServer, tempDir, type TestServer } from './helpers.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer('37000-37199');
});
after(() => srv.close());

const TONES = { ann: 440, ben: 660, cat: 880 } as const;

/** Power of each tone over [end - 1.6 s, end - 0.4 s] of a recording (all three were talking then). */
function tonePowers(path: string): { rate: number; seconds: number; power: Record<keyof typeof TONES, number> } {
  const wav = readWavFile(path);
  assert.ok(wav.ok, `${path} is a readable WAV`);
  const { sampleRate, samples } = wav.value;
  const window = samples.subarray(samples.length - Math.round(1.6 * sampleRate), samples.length - Math.round(0.4 * sampleRate));
  const power = Object.fromEntries(Object.entries(TONES).map(([k, hz]) => [k, goertzelPower(window, sampleRate, hz)])) as Record<keyof typeof TONES, number>;
  return { rate: sampleRate, seconds: samples.length / sampleRate, power };
}

test('three CLI clients hear each other and not themselves; chat stays in its meeting with name and time', async () => {
  const dir = tempDir();
  const meeting = srv.uri('conf-tones');
  const args = (name: string, json: boolean) => [
    'join', meeting, '--name', name, '--audio-in', `tone:${TONES[name.toLowerCase() as keyof typeof TONES]}`,
    '--audio-out', join(dir, `${name}.wav`), '--stats-interval', '1', ...(json ? ['--json'] : []),
  ];
  const ann = new Cli(args('Ann', true));
  const ben = new Cli(args('Ben', true));
  const cat = new Cli(args('Cat', false)); // human output
  const xena = new Cli(['join', srv.uri('conf-other'), '--name', 'Xena', '--audio-in', 'tone:1000', '--json']);
  try {
    await Promise.all([
      ann.waitEvent('joined', undefined, 30_000),
      ben.waitEvent('joined', undefined, 30_000),
      cat.waitFor((c) => c.lines.some((l) => l.startsWith(`joined ${meeting} as Cat`)), 30_000, 'Cat joined'),
      xena.waitEvent('joined', undefined, 30_000),
    ]);
    // The roster (RFC 4575 NOTIFY) tells Ann when all three are in.
    await ann.waitEvent('roster', (e) => (e.participants as unknown[]).length === 3);

    ann.send('hello everyone');
    xena.send('only for conf-other');
    ben.send('/who');
    const got = await ben.waitEvent('chat');
    assert.equal(got.name, 'Ann');
    assert.equal(got.from, 'sip:ann@127.0.0.1');
    assert.equal(got.text, 'hello everyone');
    assert.ok(Math.abs(Date.parse(got.at as string) - Date.now()) < 10_000, `chat timestamp ${String(got.at)} is now`);
    await cat.waitFor((c) => c.lines.find((l) => /^\[\d\d:\d\d:\d\d\] Ann: hello everyone$/.test(l)), 15_000, "Cat's chat line");
    const who = await ben.waitEvent('notice');
    for (const n of ['Ann', 'Ben', 'Cat']) assert.match(who.text as string, new RegExp(n), '/who lists everyone');
    // A media status line, human form: codec, level, loss.
    await cat.waitFor((c) => c.lines.find((l) => /^~ audio opus\/48000 mic on \| in -\d+\.\d dBFS, loss \d+\.\d%/.test(l)), 15_000, 'status line');

    await new Promise((r) => setTimeout(r, 2500)); // all three talking
    for (const c of [ann, ben, cat, xena]) c.send('/leave');
    const exits = await Promise.all([ann, ben, cat, xena].map((c) => c.waitExit()));
    for (const e of exits) assert.equal(e.code, 0, `exit 0 after /leave; stderr: ${e.stderr}`);
    assert.ok(ann.events.some((e) => e.event === 'left'), 'a left event');

    // Chat isolation: Xena saw nothing of conf-tones and conf-tones nothing of hers; nobody hears their own line.
    assert.deepEqual(xena.events.filter((e) => e.event === 'chat'), []);
    assert.deepEqual(ann.events.filter((e) => e.event === 'chat'), []);
    assert.ok(!cat.lines.some((l) => l.includes('only for conf-other')));
    assert.ok(!ben.events.some((e) => e.event === 'chat' && e.text === 'only for conf-other'));

    for (const name of ['Ann', 'Ben', 'Cat'] as const) {
      const r = tonePowers(join(dir, `${name}.wav`));
      assert.equal(r.rate, 48000);
      assert.ok(r.seconds > 3, `${name}'s recording covers the call (${r.seconds.toFixed(2)} s)`);
      const own = r.power[name.toLowerCase() as keyof typeof TONES];
      const others = Object.entries(r.power).filter(([k]) => k !== name.toLowerCase());
      for (const [k, p] of others) {
        assert.ok(p > 1e5, `${name} hears ${k} (${p.toExponential(2)})`);
        assert.ok(p > 100 * own, `${name}: ${k} (${p.toExponential(2)}) far above its own tone (${own.toExponential(2)})`);
      }
    }
  } finally {
    for (const c of [ann, ben, cat, xena]) c.kill();
  }
});
