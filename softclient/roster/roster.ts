/**
 * The meeting's roster as the client sees it, kept from RFC 4575 conference-info NOTIFYs.
 *
 * RFC 4575 §4.6 / §5.1: a `state="full"` document replaces everything known; a `state="partial"` one changes only
 * the users it lists (a user with `state="deleted"` is removed, any other user element replaces that user).
 * §4.6: "a subscriber ... MUST discard" a document whose version is not higher than the last applied (a stale or
 * duplicate NOTIFY), and a partial one that skips a version means one was missed: the subscriber should refresh
 * (we keep the partial data and report `gap: true`; the caller may re-SUBSCRIBE).
 */
import { child, children, parseXml, textOf, type XmlElement } from './xml-tree.ts';

export interface RosterMedia {
  /** RFC 4575 §5.7.1 media `id` (sipmeet writes `<participant id>-<m-line index>`). */
  readonly id: string | undefined;
  readonly type: string;
  /** Direction from the participant's side: recvonly = mic/camera off. */
  readonly status: string | undefined;
  readonly label: string | undefined;
}

export interface RosterUser {
  /** The AOR (RFC 4575 `entity`). */
  readonly aor: string;
  readonly name: string;
  readonly roles: readonly string[];
  /** connected / dialing-in / … of the first endpoint. */
  readonly status: string | undefined;
  readonly media: readonly RosterMedia[];
}

export interface RosterChange {
  readonly version: number;
  readonly users: readonly RosterUser[];
  readonly joined: readonly RosterUser[];
  readonly left: readonly RosterUser[];
  /** Users whose entry changed otherwise (media status, name). */
  readonly changed: readonly RosterUser[];
  /** A partial document skipped a version (RFC 4575 §4.6). */
  readonly gap: boolean;
  /** The focus's media mode ('cs' | 'p2p'), from its `<media-mode>` extension element, when it sends one. */
  readonly mode: string | undefined;
  /** AOR of the active speaker, from the focus's `<active-speaker>` extension element, when it sends one. */
  readonly activeSpeaker: string | undefined;
}

export type RosterUpdate = { readonly ok: true; readonly change: RosterChange | undefined } | { readonly ok: false; readonly error: string };

function userOf(el: XmlElement): RosterUser {
  const endpoints = children(el, 'endpoint');
  const first = endpoints[0];
  const name = textOf(child(el, 'display-text')) || textOf(child(first, 'display-text')) || el.attrs.get('entity') || '?';
  return {
    aor: el.attrs.get('entity') ?? '',
    name,
    roles: children(child(el, 'roles'), 'entry').map((e) => textOf(e) ?? ''),
    status: textOf(child(first, 'status')),
    media: endpoints.flatMap((ep) =>
      children(ep, 'media').map((m) => ({ id: m.attrs.get('id'), type: textOf(child(m, 'type')) ?? '', status: textOf(child(m, 'status')), label: textOf(child(m, 'label')) })),
    ),
  };
}

function same(a: RosterUser, b: RosterUser): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class Roster {
  private users = new Map<string, RosterUser>();
  private version = -1;
  /** sipmeet extension elements inside <conference-state> (sent with every document). */
  mode: string | undefined;
  activeSpeaker: string | undefined;

  get list(): RosterUser[] {
    return [...this.users.values()];
  }

  /** Apply one conference-info document. `change` is undefined when the document was stale or changed nothing. */
  apply(xml: string): RosterUpdate {
    const doc = parseXml(xml);
    if (!doc || doc.name !== 'conference-info') return { ok: false, error: 'not a conference-info document' };
    const version = Number(doc.attrs.get('version'));
    if (!Number.isInteger(version) || version < 0) return { ok: false, error: 'conference-info without a valid version' };
    if (version <= this.version) return { ok: true, change: undefined };
    const partial = doc.attrs.get('state') === 'partial';
    const gap = partial && this.version >= 0 && version !== this.version + 1;
    const before = this.users;
    const next = new Map(partial ? before : []);
    for (const u of children(child(doc, 'users'), 'user')) {
      const aor = u.attrs.get('entity');
      if (!aor) continue;
      if (u.attrs.get('state') === 'deleted') next.delete(aor);
      else next.set(aor, userOf(u));
    }
    this.users = next;
    this.version = version;
    // The focus sends <conference-state> in every document, partial ones included; without it nothing changes.
    const state = child(doc, 'conference-state');
    const previous = { mode: this.mode, activeSpeaker: this.activeSpeaker };
    if (state) {
      this.mode = textOf(child(state, 'media-mode')) ?? this.mode;
      this.activeSpeaker = textOf(child(state, 'active-speaker')) || undefined;
    }
    const extChanged = previous.mode !== this.mode || previous.activeSpeaker !== this.activeSpeaker;
    const joined = [...next.values()].filter((u) => !before.has(u.aor));
    const left = [...before.values()].filter((u) => !next.has(u.aor));
    const changed = [...next.values()].filter((u) => before.has(u.aor) && !same(before.get(u.aor)!, u));
    if (joined.length === 0 && left.length === 0 && changed.length === 0 && !extChanged && before.size > 0) return { ok: true, change: undefined };
    return { ok: true, change: { version, users: this.list, joined, left, changed, gap, mode: this.mode, activeSpeaker: this.activeSpeaker } };
  }
}
