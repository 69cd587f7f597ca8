/**
 * Everything the client commands print goes through here: human lines, or with --json one JSON object per line
 * per event (`{"event":"chat","from":…,"name":…,"at":…,"text":…}`), on stdout; errors as one line on stderr.
 * This is the only module of softclient/ that writes to the process's streams.
 *
 * JSON events: joined, media, roster, chat, notice, stats, left, ended, registered, unregistered, meetings,
 * cancelled, error (the error is also written, as one line, to stderr).
 */
import type { EndedInfo, JoinedInfo, MediaInfo } from '../call.ts';
import type { ChatLine } from '../chat/cpim.ts';
import type { MediaFigures } from '../media/call-media.ts';
import type { VideoStats } from '../media/video-stream.ts';
import type { RosterChange, RosterUser } from '../roster/roster.ts';

export interface MeetingSummary {
  readonly id: string;
  readonly uri: string;
  readonly creator: { readonly aor: string; readonly displayName: string };
  readonly createdAt: string;
  readonly state?: string;
  readonly participants: ReadonlyArray<{ readonly displayName: string; readonly aor: string; readonly state?: string }>;
}

/** HH:MM:SS in the local time zone. */
export function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '--:--:--';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function who(u: RosterUser): string {
  const host = u.roles.includes('host') ? ' (host)' : '';
  const audio = u.media.find((m) => m.type === 'audio');
  const muted = audio && audio.status !== 'sendrecv' && audio.status !== 'sendonly' ? ', mic off' : '';
  return `${u.name}${host}${muted}`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export class Output {
  /** What each participant's line last said (human mode prints a `~` line only when it changes). */
  private readonly shown = new Map<string, string>();
  /** The media mode last shown (issue 8: a person sees peer-to-peer and each switch). */
  private mode: string | undefined;

  constructor(
    readonly json: boolean,
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly err: NodeJS.WritableStream = process.stderr,
  ) {}

  private line(s: string): void {
    this.out.write(`${s}\n`);
  }

  private event(event: string, fields: object): void {
    this.line(JSON.stringify({ event, ...fields }));
  }

  /** A failure: one line on stderr (and an `error` event with --json). */
  error(message: string, exitCode?: number): void {
    if (this.json) this.event('error', { message, ...(exitCode === undefined ? {} : { exitCode }) });
    this.err.write(`sipmeet: ${message}\n`);
  }

  /** A local, informative line (command feedback). */
  info(text: string): void {
    if (this.json) this.event('info', { text });
    else this.line(text);
  }

  joined(j: JoinedInfo, created: boolean): void {
    if (this.json) this.event('joined', { meeting: j.meeting, created, name: j.name, aor: j.aor, at: new Date().toISOString() });
    else this.line(`${created ? 'created and joined' : 'joined'} ${j.meeting} as ${j.name} <${j.aor}>  (type a line to chat; /help for commands)`);
  }

  media(m: MediaInfo): void {
    const what = m.label !== undefined ? `${m.kind} from ${m.label}` : m.kind;
    if (this.json) {
      this.event('media', {
        kind: m.kind,
        ...(m.label !== undefined ? { label: m.label } : {}),
        codec: m.codec ?? null,
        direction: m.direction,
        ...(m.kind === 'audio' ? { mic: m.mic } : m.label === undefined ? { camera: m.camera ?? false } : {}),
      });
    } else if (m.direction === 'rejected') this.line(`${what}: ${m.label !== undefined ? 'ended' : 'rejected by the focus'}`);
    else if (m.label !== undefined) this.line(`${what}: ${m.codec} ${m.direction}`);
    else this.line(`${what}: ${m.codec} ${m.direction}, ${m.kind === 'audio' ? `mic ${m.mic ? 'on' : 'off'}` : `camera ${m.camera ? 'on' : 'off'}`}`);
  }

  /** `media: peer-to-peer …` / `media: client-server …` when the focus's mode changes (`mode` event in --json). */
  private showMode(mode: string | undefined): void {
    if (mode === undefined || mode === this.mode) return;
    this.mode = mode;
    if (this.json) {
      this.event('mode', { mode });
      return;
    }
    this.line(mode === 'p2p' ? 'media: peer-to-peer (directly between the two of you; the server only relays chat and the roster)' : 'media: client-server (through the server)');
  }

  roster(r: RosterChange, first: boolean): void {
    this.showMode(r.mode);
    if (this.json) {
      this.event('roster', {
        version: r.version,
        participants: r.users.map((u) => ({ name: u.name, aor: u.aor, roles: u.roles, status: u.status ?? null, media: u.media })),
        joined: r.joined.map((u) => u.aor),
        left: r.left.map((u) => u.aor),
        changed: r.changed.map((u) => u.aor),
      });
      return;
    }
    if (first) {
      this.line(`in the meeting: ${r.users.map(who).join(', ') || 'nobody'}`);
      for (const u of r.users) this.shown.set(u.aor, who(u));
      return;
    }
    for (const u of r.joined) {
      this.line(`+ ${u.name} <${u.aor}> joined`);
      this.shown.set(u.aor, who(u));
    }
    for (const u of r.left) {
      this.line(`- ${u.name} <${u.aor}> left`);
      this.shown.delete(u.aor);
    }
    for (const u of r.changed) {
      const now = who(u);
      if (this.shown.get(u.aor) !== now) this.line(`~ ${now}`);
      this.shown.set(u.aor, now);
    }
  }

  chat(c: ChatLine): void {
    if (this.json) this.event('chat', { from: c.from, name: c.name, at: c.at, text: c.text });
    else this.line(`[${clock(c.at)}] ${c.name}: ${c.text}`);
  }

  notice(text: string): void {
    if (this.json) this.event('notice', { text });
    else this.line(`* ${text}`);
  }

  stats(s: MediaFigures): void {
    const a = s.audio;
    const expected = a ? a.packetsReceived + a.packetsLost : 0;
    const loss = a && expected > 0 ? a.packetsLost / expected : 0;
    if (this.json) {
      this.event('stats', { ...(a ? { audio: { ...a, loss } } : {}), ...(s.video ? { video: s.video } : {}), ...(s.videoStreams ? { videoStreams: s.videoStreams } : {}) });
      return;
    }
    if (a) {
      const level = a.levelDb <= -119 ? 'silent' : `${a.levelDb.toFixed(1)} dBFS`;
      const rtt = a.rttMs !== undefined ? `, rtt ${Math.round(a.rttMs)} ms` : '';
      const up = a.remoteFractionLost !== undefined ? `, their loss of ours ${pct(a.remoteFractionLost)}` : '';
      this.line(
        `~ audio ${a.codec ?? '-'} ${a.sending ? 'mic on' : 'mic off'} | in ${level}, loss ${pct(loss)} (${a.packetsLost}), ` +
          `jitter ${a.jitterMs.toFixed(1)} ms, concealed ${a.concealed}${rtt}${up} | sent ${a.packetsSent} recv ${a.packetsReceived}`,
      );
    }
    const video = (v: VideoStats, what: string) =>
      this.line(
        `~ ${what} | in ${v.framesReceived} frames (${v.keyframesReceived} key, ` +
          `${v.framesDropped} dropped, ${v.pliSent} PLI) | sent ${v.packetsSent} recv ${v.packetsReceived}`,
      );
    if (s.video) video(s.video, `video ${s.video.codec ?? '-'} ${s.video.sending ? 'camera on' : 'camera off'}`);
    for (const v of s.videoStreams ?? []) video(v, `video from ${v.label} ${v.codec ?? '-'}`);
  }

  left(meeting: string, reason: string): void {
    if (this.json) this.event('left', { meeting, reason });
    else this.line(`left ${meeting} (${reason})`);
  }

  ended(meeting: string, e: EndedInfo): void {
    if (this.json) this.event('ended', { meeting, reason: e.reason, ...(e.protocol ? { protocol: e.protocol } : {}), ...(e.cause !== undefined ? { cause: e.cause } : {}) });
    else this.line(`meeting ${meeting} ended: ${e.reason}`);
  }

  registered(aor: string, server: string, expires: number): void {
    if (this.json) this.event('registered', { aor, server, expires });
    else this.line(`registered ${aor} at ${server} (expires in ${expires} s)`);
  }

  unregistered(aor: string): void {
    if (this.json) this.event('unregistered', { aor });
    else this.line(`unregistered ${aor}`);
  }

  meetings(list: readonly MeetingSummary[]): void {
    if (this.json) {
      this.event('meetings', { meetings: list });
      return;
    }
    if (list.length === 0) {
      this.line('no meetings');
      return;
    }
    for (const m of list) {
      const people = m.participants.filter((p) => p.state !== 'left');
      this.line(
        `${m.id}  ${m.uri}  host ${m.creator.displayName} <${m.creator.aor}>  since ${clock(m.createdAt)}  ` +
          `${people.length} in: ${people.map((p) => p.displayName).join(', ') || '-'}`,
      );
    }
  }

  cancelled(id: string): void {
    if (this.json) this.event('cancelled', { meeting: id });
    else this.line(`meeting ${id} cancelled: everyone was told the host ended it`);
  }

  help(lines: string): void {
    if (this.json) this.event('help', { text: lines });
    else this.line(lines);
  }
}
