/**
 * The dialog layer (RFC 3261 §12, §13, §14, §15): owns every dialog of a user agent, routes in-dialog requests to
 * them, retransmits 2xx to INVITE until the ACK arrives (§13.3.1.4), sends ACK for 2xx it receives (§13.2.2.4),
 * handles BYE (§15), re-INVITE glare (§14.1) and builds in-dialog requests for the focus (re-INVITE, MESSAGE,
 * NOTIFY, BYE).
 *
 * Sized for a conference focus: dialogs live in one Map keyed by Call-ID + tags; nothing is scanned per request.
 */
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../../log.ts';
import type { SipRequest, SipResponse } from '../message/types.ts';
import { createRequest, createResponse, newBranch, newCallId, newTag } from '../message/build.ts';
import { parseUri } from '../message/parse.ts';
import type { Endpoint, Source } from '../transport/types.ts';
import { Dialog, dialogKey, uacDialog, uasDialog } from './dialog.ts';
import type {
  AcceptOptions,
  DialogEndReason,
  DialogHandlers,
  DialogLayerOptions,
  HeaderList,
  InviteOptions,
  ReinviteAnswer,
  RequestOptions,
  ServerTxPort,
  TransactionPort,
  TransportPort,
} from './ports.ts';
import { uriToEndpoint } from './target.ts';

export type {
  AcceptOptions,
  ClientTxHandlers,
  HeaderList,
  ReinviteAnswer,
  DialogEndReason,
  DialogHandlers,
  DialogLayerOptions,
  InviteOptions,
  RequestOptions,
  ServerTxPort,
  TransactionPort,
  TransportPort,
} from './ports.ts';

interface UasInviteState {
  response: SipResponse;
  source: Source;
  cseq: number;
  interval: number;
  timer?: TimerHandle;
  giveUp?: TimerHandle;
  reliable: boolean;
}

/** An ACK we sent for a 2xx, kept to be re-sent for every retransmission of that 2xx (§13.2.2.4). */
interface SentAck {
  cseq: number;
  ack: SipRequest;
  dest: Endpoint;
}

interface DialogEntry {
  dialog: Dialog;
  handlers: DialogHandlers;
  /** Our 2xx awaiting its ACK. */
  pending2xx?: UasInviteState;
  /** §14.1: an INVITE we sent in this dialog has no final response yet. */
  outgoingInvite: boolean;
  /** §14.2: an INVITE we received in this dialog has not been answered yet (the port its owner answers on). */
  incomingInvite?: ServerTxPort;
  /** Where in-dialog requests go when the remote target is not an IP literal: the first request's source. */
  fallbackDest?: Endpoint;
  /** The latest ACK we sent for a 2xx to one of our INVITEs. */
  lastAck?: SentAck;
  /** Created by a non-INVITE request (SUBSCRIBE, RFC 6665): never ended with a BYE. */
  nonInvite?: boolean;
}

function is2xx(res: SipResponse): boolean {
  return res.status >= 200 && res.status < 300;
}

export class DialogLayer {
  private readonly dialogs = new Map<string, DialogEntry>();
  private readonly tx: TransactionPort;
  private readonly transport: TransportPort;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly T1: number;
  private readonly T2: number;

  constructor(opts: DialogLayerOptions) {
    this.tx = opts.transactions;
    this.transport = opts.transport;
    this.clock = opts.clock;
    this.log = opts.logger.child({ component: 'dialog' });
    this.T1 = opts.T1 ?? 500;
    this.T2 = opts.T2 ?? 4000;
  }

  get size(): number {
    return this.dialogs.size;
  }

  find(callId: string, localTag: string, remoteTag: string): Dialog | undefined {
    return this.dialogs.get(dialogKey(callId, localTag, remoteTag))?.dialog;
  }

