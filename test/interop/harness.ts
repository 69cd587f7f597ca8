/**
 * The interop scene: a real sipmeet server on 127.0.0.1 (OS-chosen SIP port, a free RTP range, digest auth from a
 * users file), a SIP trace of everything it sends and receives (the transport's `onTrace` hook), and a scene that
 * owns every peer started for a test — on failure it prints the server's SIP trace for each peer's calls and each
 * peer's log tail, and whatever happens it stops every peer and the server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../registrar/log.ts';
import { resolveConfig } from '../../registrar/server/config.ts';
import { startServer, type RunningServer } from '../../registrar/server/server.ts';
import type { TraceEvent } from '../../registrar/sip/transport/types.ts';
import { freePortBlock } from './ports.ts';

/** One SIP message on the server's wire. */
export interface TracedMessage {
  readonly dir: 'in' | 'out';
  /** The peer's address:port. */
  readonly peer: string;
  readonly at: number;
  readonly text: string;
  /** First line, e.g. `NOTIFY sip:… SIP/2.0` or `SIP/2.0 200 OK`. */
  readonly startLine: string;
  readonly callId: string;
  /** CSeq number and method. */
  readonly cseq: string;
}

function header(text: string, long: string, compact?: string): string {
  const re = new RegExp(`^(?:${long}${compact ? `|${compact}` : ''})[ \\t]*:[ \\t]*(.*)$`, 'im');
  return re.exec(text.split(/\r?\n\r?\n/)[0] ?? '')?.[1]?.trim() ?? '';
}

/** Every message the server sent or received, in order. */
export class SipTrace {
  readonly messages: TracedMessage[] = [];

  record(ev: TraceEvent): void {
    const text = ev.bytes.toString('utf8');
    const peer = ev.address.includes(':') ? `[${ev.address}]:${ev.port}` : `${ev.address}:${ev.port}`;
    this.messages.push({
      dir: ev.direction,
      peer,
      at: ev.at,
      text,
      startLine: text.slice(0, Math.max(0, text.indexOf('\r\n'))),
      callId: header(text, 'Call-ID', 'i'),
      cseq: header(text, 'CSeq'),
    });
  }

