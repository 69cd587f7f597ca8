/**
 * sipp scenario suite (issue 7): each scenario in `scenarios/` runs against a fresh server (OS-chosen SIP port,
 * digest auth on) as a real sipp 3.6 process (`sipp-runner.ts`), and each test asserts sipp's exit code 0 (every
 * expected message came, every `check_it` regexp matched) and what the server did:
 * - REGISTER with digest auth: 401 then 200, and the binding is in the location service;
 * - INVITE/ACK/BYE to a meeting, the shipped g711a.pcap (PCMA) played: a scripted phone in the meeting receives
 *   non-silent audio from the relay while sipp plays, silence before it joined;
 * - CANCEL before answer through the proxy to a registered sipp UAS that rang: 200 for the CANCEL, 487;
 * - MESSAGE in a dialog (relayed to the scripted phone with sipp's display name), out of dialog to the meeting URI
 *   from a participant (200) and from a stranger (403);
 * - re-INVITE hold (a=sendonly → a=recvonly) and resume (a=sendrecv), seen in the API;
 * - malformed datagrams: answered 400 or dropped, and an OPTIONS from another sipp still gets 200.
 * On a failure the scene prints the server's SIP trace with each sipp and sipp's output, error log and messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { requirePeer } from '../interop/peer-check.ts';
import { withScene, type InteropServer, type Scene } from '../interop/harness.ts';
import { ScriptedPhone } from '../interop/peers/scripted.ts';
import { assertChatLine } from '../interop/checks.ts';
import { windows, SILENT_RMS } from '../interop/audio-check.ts';
import { freePortBlock } from '../interop/ports.ts';
import { authorize, pickChallenge } from '../interop/peers/digest-client.ts';
import { uniq } from '../helpers/udp-peer.ts';
import { parseMessage } from '../../registrar/sip/message/parse.ts';
import type { SipResponse } from '../../registrar/sip/message/types.ts';
import { rms } from '../audio/spectrum.ts';
import { Sipp, type SippOptions } from './sipp-runner.ts';

const USERS = { carol: 'carol-secret', dave: 'dave-secret', sipp: 'sipp-secret' } as const;
const SIPP_USER = { user: 'sipp', display: 'Sipp Tester' } as const;

/** Run a scenario to its end inside the scene (reported and killed with it). */
async function run(scene: Scene, o: SippOptions): Promise<Sipp & { code: number | null }> {
  return Sipp.run(o, (s) => scene.add(s));
}

function assertPassed(s: Sipp & { code: number | null }): void {
  assert.equal(s.code, 0, `${s.label}: sipp exit code ${s.code} (0 = the call succeeded); its error log:\n${s.errors()}`);
}

/** The scripted phone (the bundled client's stand-in) creates meeting `id` (authenticated) and stays in it. */
async function carolIn(srv: InteropServer, scene: Scene, id: string): Promise<ScriptedPhone> {
  const carol = scene.add(await ScriptedPhone.open({ user: 'carol', displayName: 'Carol', password: USERS.carol, server: srv.address, toneHz: 500 }));
  const res = await carol.join(srv.meetingUri(id));
  assert.equal(res.status, 200, `the scripted phone creates ${id} (${res.status} ${res.reason})`);
  return carol;
}

/**
 * REGISTER `user` from port `port` with a Contact at that port (digest from Node: sipp 3.6 cannot answer the server's
 * SHA-256-first challenge, see the REGISTER test), so that a sipp UAS started on `port` afterwards is reachable: the
 * server sends to a registration's source address when it differs from its Contact (NAT handling).
 */