  /**
   * Answer an initial INVITE with 2xx and create the UAS dialog (§12.1.1, §13.3.1.4). The 2xx is retransmitted
   * (T1 doubling to T2) over unreliable transports until the ACK comes; after 64*T1 without ACK the dialog is
   * confirmed but the session is ended with BYE (§13.3.1.4).
   */
  acceptInvite(tx: ServerTxPort, opts: AcceptOptions, handlers: DialogHandlers): Dialog {
    const req = tx.request;
    const toTag = opts.toTag ?? newTag();
    const dialog = uasDialog(req, toTag, opts.localContact, 'confirmed');
    const headers: Array<readonly [string, string]> = [['Contact', opts.localContact]];
    // §12.1.1: "When a UAS responds to a request with a response that establishes a dialog (such as a 2xx to
    // INVITE), the UAS MUST copy all Record-Route header field values from the request into the response
    // (including the URIs, URI parameters, and any Record-Route header field parameters, whether they are known
    // or unknown to the UAS) and MUST maintain the order of those values."
    for (const rr of req.getAll('record-route')) headers.push(['Record-Route', rr]);
    if (opts.headers) headers.push(...opts.headers);
    if (opts.body !== undefined && opts.contentType) headers.push(['Content-Type', opts.contentType]);
    const res = createResponse(req, 200, 'OK', { headers, body: opts.body, toTag });
    const entry: DialogEntry = { dialog, handlers, outgoingInvite: false, fallbackDest: sourceEndpoint(tx.source) };
    this.dialogs.set(dialog.key, entry);
    tx.respond(res);
    this.start2xxRetransmit(entry, res, tx.source, req.cseq.seq);
    this.log.debug({ callId: dialog.id.callId, remoteTag: dialog.id.remoteTag }, 'uas dialog created');
    return dialog;
  }

  /**
   * Answer a dialog-creating non-INVITE request (SUBSCRIBE, RFC 6665 §4.2.1.1) with 2xx and create the UAS dialog
   * (§12.1.1). No ACK follows a non-INVITE, so nothing is retransmitted by the TU.
   */
  acceptNonInvite(
    tx: ServerTxPort,
    opts: { localContact: string; status?: number; headers?: ReadonlyArray<readonly [string, string]> },
    handlers: DialogHandlers,
  ): Dialog {
    const req = tx.request;
    const toTag = newTag();
    const dialog = uasDialog(req, toTag, opts.localContact, 'confirmed');
    const headers: Array<readonly [string, string]> = [['Contact', opts.localContact]];
    for (const rr of req.getAll('record-route')) headers.push(['Record-Route', rr]);
    if (opts.headers) headers.push(...opts.headers);
    const entry: DialogEntry = { dialog, handlers, outgoingInvite: false, fallbackDest: sourceEndpoint(tx.source), nonInvite: true };
    this.dialogs.set(dialog.key, entry);
    tx.respond(createResponse(req, opts.status ?? 200, undefined, { headers, toTag }));
    return dialog;
  }

  /** Forget a dialog without sending anything (a subscription that ended with its final NOTIFY, RFC 6665 §4.4.1). */
  forget(dialog: Dialog): void {
    const entry = this.dialogs.get(dialog.key);
    if (entry) this.terminate(entry, 'local-bye');
  }

  /** 2xx to a re-INVITE inside an existing dialog: retransmitted until ACK like an initial one (§14.2, §13.3.1.4). */
  acceptReinvite(dialog: Dialog, tx: ServerTxPort, opts: ReinviteAnswer): void {
    const entry = this.dialogs.get(dialog.key);
    if (!entry) throw new Error('dialog: acceptReinvite on an unknown dialog');
    const headers: Array<readonly [string, string]> = [['Contact', dialog.localContact]];
    if (opts.headers) headers.push(...opts.headers);
    if (opts.body !== undefined && opts.contentType) headers.push(['Content-Type', opts.contentType]);
    const res = createResponse(tx.request, 200, 'OK', { headers, body: opts.body, toTag: dialog.id.localTag });
    entry.incomingInvite = undefined;
    tx.respond(res);
    this.start2xxRetransmit(entry, res, tx.source, tx.request.cseq.seq);
  }

  /** Reject a re-INVITE (e.g. 488) and keep the dialog as it was (§14.2). */
  rejectReinvite(dialog: Dialog, tx: ServerTxPort, status: number, reason?: string): void {
    const entry = this.dialogs.get(dialog.key);
    if (entry) entry.incomingInvite = undefined;
    tx.respond(createResponse(tx.request, status, reason, { toTag: dialog.id.localTag }));
  }

