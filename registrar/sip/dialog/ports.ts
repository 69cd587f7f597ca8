/**
 * What the dialog layer (dialog-layer.ts) needs from the layers below it, and what it offers its owners: the
 * narrow ports it is wired with (the transaction layer and transport satisfy them structurally) and the handler
 * and option shapes of its public API.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../../log.ts';
import type { SipRequest, SipResponse } from '../message/types.ts';
import type { Endpoint, Source, TransportProtocol } from '../transport/types.ts';
import type { Dialog } from './dialog.ts';

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
  /** A CANCEL arrived for this (still pending) INVITE (§9.2); `ServerInviteTransaction` has it. */
  onCancel?(cb: (cancel: SipRequest) => void): void;
}
/** What the dialog layer needs from the transport (2xx retransmissions and ACKs bypass transactions, §17.1.1.3). */
export interface TransportPort {
  viaSentBy(protocol: TransportProtocol): { host: string; port: number; transport: string };
  sendRequest(req: SipRequest, dest: Endpoint, cb?: (err?: Error) => void): void;
  sendResponse(res: SipResponse, requestSource: Source, cb?: (err?: Error) => void): void;
}

/** The owner of a dialog (the focus's participant, a test) gets its in-dialog traffic here. */
export interface DialogHandlers {
  /**
   * An in-dialog request other than ACK/BYE/CANCEL. The handler MUST answer it: through `tx.respond`, or for a
   * re-INVITE through `acceptReinvite` (2xx retransmitted until ACK) / `rejectReinvite`.
   */
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

export type HeaderList = ReadonlyArray<readonly [string, string]>;

/** `DialogLayer.acceptInvite()`: our 2xx to an initial INVITE. */
export interface AcceptOptions {
  localContact: string;
  /** The SDP answer (or offer, when the INVITE had none: §13.2.1). */
  body?: Buffer | string;
  contentType?: string;
  headers?: HeaderList;
  /** Our To tag (default: a new random one). */
  toTag?: string;
}

/** `DialogLayer.acceptReinvite()`: our 2xx to a re-INVITE. */
export interface ReinviteAnswer {
  body?: Buffer | string;
  contentType?: string;
  headers?: HeaderList;
}

export interface RequestOptions {
  body?: Buffer | string;
  contentType?: string;
  headers?: HeaderList;
  /** For INVITE: do not ACK the 2xx automatically; the caller sends it with `ack()` (third-party call control). */
  manualAck?: boolean;
}

/** `DialogLayer.invite()`: a new call from us (the focus calling a registered user). */
export interface InviteOptions {
  /** name-addr of the caller, without tag (a tag is added). */
  from: string;
  /** name-addr of the callee, without tag. */
  to: string;
  localContact: string;
  /** The SDP offer (an INVITE without one gets the offer in the 2xx and answers in the ACK: use manualAck). */
  body?: Buffer | string;
  contentType?: string;
  headers?: HeaderList;
  /** Do not ACK the 2xx; the caller sends it with `ack()` (with the answer to an offer in the 2xx). */
  manualAck?: boolean;
}