  /** The first traced message matching `pred`, now or within `ms`. */
  async waitFor(pred: (m: TracedMessage) => boolean, ms = 3000): Promise<TracedMessage | undefined> {
    const end = Date.now() + ms;
    for (;;) {
      const m = this.messages.find(pred);
      if (m || Date.now() >= end) return m;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Messages exchanged with a peer's SIP port (any protocol). */
  withPort(port: number): TracedMessage[] {
    return this.messages.filter((m) => m.peer.endsWith(`:${port}`));
  }

  /**
   * NOTIFY transactions the server sent to `port` and the final responses it got for them:
   * `{ sent: distinct NOTIFYs (by Call-ID + CSeq), answered: status per NOTIFY }`.
   */
  notifies(port: number, event = 'conference'): { sent: string[]; answered: Map<string, number> } {
    const mine = this.withPort(port);
    const sent = [
      ...new Set(
        mine
          .filter((m) => m.dir === 'out' && m.startLine.startsWith('NOTIFY ') && header(m.text, 'Event', 'o').split(';')[0] === event)
          .map((m) => `${m.callId} ${m.cseq}`),
      ),
    ];
    const answered = new Map<string, number>();
    for (const m of mine) {
      if (m.dir !== 'in' || !m.startLine.startsWith('SIP/2.0 ') || !/ NOTIFY$/.test(m.cseq)) continue;
      const key = `${m.callId} ${m.cseq}`;
      const status = Number(m.startLine.split(' ')[1]);
      if (sent.includes(key) && status >= 200) answered.set(key, status);
    }
    return { sent, answered };
  }

  /** A readable trace of the messages with `port`: start lines and headers, bodies cut to `bodyChars`. */
  dump(port: number, opts: { last?: number; bodyChars?: number } = {}): string {
    const t0 = this.messages[0]?.at ?? 0;
    return this.withPort(port)
      .slice(-(opts.last ?? 60))
      .map((m) => {
        const [head = '', body = ''] = m.text.split(/\r?\n\r?\n/, 2);
        const cut = body.length > (opts.bodyChars ?? 400) ? `${body.slice(0, opts.bodyChars ?? 400)}…(${body.length} chars)` : body;
        return `---- +${m.at - t0} ms ${m.dir === 'in' ? `${m.peer} -> sipmeet` : `sipmeet -> ${m.peer}`}\n${head.replace(/\r/g, '')}\n\n${cut.replace(/\r/g, '')}`;
      })
      .join('\n');
  }
}

export interface InteropServer {
  readonly server: RunningServer;
  readonly host: string;
  readonly port: number;
  /** `{ host, port }` for peers. */
  readonly address: { host: string; port: number };
  readonly trace: SipTrace;
  /** `sip:<id>@127.0.0.1:<port>`. */
  meetingUri(id: string): string;
  close(): Promise<void>;
}

/**
 * Start sipmeet with digest auth for `users` (name → password), and trace its SIP. Meetings stay on the mixer
 * (`p2p: 'off'`) unless asked: the tests check what the focus's media path does with each peer.
 */
export async function startInteropServer(users: Record<string, string>, opts: { p2p?: 'auto' | 'off' } = {}): Promise<InteropServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sipmeet-interop-server-'));
  const usersFile = join(dir, 'users');
  writeFileSync(usersFile, Object.entries(users).map(([u, p]) => `${u}:${p}`).join('\n') + '\n');
  const rtp = await freePortBlock(100);
  const cfg = resolveConfig({
    host: '127.0.0.1',
    'sip-port': '0',
    'http-port': '0',
    'rtp-ports': `${rtp}-${rtp + 99}`,
    'log-level': 'silent',
    users: usersFile,
    p2p: opts.p2p ?? 'off',
  });
  const server = await startServer(cfg, silentLogger());
  const trace = new SipTrace();
  server.transport.onTrace((ev) => trace.record(ev));
  const port = server.sipPort;
  return {
    server,
    host: '127.0.0.1',
    port,
    address: { host: '127.0.0.1', port },
    trace,
    meetingUri: (id) => `sip:${id}@127.0.0.1:${port}`,
    async close() {
      server.transport.onTrace(undefined);
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Something the scene stops at the end and reports on failure. */
export interface ScenePeer {
  readonly label: string;
  /** The peer's SIP port (its messages are picked out of the server's trace). */
  readonly sipPort: number;
  tails(): string;
  stop(keep?: boolean): Promise<void>;
}

/**
 * Owns the peers of one test. `run(body)`: on failure prints, for every peer, the server's SIP trace with it and
 * its log tail; always stops every peer (in reverse order) and then the server.
 */
export class Scene {
  private readonly peers: ScenePeer[] = [];
  private readonly cleanups: Array<() => Promise<void> | void> = [];

  constructor(readonly srv: InteropServer) {}

  /** Register a peer (returned as is; adding one twice is harmless). */
  add<T extends ScenePeer>(peer: T): T {
    if (!this.peers.includes(peer)) this.peers.push(peer);
    return peer;
  }

  defer(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  report(): string {
    const parts: string[] = [];
    for (const p of this.peers) {
      parts.push(`\n======== ${p.label}: sipmeet's SIP trace with 127.0.0.1:${p.sipPort} ========\n${this.srv.trace.dump(p.sipPort)}`);
      parts.push(`\n======== ${p.label}: log tail ========\n${p.tails()}`);
    }
    return parts.join('\n');
  }

  async run(body: () => Promise<void>): Promise<void> {
    let failed = false;
    try {
      await body();
    } catch (err) {
      failed = true;
      process.stderr.write(`\n######## interop failure: ${err instanceof Error ? err.message : String(err)}\n${this.report()}\n########\n`);
      throw err;
    } finally {
      for (const p of [...this.peers].reverse()) {
        try {
          await p.stop((failed && process.env.SIPMEET_KEEP_INTEROP === '1') || process.env.SIPMEET_KEEP_INTEROP === 'always');
        } catch (e) {
          process.stderr.write(`stopping ${p.label}: ${String(e)}\n`);
        }
      }
      for (const fn of this.cleanups.reverse()) await fn();
      await this.srv.close();
    }
  }
}

/**
 * A fresh server with digest auth for `users`, a Scene and a scratch directory for one test: `body` runs inside
 * `Scene.run` (failure report, then every peer and the server stopped, the directory removed).
 */
export async function withScene(
  users: Record<string, string>,
  body: (ctx: { srv: InteropServer; scene: Scene; dir: string }) => Promise<void>,
  opts: { p2p?: 'auto' | 'off' } = {},
): Promise<void> {
  const srv = await startInteropServer(users, opts);
  const scene = new Scene(srv);
  const dir = mkdtempSync(join(tmpdir(), 'sipmeet-interop-'));
  scene.defer(() => rmSync(dir, { recursive: true, force: true }));
  await scene.run(() => body({ srv, scene, dir }));
}
