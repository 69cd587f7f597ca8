/**
 * SipRequest / SipResponse implementations (RFC 3261 §7): immutable values over an ordered header list.
 *
 * The mandatory headers (§8.1.1: Via, From, To, Call-ID, CSeq, Max-Forwards) are handed in already parsed by the
 * parser or builder; everything else is parsed on first use and cached (Contact, Route, Expires, Content-Type).
 * Accessors never throw: a built message whose header cannot be parsed yields a placeholder (the builders check
 * their input, so this only happens for failed parses that were kept to be answered, §8.2 error path).
 */
import type {
  ContactList,
  CSeq,
  MessageEdits,
  NameAddr,
  Params,
  Result,
  SipHeader,
  SipRequest,
  SipResponse,
  SipUri,
  Via,
} from './types.ts';
import { canonicalName, isListHeader, splitTopLevelCommas } from './headers.ts';
import { parseNameAddr, parseNameAddrList } from './name-addr.ts';
import { parseVia, parseViaList } from './via.ts';
import { parseUri } from './uri.ts';
import { EMPTY_PARAMS } from './params.ts';
import { parseUint, trimLws } from './lex.ts';
import { parseCSeq } from './cseq.ts';

/** One header line. `wire` is the name as it will be written (compact forms expanded by the parser). */
export class Header implements SipHeader {
  constructor(
    readonly name: string,
    readonly value: string,
    readonly wire: string,
  ) {}
}

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = [];

/** A URI standing in for one that did not parse (only in failed-but-answerable requests). */
export function placeholderUri(raw: string): SipUri {
  return { scheme: '', host: '', params: EMPTY_PARAMS, headers: NO_HEADERS, raw };
}

/** A name-addr standing in for a From/To that did not parse (uri.scheme === ''). */
export function placeholderNameAddr(raw: string): NameAddr {
  return { uri: placeholderUri(raw), params: EMPTY_PARAMS, raw };
}

export function isPlaceholder(na: NameAddr): boolean {
  return na.uri.scheme === '';
}

function tagOf(params: Params): string | undefined {
  const t = params.get('tag');
  return t === null ? undefined : t;
}

/** Fields shared by the constructors of requests and responses. */
export interface MessageInit {
  version: string;
  headers: Header[];
  body: Buffer;
  via?: readonly Via[] | undefined;
  from?: NameAddr | undefined;
  to?: NameAddr | undefined;
  callId?: string | undefined;
  cseq?: CSeq | undefined;
  /** A parsed Contact carried over by edit() when the edit leaves Contact alone. */
  contacts?: Result<ContactList> | undefined;
}

export abstract class MessageBase {
  readonly version: string;
  readonly headers: readonly Header[];
  readonly body: Buffer;
  protected _via: readonly Via[] | undefined;
  protected _from: NameAddr | undefined;
  protected _to: NameAddr | undefined;
  protected _callId: string | undefined;
  protected _cseq: CSeq | undefined;
  private _contentType: string | null | undefined;
  private _contacts: Result<ContactList> | undefined;
  private _nameAddrs: Map<string, Result<readonly NameAddr[]>> | undefined;
  /** serialize()'s output, cached: a message is immutable, so its bytes never change (serialize.ts). */
  wire: Buffer | undefined;

  constructor(init: MessageInit) {
    this.version = init.version;
    this.headers = init.headers;
    this.body = init.body;
    this._via = init.via;
    this._from = init.from;
    this._to = init.to;
    this._callId = init.callId;
    this._cseq = init.cseq;
    this._contacts = init.contacts;
  }

  get(name: string): string | undefined {
    const key = canonicalName(name);
    const hs = this.headers;
    for (let i = 0; i < hs.length; i++) if (hs[i]!.name === key) return hs[i]!.value;
    return undefined;
  }

