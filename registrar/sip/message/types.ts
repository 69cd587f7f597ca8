/**
 * The SIP message model (RFC 3261 §7, §20, §25): the contract every SIP layer codes against.
 *
 * Messages are read-only values. Incoming ones come from `parseMessage()` (parse.ts); outgoing ones from
 * `createRequest()` / `createResponse()` (build.ts); `serialize()` (serialize.ts) turns either into bytes.
 * Untrusted input never throws: parsing returns a `ParseResult`; accessors on a successfully parsed message
 * never throw either (the mandatory headers they read were validated by the parser; optional structured
 * headers such as Contact are exposed as results).
 */

/** Header or URI parameters, names lowercased, in order. `null` = a flag parameter without `=value`. */
export type Params = ReadonlyMap<string, string | null>;

/** RFC 3261 §19.1 SIP/SIPS URI (other schemes keep `scheme` and `raw`; `host` is '' when not a SIP URI). */
export interface SipUri {
  /** Lowercased scheme: 'sip', 'sips', 'tel', or anything else that parsed as a scheme. */
  readonly scheme: string;
  /** userinfo user part, %-unescaped (RFC 3261 §19.1.4: compare unescaped). */
  readonly user?: string;
  readonly password?: string;
  /** Host lowercased; an IPv6 reference keeps its brackets, e.g. '[2001:db8::10]' (RFC 5118). */
  readonly host: string;
  readonly port?: number;
  /** uri-parameters (`;transport=tcp;lr`), names lowercased, values unescaped. */
  readonly params: Params;
  /** `?name=value` headers in the URI, unescaped. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Exactly the text it was parsed from (or built from). */
  readonly raw: string;
}

/** name-addr / addr-spec with header parameters: From, To, Contact, Route, Record-Route, ... (§20). */
export interface NameAddr {
  /** Display name without quotes, quoted-pairs resolved; undefined when absent. */
  readonly displayName?: string;
  readonly uri: SipUri;
  /** Header parameters after the URI (`;tag=…`, `;expires=…`, `;q=…`). */
  readonly params: Params;
  readonly raw: string;
}

/** One Via value (§20.42, §18.2.1, RFC 3581). */
export interface Via {
  /** 'SIP/2.0' normally; anything else parsed (answered 505 by the UAS core). */
  readonly protocol: string;
  /** Uppercased transport token: 'UDP', 'TCP', 'TLS', 'SCTP', 'WS', or an unknown token. */
  readonly transport: string;
  /** sent-by host (lowercased; IPv6 keeps brackets). */
  readonly host: string;
  readonly port?: number;
  readonly params: Params;
  readonly branch?: string;
  readonly raw: string;
}

/** CSeq (§20.16): seq is a 32-bit unsigned integer. */
export interface CSeq {
  readonly seq: number;
  /** Method exactly as written (methods are case-sensitive, §7.1). */
  readonly method: string;
}

/** One header line after unfolding (§7.3.1). `name` is the canonical lowercase long form ('v' → 'via'). */
export interface SipHeader {
  readonly name: string;
  /** The value with leading/trailing whitespace removed and folding (CRLF + WSP) replaced by one SP. */
  readonly value: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

/** Contact header of a REGISTER or dialog request: either `*` (§10.2.2) or a list of addresses. */
export type ContactList = { star: true } | { star: false; contacts: readonly NameAddr[] };

export interface SipMessageCommon {
  readonly version: string;
  /** All header lines in order. */
  readonly headers: readonly SipHeader[];
  /** First value of a header, by long or compact name, case-insensitive; undefined if absent. */
  get(name: string): string | undefined;
  /** Every value of a header, by long or compact name; list-valued headers (§7.3.1) are split on top-level commas. */
  getAll(name: string): string[];
  has(name: string): boolean;
  readonly body: Buffer;

  // Mandatory headers, validated by the parser (§8.1.1); for built messages, taken from what was given.
  readonly via: readonly Via[];
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly callId: string;
  readonly cseq: CSeq;
  /** From tag / To tag (undefined when absent). */
  readonly fromTag: string | undefined;
  readonly toTag: string | undefined;
  readonly contentLength: number;
  /** Lowercased media type without parameters, e.g. 'application/sdp'. */
  readonly contentType: string | undefined;

  /** Contact, parsed on first use. */
  contacts(): Result<ContactList>;
  /** Any name-addr list header (Route, Record-Route, Path, ...), parsed on first use. */
  nameAddrs(name: string): Result<readonly NameAddr[]>;
  /** Expires header as a non-negative integer; undefined when absent; an error result when not a number. */
  expires(): Result<number | undefined>;
}

export interface SipRequest extends SipMessageCommon {
  readonly kind: 'request';
  readonly method: string;
  readonly uri: SipUri;
  /** Max-Forwards (undefined when absent, e.g. RFC 2543 requests). */
  readonly maxForwards: number | undefined;
  /** A copy with header edits applied (transport adds received/rport to the top Via, §18.2.1). */
  edit(edits: MessageEdits): SipRequest;
}

export interface SipResponse extends SipMessageCommon {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
  edit(edits: MessageEdits): SipResponse;
}

export type SipMessage = SipRequest | SipResponse;

export interface MessageEdits {
  /** Replace the whole top Via value with this text. */
  topVia?: string;
  /** Remove the top Via value (a proxy/B2BUA relaying a response). */
  popVia?: boolean;
  /** Insert header lines before all others, in the given order. */
  prepend?: ReadonlyArray<readonly [string, string]>;
  /** Remove every header with these names (long or compact). */
  remove?: readonly string[];
  /** Add header lines at the end (before Content-Length). */
  append?: ReadonlyArray<readonly [string, string]>;
  /** Replace the Request-URI (requests only). */
  uri?: string;
  body?: Buffer;
}

/**
 * The outcome of parsing one datagram or one framed stream message.
 * - ok: a complete, valid message.
 * - !ok with `request`: a request that parsed far enough to be answered (Via, From, To, Call-ID, CSeq usable):
 *   the UAS answers `status` (400 unless stated, 505 for a bad version) with `error` as the reason phrase.
 * - !ok without `request`: nothing can be answered; drop and count.
 */
export type ParseResult =
  | { ok: true; message: SipMessage }
  | { ok: false; error: string; status?: number; request?: SipRequest };
