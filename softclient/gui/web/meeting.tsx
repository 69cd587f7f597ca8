/**
 * The meeting: the video grid (you and everyone whose camera is on), the controls, the status badge, the
 * roster and the chat.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { GuiChat, GuiMeeting, GuiState } from '../protocol.ts';
import { command } from './api.ts';
import { clockTime, columnsFor, initials, modeLabel } from './format.ts';
import { CameraIcon, MicIcon } from './icons.tsx';
import type { MediaController } from './rtc.ts';

function Video({ stream, muted, label }: { stream: MediaStream | undefined; muted: boolean; label: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = ref.current;
    if (v && v.srcObject !== (stream ?? null)) v.srcObject = stream ?? null;
  }, [stream]);
  return <video ref={ref} autoplay playsInline muted={muted} aria-label={label} />;
}

/** The meeting's sound (the server's mix of everyone else). */
function MeetingAudio({ stream }: { stream: MediaStream }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const a = ref.current;
    if (a && a.srcObject !== stream) a.srcObject = stream;
  }, [stream]);
  return <audio ref={ref} autoplay />;
}

interface TileProps {
  readonly name: string;
  readonly stream: MediaStream | undefined;
  readonly self: boolean;
  readonly speaking: boolean;
  readonly slot?: number;
  readonly participantId?: string;
}

function Tile({ name, stream, self, speaking, slot, participantId }: TileProps) {
  return (
    <figure class={`tile${speaking ? ' speaking' : ''}`} data-tile={self ? 'self' : 'remote'} data-name={name} data-slot={slot} data-participant={participantId}>
      {stream ? <Video stream={stream} muted={true} label={self ? 'Your camera' : `${name}'s camera`} /> : <div class="avatar">{initials(name)}</div>}
      <figcaption>
        {name}
        {self ? ' (you)' : ''}
      </figcaption>
    </figure>
  );
}

function Badge({ m, connection }: { m: GuiMeeting; connection: string }) {
  const s = m.media;
  return (
    <div class="badge" role="status" aria-label="Connection status" data-testid="badge" data-mode={s.mode ?? ''}>
      <span class={`mode ${s.mode ?? ''}`}>{modeLabel(s.mode)}</span>
      <span>{[s.audioCodec, s.videoCodec].filter(Boolean).join(' + ') || '—'}</span>
      <span>
        ↑{s.sendKbps} ↓{s.recvKbps} kbit/s
      </span>
      <span>loss {s.lossPct}%</span>
      {connection !== 'connected' && <span class="warn">media {connection}</span>}
    </div>
  );
}

