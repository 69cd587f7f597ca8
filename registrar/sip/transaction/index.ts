/** The RFC 3261 §17 transaction layer: public surface. */
export { TransactionLayer } from './layer.ts';
export type { AckHandler, ClientTransaction, RequestHandler, ServerTransaction, TransactionLayerOptions } from './layer.ts';
export { ClientInviteTransaction, type ClientInviteState } from './client-invite.ts';
export { ClientNonInviteTransaction, type ClientNonInviteState } from './client-non-invite.ts';
export { ServerInviteTransaction, type ServerInviteState } from './server-invite.ts';
export { ServerNonInviteTransaction, type ServerNonInviteState } from './server-non-invite.ts';
export { TransactionTimers, DEFAULT_T1, DEFAULT_T2, DEFAULT_T4, TRYING_DELAY, type BaseTimers } from './timers.ts';
export { IllegalTransitionError } from './state.ts';
export { MAGIC_COOKIE } from './types.ts';
export type { ClientHandlers, TransactionKind, TransactionStats, TransactionTransport } from './types.ts';
export { buildCancel, buildNon2xxAck } from './requests.ts';
