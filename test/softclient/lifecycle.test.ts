/**
 * Meeting life cycle from the CLI: create (factory URI, RFC 4579) → list (HTTP API) → a guest joins → a cancel
 * by the guest is refused → the creator cancels → everyone gets `ended` with the host's reason and exits 0 → the
 * meeting URI now answers "has ended". And in-meeting commands: /mic off renegotiates (the host's roster shows
 * the guest recvonly), /end by a guest is refused, /end by the host ends the meeting for all.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cli, runCli, startTestServer, type CliEvent, type TestServer } from './helpers.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer('37200-37399');
});
after(() => srv.close());

const HOST_ENDED = 'Meeting ended by the host';

function participants(e: CliEvent): Array<{ name: string; aor: string; media: Array<{ type: string; status: string }> }> {
  return e.participants as Array<{ name: string; aor: string; media: Array<{ type: string; status: string }> }>;
}

test('create via the factory URI, list it, a guest joins, only the creator can cancel, everyone sees ended with the reason', async () => {
  const host = new Cli(['create', '--server', srv.hostPort, '--name', 'Hana', '--json']);
  let guest: Cli | undefined;
  try {
    const joined = await host.waitEvent('joined');
    assert.equal(joined.created, true);
    const meeting = joined.meeting as string;
    assert.match(meeting, new RegExp(`^sip:conf-\\d+@127\\.0\\.0\\.1:${srv.sipPort}$`), 'the new meeting URI from the 200 Contact');
    const id = /^sip:([^@]+)@/.exec(meeting)![1]!;

    guest = new Cli(['join', meeting, '--name', 'Gus', '--json']);
    await guest.waitEvent('joined');
    await host.waitEvent('roster', (e) => participants(e).length === 2);

    const listed = await runCli(['list', '--api', srv.api, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const meetings = (JSON.parse(listed.stdout[0]!) as { meetings: Array<{ id: string; creator: { aor: string }; participants: Array<{ displayName: string }> }> }).meetings;
    const mine = meetings.find((m) => m.id === id);
    assert.ok(mine, `${id} is listed`);
    assert.equal(mine.creator.aor, 'sip:hana@127.0.0.1');
    assert.deepEqual(mine.participants.map((p) => p.displayName).sort(), ['Gus', 'Hana']);
    const human = await runCli(['list', '--server', '127.0.0.1', '--api', srv.api]);
    assert.ok(human.stdout.some((l) => l.startsWith(`${id}  ${meeting}  host Hana <sip:hana@127.0.0.1>`) && l.endsWith('2 in: Hana, Gus')), human.stdout.join('\n'));

    const refused = await runCli(['cancel', meeting, '--name', 'Gus', '--api', srv.api]);
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /^sipmeet: cancel conf-\d+: forbidden .*\n$/);

    const cancelled = await runCli(['cancel', meeting, '--user', 'sip:hana@127.0.0.1', '--api', srv.api]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(cancelled.stdout[0], `meeting ${id} cancelled: everyone was told the host ended it`);

    for (const c of [host, guest]) {
      const ended = await c.waitEvent('ended');
      assert.equal(ended.reason, HOST_ENDED);
      assert.equal(ended.cause, 16);
      assert.equal((await c.waitExit()).code, 0);
    }

    const late = await runCli(['join', meeting, '--name', 'Lou']);
    assert.equal(late.code, 4);
    assert.match(late.stderr, /^sipmeet: sip:conf-\d+@\S+: the meeting has ended.*\n$/);
  } finally {
    host.kill();
    guest?.kill();
  }
});

test('/mic off renegotiates to recvonly; /end by a guest is refused, by the host ends the meeting for everyone', async () => {
  const meeting = srv.uri('conf-standup');
  const host = new Cli(['create', 'conf-standup', '--server', srv.hostPort, '--name', 'Hana', '--audio-in', 'tone:500', '--json']);
  let guest: Cli | undefined;
  try {
    assert.equal((await host.waitEvent('joined')).meeting, meeting);
    guest = new Cli(['join', meeting, '--name', 'Gus', '--audio-in', 'tone:700', '--json']);
    await guest.waitEvent('joined');
    await host.waitEvent('roster', (e) => participants(e).length === 2);

    guest.send('/mic off');
    const media = await guest.waitEvent('media', (e) => e.direction === 'recvonly');
    assert.equal(media.mic, false);
    const muted = await host.waitEvent('roster', (e) => participants(e).some((p) => p.name === 'Gus' && p.media[0]?.status === 'recvonly'));
    assert.deepEqual(muted.changed, ['sip:gus@127.0.0.1']);
    guest.send('/mic on');
    await host.waitEvent('roster', (e) => e.version !== muted.version && participants(e).some((p) => p.name === 'Gus' && p.media[0]?.status === 'sendrecv'));

    guest.send('/end');
    await guest.waitFor((c) => c.events.find((e) => e.event === 'error' && /forbidden/.test(e.message as string)), 15_000, 'refusal of /end');
    host.send('/end');
    const ended = await guest.waitEvent('ended');
    assert.equal(ended.reason, HOST_ENDED);
    assert.equal((await guest.waitExit()).code, 0);
    assert.equal((await host.waitExit()).code, 0);
  } finally {
    host.kill();
    guest?.kill();
  }
});
