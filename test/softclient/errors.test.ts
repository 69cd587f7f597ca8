/**
 * Every failure of a client command is one readable line on stderr and a non-zero exit code (errors.ts):
 * 2 bad usage, 3 server unreachable, 4 refused (404 …), 5 authentication failed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rejection } from '../../softclient/errors.ts';
import { closedPort, oneLine, runCli, startTestServer, type TestServer } from './helpers.ts';

let open: TestServer;
let authed: TestServer;
before(async () => {
  open = await startTestServer('37400-37499');
  authed = await startTestServer('37500-37599', 'alice:secret\nbob:hunter2\n');
});
after(async () => {
  await open.close();
  await authed.close();
});



test('server unreachable: exit 3, one line naming the server', async () => {
  const port = await closedPort();
  oneLine(await runCli(['join', `sip:conf-1@127.0.0.1:${port}`, '--name', 'Ann']), 3, new RegExp(`^sipmeet: server 127\\.0\\.0\\.1:${port} unreachable: .*ECONNREFUSED`));
  oneLine(await runCli(['list', '--api', `http://127.0.0.1:${port}`]), 3, /^sipmeet: HTTP API http:\/\/127\.0\.0\.1:\d+ unreachable/);
});

test('dialling a user that does not exist: exit 4, "not found"', async () => {
  oneLine(await runCli(['join', open.uri('nobody'), '--name', 'Ann']), 4, /^sipmeet: sip:nobody@127\.0\.0\.1:\d+: not found — no such meeting or user$/);
});

test('bad usage: exit 2', async () => {
  oneLine(await runCli(['join', '--name', 'Ann']), 2, /^sipmeet: join: missing the meeting URI/);
  oneLine(await runCli(['join', open.uri('conf-1'), '--audio-in', 'tone:abc']), 2, /^sipmeet: --audio-in: expected tone:HZ/);
  oneLine(await runCli(['join', open.uri('conf-1'), '--bogus']), 2, /^sipmeet: Unknown option '--bogus'/);
});

test('authentication: a wrong password and a missing one exit 5; the right one registers and unregisters', async () => {
  oneLine(
    await runCli(['register', '--server', authed.hostPort, '--user', 'alice', '--password', 'wrong']),
    5,
    /^sipmeet: register sip:alice@127\.0\.0\.1: authentication failed/,
  );
  // Creating a meeting needs the creator authenticated (the focus challenges the INVITE).
  oneLine(await runCli(['create', 'conf-secure', '--server', authed.hostPort, '--name', 'Eve']), 5, /^sipmeet: sip:conf-secure@\S+: authentication failed \(40[17] /);
  const ok = await runCli(['register', '--server', authed.hostPort, '--user', 'alice', '--password', 'secret', '--duration', '0']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(ok.stdout, [`registered sip:alice@127.0.0.1 at ${authed.hostPort} (expires in 600 s)`, 'unregistered sip:alice@127.0.0.1']);
});

test('the right credentials create a meeting on an authenticating server', async () => {
  const r = await runCli(['create', 'conf-secure2', '--server', authed.hostPort, '--name', 'Bob', '--user', 'bob', '--password', 'hunter2', '--duration', '0.5', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.map((l) => JSON.parse(l) as { event: string; meeting?: string });
  assert.equal(events[0]!.event, 'joined');
  assert.equal(events[0]!.meeting, authed.uri('conf-secure2'));
  assert.equal(events.at(-1)!.event, 'left');
});

test('refusals read as words: 480, 486, 488, 403', () => {
  assert.equal(rejection('sip:conf-1@h', 480, 'Temporarily Unavailable').message, 'sip:conf-1@h: temporarily unavailable');
  assert.equal(rejection('sip:bob@h', 486, 'Busy Here').message, 'sip:bob@h: busy');
  assert.equal(rejection('sip:conf-1@h', 488, 'Not Acceptable Here - no common codec').message, 'sip:conf-1@h: no common media (Not Acceptable Here - no common codec)');
  const forbidden = rejection('sip:conf-1@h', 403, 'Forbidden - not a participant');
  assert.equal(forbidden.message, 'sip:conf-1@h: forbidden (Forbidden - not a participant)');
  assert.equal(forbidden.exitCode, 4);
  assert.equal(rejection('x', 401, 'Unauthorized').exitCode, 5);
});
