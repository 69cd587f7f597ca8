/**
 * rtpengine (Sipwise, Debian `rtpengine-daemon`) as a benchmark target: started in userspace-only mode
 * (`--table=-1`: no kernel forwarding module), in the foreground in its own process group (killed with this
 * process, bench/lib/procs.ts), with no config file, control over the ng protocol on a free loopback port, media
 * ports from a given range. Ready once it answers an ng `ping` with `pong`.
 *
 * One call, two legs, is set up the way a SIP proxy does it: `offer` with the caller's SDP (its address:port),
 * `answer` with the callee's; rtpengine rewrites each SDP to its own ports. What the caller sends to the port in
 * the rewritten ANSWER goes to the callee, and vice versa.
 */
import { findExecutable, freeUdpPort, sleep, spawnManaged, type Managed } from '../lib/procs.ts';
import { NgClient, sdpMediaPort } from './ng.ts';

export interface Rtpengine {
  readonly proc: Managed;
  readonly ng: NgClient;
  readonly version: string;
  /** rtpengine's overload reports on stderr so far ("Too many packets in UDP receive queue…", "…exceeded 5 times"). */
  overloadMessages(): number;
  stop(): Promise<void>;
}

export const INSTALL_HINT = 'apt-get install -y --no-install-recommends rtpengine-daemon';

export function rtpengineBinary(): string | undefined {
  return findExecutable('rtpengine');
}

export async function startRtpengine(opts: { portMin: number; portMax: number; threads?: number }): Promise<Rtpengine> {
  const bin = rtpengineBinary();
  if (!bin) throw new Error(`rtpengine not found; install it with: ${INSTALL_HINT}`);
  const ngPort = await freeUdpPort();
  const args = [
    '--config-file=none', // ignore /etc/rtpengine/rtpengine.conf (kernel table 0, syslog)
    '--table=-1', // userspace forwarding only
    '--interface=127.0.0.1',
    `--listen-ng=127.0.0.1:${ngPort}`,
    '--foreground',
    '--log-stderr',
    '--log-level=4', // warnings and errors only: no per-packet cost
    `--port-min=${opts.portMin}`,
    `--port-max=${opts.portMax}`,
    '--delete-delay=0',
    ...(opts.threads ? [`--num-threads=${opts.threads}`] : []),
  ];
  const proc = spawnManaged('rtpengine', bin, args);
  let overloads = 0;
  proc.child.stderr?.on('data', (chunk: Buffer) => {
    overloads += (chunk.toString().match(/UDP receive queue/g) ?? []).length;
  });
  const ng = await NgClient.open(ngPort);
  for (let i = 0; ; i++) {
    try {
      const r = await ng.command({ command: 'ping' }, 300);
      if (r.result === 'pong') break;
    } catch (err) {
      if (proc.hasExited() || i > 30) {
        ng.close();
        await proc.stop();
        throw new Error(`rtpengine did not start: ${(err as Error).message}\n${proc.stderr.lines(10)}`);
      }
      await sleep(100);
    }
  }
  let version = 'unknown';
  const { spawnSync } = await import('node:child_process');
  const v = spawnSync(bin, ['--version'], { encoding: 'utf8' }); // prints on stderr
  const m = /Version:\s*(\S+)/.exec(`${v.stdout ?? ''}${v.stderr ?? ''}`);
  if (m) version = m[1]!;
  return {
    proc,
    ng,
    version,
    overloadMessages: () => overloads,
    async stop() {
      ng.close();
      await proc.stop();
    },
  };
}

const sdp = (port: number, kind: 'video' | 'audio', pt: number, rtpmap: string) =>
  `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=${kind} ${port} RTP/AVP ${pt}\r\na=rtpmap:${pt} ${rtpmap}\r\na=sendrecv\r\n`;

/**
 * One call through rtpengine: caller at `callerPort`, callee at `calleePort` (both 127.0.0.1). Returns the port the
 * caller must send to so that rtpengine forwards to the callee.
 */
export async function setupCall(
  engine: Rtpengine,
  callId: string,
  callerPort: number,
  calleePort: number,
  media: { kind: 'video' | 'audio'; pt: number; rtpmap: string } = { kind: 'video', pt: 96, rtpmap: 'VP8/90000' },
): Promise<{ callerSendsTo: number; calleeSendsTo: number }> {
  const offer = await engine.ng.command({ command: 'offer', 'call-id': callId, 'from-tag': 'caller', sdp: sdp(callerPort, media.kind, media.pt, media.rtpmap) });
  const answer = await engine.ng.command({
    command: 'answer', 'call-id': callId, 'from-tag': 'caller', 'to-tag': 'callee', sdp: sdp(calleePort, media.kind, media.pt, media.rtpmap),
  });
  return { callerSendsTo: sdpMediaPort(String(answer.sdp)), calleeSendsTo: sdpMediaPort(String(offer.sdp)) };
}

export async function deleteCall(engine: Rtpengine, callId: string): Promise<void> {
  await engine.ng.command({ command: 'delete', 'call-id': callId, 'from-tag': 'caller' }).catch(() => undefined);
}
