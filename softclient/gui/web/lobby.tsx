/**
 * The lobby: who you are, which server, the meetings there (refreshing every 2 s), create one, join one by
 * clicking it or by typing its URI.
 */
import { useState } from 'preact/hooks';
import type { GuiState, LobbyMeeting } from '../protocol.ts';
import { command } from './api.ts';
import { clockTime } from './format.ts';

export interface LobbyProps {
  readonly state: GuiState;
  readonly meetings: readonly LobbyMeeting[];
  readonly listError: string | undefined;
  readonly busy: boolean;
  readonly onJoin: (target: string, create: boolean) => void;
}

function Settings({ state }: { state: GuiState }) {
  const [name, setName] = useState(state.name);
  const [server, setServer] = useState(state.server);
  const [error, setError] = useState<string | undefined>();
  const dirty = name !== state.name || server !== state.server;
  const save = async (e: Event) => {
    e.preventDefault();
    const r = await command('settings', { name, server });
    setError(r.ok ? undefined : r.error);
  };
  return (
    <form class="settings" onSubmit={save} aria-label="Your name and server">
      <label>
        Your name
        <input name="name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} autocomplete="name" required maxLength={64} />
      </label>
      <label>
        Server
        <input name="server" value={server} onInput={(e) => setServer((e.target as HTMLInputElement).value)} spellcheck={false} />
      </label>
      <button type="submit" disabled={!dirty}>
        Save
      </button>
      <p class="hint">
        You are <code>{state.aor}</code>
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function MeetingList({ meetings, listError, busy, onJoin }: Pick<LobbyProps, 'meetings' | 'listError' | 'busy' | 'onJoin'>) {
  if (listError) {
    return (
      <p class="error" role="status" data-testid="list-error">
        Server unreachable — {listError}
      </p>
    );
  }
  if (meetings.length === 0) return <p class="empty">No meetings right now. Create one!</p>;
  return (
    <ul class="meetings" aria-label="Meetings on this server">
      {meetings.map((m) => (
        <li key={m.id} data-meeting={m.id}>
          <button type="button" class="meeting-item" disabled={busy} onClick={() => onJoin(m.uri, false)} aria-label={`Join ${m.id}, ${m.participants} participant${m.participants === 1 ? '' : 's'}`}>
            <span class="id">{m.id}</span>
            <span class="count" data-testid="count">
              {m.participants} {m.participants === 1 ? 'person' : 'people'}
            </span>
            <span class="who">{m.names.join(', ') || 'waiting for the first person'}</span>
            <span class="since">
              host {m.creator} · since {clockTime(m.createdAt)}
              {m.mode === 'p2p' ? ' · peer-to-peer' : ''}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}

export function Lobby(props: LobbyProps) {
  const [uri, setUri] = useState('');
  const [newId, setNewId] = useState('');
  const { state, busy, onJoin } = props;
  return (
    <main class="lobby" aria-labelledby="lobby-title">
      <header class="lobby-head">
        <h1 id="lobby-title">sipmeet</h1>
        <Settings state={state} />
      </header>
      <section class="start" aria-label="Start or join">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            onJoin(newId, true);
          }}
        >
          <h2>New meeting</h2>
          <label>
            Meeting id (optional)
            <input name="new-id" placeholder="conf-…" value={newId} onInput={(e) => setNewId((e.target as HTMLInputElement).value)} pattern="conf-[A-Za-z0-9._\-]{1,32}" spellcheck={false} />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            Create meeting
          </button>
        </form>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (uri.trim()) onJoin(uri, false);
          }}
        >
          <h2>Join by address</h2>
          <label>
            Meeting URI or id
            <input name="uri" placeholder="sip:conf-42@host" value={uri} onInput={(e) => setUri((e.target as HTMLInputElement).value)} spellcheck={false} />
          </label>
          <button type="submit" disabled={busy || !uri.trim()}>
            Join
          </button>
        </form>
      </section>
      <section class="list" aria-labelledby="list-title" aria-live="polite">
        <h2 id="list-title">Meetings on {state.server}</h2>
        <MeetingList {...props} />
      </section>
    </main>
  );
}
