/**
 * Is a real peer program installed? The interop tests drive Debian's linphonec, baresip and sipp. Where one is
 * missing the test cannot say anything about interop: under `CI=true` that is a failure (CI must prove interop),
 * elsewhere the test is skipped with a loud message naming the package to install.
 */
import assert from 'node:assert/strict';
import { accessSync, constants } from 'node:fs';
import type { TestContext } from 'node:test';
import { findExecutable } from '../../bench/lib/procs.ts';

export type PeerName = 'linphonec' | 'baresip' | 'sipp';

/** The Debian package(s) that provide each peer. */
export const PEER_PACKAGES: Readonly<Record<PeerName, string>> = {
  linphonec: 'linphone-cli',
  baresip: 'baresip baresip-core',
  sipp: 'sip-tester',
};

/** Every package the interop suite uses, as one install line. */
export const INTEROP_APT_LINE =
  'apt-get install -y --no-install-recommends linphone-cli baresip baresip-core baresip-ffmpeg sip-tester sox libsox-fmt-all ffmpeg';

/** Files a peer needs besides its binary (baresip's codec and file modules). */
const EXTRA_FILES: Readonly<Record<PeerName, readonly string[]>> = {
  linphonec: [],
  baresip: ['g711.so', 'g722.so', 'opus.so', 'aufile.so', 'sndfile.so', 'stdio.so', 'account.so', 'menu.so'].map((m) => `${baresipModulePath()}/${m}`),
  sipp: [],
};

/** Where Debian's baresip keeps its modules. */
export function baresipModulePath(): string {
  return process.env.BARESIP_MODULE_PATH ?? '/usr/lib/baresip/modules';
}

/** What is missing for `peer` (empty when it can run). */
export function missingFor(peer: PeerName): string[] {
  const missing: string[] = [];
  if (!findExecutable(peer)) missing.push(`${peer} (not on PATH)`);
  for (const f of EXTRA_FILES[peer]) {
    try {
      accessSync(f, constants.R_OK);
    } catch {
      missing.push(f);
    }
  }
  return missing;
}

/**
 * True when every named peer can run. Otherwise: under CI=true the test fails (assert.fail with the apt-get line);
 * elsewhere it is skipped (`t.skip`) after a loud message on stderr, and the caller returns.
 */
export function requirePeer(t: TestContext, ...peers: PeerName[]): boolean {
  const missing = peers.flatMap((p) => missingFor(p));
  if (missing.length === 0) return true;
  const pkgs = [...new Set(peers.map((p) => PEER_PACKAGES[p]))].join(' ');
  const msg = `interop peer missing: ${missing.join(', ')} — install with: apt-get update && apt-get install -y --no-install-recommends ${pkgs} (all interop packages: ${INTEROP_APT_LINE})`;
  if (process.env.CI === 'true') assert.fail(`${msg} [required under CI=true]`);
  process.stderr.write(`\n!!!!!!!! SKIPPING ${t.name}: ${msg}\n\n`);
  t.skip(msg);
  return false;
}
