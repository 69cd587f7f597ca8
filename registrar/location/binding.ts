/**
 * A location binding as the registrar stores it (RFC 3261 §10.3 step 7): the `Binding` of bindings.ts, built to
 * live for hours without pinning the REGISTER it came from.
 *
 * Strings parsed out of a message are views into the message's whole text (V8 sliced/cons strings), so a binding
 * holding `contact.raw` or the Call-ID as parsed would keep the entire REGISTER alive, parsed structures and all
 * (~1.5 KB per binding, promoted to old space on every refresh). So a stored binding holds only:
 * - flat copies (`flat()`), or the very strings of the binding it replaces when they are unchanged — a refresh
 *   from the same phone shares its AOR, Contact text, Call-ID, User-Agent, Path and source with the binding it
 *   replaces, and allocates little more than this object;
 * - the Contact as text: the parsed name-addr is rebuilt from it on first use (routing a request to the user,
 *   §19.1.4 comparison against a textually different Contact) and then cached.
 */
import type { NameAddr } from '../sip/message/types.ts';
import { flat } from '../sip/message/lex.ts';
import { parseNameAddr } from '../sip/message/name-addr.ts';
import { placeholderNameAddr } from '../sip/message/message.ts';
import type { Source } from '../sip/transport/types.ts';
import type { Binding } from './bindings.ts';
import { formatContact } from './contact.ts';

/** What the registrar decided for one Contact of one REGISTER. */
export interface BindingInit {
  readonly aor: string;
  /** The Contact as parsed from the REGISTER (it may pin the request: only copies of its text are kept). */
  readonly contact: NameAddr;
  readonly expiresAt: number;
  readonly q: number;
  readonly callId: string;
  readonly cseq: number;
  readonly path: readonly string[];
  readonly instanceId: string | undefined;
  readonly regId: number | undefined;
  readonly source: Source;
  readonly userAgent: string | undefined;
  readonly updatedAt: number;
}

export class StoredBinding implements Binding {
  readonly aor: string;
  /** The Contact name-addr text as received (flat), from which `contact` is rebuilt. */
  readonly contactRaw: string;
  /** The Contact URI text as received (flat): equal text means the same binding (§19.1.4) without parsing. */
  readonly contactUri: string;
  readonly contactText: string;
  readonly expiresAt: number;
  readonly q: number;
  readonly callId: string;
  readonly cseq: number;
  readonly path: readonly string[];
  readonly instanceId: string | undefined;
  readonly regId: number | undefined;
  readonly source: Source;
  readonly userAgent: string | undefined;
  readonly updatedAt: number;
  private parsed: NameAddr | undefined;

  /**
   * A binding for `init`, sharing every unchanged string with `prev` (the binding it replaces, or another of the
   * same AOR) and copying the rest out of the request's text.
   */
  constructor(init: BindingInit, prev: Binding | undefined) {
    const p = prev instanceof StoredBinding ? prev : undefined;
    this.aor = p !== undefined && p.aor === init.aor ? p.aor : flat(init.aor);
    const c = init.contact;
    if (p !== undefined && p.contactRaw === c.raw) {
      // The same Contact text: the same parse, the same 200 text (formatContact is a function of the parse).
      this.contactRaw = p.contactRaw;
      this.contactUri = p.contactUri;
      this.contactText = p.contactText;
      this.parsed = p.parsed;
    } else {
      this.contactRaw = flat(c.raw);
      this.contactUri = flat(c.uri.raw);
      this.contactText = flat(formatContact(c));
      this.parsed = undefined;
    }
    this.expiresAt = init.expiresAt;
    this.q = init.q;
    this.callId = p !== undefined && p.callId === init.callId ? p.callId : flat(init.callId);
    this.cseq = init.cseq;
    if (init.path.length === 0) this.path = init.path; // the registrar's shared empty list
    else if (p !== undefined && samePath(p.path, init.path)) this.path = p.path;
    else this.path = init.path.map((v) => flat(v));
    this.instanceId = init.instanceId === undefined ? undefined : p !== undefined && p.instanceId === init.instanceId ? p.instanceId : flat(init.instanceId);
    this.regId = init.regId;
    this.source = p !== undefined && sameSource(p.source, init.source) ? p.source : init.source;
    this.userAgent =
      init.userAgent === undefined ? undefined : p !== undefined && p.userAgent === init.userAgent ? p.userAgent : flat(init.userAgent);
    this.updatedAt = init.updatedAt;
  }

  /** The Contact as received (parsed again from its text on first use, then cached). */
  get contact(): NameAddr {
    if (this.parsed === undefined) {
      const r = parseNameAddr(this.contactRaw);
      // It parsed when the REGISTER came in; the same text parses the same way.
      this.parsed = r.ok ? r.value : placeholderNameAddr(this.contactRaw);
    }
    return this.parsed;
  }
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameSource(a: Source, b: Source): boolean {
  return (
    a.protocol === b.protocol &&
    a.address === b.address &&
    a.port === b.port &&
    a.connectionId === b.connectionId &&
    a.local.protocol === b.local.protocol &&
    a.local.address === b.local.address &&
    a.local.port === b.local.port
  );
}