  getAll(name: string): string[] {
    const key = canonicalName(name);
    const list = isListHeader(key);
    const out: string[] = [];
    for (const h of this.headers) {
      if (h.name !== key) continue;
      if (list) for (const v of splitTopLevelCommas(h.value)) out.push(v);
      else out.push(h.value);
    }
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  get via(): readonly Via[] {
    if (this._via === undefined) {
      const out: Via[] = [];
      for (const h of this.headers) {
        if (h.name !== 'via') continue;
        const r = parseViaList(h.value);
        if (r.ok) out.push(...r.value);
      }
      this._via = out;
    }
    return this._via;
  }

  get from(): NameAddr {
    if (this._from === undefined) this._from = this.nameAddrOf('from');
    return this._from;
  }

  get to(): NameAddr {
    if (this._to === undefined) this._to = this.nameAddrOf('to');
    return this._to;
  }

  private nameAddrOf(name: string): NameAddr {
    const text = this.get(name) ?? '';
    const r = parseNameAddr(text);
    return r.ok ? r.value : placeholderNameAddr(text);
  }

  get callId(): string {
    if (this._callId === undefined) this._callId = this.get('call-id') ?? '';
    return this._callId;
  }

  get cseq(): CSeq {
    if (this._cseq === undefined) {
      const r = parseCSeq(this.get('cseq') ?? '');
      this._cseq = r.ok ? r.value : { seq: 0, method: '' };
    }
    return this._cseq;
  }

  get fromTag(): string | undefined {
    return tagOf(this.from.params);
  }

  get toTag(): string | undefined {
    return tagOf(this.to.params);
  }

  /** The body's length: the parser has already framed the body by Content-Length (§20.14). */
  get contentLength(): number {
    return this.body.length;
  }

  get contentType(): string | undefined {
    if (this._contentType === undefined) {
      const v = this.get('content-type');
      if (v === undefined) this._contentType = null;
      else {
        const semi = v.indexOf(';');
        this._contentType = trimLws(semi === -1 ? v : v.slice(0, semi)).toLowerCase();
      }
    }
    return this._contentType === null ? undefined : this._contentType;
  }

  /** §10.2.1 / §20.10: Contact is '*' or a list of name-addrs (possibly over several header lines). */
  contacts(): Result<ContactList> {
    if (this._contacts !== undefined) return this._contacts;
    const lines: Header[] = [];
    for (const h of this.headers) if (h.name === 'contact') lines.push(h);
    let r: Result<ContactList>;
    if (lines.length === 1 && lines[0]!.value === '*') r = { ok: true, value: { star: true } };
    else {
      const contacts: NameAddr[] = [];
      r = { ok: true, value: { star: false, contacts } };
      for (const h of lines) {
        if (h.value === '*') {
          // §10.3 step 6: '*' together with other Contact values is an error.
          r = { ok: false, error: "Contact '*' combined with other contacts" };
          break;
        }
        const l = parseNameAddrList(h.value);
        if (!l.ok) {
          r = { ok: false, error: `Malformed Contact header: ${l.error}` };
          break;
        }
        contacts.push(...l.value);
      }
    }
    this._contacts = r;
    return r;
  }

  nameAddrs(name: string): Result<readonly NameAddr[]> {
    const key = canonicalName(name);
    this._nameAddrs ??= new Map();
    const cached = this._nameAddrs.get(key);
    if (cached !== undefined) return cached;
    const out: NameAddr[] = [];
    let r: Result<readonly NameAddr[]> = { ok: true, value: out };
    for (const h of this.headers) {
      if (h.name !== key) continue;
      const l = parseNameAddrList(h.value);
      if (!l.ok) {
        r = { ok: false, error: `Malformed ${h.wire} header: ${l.error}` };
        break;
      }
      out.push(...l.value);
    }
    this._nameAddrs.set(key, r);
    return r;
  }

  /** §20.19 Expires: delta-seconds, at most 2^32-1 (RFC 4475 §3.1.2.4 scalar02 sends 10^100). */
  expires(): Result<number | undefined> {
    const v = this.get('expires');
    if (v === undefined) return { ok: true, value: undefined };
    const n = parseUint(v, 0xffffffff);
    if (n < 0) return { ok: false, error: 'Invalid Expires value' };
    return { ok: true, value: n };
  }

  /** Header list and carried-over caches after applying edits (shared by both subclasses). */
  protected applyEdits(edits: MessageEdits): MessageInit {
    let hs: Header[] = this.headers.slice();
    const touched = new Set<string>();
    let via: readonly Via[] | undefined = this._via;
    if (edits.topVia !== undefined || edits.popVia) {
      let idx = -1;
      for (let i = 0; i < hs.length; i++) {
        if (hs[i]!.name === 'via') {
          idx = i;
          break;
        }
      }
      if (idx === -1) {
        if (edits.topVia !== undefined) hs.unshift(new Header('via', edits.topVia, 'Via'));
        via = undefined;
      } else {
        const line = hs[idx]!;
        const values = splitTopLevelCommas(line.value);
        if (edits.popVia) values.shift();
        if (edits.topVia !== undefined) {
          if (values.length === 0) values.push(edits.topVia);
          else values[0] = edits.topVia;
        }
        if (values.length === 0) hs.splice(idx, 1);
        else hs[idx] = new Header('via', values.length === 1 ? values[0]! : values.join(', '), line.wire);
        if (via !== undefined) {
          // Keep the parsed Via cache in step with the header edit above.
          const next = via.slice();
          if (edits.popVia) next.shift();
          if (edits.topVia !== undefined) {
            const top = parseVia(edits.topVia);
            if (!top.ok) via = undefined;
            else if (next.length === 0) next.push(top.value);
            else next[0] = top.value;
          }
          if (via !== undefined) via = next;
        }
      }
    }
    if (edits.remove !== undefined && edits.remove.length > 0) {
      const drop = new Set(edits.remove.map(canonicalName));
      for (const n of drop) touched.add(n);
      hs = hs.filter((h) => !drop.has(h.name));
    }
    if (edits.prepend !== undefined && edits.prepend.length > 0) {
      const pre = edits.prepend.map(([n, v]) => new Header(canonicalName(n), v, n));
      for (const h of pre) touched.add(h.name);
      hs = [...pre, ...hs];
    }
    if (edits.append !== undefined) {
      for (const [n, v] of edits.append) {
        const h = new Header(canonicalName(n), v, n);
        touched.add(h.name);
        hs.push(h);
      }
    }
    if (edits.body !== undefined) {
      // Content-Length is always rewritten from the body by serialize(); drop a stale one.
      hs = hs.filter((h) => h.name !== 'content-length');
    }
    return {
      version: this.version,
      headers: hs,
      body: edits.body ?? this.body,
      via: touched.has('via') ? undefined : via,
      from: touched.has('from') ? undefined : this._from,
      to: touched.has('to') ? undefined : this._to,
      callId: touched.has('call-id') ? undefined : this._callId,
      cseq: touched.has('cseq') ? undefined : this._cseq,
      // The transport stamps every request's top Via (§18.2.1): do not make the registrar parse Contact again.
      contacts: touched.has('contact') ? undefined : this._contacts,
    };
  }
}

/** Does the edit add or remove a header of this canonical name? */
function touches(edits: MessageEdits, name: string): boolean {
  if (edits.remove !== undefined) for (const n of edits.remove) if (canonicalName(n) === name) return true;
  if (edits.prepend !== undefined) for (const [n] of edits.prepend) if (canonicalName(n) === name) return true;
  if (edits.append !== undefined) for (const [n] of edits.append) if (canonicalName(n) === name) return true;
  return false;
}

export class Request extends MessageBase implements SipRequest {
  readonly kind = 'request' as const;
  readonly method: string;
  readonly uri: SipUri;
  private _maxForwards: number | null | undefined;

