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
import type { Endpoint, Source, TransportProtocol } from '../transport/types.ts';
import { Dialog, dialogKey, uacDialog, uasDialog } from './dialog.ts';
import { uriToEndpoint } from './target.ts';

/** What the dialog layer needs from the transaction layer. */
export interface ClientTxHandlers {
  onProvisional?(res: SipResponse): void;
  onFinal(res: SipResponse): void;
  onTimeout(): void;
  onTransportError(err: Error): void;
}
export interface TransactionPort {
  sendRequest(req: SipRequest, dest: Endpoint, handlers: ClientTxHandlers): unknown;
}
export interface ServerTxPort {
  readonly request: SipRequest;
  readonly source: Source;
  respond(res: SipResponse): void;
}
/** What the dialog layer needs from the transport (2xx retransmissions and ACKs bypass transactions, §17.1.1.3). */
export interface TransportPort {
  viaSentBy(protocol: TransportProtocol): { host: string; port: number; transport: string };
  sendRequest(req: SipRequest, dest: Endpoint, cb?: (err?: Error) => void): void;
  sendResponse(res: SipResponse, requestSource: Source, cb?: (err?: Error) => void): void;
}

/** The owner of a dialog (the focus's participant, a test) gets its in-dialog traffic here. */
export interface DialogHandlers {
  /** An in-dialog request other than ACK/BYE/CANCEL. The handler MUST answer it through `tx.respond`. */
  onRequest?(dialog: Dialog, req: SipRequest, tx: ServerTxPort): void;
  /** The ACK for our 2xx arrived (with its body, if the INVITE had no offer: §13.2.1). */
  onAck?(dialog: Dialog, ack: SipRequest): void;
  /** The dialog ended: 'bye' (peer hung up), 'local-bye', 'ack-timeout' (§13.3.1.4), 'error'. */
  onTerminated?(dialog: Dialog, reason: DialogEndReason, req?: SipRequest): void;
}
export type DialogEndReason = 'bye' | 'local-bye' | 'ack-timeout' | 'error';

export interface DialogLayerOptions {
  transactions: TransactionPort;
  transport: TransportPort;
  clock: Clock;
  logger: Logger;
  T1?: number;
  T2?: number;
}

interface UasInviteState {
  response: SipResponse;
  source: Source;
  cseq: number;
  interval: number;
  timer?: TimerHandle;
  giveUp?: TimerHandle;
  reliable: boolean;
}

interface DialogEntry {
  dialog: Dialog;
  handlers: DialogHandlers;
  /** Our 2xx awaiting its ACK. */
  pending2xx?: UasInviteState;
  /** §14.1: an INVITE we sent in this dialog has no final response yet. */
  outgoingInvite: boolean;
  /** §14.2: an INVITE we received in this dialog has not been answered yet. */
  incomingInvite: boolean;
  /** Where in-dialog requests go when the remote target is not an IP literal: the first request's source. */
  fallbackDest?: Endpoint;
}

export interface RequestOptions {
  body?: Buffer | string;
  contentType?: string;
  headers?: ReadonlyArray<readonly [string, string]>;
  /** For INVITE: do not ACK the 2xx automatically; the caller sends it with `ack()` (third-party call control). */
  manualAck?: boolean;
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
  acceptInvite(
    tx: ServerTxPort,
    opts: { localContact: string; body?: Buffer | string; contentType?: string; headers?: ReadonlyArray<readonly [string, string]>; toTag?: string },
    handlers: DialogHandlers,
  ): Dialog {
    const req = tx.request;
    const toTag = opts.toTag ?? newTag();
    const dialog = uasDialog(req, toTag, opts.localContact, 'confirmed');
    const headers: Array<readonly [string, string]> = [['Contact', opts.localContact]];
    // §12.1.1: the UAS copies Record-Route into the 2xx.
    for (const rr of req.getAll('record-route')) headers.push(['Record-Route', rr]);
    if (opts.headers) headers.push(...opts.headers);
    if (opts.body !== undefined && opts.contentType) headers.push(['Content-Type', opts.contentType]);
    const res = createResponse(req, 200, 'OK', { headers, body: opts.body, toTag });
    const entry: DialogEntry = { dialog, handlers, outgoingInvite: false, incomingInvite: false, fallbackDest: sourceEndpoint(tx.source) };
    this.dialogs.set(dialog.key, entry);
    tx.respond(res);
    this.start2xxRetransmit(entry, res, tx.source, req.cseq.seq);
    this.log.debug({ callId: dialog.id.callId, remoteTag: dialog.id.remoteTag }, 'uas dialog created');
    return dialog;
  }

