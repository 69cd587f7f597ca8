/**
 * Linphone's console client (linphonec, liblinphone 5.x) driven headless for interop tests.
 *
 * One run = a private HOME and a fresh rc file written from the template below (linphonec rewrites its rc on exit),
 * stdin on a FIFO, `-d 5 -l LOGFILE` for a full log. No sound card: `soundcard use files` makes a WAV the
 * microphone (`play`, looped) and the speaker (`record`, written at the codec's rate, mono).
 *
 * Events come from stdout (`Call 1 with sip:… connected.`, `Media streams established …`, `Message received from
 * …: text`, `Call 1 with … ended`) and from the log (registration state, the negotiated encoder, conference
 * NOTIFYs). See shared/peers.md for the settings that matter (auto_net_state_mon=0, register_only_when_network_is_up=0).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileFollower, PeerProcess, type TextLog } from './process.ts';
import { freePortBlock } from '../ports.ts';

/** Which audio codecs Linphone may offer: its defaults, Opus only or PCMU only. */
export type LinphoneCodecs = 'default' | 'opus' | 'pcmu';

export interface LinphoneOptions {
  /** SIP user part (also the digest username). */
  user: string;
  displayName: string;
  /** Digest password; with it Linphone registers to the server (the server is also its outbound proxy). */
  password?: string;
  /** Realm of the digest credentials (the server's --domain, or "sipmeet"). */
  realm?: string;
  server: { host: string; port: number };
  codecs?: LinphoneCodecs;
  /** Send INVITEs without SDP and answer the offer in the 2xx in the ACK ([sip] sdp_200_ack=1, "delayed offer"). */
  delayedOffer?: boolean;
  /** Register (default: true when a password is given). */
  register?: boolean;
  /** Kept on failure for inspection; removed by `stop()` otherwise. */
  keepDir?: boolean;
  /** Called as soon as the process is spawned (a Scene adds it, so a failed start is still reported). */
  onSpawn?: (peer: Linphone) => void;
}

/** liblinphone's audio codecs that are enabled by default (Debian 5.1.65 log: "default enablement: 1"), and G.722. */
const CODECS: ReadonlyArray<{ mime: string; rate: number; channels: number; in: readonly LinphoneCodecs[] }> = [
  { mime: 'opus', rate: 48000, channels: 2, in: ['default', 'opus'] },
  { mime: 'SILK', rate: 16000, channels: 1, in: ['default'] },
  { mime: 'speex', rate: 16000, channels: 1, in: ['default'] },
  { mime: 'speex', rate: 8000, channels: 1, in: ['default'] },
  { mime: 'PCMU', rate: 8000, channels: 1, in: ['default', 'pcmu'] },
  { mime: 'PCMA', rate: 8000, channels: 1, in: ['default'] },
  { mime: 'G729', rate: 8000, channels: 1, in: ['default'] },
  { mime: 'G722', rate: 8000, channels: 1, in: [] },
  { mime: 'GSM', rate: 8000, channels: 1, in: [] },
];

function rcFile(o: LinphoneOptions, sipPort: number, rtpPort: number): string {
  const register = o.register ?? o.password !== undefined;
  const identity = `"${o.displayName}" <sip:${o.user}@${o.server.host}>`;
  const codecs = o.codecs ?? 'default';
  const lines = [
    '[sip]',
    `sip_port=${sipPort}`,
    'sip_tcp_port=-1',
    'sip_tls_port=-1',
    // Without these two, linphonec creates no SIP listening point / never REGISTERs on a box without a "network up" event.
    'auto_net_state_mon=0',
    'register_only_when_network_is_up=0',
    'guess_hostname=0',
    'use_ipv6=0',
    `contact=${identity}`,
    `sdp_200_ack=${o.delayedOffer ? 1 : 0}`,
    // The server is the proxy: without one, Linphone sends chat to port 5060 of the URI's host whatever its port.
    'default_proxy=0',
    '',
    '[proxy_0]',
    `reg_proxy=<sip:${o.server.host}:${o.server.port};transport=udp>`,
    `reg_identity=${identity}`,
    `reg_sendregister=${register ? 1 : 0}`,
    'reg_expires=600',
    'publish=0',
    '',
  ];
  if (o.password !== undefined) {
    lines.push('[auth_info_0]', `username=${o.user}`, `userid=${o.user}`, `passwd=${o.password}`, `realm=${o.realm ?? 'sipmeet'}`, '');
  }
  lines.push('[rtp]', `audio_rtp_port=${rtpPort}`, `video_rtp_port=${rtpPort + 2}`, `text_rtp_port=${rtpPort + 4}`, 'bind_address=127.0.0.1', '');
  lines.push('[sound]', 'echocancellation=0', '');
  if (codecs !== 'default') {
    CODECS.forEach((c, i) => {
      lines.push(`[audio_codec_${i}]`, `mime=${c.mime}`, `rate=${c.rate}`, `channels=${c.channels}`, `enabled=${c.in.includes(codecs) ? 1 : 0}`, '');
    });
  }
  lines.push('[video]', 'capture=0', 'display=0', '');
  return lines.join('\n');
}

export class Linphone {
  readonly options: LinphoneOptions;
  readonly dir: string;
  readonly sipPort: number;
  readonly rtpPort: number;
  readonly proc: PeerProcess;
  private readonly logFollower: FileFollower;

