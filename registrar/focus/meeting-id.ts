/**
 * Meeting identifiers: the user part of a meeting URI, `sip:<id>@<domain>`.
 *
 * Pattern (documented in docs/focus.md): `conf-` followed by 1–32 letters, digits, '.', '_' or '-', starting
 * with a letter or digit: `conf-42`, `conf-weekly-standup`. Anything else dialled at this server is a user
 * (routed by the registrar) — so a typo in a user name never creates a meeting by accident.
 * The factory URI `sip:conference@<domain>` (RFC 4579 §5.1) creates a meeting with a fresh numeric id.
 */
export const DEFAULT_MEETING_ID_PATTERN = /^conf-[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
export const FACTORY_USER = 'conference';

export function isMeetingId(user: string | undefined, pattern: RegExp = DEFAULT_MEETING_ID_PATTERN): boolean {
  return user !== undefined && pattern.test(user);
}

/** A fresh `conf-<n>` id not in `taken` (numbers grow from 100; random suffixes after many collisions). */
export function freshMeetingId(taken: (id: string) => boolean, start = 100): string {
  for (let n = start; n < start + 100_000; n++) {
    const id = `conf-${n}`;
    if (!taken(id)) return id;
  }
  return `conf-${Date.now().toString(36)}`;
}
