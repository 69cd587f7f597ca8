/**
 * Mixed audio through the relay on real UDP sockets: three PCMU participants send 440, 660 and 880 Hz; each hears
 * the other two and not itself (N−1); its stream has the relay's SSRC, sequence +1 and timestamp +160 per packet;
 * silence on a line raises 'media-timeout'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMediaRelay } from '../../media-relay/relay.ts';
import type { RelayEvent } from '../../media-relay/api.ts';
import { mulawDecode, mulawEncode } from '../../media/codec/mulaw.ts';
import { silentLogger } from '../../registrar/log.ts';
import { toneAmplitude } from '../audio/spectrum.ts';
import { PCMU, RtpPeer, ToneSender, remoteOf, rtp, sleep, testPortRange, until } from './helpers.ts';

/** Decoded PCM of the last `ms` of what `peer` received. */
function lastPcm(peer: RtpPeer, ms: number): Int16Array {
  const pkts = peer.rtp().slice(-Math.round(ms / 20));
  const pcm = new Int16Array(pkts.length * 160);
  pkts.forEach((p, i) => pcm.set(mulawDecode(p.payload), i * 160));
  return pcm;
}

test('three participants, 440/660/880 Hz: each hears the other two and not itself; continuous seq/ts per listener (mixing in a worker thread)', async () => {
  const relay = await createMediaRelay({ host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(), audio: 'worker', audioWorkers: 1 });
  const names = ['p440', 'p660', 'p880'] as const;
  const freqs = { p440: 440, p660: 660, p880: 880 };
  const peers: Record<string, RtpPeer> = {};
  const senders: ToneSender[] = [];
  const endpoints: Record<string, string> = {};
  const events: RelayEvent[] = [];
  relay.onEvent((e) => events.push(e));
  try {
    for (const [i, name] of names.entries()) {
      const alloc = await relay.allocateEndpoint({ meetingId: 'tones', participantId: name, kind: 'audio', rtcpMux: true });
      const peer = await RtpPeer.open();
      await relay.setRemote(alloc.endpointId, remoteOf(peer, [PCMU]));
      peers[name] = peer;
      endpoints[name] = alloc.endpointId;
      senders.push(new ToneSender(peer, alloc.rtpPort, freqs[name], 0x1000 + i, (pcm) => mulawEncode(pcm)));
    }
    for (const s of senders) s.start();
    await sleep(1500);
    const speakerWhileTalking = relay.activeSpeaker('tones');
    for (const s of senders) s.stop();

    for (const name of names) {
      const pcm = lastPcm(peers[name]!, 800);
      assert.ok(pcm.length >= 160 * 30, `${name} received audio`);
      const amp = Object.fromEntries(names.map((n) => [n, toneAmplitude(pcm, 8000, freqs[n])]));
      const others = names.filter((n) => n !== name);
      for (const o of others) assert.ok(amp[o]! > 1000, `${name} hears ${o}: ${JSON.stringify(amp)}`);
      assert.ok(amp[name]! < 0.05 * Math.min(...others.map((o) => amp[o]!)), `${name} does not hear itself: ${JSON.stringify(amp)}`);

      const rtp = peers[name]!.rtp();
      const stats = relay.endpointStats(endpoints[name]!)!;
      assert.ok(rtp.every((p) => p.ssrc === stats.localSsrc && p.payloadType === 0), 'relay SSRC and the listener PT');
      for (let i = 1; i < rtp.length; i++) {
        assert.equal(rtp[i]!.sequenceNumber, (rtp[i - 1]!.sequenceNumber + 1) & 0xffff, `${name} seq continuous at ${i}`);
        assert.equal(rtp[i]!.timestamp, (rtp[i - 1]!.timestamp + 160) >>> 0, `${name} ts +160 at ${i}`);
      }
      assert.ok(rtp[0]!.marker, 'marker on the first packet (RFC 3551 §4.1)');
    }
    const speakers = events.filter((e) => e.type === 'active-speaker' && e.meetingId === 'tones');
    assert.ok(speakers.length > 0 && speakers.every((e) => e.type === 'active-speaker' && (e.participantId === undefined || names.includes(e.participantId as never))), 'active-speaker events name a participant');
    assert.ok(names.includes(speakerWhileTalking as never), 'someone is the active speaker while all three talk');
  } finally {
    for (const s of senders) s.stop();
    await relay.close();
    for (const p of Object.values(peers)) p.close();
  }
});

test('mic off (recvonly) takes a participant out of the mix; back on without a new call', async () => {
  const relay = await createMediaRelay({ host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(), audio: 'inline' });
  const a = await relay.allocateEndpoint({ meetingId: 'mute', participantId: 'a', kind: 'audio', rtcpMux: true });
  const b = await relay.allocateEndpoint({ meetingId: 'mute', participantId: 'b', kind: 'audio', rtcpMux: true });
  const pa = await RtpPeer.open();
  const pb = await RtpPeer.open();
  const tone = new ToneSender(pa, a.rtpPort, 440, 0xaaa, (pcm) => mulawEncode(pcm));
  try {
    await relay.setRemote(a.endpointId, remoteOf(pa, [PCMU]));
    await relay.setRemote(b.endpointId, remoteOf(pb, [PCMU]));
    tone.start();
    await sleep(700);
    assert.ok(toneAmplitude(lastPcm(pb, 300), 8000, 440) > 1000, 'b hears a');
    await relay.setDirection(a.endpointId, 'recvonly'); // a's mic off
    await sleep(400);
    assert.ok(toneAmplitude(lastPcm(pb, 300), 8000, 440) < 100, 'b no longer hears a');
    assert.ok((relay.endpointStats(a.endpointId)!.dropped['not-sending'] ?? 0) > 0, 'a\'s packets are dropped while muted');
    await relay.setDirection(a.endpointId, 'sendrecv'); // mic on again
    await sleep(600);
    assert.ok(toneAmplitude(lastPcm(pb, 300), 8000, 440) > 1000, 'b hears a again');
  } finally {
    tone.stop();
    await relay.close();
    pa.close();
    pb.close();
  }
});

