/**
 * Linphone restricted to PCMU, registered with digest auth, in one meeting with baresip (Opus) and the scripted
 * PCMU phone that created it:
 * - everyone hears the other two tones and not its own;
 * - the creator types `/end` (an in-dialog MESSAGE, digest-authenticated): the focus sends every participant a BYE
 *   with a Reason header (RFC 3326); Linphone's call ends (and baresip's); Linphone dialling the meeting again is
 *   refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from './peer-check.ts';
import { withMeeting, TONE } from './meeting-setup.ts';
import { assertHearing, silentWindows, span, tail } from './audio-check.ts';
import { readWav } from './wav.ts';
import { sleep } from '../../bench/lib/procs.ts';

test('Linphone on PCMU only (digest-registered) + baresip + scripted PCMU phone: N-1 tones; the creator ends the meeting and Linphone\'s call ends', { timeout: 90_000 }, async (t) => {
  if (!requirePeer(t, 'linphonec', 'baresip')) return;
  await withMeeting({ id: 'conf-pcmu', linphoneCodecs: 'pcmu' }, async (m) => {
    const { carol, linphone, baresip, srv } = m;
    await sleep(1000);
    const t0 = performance.now();
    await sleep(4000);
    const t1 = performance.now();

    assert.deepEqual(linphone.encoders(), ['MSUlawEnc'], "Linphone's encoder feeding its RTP sender (log)");
    const offer = srv.trace.withPort(linphone.sipPort).find((x) => x.dir === 'in' && x.startLine.startsWith('INVITE '));
    assert.match(offer?.text ?? '', /^m=audio \d+ RTP\/AVP 0 \d+\r?$/m, "Linphone's offer is PCMU (+ telephone-event) only");
    const view = (await srv.server.focus.get(m.id))!;
    const codecs = Object.fromEntries(view.participants.map((p) => [p.displayName, p.media[0]?.codec]));
    assert.deepEqual(codecs, { Carol: 'PCMU', Alice: 'PCMU', Bob: 'opus' }, 'codecs negotiated by the focus');

    const carolHeard = assertHearing(carol.media.heard(t0, t1), 8000, { who: 'scripted phone (Carol)', hears: [TONE.linphone, TONE.baresip], own: TONE.scripted });
    t.diagnostic(`Carol (scripted, PCMU) heard:\n${carolHeard.table}`);

    // The creator ends the meeting.
    const lmark = linphone.out.mark();
    const bmark = baresip.out.mark();
    const end = await carol.chat('/end');
    assert.equal(end.status, 200, `the creator's /end is accepted (${end.status} ${end.reason})`);
    const reason = await linphone.waitCallEnded({ from: lmark, ms: 5000 });
    t.diagnostic(`Linphone: call ended (${reason})`);
    await baresip.waitCallClosed({ from: bmark, ms: 5000 });
    const bye = srv.trace.withPort(linphone.sipPort).find((x) => x.dir === 'out' && x.startLine.startsWith('BYE '));
    assert.ok(bye, 'the focus sent Linphone a BYE');
    assert.match(bye.text, /^Reason:\s*(SIP|Q\.850)\s*;\s*cause=\d+\s*;\s*text="[^"]+"/im, 'the BYE carries a Reason header (RFC 3326)');
    const byeOk = await srv.trace.waitFor((x) => x.dir === 'in' && x.callId === bye.callId && x.cseq === bye.cseq && x.startLine.startsWith('SIP/2.0 '));
    assert.match(byeOk?.startLine ?? '(no answer)', /^SIP\/2\.0 200 /, 'Linphone answered the BYE 200');
    assert.ok(carol.inbox.some((r) => r.method === 'BYE'), 'the creator got its BYE too');
    // The roster subscription ends with its final NOTIFY (or Linphone's un-SUBSCRIBE), never with a BYE in the
    // SUBSCRIBE dialog (RFC 3261 §12.2.1.2: BYE only for INVITE-initiated dialogs; Linphone would answer 481).
    await sleep(500);
    const subDialogs = new Set(srv.trace.withPort(linphone.sipPort).filter((x) => x.dir === 'in' && x.startLine.startsWith('SUBSCRIBE ')).map((x) => x.callId));
    const strayBye = srv.trace.withPort(linphone.sipPort).find((x) => x.dir === 'out' && x.startLine.startsWith('BYE ') && subDialogs.has(x.callId));
    assert.equal(strayBye, undefined, `no BYE inside the SUBSCRIBE dialog:\n${strayBye?.text ?? ''}`);

    const lrec = readWav(m.linphoneRec);
    assert.equal(lrec.sampleRate, 8000, "Linphone's recording is at PCMU's rate");
    const lh = assertHearing(tail(lrec.samples, lrec.sampleRate, 3, 0.7), lrec.sampleRate, { who: 'Linphone', hears: [TONE.scripted, TONE.baresip], own: TONE.linphone });
    t.diagnostic(`Linphone (PCMU) heard, its last 3 s (${silentWindows(lrec.samples, lrec.sampleRate)} silent 1-s windows in ${(lrec.samples.length / lrec.sampleRate).toFixed(1)} s):\n${lh.table}`);
    const brecPath = baresip.recording();
    assert.ok(brecPath, 'baresip wrote its received audio');
    const brec = readWav(brecPath);
    const b0 = (t0 - m.baresipJoinedAt) / 1000;
    const bh = assertHearing(span(brec.samples, brec.sampleRate, b0 + 0.5, b0 + (t1 - t0) / 1000 - 0.5), brec.sampleRate, { who: 'baresip', hears: [TONE.scripted, TONE.linphone], own: TONE.baresip });
    t.diagnostic(`baresip heard (${silentWindows(brec.samples, brec.sampleRate)} silent 1-s windows in ${(brec.samples.length / brec.sampleRate).toFixed(1)} s):\n${bh.table}`);

    // Dialling the ended meeting again is refused.
    const again = linphone.out.mark();
    linphone.send(`call ${m.uri} --audio-only`);
    const refused = await linphone.out.waitFor(/Call \d+ [^\n]*(error|declined|ended|failed)[^\n]*/i, { from: again, ms: 8000, what: "Linphone's second call refused" });
    t.diagnostic(`Linphone dialling the ended meeting: ${refused[0]}`);
    const gone = srv.trace.withPort(linphone.sipPort).filter((x) => x.dir === 'out' && / INVITE$/.test(x.cseq) && /^SIP\/2\.0 4\d\d/.test(x.startLine)).at(-1);
    assert.match(gone?.startLine ?? '', /^SIP\/2\.0 410 /, 'the server refuses the ended meeting with 410');
  });
});
