/**
 * RFC 4575 §5: the `application/conference-info+xml` document of one meeting, built from the focus's
 * `MeetingView`.
 *
 *   <conference-info entity="sip:conf-42@host" state="full" version="N">
 *     <conference-description>  subject = meeting id, conf-uris = the meeting URI
 *     <host-info>               the focus URI
 *     <conference-state>        user-count, active, locked
 *     <users>                   one <user> per AOR, one <endpoint> per device of that AOR
 *
 * Mapping from the focus's views:
 * - A participant that has `left` is not in the document; a `joining` one is an endpoint with status
 *   `dialing-in`, a `connected` one `connected` (the schema's endpoint-status values).
 * - Several participants with the same AOR (two devices of one user) are one <user> with several <endpoint>s
 *   (RFC 4575 §5: a <user> is an AOR, its <endpoint>s are its devices, keyed by contact URI).
 * - Media: one <media> per negotiated stream; a rejected m-line (no codec) is not media of the
 *   conference and is left out. `<status>` is the stream's direction from the participant's side: mic/camera
 *   off = `recvonly`. The media `id` is `<participant id>-<m-line index>`, unique within the conference.
 *   `<label>` is the SDP label when the line has one.
 * - Roles (the user's `<roles>`): the creator's AOR is `host` and `admin`, everyone else `participant`. RFC 4575
 *   leaves role names open; Linphone marks a participant as the conference's administrator on `admin` (it reads
 *   no other role); `host` names the creator for every other reader.
 * - The active speaker, when given, and the media mode (`<media-mode>cs|p2p</media-mode>`) are carried in extension
 *   elements of our own namespace inside <conference-state> (the schema admits elements of other namespaces
 *   there); RFC 4575 has none for them.
 *
 * Partial documents (§5.1 `state="partial"`) need the previous view: `<users state="partial">` lists a user
 * added or changed whole (`state="full"`), a user gone as `state="deleted"`, and omits unchanged ones. The
 * description and conference state are always included (they are small; Linphone reads
 * <conference-description> without checking that it is there).
 *
 * Linphone ignores any document whose `version` is not above the last one it saw for that conference, full
 * state or not (liblinphone RemoteConferenceEventHandler): the caller picks versions accordingly
 * (subscriptions.ts).
 */
import type { MeetingView, MediaStreamView, ParticipantView } from '../views.ts';
import { parseUri } from '../../sip/message/parse.ts';
import { el, escapeXml } from './xml.ts';

export const CONFERENCE_INFO_CONTENT_TYPE = 'application/conference-info+xml';
/** RFC 4575 §5: the document's namespace. */
export const CONFERENCE_INFO_NS = 'urn:ietf:params:xml:ns:conference-info';
/** Our extension namespace (the active speaker). */
export const SIPMEET_INFO_NS = 'urn:x-sipmeet:conference-info';

export interface ConferenceInfoOptions {
  /** §5.1: the document version; the caller increases it by one per document sent to a subscriber. */
  readonly version: number;
  readonly state: 'full' | 'partial';
  /** §5.1 `entity`: the conference (meeting) URI. */
  readonly entity: string;
  /** The focus's URI, listed in <host-info>. */
  readonly focusUri: string;
  /** AOR of the participant talking now, if known. */
  readonly activeSpeaker?: string;
  /** For `state: 'partial'`: the view the subscriber last received. */
  readonly previous?: MeetingView;
}

/** Same AOR: RFC 3261 §19.1.4 comparison of scheme, user and host (ports and parameters aside). */
export function sameAor(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseUri(a);
  const y = parseUri(b);
  if (!x.ok || !y.ok) return false;
  return x.value.scheme === y.value.scheme && x.value.user === y.value.user && x.value.host === y.value.host;
}

function endpointStatus(p: ParticipantView): string {
  return p.state === 'joining' ? 'dialing-in' : 'connected';
}

function mediaXml(p: ParticipantView, m: MediaStreamView, index: number): string {
  return el('media', [
    el('type', m.kind),
    ...(m.label !== undefined ? [el('label', m.label)] : []),
    el('status', m.direction),
  ], { id: `${p.id}-${index}` });
}