function Roster({ m }: { m: GuiMeeting }) {
  return (
    <section class="roster" aria-labelledby="roster-title">
      <h2 id="roster-title">People ({m.participants.length})</h2>
      <ul>
        {m.participants.map((p) => (
          <li key={p.aor} data-aor={p.aor} class={m.activeSpeaker === p.aor ? 'speaking' : ''}>
            <span class="name">
              {p.name}
              {p.self ? ' (you)' : ''}
            </span>
            {p.host && <span class="tag">host</span>}
            <span class="icons" aria-label={`${p.mic ? 'microphone on' : 'microphone off'}, ${p.camera ? 'camera on' : 'camera off'}`}>
              <span class={p.mic ? 'on' : 'off'}>
                <MicIcon on={p.mic} />
              </span>
              <span class={p.camera ? 'on' : 'off'}>
                <CameraIcon on={p.camera} />
              </span>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Chat({ lines }: { lines: readonly GuiChat[] }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const l = list.current;
    if (l) l.scrollTop = l.scrollHeight;
  }, [lines.length]);
  const send = async (e: Event) => {
    e.preventDefault();
    const t = text.trim();
    if (!t) return;
    const r = await command('chat', { text: t });
    if (r.ok) setText('');
    setError(r.ok ? undefined : r.error);
  };
  return (
    <section class="chat" aria-labelledby="chat-title">
      <h2 id="chat-title">Chat</h2>
      <ol ref={list} aria-live="polite" aria-relevant="additions">
        {lines.map((c, i) => (
          <li key={i} class={c.system ? 'system' : c.self ? 'self' : ''} data-from={c.name}>
            <time dateTime={c.at}>{clockTime(c.at)}</time> <b class="from">{c.name}</b> <span class="text">{c.text}</span>
          </li>
        ))}
      </ol>
      <form onSubmit={send}>
        <label class="sr-only" for="chat-input">
          Message
        </label>
        <input id="chat-input" name="chat" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} placeholder="Message everyone" autocomplete="off" maxLength={2000} />
        <button type="submit">Send</button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

export interface MeetingProps {
  readonly state: GuiState;
  readonly m: GuiMeeting;
  readonly media: MediaController;
  readonly chat: readonly GuiChat[];
  readonly onMic: (on: boolean) => void;
  readonly onCamera: (on: boolean) => void;
  readonly onLeave: () => void;
  readonly onEnd: () => void;
}

export function Meeting({ state, m, media, chat, onMic, onCamera, onLeave, onEnd }: MeetingProps) {
  const [, redraw] = useState(0);
  const [selfSpeaking, setSelfSpeaking] = useState(false);
  useEffect(() => media.onChange(() => redraw((n) => n + 1)), [media]);
  useEffect(() => {
    // "You are speaking": the local level, with a little hysteresis.
    const t = setInterval(() => {
      const level = media.localLevel();
      setSelfSpeaking((was) => (was ? level > 0.01 : level > 0.03));
    }, 250);
    return () => clearInterval(t);
  }, [media]);
  const self = m.participants.find((p) => p.self);
  const tiles = [
    ...(m.camera && media.local?.getVideoTracks().length
      ? [<Tile key="self" name={state.name} stream={media.local} self={true} speaking={selfSpeaking || (self !== undefined && m.activeSpeaker === self.aor)} />]
      : []),
    ...m.tiles.map((t) => (
      <Tile key={`slot-${t.slot}`} name={t.name} stream={media.slotStreams[t.slot]} self={false} speaking={t.aor !== undefined && m.activeSpeaker === t.aor} slot={t.slot} participantId={t.participantId} />
    )),
  ];
  const cols = columnsFor(tiles.length);
  return (
    <main class="meeting" aria-label={`Meeting ${m.id}`}>
      <header class="meeting-head">
        <h1>
          {m.id} <small>{m.uri}</small>
        </h1>
        <Badge m={m} connection={media.connectionState} />
      </header>
      <section class={`grid n${Math.min(tiles.length, 10)}`} style={{ gridTemplateColumns: `repeat(${cols}, 1fr)` }} aria-label="Videos" data-testid="grid">
        {tiles.length ? tiles : <p class="empty">Nobody has a camera on.</p>}
      </section>
      <aside class="side">
        <Roster m={m} />
        <Chat lines={chat} />
      </aside>
      <nav class="controls" aria-label="Meeting controls">
        <button type="button" aria-pressed={m.mic} onClick={() => onMic(!m.mic)} accessKey="m" title="Microphone (Alt+M)">
          <MicIcon on={m.mic} />
          {m.mic ? 'Mute' : 'Unmute'}
        </button>
        <button type="button" aria-pressed={m.camera} onClick={() => onCamera(!m.camera)} accessKey="v" title="Camera (Alt+V)">
          <CameraIcon on={m.camera} />
          {m.camera ? 'Stop camera' : 'Start camera'}
        </button>
        <button type="button" class="leave" onClick={onLeave}>
          Leave
        </button>
        {m.host && (
          <button type="button" class="danger" onClick={onEnd}>
            End meeting for all
          </button>
        )}
      </nav>
      <MeetingAudio stream={media.remoteAudio} />
    </main>
  );
}
