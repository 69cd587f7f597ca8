/**
 * In-process REGISTER pipeline micro-benchmark (not a test): the server's per-REGISTER JavaScript work without
 * sockets — parse → RFC 3261 §18.2.1 received/rport stamp → transaction layer → SIP server core (metrics hooks
 * included) → registrar → response bytes — on the real classes, with a transport stub that serializes each
 * response and drops it. Prints CPU µs per REGISTER, and the heap retained per REGISTER while every server
 * transaction is still inside Timer J (what the process holds at a steady 10k REGISTER/s × 32 s).
 *
 *   node --expose-gc --max-semi-space-size=64 --import tsx bench/register-inproc.ts [N=100000] [AoRs=20000]
 *   HEAP_SNAPSHOT=/tmp/r.heapsnapshot node --expose-gc --import tsx bench/register-inproc.ts 20000
 *
 * Complements bench/register.ts (the end-to-end sipp figure) and bench/profile-register.sh (a fixed-rate
 * profile of the real server): this one isolates what our code allocates and keeps, with no syscall noise.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { silentLogger } from '../registrar/log.ts';
import { systemClock } from '../registrar/sip/clock.ts';
import { parseMessage } from '../registrar/sip/message/parse.ts';
import { serialize } from '../registrar/sip/message/serialize.ts';
import type { SipRequest, SipResponse } from '../registrar/sip/message/types.ts';
import { TransactionLayer } from '../registrar/sip/transaction/layer.ts';
import { stampedVia } from '../registrar/sip/transport/routing.ts';
import type { Endpoint, SendCallback, SipTransport, Source } from '../registrar/sip/transport/types.ts';
import { LocationService } from '../registrar/location/bindings.ts';
import { Registrar } from '../registrar/location/registrar.ts';
import { SipServer } from '../registrar/server/sip-server.ts';
import { Metrics } from '../registrar/http/metrics.ts';

const N = Number(process.argv[2] ?? 100_000);
const AORS = Number(process.argv[3] ?? 20_000);
const gc = (globalThis as { gc?: () => void }).gc;

const local: Endpoint = { protocol: 'udp', address: '127.0.0.1', port: 5060 };
let bytesOut = 0;
let responses = 0;
const transport: SipTransport = {
  listening: [local],
  sendRequest(_req: SipRequest, _dest: Endpoint, cb?: SendCallback) { cb?.(); },
  sendResponse(res: SipResponse, _src: Source, cb?: SendCallback) {
    bytesOut += serialize(res).length;
    responses++;
    cb?.();
  },
  viaSentBy: () => ({ host: '127.0.0.1', port: 5060, transport: 'UDP' }),
  onTrace() {},
  onMessage() {},
  close: () => Promise.resolve(),
  stats: () => ({ received: 0, sent: 0, parseErrors: 0, answered400: 0, dropped: {}, tcpConnections: 0 }),
};

// The real clock: Node timers are part of the cost (the loop is synchronous, so none fires during it).
const clock = systemClock;
const logger = silentLogger();
const transactions = new TransactionLayer({ transport, clock, logger });
const location = new LocationService({ clock, sweepIntervalMs: 0 });
const registrar = new Registrar({ location, clock, domain: '127.0.0.1', isLocalDomain: () => true });
const metrics = new Metrics({ defaultMetrics: false });
new SipServer({
  transport, transactions, registrar, clock, logger,
  onRequestCounted: (m) => metrics.countRequest(m),
  onResponseCounted: (m, s) => metrics.countResponse(m, s),
});

/** The sipp scenario's REGISTER (bench/sipp/register.xml), as sipp fills it in. */
function register(i: number): Buffer {
  const user = `p0-u${i % AORS}`;
  return Buffer.from(
    `REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bK-${process.pid}-${i}-0\r\n` +
      `Max-Forwards: 70\r\n` +
      `From: <sip:${user}@bench.invalid>;tag=${i}\r\n` +
      `To: <sip:${user}@bench.invalid>\r\n` +
      `Call-ID: ${i}-${process.pid}@127.0.0.1\r\n` +
      `CSeq: 1 REGISTER\r\n` +
      `Contact: <sip:${user}@127.0.0.1:6000;transport=UDP>\r\n` +
      `Expires: 3600\r\n` +
      `User-Agent: sipp-bench\r\n` +
      `Content-Length: 0\r\n\r\n`,
  );
}

