/**
 * What the P2P switch must do about re-INVITE glare, found with Linphone (p2p-linphone-baresip.test.ts) and checked
 * here with scripted phones so that it runs everywhere:
 * - Linphone re-INVITEs ~30 ms after joining a conference; when that re-INVITE crosses the focus's flow-I re-INVITE,
 *   both get 491 (RFC 3261 §14.2) and Linphone 5.1 ends its call. So the focus waits until the pair has settled
 *   (P2P_SETTLE_MS) before it starts the switch: a phone that re-INVITEs right after joining never meets a 491.
 * - A 491 to the focus's own re-INVITE (RFC 3261 §14.1) is retried after 0–2 s (the focus does not own the Call-ID
 *   of a dial-in leg): the meeting still reaches P2P.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInteropServer } from './harness.ts';
import { TestPhone } from '../helpers/phone.ts';
import { P2P_SETTLE_MS } from '../../registrar/focus/p2p.ts';
import { waitMode } from './p2p-checks.ts';

test('a phone that re-INVITEs right after joining is not met by a crossing re-INVITE (no 491); the switch follows after the pair settled', { timeout: 20_000 }, async () => {
  const srv = await startInteropServer({}, { p2p: 'auto' });
  const id = 'conf-settle';
  srv.server.focus.create({ id, creator: { aor: 'sip:host@127.0.0.1' } });
  const a = await TestPhone.open('ga', 'A', srv.address);
  const b = await TestPhone.open('gb', 'B', srv.address);
  try {
    a.mediaBase = 40000;
    b.mediaBase = 40100;
    assert.equal((await a.invite(srv.meetingUri(id), a.sdp({ port: 40000, codecs: 'pcmu' }))).status, 200);
    assert.equal((await b.invite(srv.meetingUri(id), b.sdp({ port: 40100, codecs: 'pcmu' }))).status, 200);
    const joined = Date.now();
    // B re-INVITEs at once, as Linphone does after joining a conference.
    const re = await b.inDialog('INVITE', b.sdp({ port: 40100, codecs: 'pcmu' }), 'application/sdp');
    assert.equal(re.status, 200, `B's own re-INVITE right after joining (${re.status} ${re.reason})`);
    b.ack(re);
    await waitMode(srv, id, 'p2p', P2P_SETTLE_MS + 4000);
    const after = Date.now() - joined;
    assert.ok(after >= P2P_SETTLE_MS - 100, `the switch waited for the pair to settle (${after} ms ≥ ${P2P_SETTLE_MS} ms)`);
    const glare = srv.trace.messages.filter((m) => / 491 /.test(m.startLine));
    assert.deepEqual(glare.map((m) => `${m.dir} ${m.peer} ${m.cseq}`), [], 'no 491 between the focus and the phones');
  } finally {
    a.close();
    b.close();
    await srv.close();
  }
});

test("a 491 to the focus's flow-I re-INVITE is retried within 2 s (RFC 3261 §14.1) and the meeting reaches P2P", { timeout: 20_000 }, async () => {
  const srv = await startInteropServer({}, { p2p: 'auto' });
  const id = 'conf-glare';
  srv.server.focus.create({ id, creator: { aor: 'sip:host@127.0.0.1' } });
  const a = await TestPhone.open('ga', 'A', srv.address);
  const b = await TestPhone.open('gb', 'B', srv.address);
  try {
    a.mediaBase = 40200;
    b.mediaBase = 40300;
    assert.equal((await a.invite(srv.meetingUri(id), a.sdp({ port: 40200, codecs: 'pcmu' }))).status, 200);
    // A answers the focus's first re-INVITE with 491 (as if its own re-INVITE had crossed it), then 200 again.
    a.answerWith.INVITE = 491;
    const reinvites = () => a.inbox.filter((r) => r.method === 'INVITE' && r.toTag !== undefined);
    a.peer.socket.on('message', () => {
      if (reinvites().length >= 1) delete a.answerWith.INVITE;
    });
    assert.equal((await b.invite(srv.meetingUri(id), b.sdp({ port: 40300, codecs: 'pcmu' }))).status, 200);
    await waitMode(srv, id, 'p2p', P2P_SETTLE_MS + 5000);
    const [first, second] = reinvites();
    assert.ok(first && second, `the focus re-INVITEd A again after the 491 (${reinvites().length} re-INVITEs)`);
    const firstAt = srv.trace.messages.find((m) => m.dir === 'out' && m.callId === a.callId && m.cseq === `${first.cseq.seq} INVITE`)!.at;
    const secondAt = srv.trace.messages.find((m) => m.dir === 'out' && m.callId === a.callId && m.cseq === `${second.cseq.seq} INVITE`)!.at;
    assert.ok(second.cseq.seq > first.cseq.seq, 'the retry is a new transaction (higher CSeq)');
    assert.ok(secondAt - firstAt <= 2100, `retried within 0–2 s of the 491 (${secondAt - firstAt} ms)`);
    const view = (await srv.server.focus.get(id))!;
    assert.deepEqual(view.switches.map((s) => s.to), ['p2p'], 'one switch, to P2P');
  } finally {
    a.close();
    b.close();
    await srv.close();
  }
});
