/**
 * The page: follows the local process's state (lobby / joining / meeting), shows its notices, and runs the
 * page's media (MediaController) while in a meeting.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { GuiChat, GuiNotice, GuiState, LobbyMeeting } from '../protocol.ts';
import { command, subscribe } from './api.ts';
import { Lobby } from './lobby.tsx';
import { Meeting } from './meeting.tsx';
import { MediaController, type PageStats } from './rtc.ts';

declare global {
  interface Window {
    /** For people debugging and for the test suite: the page's media figures. */
    sipmeet?: { stats(): Promise<PageStats> };
  }
}

function Notice({ n, onClose }: { n: GuiNotice; onClose: () => void }) {
  return (
    <div class={`notice ${n.kind}`} role="alert" data-testid="notice" data-kind={n.kind}>
      <span>{n.text}</span>
      <button type="button" onClick={onClose} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}

export function App() {
  const [state, setState] = useState<GuiState | undefined>();
  const [meetings, setMeetings] = useState<{ meetings: readonly LobbyMeeting[]; error: string | undefined }>({ meetings: [], error: undefined });
  const [chat, setChat] = useState<GuiChat[]>([]);
  const [link, setLink] = useState(true);
  const [dismissed, setDismissed] = useState<number | undefined>();
  const [localNotice, setLocalNotice] = useState<GuiNotice | undefined>();
  const [busy, setBusy] = useState(false);
  const media = useMemo(() => new MediaController(), []);

  useEffect(() => {
    window.sipmeet = { stats: () => media.stats() };
    return subscribe({ state: setState, chat: (c) => setChat((l) => [...l, c]), meetings: setMeetings, link: setLink });
  }, [media]);

  // Media follows the phase: captured and connected while joining or in a meeting, released in the lobby.
  const phase = state?.phase;
  useEffect(() => {
    if (!state) return;
    if (phase === 'lobby') {
      if (media.active || media.local) media.stop();
      setChat([]);
    } else if (!media.active && !busy) {
      // A page opened (or reloaded) during a meeting: capture and connect to it.
      void (async () => {
        if (!media.local) {
          const cap = await media.capture();
          if (cap.problems.length) await command('camera-error', { text: cap.problems.join(' ') });
          if (!cap.camera) await command('camera', { on: false });
          if (!cap.mic) await command('mic', { on: false });
        }
        media.setMic(state.meeting?.mic ?? true);
        await media.connect(state.slots).catch((e: Error) => setLocalNotice({ kind: 'error', text: `Media: ${e.message}`, at: Date.now() }));
      })();
    }
  }, [phase]);

  if (!state) return <p class="boot">Connecting to the local sipmeet process…</p>;

  const join = async (target: string, create: boolean) => {
    setBusy(true);
    setLocalNotice(undefined);
    try {
      const cap = await media.capture();
      const r = await command('join', { target, create, mic: cap.mic, camera: cap.camera });
      if (!r.ok) {
        media.stop();
        setLocalNotice({ kind: 'error', text: r.error, at: Date.now() });
        return;
      }
      // Joining clears the lobby's notice: say why there is no camera (or microphone) after it.
      if (cap.problems.length) await command('camera-error', { text: cap.problems.join(' ') });
      await media.connect(state.slots).catch((e: Error) => setLocalNotice({ kind: 'error', text: `Media: ${e.message}`, at: Date.now() }));
    } finally {
      setBusy(false);
    }
  };

  const notice = localNotice ?? state.notice;
  const showNotice = notice && notice.at !== dismissed;
  const m = state.meeting;
  return (
    <div class={`app ${state.phase}`}>
      {!link && (
        <div class="notice unreachable" role="alert">
          The local sipmeet process does not answer. Is it still running?
        </div>
      )}
      {showNotice && (
        <Notice
          n={notice}
          onClose={() => {
            setDismissed(notice.at);
            setLocalNotice(undefined);
          }}
        />
      )}
      {state.phase === 'lobby' && <Lobby state={state} meetings={meetings.meetings} listError={meetings.error} busy={busy} onJoin={join} />}
      {state.phase === 'joining' && (
        <main class="joining" aria-busy="true">
          <p>Joining…</p>
          <button type="button" onClick={() => void command('leave')}>
            Cancel
          </button>
        </main>
      )}
      {state.phase === 'meeting' && m && (
        <Meeting
          state={state}
          m={m}
          media={media}
          chat={chat}
          onMic={(on) => {
            media.setMic(on);
            void command('mic', { on });
          }}
          onCamera={async (on) => {
            const r = await media.setCamera(on);
            if (r.problem) await command('camera-error', { text: r.problem });
            await command('camera', { on: r.on });
          }}
          onLeave={() => void command('leave')}
          onEnd={() => {
            if (confirm('End the meeting for everyone?')) void command('end');
          }}
        />
      )}
    </div>
  );
}
