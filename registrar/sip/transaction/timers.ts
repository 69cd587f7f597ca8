/**
 * RFC 3261 §17 transaction timers (Table 4 of RFC 3261, §A) plus RFC 6026's Timers L and M.
 *
 * Every value is in milliseconds and derived from the three base values T1, T2 and T4, which are
 * configurable (RFC 3261 §17.1.1.1: "T1 ... MAY be chosen larger"; T2 and T4 likewise). Names are verbatim
 * from the RFC so the state machines read like the text. Values that depend on the transport take
 * `reliable` (TCP = reliable, UDP = unreliable, §17: "Timer D ... 0s for reliable transports").
 */

/** RFC 3261 §17.1.1.1: "T1 is an estimate of the round-trip time (RTT), and it defaults to 500 ms." */
export const DEFAULT_T1 = 500;
/** RFC 3261 §17.1.2.2: "T2 represents the amount of time a non-INVITE server transaction will take to respond
 * to a request, if it does not respond immediately. For the default values of T1 and T2, this results in
 * intervals of 500 ms, 1 s, 2 s, 4 s, 4 s, 4 s, etc." — T2 defaults to 4 s. */
export const DEFAULT_T2 = 4_000;
/** RFC 3261 §17.1.2.2: "T4 represents the amount of time the network will take to clear messages between client
 * and server transactions. The default value of T4 is 5 s." */
export const DEFAULT_T4 = 5_000;

export interface BaseTimers {
  readonly T1: number;
  readonly T2: number;
  readonly T4: number;
}

/** RFC 3261 §17.2.1: the server INVITE transaction sends 100 Trying "if the TU will not generate a provisional
 * response within 200 ms". Not a lettered timer. */
export const TRYING_DELAY = 200;

/**
 * The lettered timers of RFC 3261 §17 (Table 4) for one set of base values.
 *
 *  Timer | Value                     | Section    | Meaning
 *  ------+---------------------------+------------+-----------------------------------------------
 *  T1    | 500 ms default            | 17.1.1.1   | RTT estimate
 *  T2    | 4 s                       | 17.1.2.2   | maximum retransmit interval for non-INVITE requests and INVITE responses
 *  T4    | 5 s                       | 17.1.2.2   | maximum duration a message will remain in the network
 *  A     | initially T1              | 17.1.1.2   | INVITE request retransmit interval, for UDP only (doubles)
 *  B     | 64*T1                     | 17.1.1.2   | INVITE transaction timeout timer
 *  C     | > 3 min                   | 16.6 bul.11| proxy INVITE transaction timeout (proxy only: not used here)
 *  D     | > 32 s for UDP, 0 for TCP | 17.1.1.2   | wait time for response retransmits
 *  E     | initially T1              | 17.1.2.2   | non-INVITE request retransmit interval, UDP only (doubles to T2)
 *  F     | 64*T1                     | 17.1.2.2   | non-INVITE transaction timeout timer
 *  G     | initially T1              | 17.2.1     | INVITE response retransmit interval (doubles to T2)
 *  H     | 64*T1                     | 17.2.1     | wait time for ACK receipt
 *  I     | T4 for UDP, 0 for TCP     | 17.2.1     | wait time for ACK retransmits
 *  J     | 64*T1 for UDP, 0 for TCP  | 17.2.2     | wait time for non-INVITE request retransmits
 *  K     | T4 for UDP, 0 for TCP     | 17.1.2.2   | wait time for response retransmits
 *  L     | 64*T1                     | RFC 6026 §8.7 | wait time for accepted INVITE request retransmits
 *  M     | 64*T1                     | RFC 6026 §8.4 | wait time for retransmission of 2xx to INVITE or additional 2xx from other branches
 */
export class TransactionTimers implements BaseTimers {
  readonly T1: number;
  readonly T2: number;
  readonly T4: number;

