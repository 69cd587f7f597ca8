/**
 * baresip's fake camera (module fakevideo) reaches the bundled client through the focus, once as VP8 (module
 * vp8) and once as H.264 (module avcodec, RFC 6184): the client (`sipmeet join --video-out DIR`, Contact
 * `+sipmeet.video-streams`) gets baresip's video on its own labelled line and writes it to `DIR/<label>.ivf` or
 * `DIR/<label>.h264`, which ffprobe decodes with frames. In the VP8 run baresip's `/message` also reaches the client
 * as a chat event with baresip's name.
 *
 * baresip is started here with a video config of its own (peers/baresip.ts has no video modules): fakevideo as
 * source and display, 320×240, and only the one video codec module of the run.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findExecutable } from '../../bench/lib/procs.ts';
import { Cli, type CliEvent } from '../softclient/helpers.ts';
import { withScene, type ScenePeer } from './harness.ts';
import { baresipModulePath, INTEROP_APT_LINE, requirePeer } from './peer-check.ts';
import { PeerProcess } from './peers/process.ts';
import { freePortBlock } from './ports.ts';
import { USERS } from './meeting-setup.ts';
import { writeToneWav } from './wav.ts';

const run = promisify(execFile);

/** baresip's video modules and ffmpeg/ffprobe: like requirePeer, a failure under CI=true, else a loud skip. */
function requireVideo(t: TestContext, codecModule: string): boolean {
  if (!requirePeer(t, 'baresip')) return false;
  const missing = [`fakevideo.so`, codecModule].map((m) => `${baresipModulePath()}/${m}`).filter((f) => {
    try {
      accessSync(f, constants.R_OK);
      return false;
    } catch {
      return true;
    }
  });
  for (const exe of ['ffmpeg', 'ffprobe']) if (!findExecutable(exe)) missing.push(`${exe} (not on PATH)`);
  if (missing.length === 0) return true;
  const msg = `missing for baresip video: ${missing.join(', ')} — install with: ${INTEROP_APT_LINE}`;
  if (process.env.CI === 'true') assert.fail(`${msg} [required under CI=true]`);
  process.stderr.write(`\n!!!!!!!! SKIPPING ${t.name}: ${msg}\n\n`);
  t.skip(msg);
  return false;
}

class VideoBaresip implements ScenePeer {
  readonly label = 'baresip bob (video)';
  private constructor(readonly dir: string, readonly sipPort: number, readonly proc: PeerProcess) {}

  static async start(o: { server: { host: string; port: number }; codecModule: string; tone: string; contact: string; onSpawn: (p: VideoBaresip) => void }): Promise<VideoBaresip> {
    const dir = mkdtempSync(join(tmpdir(), 'sipmeet-baresip-video-'));
    const conf = join(dir, 'conf');
    mkdirSync(conf);
    const sipPort = await freePortBlock(2, { tcp: true });
    const rtpBase = await freePortBlock(20);
    writeFileSync(
      join(conf, 'config'),
      [
        `module_path ${baresipModulePath()}`,
        `sip_listen 127.0.0.1:${sipPort}`,
        'net_interface 127.0.0.1',
        'dns_server 127.0.0.1:53',
        `audio_source aufile,${o.tone}`,
        `audio_player aufile,${join(dir, 'play.wav')}`,
        'ausrc_srate 8000',
        'ausrc_channels 1',
        'video_source fakevideo,nil',
        'video_display fakevideo,nil',
        'video_size 320x240',
        'video_fps 15',
        `rtp_ports ${rtpBase}-${rtpBase + 19}`,
        ...['stdio', 'g711', 'aufile', 'fakevideo', o.codecModule.replace(/\.so$/, '')].map((m) => `module ${m}.so`),
        ...['account', 'contact', 'menu'].map((m) => `module_app ${m}.so`),
        '',
      ].join('\n'),
    );
    writeFileSync(join(conf, 'accounts'), `"Bob" <sip:bob@${o.server.host};transport=udp>;regint=0;answermode=auto;audio_codecs=PCMU\n`);
    writeFileSync(join(conf, 'contacts'), `"Meeting" <${o.contact}>\n`);
    const proc = PeerProcess.start('baresip', 'baresip', ['-f', conf], { env: { ...process.env, LANG: 'C' }, cwd: dir, fifo: join(dir, 'stdin.fifo') });
    const b = new VideoBaresip(dir, sipPort, proc);
    o.onSpawn(b);
    await proc.out.waitFor(/baresip is ready\./, { ms: 10_000, what: 'baresip is ready' });
    return b;
  }

  async dial(uri: string): Promise<void> {
    const from = this.proc.out.mark();
    this.proc.send(`/dial ${uri}`);
    const m = await this.proc.out.waitFor(/Call established: \S+|session closed: [^\n]*/, { from, ms: 10_000, what: `baresip's call to ${uri} established` });
    if (m[0].startsWith('session closed')) throw new Error(`baresip's call failed: ${m[0]}`);
  }