test('no packet for the configured time → media-timeout once, naming the line', async () => {
  const relay = await createMediaRelay({
    host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(), audio: 'inline', mediaTimeoutMs: 300,
  });
  const events: RelayEvent[] = [];
  relay.onEvent((e) => events.push(e));
  const a = await relay.allocateEndpoint({ meetingId: 'quiet', participantId: 'a', kind: 'audio', rtcpMux: true });
  const pa = await RtpPeer.open();
  const tone = new ToneSender(pa, a.rtpPort, 440, 1, (pcm) => mulawEncode(pcm));
  try {
    await relay.setRemote(a.endpointId, remoteOf(pa, [PCMU]));
    let stoppedAt = 0;
    for (let i = 0; i < 10; i++) {
      tone.sendOne();
      stoppedAt = performance.now();
      await sleep(50); // 500 ms of traffic, never 300 ms apart
    }
    assert.deepEqual(events.filter((e) => e.type === 'media-timeout'), []);
    await until(() => events.some((e) => e.type === 'media-timeout'), 2000, 'media-timeout');
    const ev = events.find((e) => e.type === 'media-timeout')!;
    assert.ok(performance.now() - stoppedAt >= 290, 'not before 300 ms of silence');
    assert.equal(ev.type === 'media-timeout' && ev.endpointId, a.endpointId);
    assert.equal(ev.type === 'media-timeout' && ev.participantId, 'a');
    assert.ok(ev.type === 'media-timeout' && ev.silentMs >= 300);
    await sleep(700);
    assert.equal(events.filter((e) => e.type === 'media-timeout').length, 1, 'once per silence');
  } finally {
    await relay.close();
    pa.close();
  }
});

test('RFC 4733 telephone-event is reported as a DTMF event, not mixed', async () => {
  const relay = await createMediaRelay({ host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(), audio: 'inline' });
  const events: RelayEvent[] = [];
  relay.onEvent((e) => events.push(e));
  const a = await relay.allocateEndpoint({ meetingId: 'dtmf', participantId: 'a', kind: 'audio', rtcpMux: true });
  const b = await relay.allocateEndpoint({ meetingId: 'dtmf', participantId: 'b', kind: 'audio', rtcpMux: true });
  const pa = await RtpPeer.open();
  const pb = await RtpPeer.open();
  try {
    const te = { payloadType: 101, name: 'telephone-event', clockRate: 8000 };
    await relay.setRemote(a.endpointId, { ...remoteOf(pa, [PCMU]), telephoneEvent: te });
    await relay.setRemote(b.endpointId, remoteOf(pb, [PCMU]));
    // Digit 5: event 5, volume 10, durations growing, the last three with the E bit (RFC 4733 §2.5.1.4).
    const ev = (dur: number, end: boolean) => Uint8Array.from([5, (end ? 0x80 : 0) | 10, dur >> 8, dur & 0xff]);
    let seq = 1;
    for (const [dur, end] of [[160, false], [320, false], [480, false], [640, true], [640, true], [640, true]] as const) {
      pa.send(rtp(101, seq++, 8000, 0xd7, ev(dur, end), dur === 160), a.rtpPort);
      await sleep(20);
    }
    await until(() => events.some((e) => e.type === 'dtmf'), 2000, 'dtmf event');
    assert.deepEqual(events.filter((e) => e.type === 'dtmf'), [{ type: 'dtmf', meetingId: 'dtmf', participantId: 'a', digit: '5' }]);
  } finally {
    await relay.close();
    pa.close();
    pb.close();
  }
});

test('media timeout on the injected clock: none while the line is inactive (hold / peer-to-peer), liveness restarts when it is back', async () => {
  const { ManualClock } = await import('../../registrar/sip/clock.ts');
  const clock = new ManualClock(0);
  const relay = await createMediaRelay({
    host: '127.0.0.1', advertise: '127.0.0.1', portRange: testPortRange(), logger: silentLogger(), clock, mediaTimeoutMs: 30_000,
    audioDriver: () => ({ addLeg() {}, updateLeg() {}, removeLeg() {}, push() {}, close() {} }),
  });
  const events: RelayEvent[] = [];
  relay.onEvent((e) => events.push(e));
  const pa = await RtpPeer.open();
  try {
    const a = await relay.allocateEndpoint({ meetingId: 'hold', participantId: 'a', kind: 'audio', rtcpMux: true });
    await relay.setRemote(a.endpointId, remoteOf(pa, [PCMU]));
    clock.advance(29_999);
    assert.equal(events.length, 0);
    clock.advance(1);
    assert.deepEqual(events, [{ type: 'media-timeout', meetingId: 'hold', participantId: 'a', endpointId: a.endpointId, silentMs: 30_000 }]);
    await relay.setDirection(a.endpointId, 'inactive');
    clock.advance(300_000);
    assert.equal(events.length, 1, 'an inactive line expects no media');
    await relay.setDirection(a.endpointId, 'sendrecv');
    clock.advance(20_000);
    pa.send(rtp(0, 1, 160, 0xa, new Uint8Array(160)), a.rtpPort);
    await until(() => relay.endpointStats(a.endpointId)!.packetsIn === 1, 2000, 'packet');
    clock.advance(29_999);
    assert.equal(events.length, 1, '30 s counted from the last packet');
    clock.advance(1);
    assert.equal(events.length, 2);
  } finally {
    await relay.close();
    pa.close();
  }
});
