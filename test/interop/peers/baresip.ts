/**
 * baresip 1.0 (Debian) driven headless for interop tests: `baresip -f CONFDIR` with `config`, `accounts` and
 * `contacts` written for each run, commands on stdin (`/dial`, `/message`, `/hangup`, `/quit`) through a FIFO.
 *
 * No sound card: the aufile module plays a WAV as the microphone (once — make it longer than the call, or baresip
 * stops sending RTP), and the sndfile filter dumps what it decodes as `dump-<time>-dec.wav` in `snd_path`.
 * See shared/peers.md for the pitfalls (net_interface must be an address, sip_listen also opens TCP on PORT and TLS
 * on PORT+1).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeerProcess, type TextLog } from './process.ts';
import { freePortBlock } from '../ports.ts';
import { baresipModulePath } from '../peer-check.ts';

/** Audio codec names as baresip's `audio_codecs` account parameter spells them. */
export type BaresipCodec = 'opus' | 'PCMU' | 'PCMA' | 'G722';

const CODEC_SPEC: Readonly<Record<BaresipCodec, string>> = {
  opus: 'opus/48000/2',
  PCMU: 'PCMU',
  PCMA: 'PCMA',
  G722: 'G722/16000/1', // baresip registers G.722 at its audio rate; a bare "G722" matches nothing (and no match = every codec)
};

export interface BaresipOptions {
  user: string;
  displayName: string;
  /** The server (registrar/outbound proxy when `password` is given). */
  server: { host: string; port: number };
  /** Offered in this order (default: opus, PCMU, PCMA, G722 — baresip's own order). */
  codecs?: readonly BaresipCodec[];
  /** Microphone: a mono WAV (its rate goes into ausrc_srate). */
  toneWav: string;
  toneRate: number;
  /** Digest password: baresip registers through the server (outbound proxy) with it. */
  password?: string;
  /** The `contacts` file: `/message` goes to the first one. */
  contacts?: readonly string[];
  keepDir?: boolean;
  /** Called as soon as the process is spawned (a Scene adds it, so a failed start is still reported). */
  onSpawn?: (peer: Baresip) => void;
}

export class Baresip {
  readonly options: BaresipOptions;
  readonly dir: string;
  readonly recDir: string;
  readonly sipPort: number;
  readonly proc: PeerProcess;

  private constructor(o: BaresipOptions, dir: string, recDir: string, sipPort: number, proc: PeerProcess) {
    this.options = o;
    this.dir = dir;
    this.recDir = recDir;
    this.sipPort = sipPort;
    this.proc = proc;
  }

  static async start(o: BaresipOptions): Promise<Baresip> {
    const dir = mkdtempSync(join(tmpdir(), `sipmeet-baresip-${o.user}-`));
    const conf = join(dir, 'conf');
    const recDir = join(dir, 'rec');
    mkdirSync(conf);
    mkdirSync(recDir);
    const sipPort = await freePortBlock(2, { tcp: true }); // UDP+TCP on PORT, TLS on PORT+1
    const rtpBase = await freePortBlock(20);
    const config = [
      `module_path ${baresipModulePath()}`,
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      'dns_server 127.0.0.1:53',
      `audio_source aufile,${o.toneWav}`,
      `audio_player aufile,${join(recDir, 'play.wav')}`,
      `ausrc_srate ${o.toneRate}`,
      'ausrc_channels 1',
      `rtp_ports ${rtpBase}-${rtpBase + 19}`,
      `snd_path ${recDir}`,
      ...['stdio', 'g711', 'g722', 'opus', 'aufile', 'sndfile'].map((m) => `module ${m}.so`),
      ...['account', 'contact', 'menu'].map((m) => `module_app ${m}.so`),
      '',
    ].join('\n');
    writeFileSync(join(conf, 'config'), config);
    const codecs = (o.codecs ?? ['opus', 'PCMU', 'PCMA', 'G722']).map((c) => CODEC_SPEC[c]).join(',');
    const server = `sip:${o.server.host}:${o.server.port};transport=udp`;
    const account =
      o.password !== undefined
        ? `"${o.displayName}" <sip:${o.user}@${o.server.host};transport=udp>;auth_pass=${o.password};outbound="${server}";regint=60;answermode=auto;audio_codecs=${codecs}`
        : `"${o.displayName}" <sip:${o.user}@${o.server.host};transport=udp>;regint=0;answermode=auto;audio_codecs=${codecs}`;
    writeFileSync(join(conf, 'accounts'), `${account}\n`);
    writeFileSync(join(conf, 'contacts'), (o.contacts ?? []).map((c) => `"c" <${c}>`).join('\n') + '\n');
    const proc = PeerProcess.start('baresip', 'baresip', ['-f', conf], { env: { ...process.env, LANG: 'C' }, cwd: dir, fifo: join(dir, 'stdin.fifo') });
    const b = new Baresip(o, dir, recDir, sipPort, proc);
    o.onSpawn?.(b);
    try {
      await proc.out.waitFor(/baresip is ready\./, { ms: 10_000, what: 'baresip is ready' });
      if (o.password !== undefined) await b.waitRegistered();
    } catch (err) {
      await b.stop();
      throw err;
    }
    return b;
  }