  /** 2xx to a re-INVITE inside an existing dialog: retransmitted until ACK like an initial one. */
  acceptReinvite(dialog: Dialog, tx: ServerTxPort, opts: { body?: Buffer | string; contentType?: string; headers?: ReadonlyArray<readonly [string, string]> }): void {
    const entry = this.dialogs.get(dialog.key);
    if (!entry) throw new Error('dialog: acceptReinvite on an unknown dialog');
    const headers: Array<readonly [string, string]> = [['Contact', dialog.localContact]];
    if (opts.headers) headers.push(...opts.headers);
    if (opts.body !== undefined && opts.contentType) headers.push(['Content-Type', opts.contentType]);
    const res = createResponse(tx.request, 200, 'OK', { headers, body: opts.body, toTag: dialog.id.localTag });
    entry.incomingInvite = false;
    tx.respond(res);
    this.start2xxRetransmit(entry, res, tx.source, tx.request.cseq.seq);
  }

  /** Reject a re-INVITE (e.g. 488) and keep the dialog as it was (§14.2). */
  rejectReinvite(dialog: Dialog, tx: ServerTxPort, status: number, reason?: string): void {
    const entry = this.dialogs.get(dialog.key);
    if (entry) entry.incomingInvite = false;
    tx.respond(createResponse(tx.request, status, reason, { toTag: dialog.id.localTag }));
  }