  /**
   * §13.3.1.4: "the INVITE server transaction will be destroyed as soon as it receives this final response and
   * passes it to the transport. Therefore, it is necessary to periodically pass the response directly to the
   * transport until the ACK arrives. The 2xx response is passed to the transport with an interval that starts at
   * T1 seconds and doubles for each retransmission until it reaches T2 seconds ... Response retransmissions cease
   * when an ACK request for the response is received."
   */
  private start2xxRetransmit(entry: DialogEntry, res: SipResponse, source: Source, cseq: number): void {
    this.stop2xxRetransmit(entry);
    const reliable = source.protocol === 'tcp';
    const state: UasInviteState = { response: res, source, cseq, interval: this.T1, reliable };
    entry.pending2xx = state;
    const tick = () => {
      if (entry.pending2xx !== state) return;
      this.transport.sendResponse(res, source);
      state.interval = Math.min(state.interval * 2, this.T2);
      state.timer = this.clock.setTimer(state.interval, tick);
    };
    // Deviation: §13.3.1.4 retransmits "independent of whatever transport protocols are used", because a hop
    // between the UAS and the UAC may be UDP. Over TCP we send the 2xx once: sipmeet's peers reach the focus over
    // their own connection, and if the 2xx or its ACK is lost anyway the 64*T1 wait below still ends the session.
    if (!state.reliable) state.timer = this.clock.setTimer(state.interval, tick);
    // §13.3.1.4: "If the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK, the
    // dialog is confirmed, but the session SHOULD be terminated. This is accomplished with a BYE".
    const ackWait = 64 * this.T1; // the same span as Timer L of the INVITE server transaction (RFC 6026 §7.1)
    state.giveUp = this.clock.setTimer(ackWait, () => {
      if (entry.pending2xx !== state) return;
      this.stop2xxRetransmit(entry);
      this.log.info({ callId: entry.dialog.id.callId }, 'no ACK for 2xx within 64*T1: ending the session');
      void this.end(entry, 'ack-timeout', [['Reason', 'SIP;cause=408;text="ACK timeout"']]);
    });
  }

  private stop2xxRetransmit(entry: DialogEntry): void {
    const p = entry.pending2xx;
    if (!p) return;
    p.timer?.cancel();
    p.giveUp?.cancel();
    entry.pending2xx = undefined;
  }

  /**
   * An ACK that matched no server transaction (§17.2.3: ACK for 2xx is end-to-end). Returns false when it
   * belongs to no dialog (the caller drops it: an ACK is never answered).
   */
  handleAck(ack: SipRequest): boolean {
    const entry = this.dialogs.get(dialogKey(ack.callId, ack.toTag ?? '', ack.fromTag ?? ''));
    if (!entry) return false;
    const p = entry.pending2xx;
    // §13.3.1.4: retransmissions cease when the ACK for this 2xx (same CSeq number) arrives; a retransmitted or
    // stale ACK changes nothing.
    if (p && p.cseq === ack.cseq.seq) {
      this.stop2xxRetransmit(entry);
      entry.handlers.onAck?.(entry.dialog, ack);
    }
    return true;
  }

  /**
   * A request with a To tag (§12.2.2). Returns false when it matches no dialog: the caller answers
   * 481 Call/Transaction Does Not Exist.
   */
  handleRequest(req: SipRequest, tx: ServerTxPort): boolean {
    const entry = this.dialogs.get(dialogKey(req.callId, req.toTag ?? '', req.fromTag ?? ''));
    if (!entry) return false;
    const { dialog } = entry;
    const check = dialog.acceptRequest(req);
    if (!check.ok) {
      tx.respond(createResponse(req, check.status, check.reason));
      return true;
    }
    if (req.method === 'BYE') {
      // §15.1.2: "the UAS MUST still respond to any pending requests received for that dialog. It is RECOMMENDED
      // that a 487 (Request Terminated) response be generated to those pending requests" (done by terminate()).
      // "The UAS core ... SHOULD terminate the session ... and generate a 2xx response to the BYE".
      tx.respond(createResponse(req, 200, 'OK'));
      this.terminate(entry, 'bye', req);
      return true;
    }
    let port = tx;
    if (req.method === 'INVITE') {
      // §14.2: "A UAS that receives a second INVITE before it sends the final response to a first INVITE with a
      // lower CSeq sequence number on the same dialog MUST return a 500 (Server Internal Error) response to the
      // second INVITE and MUST include a Retry-After header field with a randomly chosen value of between 0 and
      // 10 seconds. A UAS that receives an INVITE on a dialog while an INVITE it had sent on that dialog is in
      // progress MUST return a 491 (Request Pending) response to the received INVITE."
      if (entry.outgoingInvite) {
        tx.respond(createResponse(req, 491, 'Request Pending'));
        return true;
      }
      // Deviation: a 2xx of ours still waiting for its ACK counts as "not answered" too (the peer cannot yet know
      // the offer/answer outcome of the previous INVITE).
      if (entry.incomingInvite || entry.pending2xx) {
        const retry = String(Math.floor(Math.random() * 11));
        const reason = 'Server Internal Error - previous INVITE pending';
        tx.respond(createResponse(req, 500, reason, { headers: [['Retry-After', retry]] }));
        return true;
      }
      port = this.trackIncomingInvite(entry, tx);
    }
    if (entry.handlers.onRequest) {
      entry.handlers.onRequest(dialog, req, port);
    } else if (req.method === 'INVITE') {
      this.rejectReinvite(dialog, port, 488, 'Not Acceptable Here');
    } else {
      tx.respond(createResponse(req, 200, 'OK'));
    }
    return true;
  }

