/**
 * baresip as a registered user: it registers through sipmeet (outbound proxy + registrar, digest auth on) and, being
 * authenticated, creates a meeting by dialling a new meeting URI (creation is challenged when auth is on).
 *
 * Debian bookworm's baresip 1.0 uses libre 1.1, whose digest client gives up (ENOSYS, "Function not implemented")
 * on any challenge whose algorithm is not MD5 — even when an MD5 challenge is offered next to it (RFC 8760 §2.4
 * says a UAC should pick the first algorithm it supports). sipmeet offers SHA-256 and MD5 by default, so this test
 * shows whether a stock Debian baresip can authenticate to sipmeet at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { requirePeer } from './peer-check.ts';
import { withScene } from './harness.ts';
import { Baresip } from './peers/baresip.ts';
import { TONE, USERS } from './meeting-setup.ts';
import { writeToneWav } from './wav.ts';

test('baresip registers with digest auth through sipmeet and creates a meeting', { timeout: 30_000 }, async (t) => {
  if (!requirePeer(t, 'baresip')) return;
  await withScene(USERS, async ({ srv, scene, dir }) => {
    const tone = writeToneWav(join(dir, 'tone.wav'), { freq: TONE.baresip, sampleRate: 8000, seconds: 30 });
    // Baresip.start waits for "{0/UDP/v4} 200 OK" to its REGISTER when given a password.
    const baresip = await Baresip.start({ user: 'bob', displayName: 'Bob', password: USERS.bob, server: srv.address, toneWav: tone, toneRate: 8000, onSpawn: (p) => scene.add(p) });
    await baresip.dial(srv.meetingUri('conf-by-bob'));
    const view = await srv.server.focus.get('conf-by-bob');
    assert.equal(view?.creator.aor, 'sip:bob@127.0.0.1', 'baresip (authenticated) created the meeting');
  });
});