const source: Source = { protocol: 'udp', address: '127.0.0.1', port: 6000, local };

function handle(buf: Buffer): void {
  const r = parseMessage(buf);
  if (!r.ok) throw new Error(r.error);
  let req = r.message as SipRequest;
  const via = stampedVia(req.via[0]!, source.address, source.port);
  if (via !== undefined) req = req.edit({ topVia: via });
  transactions.receive({ message: req, source, receivedAt: clock.now() });
}

gc?.();
const heapStart = process.memoryUsage().heapUsed;
// Pre-build the datagrams so the loop measures the server's work only (buffers are freed as they are used).
const bufs: Array<Buffer | undefined> = [];
for (let i = 0; i < N; i++) bufs.push(register(i));
// Warm-up on separate AoRs/branches.
for (let i = 0; i < 20_000; i++) handle(register(N + i));
gc?.();
const heap0 = process.memoryUsage().heapUsed;
const t0 = process.cpuUsage();
const w0 = performance.now();
for (let i = 0; i < N; i++) {
  handle(bufs[i]!);
  bufs[i] = undefined;
}
const cpu = process.cpuUsage(t0);
const wall = performance.now() - w0;
gc?.();
const heap1 = process.memoryUsage().heapUsed;
const live = transactions.stats().live.total;
console.log(
  `${N} REGISTERs, ${responses - 20_000} responses (${bytesOut} bytes in all), live transactions ${live}\n` +
    `  CPU ${(((cpu.user + cpu.system) / N)).toFixed(2)} µs/REGISTER (wall ${((wall * 1000) / N).toFixed(2)} µs)\n` +
    (gc ? `  retained ${((heap1 - heap0) / N).toFixed(0)} B/REGISTER (heap ${(heap1 / 2 ** 20).toFixed(0)} MiB)` : '  (run with --expose-gc for heap figures)'),
);
// Bytes allocated per REGISTER: heap growth over a short run with no GC inside it (needs a young generation
// big enough for it: run with --max-semi-space-size=64).
if (gc) {
  const M = 2000;
  const batch: Buffer[] = [];
  for (let i = 0; i < M; i++) batch.push(register(2 * N + i));
  let gcs = 0;
  const obs = new PerformanceObserver((list) => { gcs += list.getEntries().length; });
  obs.observe({ entryTypes: ['gc'] });
  gc();
  await new Promise((r) => setTimeout(r, 10));
  gcs = 0;
  const a0 = process.memoryUsage().heapUsed;
  for (let i = 0; i < M; i++) handle(batch[i]!);
  const a1 = process.memoryUsage().heapUsed;
  await new Promise((r) => setTimeout(r, 10));
  obs.disconnect();
  console.log(`  allocated ${((a1 - a0) / M).toFixed(0)} B/REGISTER` + (gcs > 0 ? ` (a GC ran meanwhile: use --max-semi-space-size=64)` : ''));
}
// HEAP_SNAPSHOT=file: a heap snapshot now (every transaction still inside Timer J), for Chrome DevTools.
if (process.env.HEAP_SNAPSHOT) console.log(`  heap snapshot: ${writeHeapSnapshot(process.env.HEAP_SNAPSHOT)}`);
transactions.close();
gc?.();
if (gc) {
  const bytes = process.memoryUsage().heapUsed - heapStart;
  console.log(`  after every transaction ended: ${location.bindingCount} bindings, ${(bytes / location.bindingCount).toFixed(0)} B heap per binding`);
}
location.close();