async function registerFrom(srv: InteropServer, user: string, password: string, port: number): Promise<void> {
  const sock = createSocket('udp4');
  sock.bind(port, '127.0.0.1');
  await once(sock, 'listening');
  const responses: SipResponse[] = [];
  sock.on('message', (buf) => {
    const r = parseMessage(buf);
    if (r.ok && r.message.kind === 'response') responses.push(r.message);
  });
  const callId = uniq('reg');
  const send = (seq: number, auth = '') =>
    sock.send(
      Buffer.from(
        `REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${uniq()};rport\r\nMax-Forwards: 70\r\n` +
          `From: <sip:${user}@127.0.0.1>;tag=${uniq()}\r\nTo: <sip:${user}@127.0.0.1>\r\nCall-ID: ${callId}\r\nCSeq: ${seq} REGISTER\r\n` +
          `Contact: <sip:${user}@127.0.0.1:${port};transport=udp>\r\nExpires: 120\r\n${auth}Content-Length: 0\r\n\r\n`,
      ),
      srv.port,
      '127.0.0.1',
    );
  const answer = async (seq: number): Promise<SipResponse> => {
    for (let i = 0; i < 60; i++) {
      const r = responses.find((m) => m.callId === callId && m.cseq.seq === seq && m.status >= 200);
      if (r) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`no final response to ${user}'s REGISTER (CSeq ${seq})`);
  };
  try {
    send(1);
    const ch = await answer(1);
    const c = pickChallenge({ www: ch.getAll('www-authenticate'), proxy: [] });
    assert.ok(c, `a digest challenge for ${user}'s REGISTER (${ch.status})`);
    const [name, value] = authorize(c, user, password, 'REGISTER', 'sip:127.0.0.1');
    send(2, `${name}: ${value}\r\n`);
    assert.equal((await answer(2)).status, 200, `${user} registered a Contact at port ${port}`);
  } finally {
    sock.close();
  }
}

test('sipp REGISTER with digest auth: 401 (SHA-256 and MD5 challenges), then 200 for sipp\'s MD5 answer; the binding is stored', { timeout: 30_000 }, async (t) => {
  if (!requirePeer(t, 'sipp')) return;
  await withScene(USERS, async ({ srv, scene }) => {
    const port = await freePortBlock(1);
    const s = await run(scene, {
      scenario: 'register-auth.xml',
      server: srv.address,
      port,
      auth: { user: 'sipp', password: USERS.sipp },
      keys: { user: 'sipp', contact_port: String(port) },
      timeoutS: 8,
    });
    const challenge = srv.trace.withPort(port).find((m) => m.dir === 'out' && / 401 /.test(m.startLine));
    t.diagnostic(`the server's challenge: ${challenge?.text.split(/\r?\n/).filter((l) => /^WWW-Authenticate/i.test(l)).join(' | ')}`);
    assert.ok(challenge, 'the first REGISTER was challenged with 401');
    // Known failure (reported): sipp 3.6 answers only the first WWW-Authenticate, and gives up (exit 255, "must use MD5
    // or AKAv1-MD5") when that one is SHA-256 — as libre 1.x does, which the server already works around for baresip.
    assert.equal(
      s.code,
      0,
      `sipp's REGISTER with digest auth did not end in 200 (exit ${s.code}). The server challenges with SHA-256 first, then MD5 ` +
        `(RFC 8760 §2.3); sipp 3.6 uses the first challenge only and supports MD5 alone. Its error log:\n${s.errors()}`,
    );
    const bindings = srv.server.registrar.lookup('sip:sipp@127.0.0.1');
    assert.ok(bindings.some((b) => JSON.stringify(b).includes(`:${port}`)), `sipp's Contact (port ${port}) is bound: ${JSON.stringify(bindings)}`);
  });
});