  private start2xxRetransmit(entry: DialogEntry, res: SipResponse, source: Source, cseq: number): void {
    this.stop2xxRetransmit(entry);
    const state: UasInviteState = { response: res, source, cseq, interval: this.T1, reliable: source.protocol === 'tcp' };
    entry.pending2xx = state;
    const tick = () => {
      if (entry.pending2xx !== state) return;
      this.transport.sendResponse(res, source);
      state.interval = Math.min(state.interval * 2, this.T2);
      state.timer = this.clock.setTimer(state.interval, tick);
    };
    // Deviation: over reliable transports the 2xx is not retransmitted (the transport does not lose it); the
    // 64*T1 wait for the ACK still applies.
    if (!state.reliable) state.timer = this.clock.setTimer(state.interval, tick);
    state.giveUp = this.clock.setTimer(64 * this.T1, () => {
      if (entry.pending2xx !== state) return;
      this.stop2xxRetransmit(entry);
      this.log.info({ callId: entry.dialog.id.callId }, 'no ACK for 2xx within 64*T1: ending the session (RFC 3261 §13.3.1.4)');
      void this.bye(entry.dialog, [['Reason', 'SIP;cause=408;text="ACK timeout"']]).catch(() => undefined);
      this.terminate(entry, 'ack-timeout');
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
      // §15.1.2: answer BYE with 200 and end the dialog.
      tx.respond(createResponse(req, 200, 'OK'));
      this.terminate(entry, 'bye', req);
      return true;
    }
    if (req.method === 'INVITE') {
      // §14.2: an INVITE of ours is pending → 491; an earlier one of theirs still unanswered → 500 + Retry-After.
      if (entry.outgoingInvite) {
        tx.respond(createResponse(req, 491, 'Request Pending'));
        return true;
      }
      if (entry.incomingInvite || entry.pending2xx) {
        const retry = String(Math.floor(Math.random() * 10));
        tx.respond(createResponse(req, 500, 'Server Internal Error - previous INVITE pending', { headers: [['Retry-After', retry]] }));
        return true;
      }
      entry.incomingInvite = true;
    }
    if (entry.handlers.onRequest) {
      entry.handlers.onRequest(dialog, req, tx);
    } else if (req.method === 'INVITE') {
      this.rejectReinvite(dialog, tx, 488, 'Not Acceptable Here');
    } else {
      tx.respond(createResponse(req, 200, 'OK'));
    }
    return true;
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
   * transport error, §8.1.3.1). For INVITE the 2xx is ACKed automatically unless `manualAck`.
   */
  request(dialog: Dialog, method: string, opts: RequestOptions = {}): Promise<SipResponse> {
    const entry = this.dialogs.get(dialog.key);
    if (!entry) return Promise.reject(new Error(`dialog: ${method} on an unknown or ended dialog`));
    const dest = this.destFor(entry);
    if (!dest) return Promise.reject(new Error(`dialog: no route to ${dialog.remoteTarget}`));
    const req = dialog.createRequest(method, { via: this.viaFor(dest), body: opts.body, contentType: opts.contentType, headers: opts.headers });
    if (method === 'INVITE') {
      if (entry.outgoingInvite) return Promise.reject(new Error('dialog: an INVITE is already pending (RFC 3261 §14.1)'));
      entry.outgoingInvite = true;
    }
    return new Promise<SipResponse>((resolve) => {
      const done = (res: SipResponse) => {
        if (method === 'INVITE') {
          entry.outgoingInvite = false;
          if (res.status >= 200 && res.status < 300) {
            dialog.acceptRefreshResponse(res);
            if (!opts.manualAck) this.ack(dialog, res);
          }
        }
        // §12.2.1.2: 481 or 408 to an in-dialog request ends the dialog.
        if ((res.status === 481 || res.status === 408) && method !== 'BYE') this.terminate(entry, 'error');
        resolve(res);
      };
      this.tx.sendRequest(req, dest, {
        onFinal: done,
        onTimeout: () => done(createResponse(req, 408, 'Request Timeout')),
        onTransportError: () => done(createResponse(req, 503, 'Service Unavailable - transport error')),
      });
    });
  }

  /** §13.2.2.4: ACK for a 2xx, sent end-to-end (not through a transaction), CSeq number of the INVITE. */
  ack(dialog: Dialog, inviteResponse: SipResponse, body?: { body: Buffer | string; contentType: string }): void {
    const entry = this.dialogs.get(dialog.key);
    if (!entry) return;
    const dest = this.destFor(entry);
    if (!dest) return;
    const ack = dialog.createRequest('ACK', {
      via: this.viaFor(dest),
      cseq: inviteResponse.cseq.seq,
      body: body?.body,
      contentType: body?.contentType,
    });
    this.transport.sendRequest(ack, dest);
  }

  /** §15.1.1: end the dialog with BYE. Resolves when the BYE is answered (or timed out). */
  async bye(dialog: Dialog, headers: ReadonlyArray<readonly [string, string]> = []): Promise<SipResponse | undefined> {
    const entry = this.dialogs.get(dialog.key);
    if (!entry || dialog.state === 'terminated') return undefined;
    this.stop2xxRetransmit(entry);
    const p = this.request(dialog, 'BYE', { headers });
    this.terminate(entry, 'local-bye');
    return p;
  }

  /**
   * Start a new dialog as UAC (the focus calling a registered user): INVITE to `target` via `dest`.
   * Resolves with the final response and, on 2xx, the confirmed dialog (ACK already sent unless manualAck).
   */
  async invite(
    target: string,
    dest: Endpoint,
    opts: { from: string; to: string; localContact: string; body?: Buffer | string; contentType?: string; headers?: ReadonlyArray<readonly [string, string]>; manualAck?: boolean },
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
        ['CSeq', `${1 + Math.floor(Math.random() * 10000)} INVITE`],
        ['Contact', opts.localContact],
        ...(opts.headers ?? []),
        ...(opts.body !== undefined && opts.contentType ? [['Content-Type', opts.contentType] as const] : []),
      ],
      body: opts.body,
    });
    const response = await new Promise<SipResponse>((resolve) => {
      this.tx.sendRequest(req, dest, {
        onFinal: resolve,
        onTimeout: () => resolve(createResponse(req, 408, 'Request Timeout')),
        onTransportError: () => resolve(createResponse(req, 503, 'Service Unavailable - transport error')),
      });
    });
    if (response.status < 200 || response.status >= 300) return { response };
    const dialog = uacDialog(req, response, 'confirmed');
    const existing = this.dialogs.get(dialog.key);
    if (existing) {
      // A retransmitted 2xx: ACK again, same dialog.
      this.ack(existing.dialog, response);
      return { response, dialog: existing.dialog };
    }
    this.dialogs.set(dialog.key, { dialog, handlers, outgoingInvite: false, incomingInvite: false, fallbackDest: dest });
    if (!opts.manualAck) this.ack(dialog, response);
    return { response, dialog };
  }

  private terminate(entry: DialogEntry, reason: DialogEndReason, req?: SipRequest): void {
    if (entry.dialog.state === 'terminated') return;
    this.stop2xxRetransmit(entry);
    entry.dialog.transition('terminated');
    this.dialogs.delete(entry.dialog.key);
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
