/**
 * Prometheus metrics for `GET /metrics` (issue 3 §7), on prom-client.
 *
 * Each `Metrics` owns its own `Registry` (never prom-client's global one), so several servers can live in one
 * process (tests). What it exposes:
 *
 * | metric                                   | type    | source                                              |
 * |------------------------------------------|---------|-----------------------------------------------------|
 * | sipmeet_meetings                         | gauge   | `focus.counters().meetings`, read at scrape time    |
 * | sipmeet_participants                     | gauge   | `focus.counters().participants`, at scrape time     |
 * | sipmeet_meetings_created_total           | counter | `focus.counters().meetingsCreated`, at scrape time  |
 * | sipmeet_meetings_ended_total             | counter | `focus.counters().meetingsEnded`, at scrape time    |
 * | sipmeet_chat_messages_total              | counter | `focus.counters().chatMessages`, at scrape time     |
 * | sipmeet_sip_requests_total{method}       | counter | `countRequest(method)` from the SIP server core     |
 * | sipmeet_sip_responses_total{method,status} | counter | `countResponse(method, status)` from the core     |
 * | sipmeet_media_packets_total{direction}   | counter | the relay's collector (`setMediaCollector`), at scrape time |
 * | sipmeet_process_*, sipmeet_nodejs_*      | various | prom-client's default process metrics, prefixed     |
 *
 * Label cardinality is bounded whatever peers send: a method outside `KNOWN_METHODS` is counted as "other";
 * a status is its own label only when it is a code with a registered reason phrase (reasons.ts), otherwise its
 * class ("4xx"), and anything outside 100..699 is "other".
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { FocusApi } from '../focus/api.ts';
import { defaultReason } from '../sip/message/reasons.ts';

/** SIP methods counted by name (RFC 3261 §7.1 plus the extensions sipmeet handles or sees from phones). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', // RFC 3261
  'SUBSCRIBE', 'NOTIFY', // RFC 6665
  'MESSAGE', // RFC 3428
  'INFO', // RFC 6086
  'UPDATE', // RFC 3311
  'PRACK', // RFC 3262
  'REFER', // RFC 3515
  'PUBLISH', // RFC 3903
]);

/** What the relay reports: RTP/RTCP packets received from and sent to participants since it started. */
export interface MediaPacketCounts {
  readonly packetsIn: number;
  readonly packetsOut: number;
}

export interface MetricsOptions {
  /** Where the meeting/participant gauges come from; may be set later with `setFocus`. */
  readonly focus?: Pick<FocusApi, 'counters'>;
  /** Collect prom-client's default process metrics (prefixed `sipmeet_`). Default true. */
  readonly defaultMetrics?: boolean;
}

const GENERIC_REASONS = new Set(['Provisional', 'Success', 'Redirection', 'Client Error', 'Server Error', 'Global Failure']);

/** Bounded method label: the method itself when known, else "other". */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'other';
}

/** Bounded status label: a registered code ("486"), else its class ("4xx"); outside 100..699 "other". */
export function statusLabel(status: number): string {
  if (!Number.isInteger(status) || status < 100 || status > 699) return 'other';
  return GENERIC_REASONS.has(defaultReason(status)) ? `${Math.floor(status / 100)}xx` : String(status);
}

/** A total from a collaborator, made safe for prom-client (which throws on a negative or non-finite value). */
function count(n: number | undefined): number {
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : 0;
}

export class Metrics {
  readonly registry: Registry;
  private focus: (Pick<FocusApi, 'counters'> & Partial<Pick<FocusApi, 'list'>>) | undefined;
  private mediaCollector: (() => MediaPacketCounts | Promise<MediaPacketCounts>) | undefined;
  /**
   * SIP counters on the request path are plain numbers (method label → count; method label → status → count),
   * handed to prom-client only at scrape time: prom-client's `inc({labels})` builds a label hash string on every
   * call, which at 10k+ requests/s is measurable (bench/register.ts). Statuses map to their bounded label then.
   */
  private readonly requestCounts = new Map<string, number>();
  private readonly responseCounts = new Map<string, Map<number, number>>();

