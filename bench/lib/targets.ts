/**
 * The servers under test, each started on 127.0.0.1 with an OS-chosen UDP port and considered ready once a
 * REGISTER sent to it gets a 200:
 *  - kamailio: Kamailio 5.6 with bench/kamailio/kamailio.cfg (in-memory usrloc, registrar save("location")),
 *    in the foreground, runtime dir and pid file under a temp dir;
 *  - sipmeet: `node registrar/cli/sipmeet.js server --host 127.0.0.1 --sip-port PORT --http-port 0`.
 */
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnManaged, freeUdpPort, findExecutable, type Managed } from './procs.ts';

/** `sipmeet-dgram`: sipmeet with SIPMEET_SIP_UDP=dgram (Node's dgram instead of the native batched UDP socket). */
export type TargetName = 'kamailio' | 'sipmeet' | 'sipmeet-dgram';

export interface Target {
  name: TargetName;
  port: number;
  proc: Managed;
  stop(): Promise<void>;
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const KAMAILIO_CFG = fileURLToPath(new URL('../kamailio/kamailio.cfg', import.meta.url));
export const SIPMEET_CLI = join(REPO_ROOT, 'registrar/cli/sipmeet.js');
export const KAMAILIO_INSTALL_HINT = 'apt-get install -y --no-install-recommends kamailio';

const MODULE_DIRS = [
  '/usr/lib/x86_64-linux-gnu/kamailio/modules',
  '/usr/lib/aarch64-linux-gnu/kamailio/modules',
  '/usr/lib64/kamailio/modules',
  '/usr/lib/kamailio/modules',
  '/usr/local/lib64/kamailio/modules',
  '/usr/local/lib/kamailio/modules',
];

export function kamailioPath(): string | undefined {
  return findExecutable('kamailio');
}

/** Kamailio's module directory (KAMAILIO_MODULES overrides), the one holding registrar.so. */
export function kamailioModuleDir(): string | undefined {
  const dirs = process.env.KAMAILIO_MODULES ? [process.env.KAMAILIO_MODULES] : MODULE_DIRS;
  return dirs.find((d) => existsSync(join(d, 'registrar.so')));
}

export function kamailioVersion(bin: string): Promise<string> {
  const p = spawnManaged('kamailio -v', bin, ['-v']);
  return p.exited.then(() => (p.stdout.toString().split('\n').find((l) => /^version:/.test(l)) ?? 'unknown').trim());
}

let probeSeq = 0;
/** A minimal REGISTER (RFC 3261 §10.2) for the readiness probe; no dependency on sipmeet's own code. */
function probeRegister(port: number, localPort: number): Buffer {
  const n = ++probeSeq;
  return Buffer.from(
    [
      `REGISTER sip:127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=z9hG4bK-probe-${process.pid}-${n}`,
      'Max-Forwards: 70',
      `From: <sip:probe@bench.invalid>;tag=probe${n}`,
      'To: <sip:probe@bench.invalid>',
      `Call-ID: probe-${process.pid}-${n}@bench.invalid`,
      `CSeq: ${n} REGISTER`,
      `Contact: <sip:probe@127.0.0.1:${localPort}>`,
      'Expires: 60',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

/**
 * Send a REGISTER every 200 ms until one gets "SIP/2.0 200"; reject after `timeoutMs`, or as soon as
 * `proc` exits (with its output, so a crash at start-up is visible).
 */
export function waitForRegister200(port: number, proc: Managed, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    let finished = false;
    const finish = (err?: Error): void => {
      if (finished) return;
      finished = true;
      clearInterval(tick);
      clearTimeout(deadline);
      sock.close();
      if (err) reject(err);
      else resolve();
    };
    const output = (): string => `--- stdout ---\n${proc.stdout.lines(20)}\n--- stderr ---\n${proc.stderr.lines(20)}`;
    sock.on('message', (msg) => {
      if (msg.toString('latin1').startsWith('SIP/2.0 200')) finish();
    });
    sock.on('error', (err) => finish(err));
    const send = (): void => {
      if (finished) return;
      sock.send(probeRegister(port, sock.address().port), port, '127.0.0.1');
    };
    const tick = setInterval(send, 200);
    const deadline = setTimeout(
      () => finish(new Error(`${proc.name}: no 200 to REGISTER on 127.0.0.1:${port} within ${timeoutMs} ms\n${output()}`)),
      timeoutMs,
    );
    void proc.exited.then((e) =>
      finish(new Error(`${proc.name} exited (code ${e.code}, signal ${e.signal}) before answering REGISTER\n${output()}`)),
    );
    sock.bind(0, '127.0.0.1', send);
  });
}

export async function startKamailio(opts: { bin: string; moduleDir: string; shmMb?: number }): Promise<Target> {
  const port = await freeUdpPort();
  const runDir = mkdtempSync(join(tmpdir(), 'sipmeet-bench-kamailio-'));
  const removeRunDir = (): void => rmSync(runDir, { recursive: true, force: true });
  process.once('exit', removeRunDir); // also on Ctrl-C / errors (installCleanup exits the process)
  const proc = spawnManaged('kamailio', opts.bin, [
    '-DD', // foreground, no fork of the main process
    '-E', // log to stderr
    '-f', KAMAILIO_CFG,
    '-L', opts.moduleDir,
    '-l', `udp:127.0.0.1:${port}`, // listen=udp:127.0.0.1:PORT
    '-Y', runDir,
    '-P', join(runDir, 'kamailio.pid'),
    '-m', String(opts.shmMb ?? 512), // shared memory (usrloc lives there)
    '-M', '16', // private memory per process
  ]);
  const stop = async (): Promise<void> => {
    await proc.stop();
    removeRunDir();
    process.off('exit', removeRunDir);
  };
  try {
    await waitForRegister200(port, proc);
  } catch (err) {
    await stop();
    throw err;
  }
  return { name: 'kamailio', port, proc, stop };
}

export async function startSipmeet(opts: { logLevel?: string; dgram?: boolean } = {}): Promise<Target> {
  if (!existsSync(SIPMEET_CLI)) throw new Error(`sipmeet CLI not found at ${SIPMEET_CLI}`);
  const port = await freeUdpPort();
  const proc = spawnManaged(
    'sipmeet',
    process.execPath,
    [SIPMEET_CLI, 'server', '--host', '127.0.0.1', '--sip-port', String(port), '--http-port', '0', '--log-level', opts.logLevel ?? 'warn'],
    { cwd: REPO_ROOT, ...(opts.dgram ? { env: { ...process.env, SIPMEET_SIP_UDP: 'dgram' } } : {}) },
  );
  const stop = async (): Promise<void> => {
    await proc.stop();
  };
  try {
    await waitForRegister200(port, proc);
  } catch (err) {
    await stop();
    throw err;
  }
  return { name: opts.dgram ? 'sipmeet-dgram' : 'sipmeet', port, proc, stop };
}