  get out(): TextLog {
    return this.proc.out;
  }

  get aor(): string {
    return `sip:${this.options.user}@${this.options.server.host}`;
  }

  get label(): string {
    return `baresip ${this.options.user}`;
  }

  send(command: string): void {
    this.proc.send(command);
  }

  /** `user@host: {0/UDP/v4} 200 OK (…) [1 binding]` on stdout; a `Register: <error>` line fails at once. */
  async waitRegistered(ms = 8000): Promise<void> {
    const m = await this.out.waitFor(/\{0\/UDP\/v4\} 200 OK|Register: [^\n\x1b]*/, { ms, what: `baresip ${this.options.user} registered (200 OK to REGISTER)` });
    if (!m[0].includes('200 OK')) throw new Error(`baresip ${this.options.user} could not register: ${m[0]}`);
  }

  /** `/dial uri` and wait for `Call established`. */
  async dial(uri: string, ms = 10_000): Promise<void> {
    const from = this.out.mark();
    this.send(`/dial ${uri}`);
    const m = await this.out.waitFor(/Call established: \S+|session closed: [^\n]*/, { from, ms, what: `baresip's call to ${uri} established` });
    if (m[0].startsWith('session closed')) throw new Error(`baresip's call to ${uri} failed: ${m[0]}`);
  }

  /** Chat to the first contact. */
  message(text: string): void {
    this.send(`/message ${text}`);
  }

  async hangup(ms = 5000): Promise<void> {
    const from = this.out.mark();
    this.send('/hangup');
    await this.waitCallClosed({ from, ms });
  }

  /** `… terminated (duration: …)` or `session closed: …`. */
  async waitCallClosed(opts: { from?: number; ms?: number } = {}): Promise<string> {
    const m = await this.out.waitFor(/(terminated \(duration[^\n]*|session closed:[^\n]*)/, { from: opts.from ?? 0, ms: opts.ms ?? 5000, what: "baresip's call closed" });
    return m[1]!;
  }

  /** The received audio the sndfile filter wrote (the newest `dump-*-dec.wav`), or undefined. */
  recording(): string | undefined {
    const files = readdirSync(this.recDir).filter((f) => /^dump-.*-dec\.wav$/.test(f)).sort();
    const last = files.at(-1);
    return last ? join(this.recDir, last) : undefined;
  }

  tails(lines = 40): string {
    // The status line ("[0:00:03] audio=64000/64000 (bit/s)") is rewritten with \r: keep only its last state.
    const text = this.out.tail(lines * 4).replace(/[^\n]*\r(?=[^\n])/g, '').replace(/\x1b\[[0-9;]*m/g, '');
    return `--- baresip ${this.options.user} stdout (tail) ---\n${text.split('\n').slice(-lines).join('\n')}`;
  }

  /** `/quit`, then kill whatever is left; removes the run's directory unless `keep`. */
  async stop(keep = this.options.keepDir ?? false): Promise<void> {
    if (this.proc.running) {
      try {
        this.send('/quit');
      } catch {
        // stdin already gone
      }
    }
    await this.proc.stop(2500);
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}