  constructor(init: MessageInit & { method: string; uri: SipUri; maxForwards?: number | null }) {
    super(init);
    this.method = init.method;
    this.uri = init.uri;
    this._maxForwards = init.maxForwards;
  }

  get maxForwards(): number | undefined {
    if (this._maxForwards === undefined) {
      const v = this.get('max-forwards');
      const n = v === undefined ? -1 : parseUint(v, 255);
      this._maxForwards = n < 0 ? null : n;
    }
    return this._maxForwards === null ? undefined : this._maxForwards;
  }

  edit(edits: MessageEdits): SipRequest {
    const init = this.applyEdits(edits);
    let uri = this.uri;
    if (edits.uri !== undefined) {
      const r = parseUri(edits.uri);
      uri = r.ok ? r.value : placeholderUri(edits.uri);
    }
    const touchedMf = touches(edits, 'max-forwards');
    return new Request({
      version: init.version,
      headers: init.headers,
      body: init.body,
      via: init.via,
      from: init.from,
      to: init.to,
      callId: init.callId,
      cseq: init.cseq,
      contacts: init.contacts,
      method: this.method,
      uri,
      maxForwards: touchedMf ? undefined : this._maxForwards,
    });
  }
}

export class Response extends MessageBase implements SipResponse {
  readonly kind = 'response' as const;
  readonly status: number;
  readonly reason: string;

  constructor(init: MessageInit & { status: number; reason: string }) {
    super(init);
    this.status = init.status;
    this.reason = init.reason;
  }

  edit(edits: MessageEdits): SipResponse {
    const init = this.applyEdits(edits);
    return new Response({
      version: init.version,
      headers: init.headers,
      body: init.body,
      via: init.via,
      from: init.from,
      to: init.to,
      callId: init.callId,
      cseq: init.cseq,
      contacts: init.contacts,
      status: this.status,
      reason: this.reason,
    });
  }
}
