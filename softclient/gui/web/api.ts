/**
 * The page's link to the local softclient process (same origin): JSON commands by POST, events by
 * Server-Sent Events (see ../protocol.ts).
 */
import type { CommandResult, GuiChat, GuiEvents, GuiState, LobbyMeeting } from '../protocol.ts';

/** POST a command; resolves with its result (a network failure is a result too, never a throw). */
export async function command(path: string, body: object = {}): Promise<CommandResult> {
  try {
    const res = await fetch(`/api/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const data = (await res.json()) as CommandResult;
    return data;
  } catch (e) {
    return { ok: false, error: `the local sipmeet process does not answer (${(e as Error).message})` };
  }
}

/** The page's WebRTC offer → the local bridge's answer. */
export async function exchangeOffer(sdp: string): Promise<string> {
  const res = await fetch('/api/rtc/offer', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sdp }) });
  const data = (await res.json()) as { sdp?: string; error?: string };
  if (!data.sdp) throw new Error(data.error ?? 'no answer');
  return data.sdp;
}

export interface Listeners {
  state(s: GuiState): void;
  chat(c: GuiChat): void;
  meetings(m: { meetings: readonly LobbyMeeting[]; error: string | undefined }): void;
  /** The event stream dropped (the process ended?) or came back. */
  link(up: boolean): void;
}

/** Subscribe to the process's events; EventSource reconnects by itself (the server sets `retry`). */
export function subscribe(l: Listeners): () => void {
  const es = new EventSource('/api/events');
  const on = <K extends keyof GuiEvents>(name: K, f: (d: GuiEvents[K]) => void) =>
    es.addEventListener(name, (e) => f(JSON.parse((e as MessageEvent<string>).data) as GuiEvents[K]));
  on('state', l.state);
  on('chat', l.chat);
  on('meetings', l.meetings);
  es.onopen = () => l.link(true);
  es.onerror = () => l.link(false);
  return () => es.close();
}
