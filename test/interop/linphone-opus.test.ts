/**
 * Linphone on Opus, registered with digest auth, in one meeting with baresip (Opus) and the scripted PCMU phone
 * that created it:
 * - everyone hears the other two tones and not its own (Linphone's and baresip's recordings, the scripted phone's
 *   RTP), with the count of silent 1-s windows reported;
 * - chat: Linphone → the meeting URI reaches the others as "[HH:MM:SS] Alice <sip:alice@…>: text"; the scripted
 *   phone's in-dialog MESSAGE appears on Linphone's stdout with Carol's name and the time; baresip's /message too;
 * - Linphone's SUBSCRIBE (Event: conference) is answered 200 and every NOTIFY it gets is answered 200 (server side),
 *   and its log shows the other participants;
 * - Linphone hangs up: the other two carry on and still hear each other (and no longer Linphone).
 * Linphone runs with delayed offer (`sdp_200_ack=1`): its INVITE carries no SDP, the focus offers in the 200 and
 * Linphone answers in the ACK (RFC 3261 §13.2.1). The PCMU test keeps the usual offer-in-INVITE path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from './peer-check.ts';
import { withMeeting, TONE } from './meeting-setup.ts';
import { assertHearing, silentWindows, span, tail } from './audio-check.ts';
import { assertChatLine, assertLinphoneSeesParticipants, assertRosterExchange } from './checks.ts';
import { readWav } from './wav.ts';
import { sleep } from '../../bench/lib/procs.ts';

test('Linphone on Opus (digest-registered) + baresip + scripted PCMU phone: N-1 tones, chat both ways, roster, Linphone leaves and the others carry on', { timeout: 90_000 }, async (t) => {
  if (!requirePeer(t, 'linphonec', 'baresip')) return;
  await withMeeting({ id: 'conf-opus', linphoneCodecs: 'opus', linphoneDelayedOffer: true }, async (m) => {
    const { carol, linphone, baresip, srv } = m;
    await sleep(1000); // jitter buffers settle
    const t0 = performance.now();
    await sleep(4000);
    const t1 = performance.now();

    assert.deepEqual(linphone.encoders(), ['MSOpusEnc'], "Linphone's encoder feeding its RTP sender (log)");
    const invite = srv.trace.withPort(linphone.sipPort).find((x) => x.dir === 'in' && x.startLine.startsWith('INVITE '));
    assert.doesNotMatch(invite?.text ?? '', /^m=audio/m, "Linphone's INVITE carries no SDP (delayed offer)");
    const ack = srv.trace.withPort(linphone.sipPort).find((x) => x.dir === 'in' && x.startLine.startsWith('ACK ') && x.callId === invite?.callId);
    assert.match(ack?.text ?? '', /^m=audio [1-9]\d* RTP\/AVP \d+/m, 'Linphone answered the focus offer in its ACK');
    const view = (await srv.server.focus.get(m.id))!;
    const codecs = Object.fromEntries(view.participants.map((p) => [p.displayName, p.media[0]?.codec]));
    assert.deepEqual(codecs, { Carol: 'PCMU', Alice: 'opus', Bob: 'opus' }, 'codecs negotiated by the focus');

    const carolHeard = assertHearing(carol.media.heard(t0, t1), 8000, { who: 'scripted phone (Carol)', hears: [TONE.linphone, TONE.baresip], own: TONE.scripted });
    t.diagnostic(`Carol (scripted, PCMU) heard, 4 s with all three in:\n${carolHeard.table}`);

    // Chat: Linphone → meeting URI (through its proxy, the server) → the scripted phone and baresip.
    linphone.chat(m.uri, 'hello from linphone');
    const toCarol = await carol.waitRequest('MESSAGE', (r) => r.body.toString().includes('hello from linphone'));
    assertChatLine(toCarol.body.toString(), 'Alice', 'sip:alice@127.0.0.1', 'hello from linphone');
    await baresip.out.waitFor(/\[\d\d:\d\d:\d\d\] Alice <sip:alice@127\.0\.0\.1>: hello from linphone/, { what: 'the relayed chat on baresip' });

    // The scripted phone's in-dialog MESSAGE → Linphone's stdout "Message received from …: [HH:MM:SS] Carol <…>: text".
    let mark = linphone.out.mark();
    assert.equal((await carol.chat('hello from carol')).status, 200, "the focus accepts the scripted phone's chat");
    const got = await linphone.waitMessage(/.*hello from carol/, { from: mark });
    assertChatLine(got.text, 'Carol', 'sip:carol@127.0.0.1', 'hello from carol');

    // baresip's /message (to its first contact, the meeting URI) → Linphone and the scripted phone.
    mark = linphone.out.mark();
    baresip.message('hello from baresip');
    const fromBob = await carol.waitRequest('MESSAGE', (r) => r.body.toString().includes('hello from baresip'));
    assertChatLine(fromBob.body.toString(), 'Bob', 'sip:bob@127.0.0.1', 'hello from baresip');
    assertChatLine((await linphone.waitMessage(/.*hello from baresip/, { from: mark })).text, 'Bob', 'sip:bob@127.0.0.1', 'hello from baresip');

    // Roster: SUBSCRIBE answered, NOTIFYs (Linphone's own join, then Bob's) answered 200, participants in its log.
    const notifies = await assertRosterExchange(srv, linphone, 2);
    t.diagnostic(`conference NOTIFYs to Linphone, all answered 200: ${notifies}`);
    await assertLinphoneSeesParticipants(linphone, ['sip:carol@127.0.0.1', 'sip:bob@127.0.0.1']);

    // Linphone hangs up; the others carry on.
    await linphone.terminateAll();
    const t2 = performance.now();
    await sleep(3000);
    const t3 = performance.now();
    const lrec = readWav(m.linphoneRec);
    const lh = assertHearing(tail(lrec.samples, lrec.sampleRate, 3), lrec.sampleRate, { who: 'Linphone', hears: [TONE.scripted, TONE.baresip], own: TONE.linphone });
    t.diagnostic(`Linphone (Opus) heard, its last 3 s in the meeting (${lrec.sampleRate} Hz recording, ` +
      `${silentWindows(lrec.samples, lrec.sampleRate)} silent 1-s windows in ${(lrec.samples.length / lrec.sampleRate).toFixed(1)} s):\n${lh.table}`);
    const after = assertHearing(carol.media.heard(t2 + 500, t3), 8000, { who: 'Carol after Linphone left', hears: [TONE.baresip], own: TONE.scripted, notHears: [TONE.linphone] });
    t.diagnostic(`Carol after Linphone left:\n${after.table}`);

    await baresip.hangup();
    const brecPath = baresip.recording();
    assert.ok(brecPath, 'baresip wrote its received audio (sndfile dump-*-dec.wav)');
    const brec = readWav(brecPath);
    const b0 = (t0 - m.baresipJoinedAt) / 1000;
    const bh = assertHearing(span(brec.samples, brec.sampleRate, b0 + 0.5, b0 + (t1 - t0) / 1000 - 0.5), brec.sampleRate, {
      who: 'baresip',
      hears: [TONE.scripted, TONE.linphone],
      own: TONE.baresip,
    });
    t.diagnostic(`baresip (Opus) heard with all three in (${brec.sampleRate} Hz recording, ` +
      `${silentWindows(brec.samples, brec.sampleRate)} silent 1-s windows in ${(brec.samples.length / brec.sampleRate).toFixed(1)} s):\n${bh.table}`);
    const bafter = assertHearing(tail(brec.samples, brec.sampleRate, 2), brec.sampleRate, { who: 'baresip after Linphone left', hears: [TONE.scripted], own: TONE.baresip, notHears: [TONE.linphone] });
    t.diagnostic(`baresip after Linphone left:\n${bafter.table}`);
  });
});
