/**
 * `sipmeet server` as a person runs it: it starts, prints how to dial in, answers SIP, stops on SIGTERM; bad
 * flags, a port in use and a broken users file each give one readable line and a non-zero exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UdpPeer } from '../helpers/udp-peer.ts';

const BIN = fileURLToPath(new URL('../../registrar/cli/sipmeet.js', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  return { child, exited, out: () => out, err: () => err };
}

async function failsWithOneLine(args: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const p = run(args, env);
  const code = await p.exited;
  assert.notEqual(code, 0, 'exit code is non-zero');
  const lines = p.err().trim().split('\n');
  assert.equal(lines.length, 1, `exactly one line on stderr, got:\n${p.err()}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(p.err(), /\bat .*\.ts:\d+/, 'no stack trace');
}

test('sipmeet server starts, prints how to dial in, answers OPTIONS, and exits 0 on SIGTERM', async () => {
  const p = run(['server', '--host', '127.0.0.1', '--sip-port', '0', '--http-port', '0', '--log-level', 'warn']);
  const deadline = Date.now() + 15000;
  while (!/listening/.test(p.out()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const m = /SIP udp\+tcp 127\.0\.0\.1:(\d+)/.exec(p.out());
  assert.ok(m, `banner printed:\n${p.out()}\n${p.err()}`);
  assert.match(p.out(), /dial a meeting: +sip:conf-42@127\.0\.0\.1:\d+/);
  const port = Number(m[1]);
  const peer = await UdpPeer.open();
  const id = peer.options(port);
  await peer.response(id, 200);
  peer.close();
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0);
});

test('an unknown flag is one readable line and exit code 2', () => failsWithOneLine(['server', '--bogus'], /^sipmeet: .*bogus/));
test('a bad port is one readable line', () => failsWithOneLine(['server', '--sip-port', '99999'], /^sipmeet: --sip-port must be between/));
test('a bad --rtp-ports range is one readable line', () => failsWithOneLine(['server', '--rtp-ports', '30000-20000'], /^sipmeet: --rtp-ports/));
test('a bad environment variable is one readable line', () => failsWithOneLine(['server'], /^sipmeet: --log-level must be one of/, { SIPMEET_LOG_LEVEL: 'loud' }));
test('an unknown command is one readable line', () => failsWithOneLine(['serve'], /^sipmeet: unknown command "serve"/));

test('a SIP port already in use is one readable line and a non-zero exit', async () => {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const port = s.address().port;
  try {
    await failsWithOneLine(['server', '--host', '127.0.0.1', '--sip-port', String(port), '--log-level', 'silent'], new RegExp(`^sipmeet: .*${port}.*in use`));
  } finally {
    s.close();
  }
});

test('a broken users file is one readable line naming the file and line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipmeet-users-'));
  const file = join(dir, 'users');
  writeFileSync(file, '# users\nalice:secret\nnot a user line\n');
  await failsWithOneLine(['server', '--host', '127.0.0.1', '--sip-port', '0', '--users', file, '--log-level', 'silent'], /^sipmeet: .*users.*line 3/);
});
