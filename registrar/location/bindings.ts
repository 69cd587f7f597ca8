/**
 * The location service (RFC 3261 §10, §10.3): address-of-record → contact bindings, in memory.
 *
 * - Keys are canonical AORs (`aor.ts`): `sip:user@domain`, host lowercased, no parameters (§10.3 step 5).
 * - Each binding remembers what the registrar needs for §10.3 step 7 (Call-ID, CSeq) and what the proxy needs
 *   to reach the user: the Contact as given, RFC 3327 Path, the source address it registered from,
 *   RFC 5626/5627 instance-id and reg-id.
 * - Expiry uses the injected clock: a binding is live while `clock.now() < expiresAt`. Expired bindings are
 *   dropped lazily whenever an AOR is read, and by ONE periodic sweep timer for the whole service (never a
 *   timer per binding).
 * - Cap per AOR (`maxBindingsPerAor`, default 10): when an update would exceed it, the least recently
 *   refreshed bindings are dropped (oldest replaced — a phone that rebinds from a new NAT port does not
 *   lock itself out; the 200 OK shows what remains).
 * - Updates are whole-AOR replacements (`set`), so §10.3's "commit if and only if all updates succeed" is
 *   one Map write.
 * - Event `change` (aor, liveBindings) after every set/expiry, when someone listens.
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../sip/clock.ts';
import type { NameAddr } from '../sip/message/types.ts';
import type { Source } from '../sip/transport/types.ts';
import type { Logger } from '../log.ts';

export interface Binding {
  /** Canonical AOR this binding belongs to. */
  readonly aor: string;
  /** The Contact value as received (uri.raw and params kept exactly). */
  readonly contact: NameAddr;
  /** The Contact as the registrar writes it in a 200: `<uri>` + header params, without `expires` (cached). */
  readonly contactText: string;
  /** clock.now() ms at which the binding lapses. */
  readonly expiresAt: number;
  /** q-value 0..1 (default 1 when absent). */
  readonly q: number;
  readonly callId: string;
  readonly cseq: number;
  /** RFC 3327 Path values (name-addr text), first = closest to the registrar; used as a preloaded Route set. */
  readonly path: readonly string[];
  /** RFC 5626/5627 `+sip.instance` (without the quotes), when given. */
  readonly instanceId?: string;
  /** RFC 5626 `reg-id`, when given. */
  readonly regId?: number;
  /** Transport, address and port the REGISTER came from (for NAT traversal, see route.ts). */
  readonly source: Source;
  readonly userAgent?: string;
  /** clock.now() ms of the last REGISTER that created or refreshed it. */
  readonly updatedAt: number;
}

export interface LocationOptions {
  readonly clock: Clock;
  /** Default 10. */
  readonly maxBindingsPerAor?: number;
  /** Period of the expiry sweep; 0 disables the timer (lazy expiry only). Default 60 s. */
  readonly sweepIntervalMs?: number;
  readonly logger?: Logger;
}

export class LocationService extends EventEmitter {
  readonly maxBindingsPerAor: number;
  private readonly clock: Clock;
  private readonly sweepIntervalMs: number;
  /**
   * AOR → its bindings, in a holder so that a refresh replaces the list without another hash-table operation
   * (the table holds every registered user; at 20k+ AORs each lookup is a few cache misses).
   */
  private readonly table = new Map<string, AorEntry>();
  /** The entry `live()` found last: the registrar reads an AOR and then stores it (§10.3 steps 6–8). */
  private last: AorEntry | undefined;
  private sweepTimer: TimerHandle | undefined;
  private closed = false;
  private bindingTotal = 0;
  private readonly log: Logger | undefined;

  constructor(opts: LocationOptions) {
    super();
    this.clock = opts.clock;
    this.maxBindingsPerAor = opts.maxBindingsPerAor ?? 10;
    if (!(this.maxBindingsPerAor >= 1)) throw new TypeError('LocationService: maxBindingsPerAor must be >= 1');
    this.sweepIntervalMs = opts.sweepIntervalMs ?? 60_000;
    this.log = opts.logger?.child({ component: 'location' });
    this.armSweep();
  }