  /**
   * Wrap the server transaction of a re-INVITE so that whichever final response its owner sends (through
   * acceptReinvite, rejectReinvite or `respond` directly) clears the §14.2 "INVITE pending" state, and so that
   * a CANCEL of it (§9.2) is answered 487 through the same path.
   */
  private trackIncomingInvite(entry: DialogEntry, tx: ServerTxPort): ServerTxPort {
    let ownerCancel: ((cancel: SipRequest) => void) | undefined;
    const port: ServerTxPort = {
      request: tx.request,
      source: tx.source,
      respond: (res) => {
        if (res.status >= 200 && entry.incomingInvite === port) entry.incomingInvite = undefined;
        tx.respond(res);
      },
      onCancel: (cb) => {
        ownerCancel = cb;
      },
    };
    // §9.2: "If the original request was an INVITE, the UAS SHOULD immediately respond to the INVITE with a 487".
    tx.onCancel?.((cancel) => {
      if (ownerCancel) ownerCancel(cancel);
      else port.respond(createResponse(tx.request, 487, 'Request Terminated', { toTag: entry.dialog.id.localTag }));
    });
    entry.incomingInvite = port;
    return port;
  }

  /** Next-hop transport address for an in-dialog request. */
  private destFor(entry: DialogEntry): Endpoint | undefined {
    const parsed = parseUri(entry.dialog.nextHopUri());
    const ep = parsed.ok ? uriToEndpoint(parsed.value) : undefined;
    return ep ?? entry.fallbackDest;
  }

  private viaFor(dest: Endpoint): string {
    const s = this.transport.viaSentBy(dest.protocol);
    const host = s.host.includes(':') && !s.host.startsWith('[') ? `[${s.host}]` : s.host;
    return `SIP/2.0/${s.transport} ${host}:${s.port}`;
  }

  /**
   * Send an in-dialog request and resolve with its final response (408 synthesised on timeout, 503 on a
   * transport error, §8.1.3.1). For INVITE the 2xx is ACKed automatically unless `manualAck`; every
   * retransmission of that 2xx is answered with the same ACK again (§13.2.2.4).
   */
  request(dialog: Dialog, method: string, opts: RequestOptions = {}): Promise<SipResponse> {
    const entry = this.dialogs.get(dialog.key);
    if (!entry) return Promise.reject(new Error(`dialog: ${method} on an unknown or ended dialog`));
    if (method === 'ACK' || method === 'CANCEL') {
      return Promise.reject(new TypeError(`dialog: ${method} is not sent by request() (ACK: use ack())`));
    }
    // §14.1: "A UAC MUST NOT initiate a new INVITE transaction within a dialog while another INVITE transaction
    // is in progress in either direction."
    if (method === 'INVITE' && (entry.outgoingInvite || entry.incomingInvite)) {
      return Promise.reject(new Error('dialog: an INVITE is already in progress in this dialog (RFC 3261 §14.1)'));
    }
    const dest = this.destFor(entry);
    if (!dest) return Promise.reject(new Error(`dialog: no route to ${dialog.remoteTarget}`));
    const { body, contentType, headers } = opts;
    const req = dialog.createRequest(method, { via: this.viaFor(dest), body, contentType, headers });
    if (method === 'INVITE') entry.outgoingInvite = true;
    return new Promise<SipResponse>((resolve) => {
      let settled = false;
      const done = (res: SipResponse) => {
        if (settled) {
          // The client INVITE transaction passes up every 2xx (RFC 6026 Accepted state). §13.2.2.4: "The ACK MUST
          // be passed to the client transport every time a retransmission of the 2xx final response that
          // triggered the ACK arrives."
          if (method === 'INVITE' && is2xx(res)) this.resendAck(entry, res.cseq.seq);
          return;
        }
        settled = true;
        if (method === 'INVITE') {
          entry.outgoingInvite = false;
          if (is2xx(res)) {
            // §12.2.1.2: "If the response for a target refresh request ... is a 2xx, the UAC MUST replace the
            // dialog's remote target URI with the URI from the Contact header field in that response, if present."
            dialog.acceptRefreshResponse(res);
            if (!opts.manualAck) this.sendAck(entry, res);
          }
        }
        // §12.2.1.2: "If the response for a request within a dialog is a 481 (Call/Transaction Does Not Exist) or a
        // 408 (Request Timeout), the UAC SHOULD terminate the dialog. A UAC SHOULD also terminate a dialog if no
        // response at all is received for the request ... For INVITE initiated dialogs, terminating the dialog
        // consists of sending a BYE."
        if ((res.status === 481 || res.status === 408) && method !== 'BYE' && this.dialogs.get(dialog.key) === entry) {
          // Only "for INVITE initiated dialogs" does terminating mean a BYE: a subscription dialog (RFC 6665) just
          // ends (Linphone answers a BYE in its SUBSCRIBE dialog with 481).
          if (entry.nonInvite) this.terminate(entry, 'error');
          else void this.end(entry, 'error', [['Reason', `SIP;cause=${res.status}`]]);
        }
        resolve(res);
      };
      this.tx.sendRequest(req, dest, {
        onFinal: done,
        onTimeout: () => done(createResponse(req, 408, 'Request Timeout')),
        onTransportError: () => done(createResponse(req, 503, 'Service Unavailable - transport error')),
      });
    });
  }

