/** A meeting's read-only view (views.ts) from its state and the relay's stream statistics. */
import type { StreamStats } from '../../media-relay/api.ts';
import type { Meeting, P2pPolicy } from './meeting.ts';
import type { MeetingView, ParticipantView } from './views.ts';

export function meetingView(m: Meeting, stats: ReadonlyMap<string, StreamStats>, p2p: P2pPolicy): MeetingView {
  const participants: ParticipantView[] = m.present().map((p) => ({
    id: p.id,
    displayName: p.displayName,
    aor: p.aor,
    contact: p.contact,
    joinedAt: new Date(p.joinedAt).toISOString(),
    state: p.state,
    media: p.lines
      .filter((l) => l.kind === 'audio' || l.kind === 'video')
      .map((l) => {
        const s = l.endpointId ? stats.get(l.endpointId) : undefined;
        return {
          kind: l.kind as 'audio' | 'video',
          label: l.label,
          codec: l.codec,
          direction: l.direction,
          packetsIn: s?.packetsIn ?? 0,
          bytesIn: s?.bytesIn ?? 0,
          packetsOut: s?.packetsOut ?? 0,
          bytesOut: s?.bytesOut ?? 0,
          packetsLost: s?.packetsLost ?? 0,
          jitterMs: s?.jitterMs ?? 0,
          rttMs: s?.rttMs,
        };
      }),
  }));
  return {
    id: m.id,
    uri: m.uri,
    creator: { aor: m.creatorAor, displayName: m.creatorName },
    createdAt: new Date(m.createdAt).toISOString(),
    state: m.state,
    mode: m.mode,
    p2p,
    switches: [...m.switches],
    participants,
  };
}
