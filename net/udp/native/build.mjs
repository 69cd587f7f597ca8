#!/usr/bin/env node
/**
 * Builds the optional udp_mmsg addon (batched UDP I/O for the media relay's video path and the SIP UDP transport) —
 * run by `npm ci` / `npm install` (package.json "install"). Plain C against Node-API, compiled with the system C
 * compiler (cc, gcc or g++) and the headers that come with Node (<prefix>/include/node: official binaries, NodeSource and Debian's
 * libnode-dev ship them). Never fails the install: without Linux, a compiler or the headers it says why and both
 * use Node's dgram (net/udp/socket.ts).
 *
 *   node net/udp/native/build.mjs          build (skips when the .node is newer than the source)
 *   node net/udp/native/build.mjs --force  rebuild
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'udp_mmsg.c');
const out = join(here, 'build', 'udp_mmsg.node');
const say = (m) => console.log(`udp_mmsg: ${m}`);

function main() {
  if (process.platform !== 'linux') return say(`not built (${process.platform}: recvmmsg/sendmmsg are Linux); dgram is used`);
  if (!process.argv.includes('--force') && existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) return say('up to date');
  const prefix = dirname(dirname(process.execPath));
  const candidates = [process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'), join(prefix, 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  const inc = candidates.find((d) => d && existsSync(join(d, 'node_api.h')) && existsSync(join(d, 'uv.h')));
  if (!inc) return say(`not built: no Node headers (node_api.h, uv.h) in ${candidates.filter(Boolean).join(', ')}; dgram is used`);
  mkdirSync(dirname(out), { recursive: true });
  const flags = ['-O2', '-Wall', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=udp_mmsg', `-I${inc}`, '-o', out];
  const compilers = [...(process.env.CC ? [[process.env.CC]] : []), ['cc'], ['gcc'], ['g++', '-x', 'c']];
  const errors = [];
  for (const [cc, ...pre] of compilers) {
    try {
      execFileSync(cc, [...pre, src, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
      return say(`built ${out} with ${cc}`);
    } catch (err) {
      errors.push(`${cc}: ${err.code === 'ENOENT' ? 'not installed' : String(err.stderr ?? err.message).trim().split('\n').slice(0, 3).join(' | ')}`);
    }
  }
  say(`not built (${errors.join('; ')}); dgram is used`);
}

main();