  /**
   * §13.2.2.4: ACK for a 2xx, sent end-to-end (not through a transaction): "The sequence number of the CSeq header
   * field MUST be the same as the INVITE being acknowledged, but the CSeq method MUST be ACK." Calling it again
   * for the same INVITE re-sends the same ACK. For `manualAck` callers (the 2xx carried an offer, the ACK
   * carries the answer).
   */
  ack(dialog: Dialog, inviteResponse: SipResponse, body?: { body: Buffer | string; contentType: string }): void {
    const entry = this.dialogs.get(dialog.key);
    if (!entry) return;
    this.sendAck(entry, inviteResponse, body);
  }

  private sendAck(entry: DialogEntry, res: SipResponse, body?: { body: Buffer | string; contentType: string }): void {
    const seq = res.cseq.seq;
    if (entry.lastAck?.cseq === seq) {
      this.resendAck(entry, seq);
      return;
    }
    const dest = this.destFor(entry);
    if (!dest) {
      const { callId } = entry.dialog.id;
      this.log.warn({ callId, target: entry.dialog.remoteTarget }, 'no route for ACK: not sent');
      return;
    }
    const via = this.viaFor(dest);
    const ack = entry.dialog.createRequest('ACK', { via, cseq: seq, body: body?.body, contentType: body?.contentType });
    entry.lastAck = { cseq: seq, ack, dest };
    this.transport.sendRequest(ack, dest);
  }

  private resendAck(entry: DialogEntry, seq: number): void {
    const a = entry.lastAck;
    if (a && a.cseq === seq) this.transport.sendRequest(a.ack, a.dest);
  }

  /** §15.1.1: end the dialog with BYE. Resolves when the BYE is answered (or timed out); undefined if not sent. */
  async bye(dialog: Dialog, headers: HeaderList = []): Promise<SipResponse | undefined> {
    const entry = this.dialogs.get(dialog.key);
    if (!entry || dialog.state === 'terminated') return undefined;
    return this.end(entry, 'local-bye', headers);
  }

  /** Send BYE (§15.1.1) and terminate at once: "the UAC ... MUST consider the session terminated ... as soon as the
   * BYE request is passed to the client transaction". */
  private end(entry: DialogEntry, reason: DialogEndReason, headers: HeaderList): Promise<SipResponse | undefined> {
    this.stop2xxRetransmit(entry);
    const p = this.request(entry.dialog, 'BYE', { headers }).catch((err: unknown) => {
      this.log.warn({ err, callId: entry.dialog.id.callId }, 'BYE not sent');
      return undefined;
    });
    this.terminate(entry, reason);
    return p;
  }