function endpointXml(p: ParticipantView): string {
  const media = p.media.flatMap((m, i) => (m.codec === undefined ? [] : [mediaXml(p, m, i)]));
  return el('endpoint', [
    ...(p.displayName ? [el('display-text', p.displayName)] : []),
    el('status', endpointStatus(p)),
    el('joining-method', 'dialed-in'),
    el('joining-info', [el('when', p.joinedAt)]),
    ...media,
  ], { entity: p.contact, state: 'full' });
}

interface UserGroup {
  readonly aor: string;
  readonly endpoints: ParticipantView[];
}

/** Participants still in the meeting, grouped by AOR in order of first appearance. */
function usersOf(meeting: MeetingView): UserGroup[] {
  const groups: UserGroup[] = [];
  for (const p of meeting.participants) {
    if (p.state === 'left') continue;
    const g = groups.find((x) => sameAor(x.aor, p.aor));
    if (g) g.endpoints.push(p);
    else groups.push({ aor: p.aor, endpoints: [p] });
  }
  return groups;
}

function userXml(meeting: MeetingView, u: UserGroup): string {
  const name = u.endpoints.find((p) => p.displayName)?.displayName;
  const roles = sameAor(u.aor, meeting.creator.aor) ? ['host', 'admin'] : ['participant'];
  return el('user', [
    ...(name ? [el('display-text', name)] : []),
    el('roles', roles.map((r) => el('entry', r))),
    ...u.endpoints.map(endpointXml),
  ], { entity: u.aor, state: 'full' });
}

function conferenceStateXml(meeting: MeetingView, userCount: number, activeSpeaker: string | undefined): string {
  return el('conference-state', [
    el('user-count', String(userCount)),
    el('active', meeting.state === 'active' ? 'true' : 'false'),
    el('locked', 'false'),
    ...(activeSpeaker !== undefined ? [`<active-speaker xmlns="${SIPMEET_INFO_NS}">${escapeXml(activeSpeaker)}</active-speaker>`] : []),
    // The media mode ('cs' through the relay, 'p2p' direct), so clients can show it and each switch.
    `<media-mode xmlns="${SIPMEET_INFO_NS}">${escapeXml(meeting.mode)}</media-mode>`,
  ]);
}

/** The document, with the XML declaration. Throws (API misuse) for a partial document without `previous`. */
export function conferenceInfoXml(meeting: MeetingView, opts: ConferenceInfoOptions): string {
  if (!Number.isInteger(opts.version) || opts.version < 0 || opts.version > 0xffffffff) {
    throw new RangeError(`conferenceInfoXml: version must be an unsigned 32-bit integer, got ${opts.version}`);
  }
  if (opts.state === 'partial' && !opts.previous) throw new TypeError('conferenceInfoXml: a partial document needs the previous view');
  const users = usersOf(meeting);
  let userLines = users.map((u) => userXml(meeting, u));
  if (opts.state === 'partial') {
    const before = new Map(usersOf(opts.previous!).map((u) => [u.aor, userXml(opts.previous!, u)]));
    const now = new Set(users.map((u) => u.aor));
    userLines = [
      ...users.filter((u, i) => before.get(u.aor) !== userLines[i]).map((u) => userXml(meeting, u)),
      ...[...before.keys()].filter((aor) => !now.has(aor)).map((aor) => `<user entity="${escapeXml(aor)}" state="deleted"/>`),
    ];
  }
  const children = [
    el('conference-description', [
      el('subject', meeting.id),
      el('conf-uris', [el('entry', [el('uri', meeting.uri), el('purpose', 'participation')])]),
    ]),
    el('host-info', [el('uris', [el('entry', [el('uri', opts.focusUri)])])]),
    conferenceStateXml(meeting, users.length, opts.activeSpeaker),
    el('users', userLines, opts.state === 'partial' ? { state: 'partial' } : {}),
  ];
  const attrs = { xmlns: CONFERENCE_INFO_NS, entity: opts.entity, state: opts.state, version: opts.version };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${el('conference-info', children, attrs)}\n`;
}