  /** Timer A: initial INVITE retransmit interval (UDP only), "initially set to T1", doubled after each
   * retransmission (§17.1.1.2) — see `nextTimerA`. */
  readonly TIMER_A: number;
  /** Timer B: INVITE transaction timeout, 64*T1 (§17.1.1.2). */
  readonly TIMER_B: number;
  /** Timer C: proxy INVITE transaction timeout, > 3 min (§16.6 step 11). A proxy-only timer: this layer serves
   * UAs and does not run it; exported for completeness. */
  readonly TIMER_C = 3 * 60_000 + 1_000; // "> 3 min"
  /** Timer E: initial non-INVITE retransmit interval (UDP only), "initially set to T1" (§17.1.2.2). */
  readonly TIMER_E: number;
  /** Timer F: non-INVITE transaction timeout, 64*T1 (§17.1.2.2). */
  readonly TIMER_F: number;
  /** Timer G: initial INVITE final-response retransmit interval (UDP only), "initially T1" (§17.2.1). */
  readonly TIMER_G: number;
  /** Timer H: wait time for ACK receipt, 64*T1 (§17.2.1). */
  readonly TIMER_H: number;
  /** Timer L (RFC 6026 §8.7): how long the server INVITE transaction stays in Accepted, 64*T1. */
  readonly TIMER_L: number;
  /** Timer M (RFC 6026 §8.4): how long the client INVITE transaction stays in Accepted, 64*T1. */
  readonly TIMER_M: number;

  constructor(base: Partial<BaseTimers> = {}) {
    this.T1 = positive('T1', base.T1 ?? DEFAULT_T1);
    this.T2 = positive('T2', base.T2 ?? DEFAULT_T2);
    this.T4 = positive('T4', base.T4 ?? DEFAULT_T4);
    if (this.T2 < this.T1) throw new RangeError(`TransactionTimers: T2 (${this.T2}) must be >= T1 (${this.T1})`);
    this.TIMER_A = this.T1;
    this.TIMER_B = 64 * this.T1;
    this.TIMER_E = this.T1;
    this.TIMER_F = 64 * this.T1;
    this.TIMER_G = this.T1;
    this.TIMER_H = 64 * this.T1;
    this.TIMER_L = 64 * this.T1;
    this.TIMER_M = 64 * this.T1;
  }

  /** RFC 3261 §17.1.1.2: "When timer A fires 2T1 seconds later, the request MUST be retransmitted again ... the
   * next retransmission is at 4T1" — Timer A doubles without a cap (bounded by Timer B). */
  nextTimerA(previous: number): number {
    return previous * 2;
  }

  /** Timer D: "at least 32 seconds for unreliable transports" and "zero seconds for reliable" (§17.1.1.2).
   * 32 s covers the server's Timer H at default T1; with a larger T1 we keep 64*T1 so ACKs still cover every
   * retransmitted final response. */
  TIMER_D(reliable: boolean): number {
    return reliable ? 0 : Math.max(32_000, 64 * this.T1);
  }

  /** Timer E / Timer G backoff: "reset with a value of MIN(2*previous, T2)" (§17.1.2.2, §17.2.1). */
  nextTimerE(previous: number): number {
    return Math.min(2 * previous, this.T2);
  }

  /** RFC 3261 §17.2.1: "the timer is reset with a value of MIN(2*T1, T2)" each time Timer G fires. */
  nextTimerG(previous: number): number {
    return Math.min(2 * previous, this.T2);
  }

  /** Timer I: T4 for unreliable transports, 0 for reliable (§17.2.1). */
  TIMER_I(reliable: boolean): number {
    return reliable ? 0 : this.T4;
  }

  /** Timer J: 64*T1 for unreliable transports, 0 for reliable (§17.2.2). */
  TIMER_J(reliable: boolean): number {
    return reliable ? 0 : 64 * this.T1;
  }

  /** Timer K: T4 for unreliable transports, 0 for reliable (§17.1.2.2). */
  TIMER_K(reliable: boolean): number {
    return reliable ? 0 : this.T4;
  }
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`TransactionTimers: ${name} must be a positive number of ms, got ${v}`);
  return v;
}