  /**
   * Start a new dialog as UAC (the focus calling a registered user): INVITE to `target` via `dest`.
   * Resolves with the final response and, on 2xx, the confirmed dialog (ACK already sent unless manualAck).
   *
   * The client INVITE transaction passes up every 2xx while in RFC 6026's Accepted state. §13.2.2.4: "Multiple
   * 2xx responses may arrive at the UAC for a single INVITE request due to a forking proxy. Each response is
   * distinguished by the tag parameter in the To header field, and each represents a distinct dialog". A
   * retransmission of a 2xx already seen is ACKed again; a 2xx of another fork after the first is ACKed and
   * ended with BYE ("If the UAC does not want to continue with that dialog, then the UAC MUST terminate the
   * dialog by sending a BYE request").
   */
  invite(
    target: string,
    dest: Endpoint,
    opts: InviteOptions,
    handlers: DialogHandlers,
  ): Promise<{ response: SipResponse; dialog?: Dialog }> {
    const req = createRequest({
      method: 'INVITE',
      uri: target,
      headers: [
        ['Via', `${this.viaFor(dest)};branch=${newBranch()}`],
        ['Max-Forwards', '70'],
        ['From', `${opts.from};tag=${newTag()}`],
        ['To', opts.to],
        ['Call-ID', newCallId()],
        // §8.1.1.5: "The sequence number value MUST be expressible as a 32-bit unsigned integer and MUST be less
        // than 2**31."
        ['CSeq', `${1 + Math.floor(Math.random() * 10000)} INVITE`],
        ['Contact', opts.localContact],
        ...(opts.headers ?? []),
        ...(opts.body !== undefined && opts.contentType ? [['Content-Type', opts.contentType] as const] : []),
      ],
      body: opts.body,
    });
    return new Promise((resolve) => {
      let settled = false;
      /** Dialogs created by 2xx responses to this INVITE, by To tag. */
      const forks = new Map<string, DialogEntry>();
      const onFinal = (res: SipResponse) => {
        if (!is2xx(res)) {
          if (!settled) resolve({ response: res });
          settled = true;
          return;
        }
        const known = forks.get(res.toTag ?? '');
        if (known) {
          // §13.2.2.4: "The ACK MUST be passed to the client transport every time a retransmission of the 2xx
          // final response that triggered the ACK arrives."
          this.resendAck(known, res.cseq.seq);
          return;
        }
        // §12.1.2 via uacDialog: remote target = the 2xx's Contact, route set = its Record-Route reversed.
        const dialog = uacDialog(req, res, 'confirmed');
        const first = !settled;
        const entry: DialogEntry = { dialog, handlers: first ? handlers : {}, outgoingInvite: false };
        entry.fallbackDest = dest;
        this.dialogs.set(dialog.key, entry);
        forks.set(res.toTag ?? '', entry);
        if (first) {
          settled = true;
          if (!opts.manualAck) this.sendAck(entry, res);
          this.log.debug({ callId: dialog.id.callId, remoteTag: dialog.id.remoteTag }, 'uac dialog created');
          resolve({ response: res, dialog });
          return;
        }
        const { callId, remoteTag } = dialog.id;
        this.log.info({ callId, remoteTag }, '2xx from another fork: ACK and BYE');
        this.sendAck(entry, res);
        void this.end(entry, 'local-bye', []);
      };
      const fail = (res: SipResponse) => {
        if (!settled) resolve({ response: res });
        settled = true;
      };
      this.tx.sendRequest(req, dest, {
        onFinal,
        onTimeout: () => fail(createResponse(req, 408, 'Request Timeout')),
        onTransportError: () => fail(createResponse(req, 503, 'Service Unavailable - transport error')),
      });
    });
  }

  private terminate(entry: DialogEntry, reason: DialogEndReason, req?: SipRequest): void {
    if (entry.dialog.state === 'terminated') return;
    this.stop2xxRetransmit(entry);
    entry.dialog.transition('terminated');
    this.dialogs.delete(entry.dialog.key);
    // §15.1.2: pending requests of the dialog get 487 (Request Terminated).
    const pending = entry.incomingInvite;
    if (pending) pending.respond(createResponse(pending.request, 487, 'Request Terminated'));
    this.log.debug({ callId: entry.dialog.id.callId, reason }, 'dialog terminated');
    entry.handlers.onTerminated?.(entry.dialog, reason, req);
  }

  /** Stop every timer (server shutdown). */
  close(): void {
    for (const entry of this.dialogs.values()) this.stop2xxRetransmit(entry);
  }
}

function sourceEndpoint(s: Source): Endpoint {
  return { protocol: s.protocol, address: s.address, port: s.port };
}