test('sipp INVITE/ACK/BYE to a meeting with the PCMA pcap played: the scripted phone in the meeting receives its audio from the relay', { timeout: 40_000 }, async (t) => {
  if (!requirePeer(t, 'sipp')) return;
  await withScene(USERS, async ({ srv, scene }) => {
    const id = 'conf-sipp-pcap';
    const carol = await carolIn(srv, scene, id);
    await new Promise((r) => setTimeout(r, 1000));
    const sipp = await Sipp.start({ scenario: 'invite-pcap.xml', server: srv.address, service: id, keys: SIPP_USER, timeoutS: 20 });
    scene.add(sipp);
    const started = performance.now();
    // Watch the API while sipp is in the meeting: its line's codec and the relay's packet counter for it.
    let codec: string | undefined;
    let packetsIn = 0;
    while (sipp.running) {
      const p = (await srv.server.focus.get(id))?.participants.find((x) => x.displayName === SIPP_USER.display);
      if (p?.media[0]) {
        codec = p.media[0].codec;
        packetsIn = Math.max(packetsIn, p.media[0].packetsIn);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assertPassed(Object.assign(sipp, { code: await sipp.exited }));
    assert.equal(codec, 'PCMA', 'the focus negotiated PCMA with sipp (API)');
    assert.ok(packetsIn >= 200, `the relay received the pcap's RTP from sipp (${packetsIn} packets of 236)`);

    // Before sipp joined, Carol was alone: silence (or nothing). While sipp played: speech-like audio, not silence.
    const quiet = carol.media.heard(started - 1000, started);
    t.diagnostic(`Carol alone before sipp joined: ${quiet.length} samples, RMS ${rms(quiet).toFixed(0)}`);
    assert.ok(rms(quiet) < SILENT_RMS, `Carol hears silence before sipp joins (RMS ${rms(quiet).toFixed(0)})`);
    // The pcap's content (PCMA, 7 s): RMS ≈ 160 in its first second, 1100–2800 in the next six.
    const played = carol.media.heard(started + 1500, started + 7000);
    const ws = windows(played, 8000, []);
    const table = ws.map((w) => `t=${w.t}s rms=${w.rms.toFixed(0)}`).join(' | ');
    t.diagnostic(`Carol while sipp played g711a.pcap (from 1.5 s after sipp started): ${table}`);
    assert.ok(ws.length >= 4, `Carol received audio while sipp played (${played.length} samples)`);
    assert.ok(ws.every((w) => w.rms > 3 * SILENT_RMS), `every 1-s window Carol received while sipp played is loud (speech-like): ${table}`);
  });
});

test('sipp CANCEL before answer to a registered user (a sipp UAS that rang): 200 for the CANCEL, then 487', { timeout: 30_000 }, async (t) => {
  if (!requirePeer(t, 'sipp')) return;
  await withScene(USERS, async ({ srv, scene }) => {
    const uasPort = await freePortBlock(1);
    await registerFrom(srv, 'dave', USERS.dave, uasPort);
    const uas = await Sipp.start({ scenario: 'cancel-uas.xml', server: srv.address, port: uasPort, timeoutS: 10, label: 'sipp UAS (dave)' });
    scene.add(uas);
    await new Promise((r) => setTimeout(r, 300)); // the UAS binds its port
    const uac = await run(scene, { scenario: 'cancel-uac.xml', server: srv.address, service: 'dave', keys: SIPP_USER, timeoutS: 10, label: 'sipp UAC (caller)' });
    assertPassed(uac);
    assertPassed(Object.assign(uas, { code: await uas.exited }));
    const toUas = srv.trace.withPort(uasPort).filter((m) => m.dir === 'out' && !m.startLine.startsWith('SIP/2.0 ')).map((m) => m.startLine.split(' ')[0]);
    assert.deepEqual([...new Set(toUas)], ['INVITE', 'CANCEL', 'ACK'], `the proxy forwarded INVITE, then CANCEL, and ACKed the callee's 487 (${toUas.join(', ')})`);
    const toCaller = srv.trace.withPort(uac.sipPort).filter((m) => m.dir === 'out').map((m) => `${m.startLine.split(' ')[1]} ${m.cseq}`);
    t.diagnostic(`responses to the caller: ${toCaller.join(', ')}`);
    assert.ok(toCaller.includes('180 1 INVITE') && toCaller.includes('200 1 CANCEL') && toCaller.includes('487 1 INVITE'), `the caller got 180, 200 (CANCEL) and 487: ${toCaller.join(', ')}`);
  });
});

test('sipp MESSAGE in dialog (relayed with its display name), out of dialog to the meeting URI from a participant (200) and a stranger (403)', { timeout: 30_000 }, async (t) => {
  if (!requirePeer(t, 'sipp')) return;
  await withScene(USERS, async ({ srv, scene }) => {
    const id = 'conf-sipp-chat';
    const carol = await carolIn(srv, scene, id);
    const member = await Sipp.start({ scenario: 'message-in-dialog.xml', server: srv.address, service: id, keys: { ...SIPP_USER, text: 'hello from sipp' }, pauseMs: 3000, timeoutS: 15, label: 'sipp in the meeting' });
    scene.add(member);
    const relayed = await member.whileRunning(carol.waitRequest('MESSAGE', (r) => r.body.toString().includes('hello from sipp')));
    assertChatLine(relayed.body.toString().trim(), SIPP_USER.display, 'sip:sipp@127.0.0.1', 'hello from sipp');
    t.diagnostic(`relayed to Carol: ${relayed.body.toString().trim()}`);

    // While it is in the meeting: the same user, outside the dialog, to the meeting URI → 200, relayed too.
    const ood = await run(scene, { scenario: 'message-out-of-dialog.xml', server: srv.address, service: id, keys: { ...SIPP_USER, text: 'again, outside the call' }, timeoutS: 5, label: 'sipp out-of-dialog (participant)' });
    assertPassed(ood);
    const again = await carol.waitRequest('MESSAGE', (r) => r.body.toString().includes('again, outside the call'));
    assertChatLine(again.body.toString().trim(), SIPP_USER.display, 'sip:sipp@127.0.0.1', 'again, outside the call');

    // Someone who is not in the meeting → 403, and nothing reaches Carol.
    const stranger = await run(scene, { scenario: 'message-out-of-dialog-forbidden.xml', server: srv.address, service: id, keys: { user: 'stranger', display: 'Stranger', text: 'let me in' }, timeoutS: 5, label: 'sipp out-of-dialog (stranger)' });
    assertPassed(stranger);
    assertPassed(Object.assign(member, { code: await member.exited }));
    assert.ok(!carol.inbox.some((r) => r.method === 'MESSAGE' && r.body.toString().includes('let me in')), "the stranger's chat was not relayed");
  });
});

test('sipp re-INVITE hold (a=sendonly → answer a=recvonly) and resume (a=sendrecv): the API shows the direction change', { timeout: 30_000 }, async (t) => {
  if (!requirePeer(t, 'sipp')) return;
  await withScene(USERS, async ({ srv, scene }) => {
    const id = 'conf-sipp-hold';
    await carolIn(srv, scene, id);
    const sipp = await Sipp.start({ scenario: 'hold-resume.xml', server: srv.address, service: id, keys: SIPP_USER, pauseMs: 1200, timeoutS: 15 });
    scene.add(sipp);
    const seen: string[] = [];
    while (sipp.running) {
      const p = (await srv.server.focus.get(id))?.participants.find((x) => x.displayName === SIPP_USER.display);
      const dir = p?.media[0]?.direction;
      if (dir && seen.at(-1) !== dir) seen.push(dir);
      await new Promise((r) => setTimeout(r, 50));
    }
    assertPassed(Object.assign(sipp, { code: await sipp.exited }));
    t.diagnostic(`sipp's audio direction in the API, in order: ${seen.join(' → ')}`);
    assert.deepEqual(seen, ['sendrecv', 'sendonly', 'sendrecv'], "the API shows sipp's line on hold (sendonly: it only sends) and back");
  });
});

test('malformed datagrams are answered 400 or dropped, and the server keeps serving: an OPTIONS from another sipp gets 200', { timeout: 30_000 }, async (t) => {
  if (!requirePeer(t, 'sipp')) return;
  await withScene(USERS, async ({ srv, scene }) => {
    const sock = createSocket('udp4');
    sock.bind(0, '127.0.0.1');
    await once(sock, 'listening');
    const port = sock.address().port;
    const answers: string[] = [];
    sock.on('message', (b) => answers.push(b.toString('latin1')));
    const via = (b: string) => `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${b};rport`;
    const common = (callId: string) => `Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ${callId}\r\n`;
    const bad: Array<[string, string]> = [
      ['broken Via (no sent-by)', `OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP\r\n${common('bad-via')}CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`],
      ['bad CSeq (not a number)', `OPTIONS sip:127.0.0.1 SIP/2.0\r\n${via('badcseq')}\r\n${common('bad-cseq')}CSeq: one OPTIONS\r\nContent-Length: 0\r\n\r\n`],
      ['CSeq method ≠ request method', `OPTIONS sip:127.0.0.1 SIP/2.0\r\n${via('cseqmethod')}\r\n${common('cseq-method')}CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`],
      ['no Call-ID', `OPTIONS sip:127.0.0.1 SIP/2.0\r\n${via('nocallid')}\r\nMax-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`],
      ['Content-Length past the end', `MESSAGE sip:127.0.0.1 SIP/2.0\r\n${via('cl')}\r\n${common('bad-cl')}CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 500\r\n\r\nshort`],
      ['garbage (binary)', Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 37 + 11) & 0xff)).toString('latin1')],
      ['garbage (HTTP)', 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
    ];
    const outcome: string[] = [];
    for (const [what, text] of bad) {
      const n = answers.length;
      sock.send(Buffer.from(text, 'latin1'), srv.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 250));
      const got = answers.slice(n).map((a) => a.slice(0, a.indexOf('\r\n')));
      outcome.push(`${what}: ${got.length ? got.join(' / ') : 'dropped'}`);
      for (const g of got) assert.match(g, /^SIP\/2\.0 400 /, `${what}: answered with ${g} (expected 400 or nothing)`);
    }
    sock.close();
    t.diagnostic(`malformed datagrams: ${outcome.join('; ')}`);
    const options = await run(scene, { scenario: 'options.xml', server: srv.address, timeoutS: 5, label: 'sipp OPTIONS after the malformed datagrams' });
    assertPassed(options);
  });
});
