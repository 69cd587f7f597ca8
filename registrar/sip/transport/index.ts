/** The SIP transport layer: `createTransport()` and its contract. */
export { createTransport, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_TCP_IDLE_TIMEOUT_MS, UDP_MTU_THRESHOLD } from './transport.ts';
export type { TransportOptions } from './transport.ts';
export type {
  Endpoint, Incoming, SendCallback, SipTransport, Source, TransportProtocol, TransportStats,
} from './types.ts';