  private constructor(o: LinphoneOptions, dir: string, sipPort: number, rtpPort: number, proc: PeerProcess, log: FileFollower) {
    this.options = o;
    this.dir = dir;
    this.sipPort = sipPort;
    this.rtpPort = rtpPort;
    this.proc = proc;
    this.logFollower = log;
  }

  /** Start linphonec (file-mode sound) and wait for its prompt; with a password, wait until it is registered. */
  static async start(o: LinphoneOptions): Promise<Linphone> {
    const dir = mkdtempSync(join(tmpdir(), `sipmeet-linphone-${o.user}-`));
    const home = join(dir, 'home');
    mkdirSync(join(home, '.local', 'share', 'linphone'), { recursive: true });
    const sipPort = await freePortBlock(1);
    const rtpPort = await freePortBlock(6);
    const rc = join(dir, 'linphonerc');
    writeFileSync(rc, rcFile(o, sipPort, rtpPort));
    const logPath = join(dir, 'linphone.log');
    const proc = PeerProcess.start('linphonec', 'linphonec', ['-c', rc, '-d', '5', '-l', logPath], {
      env: { ...process.env, HOME: home, LANG: 'C' },
      cwd: dir,
      fifo: join(dir, 'stdin.fifo'),
    });
    const l = new Linphone(o, dir, sipPort, rtpPort, proc, new FileFollower(logPath));
    o.onSpawn?.(l);
    try {
      await proc.out.waitFor(/linphonec> /, { ms: 10_000, what: 'the linphonec prompt' });
      l.send('soundcard use files');
      await proc.out.waitFor(/Using wav files instead of soundcard/, { ms: 5000, what: 'file-mode sound' });
      if (o.register ?? o.password !== undefined) await l.waitRegistered();
    } catch (err) {
      await l.stop();
      throw err;
    }
    return l;
  }

  /** stdout + stderr. */
  get out(): TextLog {
    return this.proc.out;
  }

  /** The `-l` log (liblinphone, belle-sip, mediastreamer at level 5). */
  get log(): TextLog {
    this.logFollower.poll();
    return this.logFollower.log;
  }

  get aor(): string {
    return `sip:${this.options.user}@${this.options.server.host}`;
  }

  get label(): string {
    return `linphonec ${this.options.user}`;
  }

  send(command: string): void {
    this.proc.send(command);
  }

  async waitRegistered(ms = 8000): Promise<void> {
    this.logFollower.poll();
    await this.logFollower.log.waitFor(/to \[LinphoneRegistrationOk\]/, { ms, what: `${this.options.user} registered (LinphoneRegistrationOk in the log)` });
  }

  /** The microphone: a WAV file, looped. */
  play(wav: string): void {
    this.send(`play ${wav}`);
  }

  /** The speaker: received audio written to a WAV file (the codec's rate, mono). */
  record(wav: string): void {
    this.send(`record ${wav}`);
  }

  /** Dial `uri` (audio only) and wait for the call to be connected and its media established. */
  async call(uri: string, ms = 10_000): Promise<void> {
    const from = this.out.mark();
    this.send(`call ${uri} --audio-only`);
    await this.out.waitFor(/Call \d+ with \S+ connected\./, { from, ms, what: `Linphone's call to ${uri} connected` });
    await this.out.waitFor(/Media streams established with/, { from, ms, what: `Linphone's media streams established (${uri})` });
  }

  /** Send chat `text` to `uri` (the rest of the command line is the text). */
  chat(uri: string, text: string): void {
    this.send(`chat ${uri} ${text}`);
  }

  /** Wait for `Message received from <address>: <text>` with a text matching `text`. */
  async waitMessage(text: RegExp, opts: { from?: number; ms?: number } = {}): Promise<{ from: string; text: string }> {
    const m = await this.out.waitFor(new RegExp(`Message received from (\\S+): (${text.source})`), {
      from: opts.from ?? 0,
      ms: opts.ms ?? 5000,
      what: `a chat on Linphone's stdout matching ${text}`,
    });
    return { from: m[1]!, text: m[2]! };
  }

  /** Wait for `Call N with … ended (reason).`; returns the reason text. */
  async waitCallEnded(opts: { from?: number; ms?: number } = {}): Promise<string> {
    const m = await this.out.waitFor(/Call \d+ with \S+ ended \(([^)]*)\)/, { from: opts.from ?? 0, ms: opts.ms ?? 5000, what: "Linphone's call ended" });
    return m[1]!;
  }

  /** Hang up every call and wait until Linphone reports it ended. */
  async terminateAll(ms = 5000): Promise<void> {
    const from = this.out.mark();
    this.send('terminate all');
    await this.waitCallEnded({ from, ms });
  }

  /** The audio encoder mediastreamer linked to the RTP sender (e.g. MSOpusEnc, MSUlawEnc), from the log. */
  encoders(): string[] {
    return [...new Set(this.log.findAll(/ms_filter_link: (MS\w+):0x[0-9a-f]+,\d+-->MSRtpSend/).map((m) => m[1]!))];
  }

  /** A failure report: stdout tail and log tail. */
  tails(lines = 60): string {
    return `--- linphonec ${this.options.user} stdout (tail) ---\n${this.out.tail(lines)}\n--- linphonec ${this.options.user} log (tail) ---\n${this.log.tail(lines)}`;
  }

  /** `quit`, then kill whatever is left; removes the run's directory unless `keep`. */
  async stop(keep = this.options.keepDir ?? false): Promise<void> {
    if (this.proc.running) {
      try {
        this.send('quit');
      } catch {
        // stdin already gone
      }
    }
    await this.proc.stop(2500);
    this.logFollower.close();
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}