  /** Live bindings of an AOR, highest q first (ties: most recently refreshed first). */
  lookup(aor: string): Binding[] {
    const live = this.live(aor);
    return live.length <= 1 ? [...live] : [...live].sort(byPreference);
  }

  /** Live bindings of an AOR in stored order (what the registrar updates). */
  live(aor: string): readonly Binding[] {
    const entry = this.entry(aor);
    if (entry === undefined) return EMPTY;
    const list = entry.list;
    const now = this.clock.now();
    let expired = 0;
    for (const b of list) if (b.expiresAt <= now) expired++;
    if (expired === 0) return list;
    const kept = list.filter((b) => b.expiresAt > now);
    this.store(aor, kept);
    return kept;
  }

  /**
   * Replace all bindings of an AOR (an empty list removes it). Over the cap, the least recently refreshed
   * are dropped. Returns what is stored.
   */
  set(aor: string, bindings: readonly Binding[]): readonly Binding[] {
    let list = bindings;
    if (list.length > this.maxBindingsPerAor) {
      const order = list.map((b, i) => [b, i] as const).sort((x, y) => x[0].updatedAt - y[0].updatedAt || x[1] - y[1]);
      const drop = new Set(order.slice(0, list.length - this.maxBindingsPerAor).map(([b]) => b));
      list = list.filter((b) => !drop.has(b));
      this.log?.info({ tag: 'binding-cap', aor, dropped: drop.size }, 'binding cap reached: oldest dropped');
    }
    this.store(aor, list);
    return list;
  }

  /** Remove every binding of an AOR. */
  remove(aor: string): void {
    if (this.entry(aor) !== undefined) this.store(aor, EMPTY);
  }

  /** Every AOR with its live bindings (for an admin API). Expired ones are skipped, not removed. */
  *all(): IterableIterator<[string, readonly Binding[]]> {
    const now = this.clock.now();
    for (const [aor, { list }] of this.table) {
      const live = list.filter((b) => b.expiresAt > now);
      if (live.length > 0) yield [aor, live];
    }
  }

  /** Number of AORs with stored bindings (expired ones included until swept). */
  get aorCount(): number {
    return this.table.size;
  }

  /** Number of stored bindings (expired ones included until swept). */
  get bindingCount(): number {
    return this.bindingTotal;
  }

  /** Drop every expired binding now; returns how many were dropped. */
  sweep(): number {
    const now = this.clock.now();
    let dropped = 0;
    for (const [aor, { list }] of this.table) {
      let expired = 0;
      for (const b of list) if (b.expiresAt <= now) expired++;
      if (expired === 0) continue;
      dropped += expired;
      this.store(aor, list.filter((b) => b.expiresAt > now));
    }
    if (dropped > 0) this.log?.debug({ tag: 'sweep', dropped }, 'expired bindings dropped');
    return dropped;
  }

  /** Stop the sweep timer (bindings stay readable). */
  close(): void {
    this.closed = true;
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
  }

  private store(aor: string, list: readonly Binding[]): void {
    const entry = this.entry(aor);
    this.bindingTotal += list.length - (entry !== undefined ? entry.list.length : 0);
    if (list.length === 0) {
      if (entry !== undefined) {
        this.table.delete(aor);
        if (this.last === entry) this.last = undefined;
      }
    } else if (entry !== undefined) entry.list = list;
    else this.table.set(aor, { aor, list });
    if (this.listenerCount('change') > 0) this.emit('change', aor, list);
  }

  /** The table entry of an AOR (the last one looked up is remembered: read-then-store costs one hash lookup). */
  private entry(aor: string): AorEntry | undefined {
    const last = this.last;
    if (last !== undefined && last.aor === aor) return last;
    const e = this.table.get(aor);
    if (e !== undefined) this.last = e;
    return e;
  }

  private armSweep(): void {
    if (this.closed || this.sweepIntervalMs <= 0) return;
    this.sweepTimer = this.clock.setTimer(this.sweepIntervalMs, () => {
      this.sweep();
      this.armSweep();
    });
  }
}

const EMPTY: readonly Binding[] = Object.freeze([]);

interface AorEntry {
  readonly aor: string;
  list: readonly Binding[];
}

function byPreference(a: Binding, b: Binding): number {
  return b.q - a.q || b.updatedAt - a.updatedAt;
}
