/**
 * The roster (RFC 4575, as softclient/roster keeps it) as the page shows it: who is there, host, mic, camera —
 * and the names of the per-publisher video lines, whose `a=label` is the publisher's participant id (focus.md,
 * "Several videos"), matched through the roster's media ids (`<participant id>-<m-line index>`).
 */
import type { RosterMedia, RosterUser } from '../roster/roster.ts';
import type { GuiParticipant } from './protocol.ts';

const SENDING = new Set(['sendrecv', 'sendonly']);

/** `p3-1` → `p3` (the focus writes media ids as `<participant id>-<m-line index>`). */
function participantOfMediaId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const dash = id.lastIndexOf('-');
  return dash > 0 ? id.slice(0, dash) : undefined;
}

/** The focus's participant id of a roster user (its first endpoint's media ids), when the roster gives one. */
export function participantIdOf(u: RosterUser): string | undefined {
  for (const m of u.media) {
    const id = participantOfMediaId(m.id);
    if (id !== undefined) return id;
  }
  return undefined;
}

/** Its own camera line: a video line that is not a subscription to somebody else (those carry a label). */
function cameraLine(media: readonly RosterMedia[]): RosterMedia | undefined {
  return media.find((m) => m.type === 'video' && m.label === undefined);
}

export function toParticipant(u: RosterUser, selfAor: string): GuiParticipant {
  const audio = u.media.find((m) => m.type === 'audio');
  const camera = cameraLine(u.media);
  return {
    id: participantIdOf(u),
    aor: u.aor,
    name: u.name,
    host: u.roles.includes('host'),
    mic: audio !== undefined && SENDING.has(audio.status ?? ''),
    camera: camera !== undefined && SENDING.has(camera.status ?? ''),
    self: sameAor(u.aor, selfAor),
  };
}

/** `sip:ann@host` equals `sip:ann@host` and `sip:Ann@host:5060`'s user@host (case-insensitive host). */
export function sameAor(a: string, b: string): boolean {
  const key = (s: string) => {
    const m = /^sips?:([^@;>]+)@([^:;>]+)/i.exec(s);
    return m ? `${m[1]}@${m[2]!.toLowerCase()}` : s;
  };
  return key(a) === key(b);
}
