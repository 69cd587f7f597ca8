/**
 * A SIP dialog (RFC 3261 §12): the peer-to-peer relationship that in-dialog requests travel on.
 *
 * Pure state: it builds in-dialog requests and checks incoming ones, but sends nothing. `DialogLayer`
 * (dialog-layer.ts) wires it to the transaction layer.
 */
import type { SipRequest, SipResponse } from '../message/types.ts';
import { createRequest, newBranch } from '../message/build.ts';
import { type DialogState, dialogTransition } from './state.ts';
import { formatNameAddr } from './name-addr-format.ts';

export type DialogRole = 'uas' | 'uac';

export interface DialogId {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
}

/** Key used to find a dialog from an incoming request: Call-ID, our tag (To), their tag (From). */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\u0000${localTag}\u0000${remoteTag}`;
}

export interface DialogInit {
  role: DialogRole;
  state: 'early' | 'confirmed';
  id: DialogId;
  /** Local and remote party as name-addr text without tag (used in From/To of requests we send). */
  localParty: string;
  remoteParty: string;
  localSeq: number;
  remoteSeq: number | undefined;
  remoteTarget: string;
  /** Route set as name-addr values, in the order they go into Route headers (§12.1.1 / §12.1.2). */
  routeSet: readonly string[];
  localContact: string;
  secure: boolean;
}

export interface InDialogRequestOptions {
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer | string;
  contentType?: string;
  /** Via sent-by for the request ("SIP/2.0/UDP host:port"); the branch is added here. */
  via: string;
  /** CSeq number to use instead of the next one (ACK and CANCEL reuse the INVITE's, §13.2.2.4, §9.1). */
  cseq?: number;
}

const CONTACT_METHODS: ReadonlySet<string> = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

export class Dialog {
  readonly role: DialogRole;
  readonly id: DialogId;
  readonly key: string;
  readonly localParty: string;
  readonly remoteParty: string;
  readonly localContact: string;
  readonly secure: boolean;
  private _state: DialogState;
  private _localSeq: number;
  private _remoteSeq: number | undefined;
  private _remoteTarget: string;
  private _routeSet: readonly string[];
  /** Application data (the focus keeps its participant here). */
  data: unknown;

  constructor(init: DialogInit) {
    this.role = init.role;
    this.id = init.id;
    this.key = dialogKey(init.id.callId, init.id.localTag, init.id.remoteTag);
    this.localParty = init.localParty;
    this.remoteParty = init.remoteParty;
    this.localContact = init.localContact;
    this.secure = init.secure;
    this._state = init.state;
    this._localSeq = init.localSeq;
    this._remoteSeq = init.remoteSeq;
    this._remoteTarget = init.remoteTarget;
    this._routeSet = init.routeSet;
  }

  get state(): DialogState { return this._state; }
  get localSeq(): number { return this._localSeq; }
  get remoteSeq(): number | undefined { return this._remoteSeq; }
  get remoteTarget(): string { return this._remoteTarget; }
  get routeSet(): readonly string[] { return this._routeSet; }

  transition(to: DialogState): void {
    this._state = dialogTransition(this._state, to);
  }

  /**
   * RFC 3261 §12.2.1.1: the next hop is the first Route entry when the route set is non-empty (loose routing,
   * `lr`), else the remote target.
   * Deviation: strict routing (a first route without `lr`, RFC 2543) is not supported: we still send to the first
   * route but keep the remote target as Request-URI; sipmeet's own peers and every current UA loose-route.
   */
  nextHopUri(): string {
    if (this._routeSet.length > 0) {
      const first = this._routeSet[0]!;
      const m = /<([^>]*)>/.exec(first);
      return m ? m[1]! : first;
    }
    return this._remoteTarget;
  }

  /**
   * Builds an in-dialog request (§12.2.1.1): "The URI in the To field of the request MUST be set to the remote URI
   * from the dialog state. The tag in the To header field of the request MUST be set to the remote tag of the
   * dialog ID. The From URI of the request MUST be set to the local URI from the dialog state. The tag in the From
   * header field of the request MUST be set to the local tag of the dialog ID. ... The CSeq header field value
   * MUST be set to the local sequence number (incremented by one)". Increments the local CSeq unless `cseq` is
   * given (ACK: §13.2.2.4).
   */
  createRequest(method: string, opts: InDialogRequestOptions): SipRequest {
    if (this._state === 'terminated' && method !== 'ACK') {
      throw new Error(`dialog: cannot send ${method} on a terminated dialog`);
    }
    const seq = opts.cseq ?? ++this._localSeq;
    const headers: Array<readonly [string, string]> = [
      ['Via', `${opts.via};branch=${newBranch()}`],
      ['Max-Forwards', '70'],
      ['From', `${this.localParty};tag=${this.id.localTag}`],
      ['To', `${this.remoteParty};tag=${this.id.remoteTag}`],
      ['Call-ID', this.id.callId],
      ['CSeq', `${seq} ${method}`],
    ];
    for (const r of this._routeSet) headers.push(['Route', r]);
    // §12.2.1.1 / §8.1.1.8: Contact is mandatory in target-refresh requests (re-INVITE, UPDATE); RFC 6665 and
    // RFC 3515 require it in SUBSCRIBE, NOTIFY and REFER.
    if (CONTACT_METHODS.has(method)) {
      headers.push(['Contact', this.localContact]);
    }
    if (opts.headers) headers.push(...opts.headers);
    if (opts.body !== undefined && opts.contentType) headers.push(['Content-Type', opts.contentType]);
    return createRequest({ method, uri: this._remoteTarget, headers, body: opts.body });
  }

  /**
   * §12.2.2: check an incoming in-dialog request. "If the remote sequence number is empty, it MUST be set to the
   * value of the sequence number in the CSeq header field value in the request. If the remote sequence number was
   * not empty, but the sequence number of the request is lower than the remote sequence number, the request is out
   * of order and MUST be rejected with a 500 (Server Internal Error) response."
   * Deviation: an EQUAL number (a new transaction reusing the last CSeq) is rejected too: §12.2.1.1 makes the
   * peer increment by one for every request, so it is a broken UA or a replay.
   * ACK and CANCEL carry the INVITE's CSeq and are not checked here.
   * §12.2.2: "When a UAS receives a target refresh request, it MUST replace the dialog's remote target URI with the
   * URI from the Contact header field in that request, if present." (re-INVITE, UPDATE)
   */
  acceptRequest(req: SipRequest): { ok: true } | { ok: false; status: number; reason: string } {
    const m = req.method;
    if (m !== 'ACK' && m !== 'CANCEL') {
      const seq = req.cseq.seq;
      if (this._remoteSeq !== undefined && seq <= this._remoteSeq) {
        return { ok: false, status: 500, reason: 'Server Internal Error - CSeq out of order' };
      }
      this._remoteSeq = seq;
    }
    if (m === 'INVITE' || m === 'UPDATE') this.refreshTarget(req);
    return { ok: true };
  }

  /** §12.2.1.2: a 2xx to a target refresh we sent updates the remote target. */
  acceptRefreshResponse(res: SipResponse): void {
    if (res.status >= 200 && res.status < 300) this.refreshTarget(res);
  }

  private refreshTarget(msg: SipRequest | SipResponse): void {
    const c = msg.contacts();
    if (c.ok && !c.value.star && c.value.contacts.length > 0) {
      this._remoteTarget = c.value.contacts[0]!.uri.raw;
    }
  }
}

/**
 * §12.1.1: the UAS side of a dialog created by a request (INVITE, SUBSCRIBE) that we answer with `localTag`.
 * "The route set MUST be set to the list of URIs in the Record-Route header field from the request, taken in
 * order and preserving all URI parameters. ... The remote target MUST be set to the URI from the Contact header
 * field of the request. The remote sequence number MUST be set to the value of the sequence number in the CSeq
 * header field of the request. The local sequence number MUST be empty."
 */
export function uasDialog(
  req: SipRequest,
  localTag: string,
  localContact: string,
  state: 'early' | 'confirmed',
): Dialog {
  const contacts = req.contacts();
  const remoteTarget =
    contacts.ok && !contacts.value.star && contacts.value.contacts.length > 0
      ? contacts.value.contacts[0]!.uri.raw
      : req.from.uri.raw;
  const rr = req.nameAddrs('record-route');
  return new Dialog({
    role: 'uas',
    state,
    id: { callId: req.callId, localTag, remoteTag: req.fromTag ?? '' },
    localParty: formatNameAddr(req.to, ['tag']),
    remoteParty: formatNameAddr(req.from, ['tag']),
    // §12.1.1: local sequence number empty (we start our own from a random value, below 2^31 per §8.1.1.5).
    localSeq: Math.floor(Math.random() * 10000),
    remoteSeq: req.cseq.seq,
    remoteTarget,
    // §12.1.1: route set = Record-Route in the request, in order.
    routeSet: rr.ok ? rr.value.map((r) => r.raw) : [],
    localContact,
    secure: req.uri.scheme === 'sips',
  });
}

/**
 * §12.1.2: the UAC side of a dialog created by a response to our request. "The route set MUST be set to the list
 * of URIs in the Record-Route header field from the response, taken in reverse order and preserving all URI
 * parameters. ... The remote target MUST be set to the URI from the Contact header field of the response. The
 * local sequence number MUST be set to the value of the sequence number in the CSeq header field of the request.
 * The remote sequence number MUST be empty".
 */
export function uacDialog(req: SipRequest, res: SipResponse, state: 'early' | 'confirmed'): Dialog {
  const contacts = res.contacts();
  const remoteTarget =
    contacts.ok && !contacts.value.star && contacts.value.contacts.length > 0
      ? contacts.value.contacts[0]!.uri.raw
      : req.uri.raw;
  const rr = res.nameAddrs('record-route');
  const localContact = req.get('contact') ?? '';
  return new Dialog({
    role: 'uac',
    state,
    id: { callId: req.callId, localTag: req.fromTag ?? '', remoteTag: res.toTag ?? '' },
    localParty: formatNameAddr(req.from, ['tag']),
    remoteParty: formatNameAddr(res.to, ['tag']),
    localSeq: req.cseq.seq,
    remoteSeq: undefined,
    remoteTarget,
    // §12.1.2: route set = Record-Route of the response, in REVERSE order.
    routeSet: rr.ok ? rr.value.map((r) => r.raw).reverse() : [],
    localContact,
    secure: req.uri.scheme === 'sips',
  });
}