  tails(): string {
    const text = this.proc.out.tail(160).replace(/[^\n]*\r(?=[^\n])/g, '').replace(/\x1b\[[0-9;]*m/g, '');
    return `--- baresip (video) stdout (tail) ---\n${text.split('\n').slice(-40).join('\n')}`;
  }

  async stop(keep = false): Promise<void> {
    if (this.proc.running) {
      try {
        this.proc.send('/quit');
      } catch {
        // stdin gone
      }
    }
    await this.proc.stop(2500);
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The bundled CLI as a scene peer (its stdout/stderr tail in the failure report). */
function cliPeer(cli: Cli): ScenePeer {
  return {
    label: 'bundled client (sipmeet join)',
    sipPort: 0,
    tails: () => `--- sipmeet join stdout (tail) ---\n${cli.lines.slice(-30).join('\n')}`,
    stop: async () => {
      cli.kill();
      await Promise.race([cli.exited, new Promise((r) => setTimeout(r, 3000))]);
    },
  };
}

async function ffprobeFrames(path: string): Promise<{ codec: string; width: number; height: number; frames: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', path]);
  const s = (JSON.parse(stdout) as { streams: Array<{ codec_name: string; width: number; height: number; nb_read_frames: string }> }).streams[0]!;
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames) };
}

type Figures = { label: string; framesReceived: number; codec?: string; file?: string };

async function baresipVideo(t: TestContext, o: { module: string; encoding: string; ext: string; ffprobeCodec: string; chat: boolean }): Promise<void> {
  await withScene(USERS, async ({ srv, scene, dir }) => {
    const id = `conf-bv-${o.encoding.toLowerCase()}`;
    const uri = srv.meetingUri(id);
    const out = join(dir, 'video');
    const ann = new Cli(['join', uri, '--name', 'Ann', '--user', 'alice', '--password', USERS.alice, '--audio-in', 'tone:440', '--video-out', out, '--json', '--stats-interval', '0.5', '--duration', '40']);
    scene.add(cliPeer(ann));
    await ann.waitEvent('joined');
    const tone = writeToneWav(join(dir, 'tone.wav'), { freq: 1130, sampleRate: 8000, seconds: 60 });
    const bob = await VideoBaresip.start({ server: srv.address, codecModule: o.module, tone, contact: uri, onSpawn: (p) => scene.add(p) });
    await bob.dial(uri);

    // The client's line for baresip: labelled with its participant id, codec as negotiated.
    const line = await ann.waitEvent('media', (e) => e.kind === 'video' && typeof e.label === 'string' && e.direction === 'recvonly', 20_000);
    t.diagnostic(`baresip's line at the client: label ${String(line.label)}, ${String(line.codec)}`);
    // What each side was offered for video, from the server's trace: baresip's INVITE and the focus's answer, and
    // the focus's re-INVITE that added baresip's line at the client (its m= section labelled with baresip's id).
    const videoSections = (text: string) => (text.split(/\r?\n(?=m=)/).filter((x) => x.startsWith('m=video')).map((x) => x.split(/\r?\n/).filter((l) => /^(m=|a=rtpmap|a=fmtp|a=label|a=send|a=recv)/.test(l)).join(' | ')));
    for (const m of srv.trace.messages.filter((x) => /^(INVITE |SIP\/2\.0 200)/.test(x.startLine) && x.text.includes('m=video'))) {
      t.diagnostic(`${m.dir} ${m.peer} ${m.startLine}: ${videoSections(m.text).join(' || ')}`);
    }
    assert.equal(line.codec, `${o.encoding.toLowerCase()}/90000`, `the client takes baresip's ${o.encoding} on its line`);
    const figures = (e: CliEvent) => ((e as CliEvent & { videoStreams?: Figures[] }).videoStreams ?? []).find((v) => v.label === line.label);
    await ann.waitFor((c) => c.events.some((e) => e.event === 'stats' && (figures(e)?.framesReceived ?? 0) >= 10), 25_000, `10 frames from baresip (${o.encoding})`);

    if (o.chat) {
      bob.proc.send('/message hello from baresip');
      const chat = await ann.waitEvent('chat', (e) => e.text === 'hello from baresip');
      assert.equal(chat.name, 'Bob');
      assert.match(String(chat.at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    }

    ann.send('/leave');
    await ann.waitEvent('left');
    const file = join(out, `${String(line.label)}.${o.ext}`);
    assert.ok(existsSync(file), `${file} written (have: ${existsSync(out) ? readdirSync(out).join(', ') : 'nothing'})`);
    const probe = await ffprobeFrames(file);
    t.diagnostic(`ffprobe ${file}: ${JSON.stringify(probe)}`);
    assert.equal(probe.codec, o.ffprobeCodec);
    assert.deepEqual([probe.width, probe.height], [320, 240]);
    assert.ok(probe.frames > 0, `ffprobe decodes frames from baresip's ${o.encoding} (nb_read_frames ${probe.frames})`);
  });
}

test('baresip fakevideo as VP8 reaches the bundled client (IVF file with decoded frames); its /message is relayed', { timeout: 90_000 }, async (t) => {
  if (!requireVideo(t, 'vp8.so')) return;
  await baresipVideo(t, { module: 'vp8.so', encoding: 'VP8', ext: 'ivf', ffprobeCodec: 'vp8', chat: true });
});

test('baresip fakevideo as H.264 (avcodec) reaches the bundled client (.h264 file with decoded frames)', { timeout: 90_000 }, async (t) => {
  if (!requireVideo(t, 'avcodec.so')) return;
  await baresipVideo(t, { module: 'avcodec.so', encoding: 'H264', ext: 'h264', ffprobeCodec: 'h264', chat: false });
});
