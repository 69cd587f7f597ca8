/**
 * Meetings are isolated: a participant of meeting A who sends to meeting B's endpoint port is dropped and counted
 * there, and B hears nothing of A (nor A of B) — two meetings with different tones on one relay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMediaRelay } from '../../media-relay/relay.ts';
import { mulawDecode, mulawEncode } from '../../media/codec/mulaw.ts';
import { silentLogger } from '../../registrar/log.ts';
import { toneAmplitude } from '../audio/spectrum.ts';
import { PCMU, RtpPeer, ToneSender, remoteOf, sleep, testPortRange, until } from './helpers.ts';

function heard(peer: RtpPeer, freq: number): number {
  const pkts = peer.rtp().slice(-40);
  const pcm = new Int16Array(pkts.length * 160);
  pkts.forEach((p, i) => pcm.set(mulawDecode(p.payload), i * 160));
  return toneAmplitude(pcm, 8000, freq);
}

test('meeting A\'s participant sending into meeting B\'s port is dropped and counted; neither meeting hears the other', async () => {
  const relay = await createMediaRelay({ host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(), audio: 'inline' });
  const peers: RtpPeer[] = [];
  const senders: ToneSender[] = [];
  try {
    const join = async (meetingId: string, participantId: string) => {
      const alloc = await relay.allocateEndpoint({ meetingId, participantId, kind: 'audio', rtcpMux: true });
      const peer = await RtpPeer.open();
      peers.push(peer);
      await relay.setRemote(alloc.endpointId, remoteOf(peer, [PCMU]));
      return { alloc, peer };
    };
    const alice = await join('A', 'alice');
    const bob = await join('A', 'bob');
    const carol = await join('B', 'carol');
    const dave = await join('B', 'dave');

    const aliceTone = new ToneSender(alice.peer, alice.alloc.rtpPort, 440, 0xa, (pcm) => mulawEncode(pcm));
    const carolTone = new ToneSender(carol.peer, carol.alloc.rtpPort, 660, 0xc, (pcm) => mulawEncode(pcm));
    senders.push(aliceTone, carolTone);
    carolTone.start();
    await until(() => relay.endpointStats(carol.alloc.endpointId)!.latchedTo !== undefined, 2000, 'carol latched');
    aliceTone.start();
    // Alice also sprays her tone at carol's port (a misconfigured or hostile client of meeting A).
    const stray = new ToneSender(alice.peer, carol.alloc.rtpPort, 440, 0xa, (pcm) => mulawEncode(pcm));
    senders.push(stray);
    stray.start();
    await sleep(1200);

    const carolStats = relay.endpointStats(carol.alloc.endpointId)!;
    assert.ok((carolStats.dropped['wrong-source'] ?? 0) >= 20, `stray packets dropped at carol's port: ${JSON.stringify(carolStats.dropped)}`);
    assert.deepEqual(carolStats.latchedTo, { address: '127.0.0.1', port: carol.peer.port });

    assert.ok(heard(bob.peer, 440) > 1000, 'bob hears alice');
    assert.ok(heard(bob.peer, 660) < 50, `bob hears nothing of meeting B (${heard(bob.peer, 660)})`);
    assert.ok(heard(dave.peer, 660) > 1000, 'dave hears carol');
    assert.ok(heard(dave.peer, 440) < 50, `dave hears nothing of meeting A (${heard(dave.peer, 440)})`);
    assert.ok(heard(alice.peer, 660) < 50, 'alice hears nothing of meeting B');
    assert.ok(heard(carol.peer, 440) < 50, 'carol hears nothing of meeting A');

    const a = await relay.stats('A');
    const b = await relay.stats('B');
    assert.deepEqual(a.streams.map((s) => s.participantId).sort(), ['alice', 'bob']);
    assert.deepEqual(b.streams.map((s) => s.participantId).sort(), ['carol', 'dave']);
  } finally {
    for (const s of senders) s.stop();
    await relay.close();
    for (const p of peers) p.close();
  }
});
