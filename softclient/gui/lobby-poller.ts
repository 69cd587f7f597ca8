/**
 * The lobby's meeting list: `GET /api/conferences` on the server's HTTP API (the same call as `sipmeet list`),
 * every POLL_MS while a page is watching, turned into what the page shows (id, URI, host, participant count).
 */
import type { Clock, TimerHandle } from '../../registrar/sip/clock.ts';
import { listConferences } from '../http-api.ts';
import type { LobbyMeeting } from './protocol.ts';

export const POLL_MS = 2000;

interface ApiParticipant {
  readonly displayName: string;
  readonly aor: string;
  readonly state?: string;
}

export function toLobbyMeeting(m: { id: string; uri: string; creator: { aor: string; displayName: string }; createdAt: string; participants: readonly ApiParticipant[]; mode?: unknown; state?: string }): LobbyMeeting {
  const present = m.participants.filter((p) => p.state !== 'left');
  return {
    id: m.id,
    uri: m.uri,
    creator: m.creator.displayName || m.creator.aor,
    createdAt: m.createdAt,
    participants: present.length,
    names: present.map((p) => p.displayName || p.aor),
    ...(typeof m.mode === 'string' ? { mode: m.mode } : {}),
  };
}

export class LobbyPoller {
  private timer: TimerHandle | undefined;
  private running = false;
  private inFlight = false;
  last: { meetings: LobbyMeeting[]; error: string | undefined } = { meetings: [], error: undefined };

  constructor(
    private readonly clock: Clock,
    private readonly api: () => string,
    private readonly publish: (r: { meetings: LobbyMeeting[]; error: string | undefined }) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.poll();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Poll now (after a create, a settings change) rather than at the next tick. */
  refresh(): void {
    if (!this.running) return;
    this.timer?.cancel();
    void this.poll();
  }

  private async poll(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const list = await listConferences(this.api(), POLL_MS);
      this.last = { meetings: list.filter((m) => m.state !== 'ended').map((m) => toLobbyMeeting(m)), error: undefined };
    } catch (e) {
      this.last = { meetings: [], error: (e as Error).message };
    } finally {
      this.inFlight = false;
    }
    if (!this.running) return;
    this.publish(this.last);
    this.timer = this.clock.setTimer(POLL_MS, () => void this.poll());
  }
}