  constructor(opts: MetricsOptions = {}) {
    this.registry = new Registry();
    this.focus = opts.focus;
    const registers = [this.registry];
    // `collect` runs at scrape time; `self` keeps `this` (prom-client calls collect with the metric as `this`).
    const self = this;
    const counters = () => self.focus?.counters();

    new Gauge({
      name: 'sipmeet_meetings', help: 'Meetings that have not ended (waiting or active)', registers,
      collect() { this.set(count(counters()?.meetings)); },
    });
    new Gauge({
      name: 'sipmeet_participants', help: 'Participants in all meetings', registers,
      collect() { this.set(count(counters()?.participants)); },
    });
    const fromFocus = (name: string, help: string, pick: (c: ReturnType<FocusApi['counters']>) => number) =>
      new Counter({
        name, help, registers,
        collect() {
          const c = counters();
          this.reset();
          if (c) this.inc(count(pick(c)));
        },
      });
    fromFocus('sipmeet_meetings_created_total', 'Meetings created since start', (c) => c.meetingsCreated);
    fromFocus('sipmeet_meetings_ended_total', 'Meetings ended since start', (c) => c.meetingsEnded);
    fromFocus('sipmeet_chat_messages_total', 'Chat messages relayed since start', (c) => c.chatMessages);

    new Counter({
      name: 'sipmeet_sip_requests_total', help: 'SIP requests received, by method', labelNames: ['method'], registers,
      collect() {
        this.reset();
        for (const [method, n] of self.requestCounts) this.inc({ method }, n);
      },
    });
    new Counter({
      name: 'sipmeet_sip_responses_total', help: 'SIP responses sent, by request method and status',
      labelNames: ['method', 'status'], registers,
      collect() {
        this.reset();
        for (const [method, byStatus] of self.responseCounts) {
          for (const [status, n] of byStatus) this.inc({ method, status: statusLabel(status) }, n);
        }
      },
    });
    new Counter({
      name: 'sipmeet_media_packets_total', help: 'RTP/RTCP packets relayed, by direction (in: from participants)',
      labelNames: ['direction'], registers,
      async collect() {
        const m = await self.mediaCollector?.();
        this.reset();
        this.inc({ direction: 'in' }, count(m?.packetsIn));
        this.inc({ direction: 'out' }, count(m?.packetsOut));
      },
    });

    // Per meeting (issue 8: a person watching sees each meeting's mode, its last switch and the relay's counters
    // standing still in P2P). One series per live meeting; they disappear with the meeting.
    const perMeeting = async () => (self.focus?.list ? await self.focus.list() : []);
    new Gauge({
      name: 'sipmeet_meeting_p2p', help: 'Per meeting: 1 while its media is peer-to-peer, 0 while through the relay',
      labelNames: ['meeting'], registers,
      async collect() {
        this.reset();
        for (const m of await perMeeting()) this.set({ meeting: m.id }, m.mode === 'p2p' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sipmeet_meeting_last_switch_timestamp_seconds', help: 'Per meeting: when its media mode last switched',
      labelNames: ['meeting'], registers,
      async collect() {
        this.reset();
        for (const m of await perMeeting()) {
          const last = m.switches.at(-1);
          if (last) this.set({ meeting: m.id }, Date.parse(last.at) / 1000);
        }
      },
    });
    new Gauge({
      name: 'sipmeet_meeting_relay_packets', help: 'Per meeting: RTP packets the relay received (in) and sent (out) for it',
      labelNames: ['meeting', 'direction'], registers,
      async collect() {
        this.reset();
        for (const m of await perMeeting()) {
          let pin = 0;
          let pout = 0;
          for (const p of m.participants) for (const s of p.media) {
            pin += s.packetsIn;
            pout += s.packetsOut;
          }
          this.set({ meeting: m.id, direction: 'in' }, pin);
          this.set({ meeting: m.id, direction: 'out' }, pout);
        }
      },
    });

    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'sipmeet_' });
  }

  setFocus(focus: Pick<FocusApi, 'counters'> & Partial<Pick<FocusApi, 'list'>>): void {
    this.focus = focus;
  }

  /** The relay's packet totals, read at every scrape. */
  setMediaCollector(fn: () => MediaPacketCounts | Promise<MediaPacketCounts>): void {
    this.mediaCollector = fn;
  }

  countRequest(method: string): void {
    const m = methodLabel(method);
    this.requestCounts.set(m, (this.requestCounts.get(m) ?? 0) + 1);
  }

  countResponse(method: string, status: number): void {
    const m = methodLabel(method);
    let byStatus = this.responseCounts.get(m);
    if (byStatus === undefined) this.responseCounts.set(m, (byStatus = new Map()));
    // Keyed by the number (bounded: anything outside 100..699 counts once as NaN's label "other").
    const key = Number.isInteger(status) && status >= 100 && status <= 699 ? status : NaN;
    byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
