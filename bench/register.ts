/**
 * REGISTER benchmark: sipmeet's registrar vs Kamailio 5.6, both driven by sipp in the same run.
 *
 *   node --import tsx bench/register.ts [--duration 10] [--rates 2000,5000,...] [--targets kamailio,sipmeet[,sipmeet-dgram]]
 *        [--users 20000] [--per-sipp 30000] [--max-rate 60000] [--max-total 480] [--stop-after 2]
 *        [--quiet-pct 40] [--quiet-wait 15]
 *
 * Start every target on 127.0.0.1 (OS-chosen UDP port), then step the REGISTER rate up, `duration` seconds a
 * step, each rate against each target in turn (interleaved: other work on the shared machine hits all alike).
 * A step passes with 0 failed calls, < 1 % retransmissions and sipp achieving ≥ 95 % of the target rate; the sustained rate is the highest passing step. Prints a table, the sustained rates and
 * the ratio sipmeet/kamailio, and writes bench/results/register-<time>.json (+ a .md table for the docs).
 * See docs/benchmarks.md.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CLK_TCK, installCleanup, killAllNow, machineBusyTicks, sleep, spawnManaged, treeUsage, udpRcvbufErrors,
} from './lib/procs.ts';
import { waitForQuiet } from './lib/self-usage.ts';
import { runSippStep, sippPath, sippVersion, SIPP_INSTALL_HINT, type SippStepResult } from './lib/sipp.ts';
import {
  kamailioModuleDir, kamailioPath, kamailioVersion, startKamailio, startSipmeet, KAMAILIO_INSTALL_HINT, REPO_ROOT,
  type Target, type TargetName,
} from './lib/targets.ts';
import { markdownTable, printTable, type StepRow } from './lib/report.ts';

const DEFAULT_RATES = [2000, 5000, 7500, 10000, 12500, 15000, 20000, 25000, 30000, 35000, 40000, 50000, 60000, 80000, 100000];

const { values: argv } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rates: { type: 'string' },
    targets: { type: 'string', default: 'kamailio,sipmeet' },
    users: { type: 'string', default: '20000' },
    'per-sipp': { type: 'string', default: '30000' },
    'max-rate': { type: 'string', default: '100000' },
    'max-total': { type: 'string', default: '480' },
    'stop-after': { type: 'string', default: '2' },
    'quiet-pct': { type: 'string', default: '40' },
    'quiet-wait': { type: 'string', default: '15' },
    'no-parse-bench': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (argv.help) {
  process.stdout.write(
    'usage: node --import tsx bench/register.ts [--duration S] [--rates R1,R2,...] [--targets kamailio,sipmeet]\n' +
      '       [--users N] [--per-sipp RATE] [--max-rate RATE] [--max-total S] [--stop-after N] [--no-parse-bench]\n' +
      '       [--quiet-pct P] [--quiet-wait S]   before each step wait up to S s (default 15; 0: no wait) for other\n' +
      '                                          work on the machine to fall under P % of a core (default 40)\n',
  );
  process.exit(0);
}

function posInt(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`--${name}: expected a positive integer, got ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
  return n;
}

const durationS = posInt('duration', argv.duration);
const users = posInt('users', argv.users);
const perSipp = posInt('per-sipp', argv['per-sipp']);
const maxRate = posInt('max-rate', argv['max-rate']);
const maxTotalS = posInt('max-total', argv['max-total']);
const stopAfter = posInt('stop-after', argv['stop-after']);
const quietPct = Number(argv['quiet-pct']);
const quietWaitMs = Number(argv['quiet-wait']) * 1000;
const rates = (argv.rates ? argv.rates.split(',').map((r) => posInt('rates', r.trim())) : DEFAULT_RATES)
  .filter((r) => r <= maxRate)
  .sort((a, b) => a - b);
const targetNames = argv.targets!.split(',').map((t) => t.trim()) as TargetName[];
for (const t of targetNames) {
  if (t !== 'kamailio' && t !== 'sipmeet' && t !== 'sipmeet-dgram') {
    process.stderr.write(`--targets: unknown target ${JSON.stringify(t)} (kamailio, sipmeet, sipmeet-dgram)\n`);
    process.exit(2);
  }
}

// ---- prerequisites -------------------------------------------------------------------------------------
const sipp = sippPath();
const kamailio = kamailioPath();
const moduleDir = kamailioModuleDir();
const missing: string[] = [];
if (!sipp) missing.push(`sipp not found: ${SIPP_INSTALL_HINT}`);
if (targetNames.includes('kamailio') && (!kamailio || !moduleDir)) {
  missing.push(`kamailio (with registrar.so) not found: ${KAMAILIO_INSTALL_HINT}`);
}
if (missing.length > 0) {
  process.stderr.write(missing.join('\n') + '\n(both at once: apt-get install -y --no-install-recommends sip-tester kamailio)\n');
  process.exit(2);
}

installCleanup(true);

const t0 = Date.now();
const elapsedS = (): number => (Date.now() - t0) / 1000;
const workDir = mkdtempSync(join(os.tmpdir(), 'sipmeet-bench-register-'));
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));

/** bench/parse.ts (the message engineer's parser micro-benchmark), if present: its output, verbatim. */
async function runParseBench(): Promise<string | null> {
  const file = join(REPO_ROOT, 'bench/parse.ts');
  if (argv['no-parse-bench'] || !existsSync(file)) return null;
  process.stdout.write('parser cost: running bench/parse.ts …\n');
  const p = spawnManaged('parse bench', process.execPath, ['--import', 'tsx', file], { cwd: REPO_ROOT });
  const timer = setTimeout(() => void p.stop(), 120_000);
  const exit = await p.exited;
  clearTimeout(timer);
  const out = p.stdout.toString().trim();
  const text = exit.code === 0 ? out : `bench/parse.ts failed (code ${exit.code}): ${p.stderr.lines(10)}`;
  process.stdout.write(text.split('\n').map((l) => `  ${l}`).join('\n') + '\n\n');
  return text;
}

function verdict(s: SippStepResult): { pass: boolean; reason: string } {
  const retransPct = s.outgoing > 0 ? (s.retransmissions / s.outgoing) * 100 : 0;
  const expected = Math.round(s.rate * durationS);
  if (s.error) return { pass: false, reason: 'sipp error' };
  if (s.failed > 0) return { pass: false, reason: `${s.failed} failed` };
  if (s.successful < expected) return { pass: false, reason: `${s.successful}/${expected} calls` };
  if (retransPct >= 1) return { pass: false, reason: 'retrans ≥ 1 %' };
  if (s.achieved < 0.95 * s.rate) return { pass: false, reason: 'achieved < 95 %' };
  return { pass: true, reason: '' };
}

interface TargetRun {
  readonly name: TargetName;
  readonly rows: StepRow[];
  target: Target | undefined;
  consecutiveFails: number;
  note: string;
  done: boolean;
}

async function startTarget(name: TargetName): Promise<TargetRun> {
  const run: TargetRun = { name, rows: [], target: undefined, consecutiveFails: 0, note: '', done: false };
  process.stdout.write(`== ${name}: starting\n`);
  try {
    run.target = name === 'kamailio'
      ? await startKamailio({ bin: kamailio!, moduleDir: moduleDir! })
      : await startSipmeet({ dgram: name === 'sipmeet-dgram' });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stdout.write(`== ${name}: could not start — not measured\n${msg}\n`);
    run.note = `not measured: could not start (${msg.split('\n')[0]})`;
    run.done = true;
    return run;
  }
  process.stdout.write(`== ${name}: ready on udp:127.0.0.1:${run.target.port} (pid ${run.target.proc.pid})\n`);
  return run;
}

/** One rate step against one target; marks the run done after --stop-after failing steps in a row. */
async function stepTarget(run: TargetRun, rate: number, header: boolean): Promise<void> {
  const target = run.target!;
  const name = run.name;
  if (target.proc.hasExited()) {
    run.note = `${name} exited during the run`;
    run.done = true;
    return;
  }
  const procs = Math.ceil(rate / perSipp);
  // Other people's work on the shared machine: let a burst of it pass before the step starts.
  const otherBeforePct = quietWaitMs > 0 ? await waitForQuiet([process.pid, target.proc.pid], quietPct, quietWaitMs) : undefined;
  const before = treeUsage(target.proc.pid);
  const busyBefore = machineBusyTicks();
  const dropsBefore = udpRcvbufErrors();
  const step = await runSippStep({
    sipp: sipp!, targetPort: target.port, rate, durationS, procs, workDir, users, userPrefix: 'p',
  });
  const after = treeUsage(target.proc.pid);
  const busyS = (machineBusyTicks() - busyBefore) / CLK_TCK;
  const serverCpuS = (after.cpuTicks - before.cpuTicks) / CLK_TCK;
  const serverCpuPct = (serverCpuS / step.wallS) * 100;
  const serverRunqPct = ((after.runqWaitNs - before.runqWaitNs) / 1e9 / step.wallS) * 100;
  const sippCpuS = step.sippCpuPct === undefined ? 0 : (step.sippCpuPct / 100) * step.wallS;
  const otherCpuPct = Math.max(0, ((busyS - serverCpuS - sippCpuS) / step.wallS) * 100);
  const dropsAfter = udpRcvbufErrors();
  const udpDrops = dropsBefore === undefined || dropsAfter === undefined ? null : dropsAfter - dropsBefore;
  const v = verdict(step);
  const row: StepRow = {
    target: name, rate, procs, achieved: step.achieved, successful: step.successful, failed: step.failed,
    retransPct: step.outgoing > 0 ? (step.retransmissions / step.outgoing) * 100 : 0,
    serverCpuPct, serverRunqPct, otherCpuPct, sippCpuPct: step.sippCpuPct ?? null, pass: v.pass, reason: v.reason,
    failures: step.failures, wallS: step.wallS, udpDrops, ...(otherBeforePct !== undefined ? { otherBeforePct } : {}),
  };
  run.rows.push(row);
  printTable([row], header);
  if (step.error) process.stdout.write(`   ${step.error.replace(/\n/g, '\n   ')}\n`);
  run.consecutiveFails = v.pass ? 0 : run.consecutiveFails + 1;
  if (run.consecutiveFails >= stopAfter) {
    run.note = `stopped after ${stopAfter} failing steps in a row`;
    run.done = true;
  }
  await sleep(1000); // let the server drain and settle between steps
}

/**
 * Every target is started first; then each rate is run against each target in turn (interleaved), so that other
 * work on the shared machine falls on all targets alike rather than on whichever ran during a burst of it.
 */
async function benchTargets(names: readonly TargetName[]): Promise<Record<string, { rows: StepRow[]; sustained: number | null; note: string }>> {
  const runs: TargetRun[] = [];
  try {
    for (const name of names) runs.push(await startTarget(name));
    let header = true;
    for (const rate of rates) {
      for (const run of runs) {
        if (run.done) continue;
        if (elapsedS() + durationS * 1.5 + 5 > maxTotalS) {
          run.note = `stopped at the --max-total ${maxTotalS} s budget`;
          run.done = true;
          continue;
        }
        await stepTarget(run, rate, header);
        header = false;
      }
    }
  } finally {
    for (const run of runs) await run.target?.stop();
  }
  const out: Record<string, { rows: StepRow[]; sustained: number | null; note: string }> = {};
  for (const run of runs) {
    const passing = run.rows.filter((r) => r.pass).map((r) => r.rate);
    const sustained = passing.length > 0 ? Math.max(...passing) : null;
    let note = run.note;
    if (!note && run.rows.length > 0 && run.rows[run.rows.length - 1]!.pass) note = 'every rate tried passed (raise --rates / --max-rate)';
    out[run.name] = { rows: run.rows, sustained, note };
  }
  return out;
}

async function main(): Promise<number> {
  const [kv, sv] = await Promise.all([kamailio ? kamailioVersion(kamailio) : Promise.resolve('n/a'), sippVersion(sipp!)]);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    node: process.version,
    kamailio: kv,
    sipp: sv,
    loadavgAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
  process.stdout.write(
    `machine: ${machine.cpus} × ${machine.cpuModel}, node ${machine.node}, ${kv}, ${sv}, load ${machine.loadavgAtStart.join(' ')}\n` +
      `steps: ${durationS} s each, rates ${rates.join(',')}, ${users} AoRs per sipp process, ≤ ${perSipp}/s per sipp process\n\n`,
  );
  const parseBench = await runParseBench();
  const results = await benchTargets(targetNames);

  process.stdout.write('\nsustained REGISTER rate (0 failures, < 1 % retransmissions, ≥ 95 % of target achieved):\n');
  for (const name of targetNames) {
    const r = results[name]!;
    process.stdout.write(`  ${name.padEnd(13)} ${r.sustained === null ? 'none' : `${r.sustained}/s`}${r.note ? `  (${r.note})` : ''}\n`);
  }
  const k = results['kamailio']?.sustained;
  const s = results['sipmeet']?.sustained;
  const ratio = k && s ? Math.round((s / k) * 100) / 100 : null;
  if (ratio !== null) process.stdout.write(`  ratio sipmeet/kamailio: ${ratio}\n`);
  const sd = results['sipmeet-dgram']?.sustained;
  if (k && sd) process.stdout.write(`  ratio sipmeet-dgram/kamailio: ${Math.round((sd / k) * 100) / 100}\n`);

  const date = new Date();
  const stamp = date.toISOString().replace(/[:.]/g, '').slice(0, 17);
  const outDir = join(REPO_ROOT, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const allRows = targetNames.flatMap((n) => results[n]!.rows);
  const json = {
    benchmark: 'register', date: date.toISOString(), machine,
    config: { durationS, rates, users, perSipp, maxRate, maxTotalS, stopAfter, transport: 'udp, sipp -t u1' },
    parseBench,
    targets: Object.fromEntries(targetNames.map((n) => [n, results[n]])),
    sustained: Object.fromEntries(targetNames.map((n) => [n, results[n]!.sustained])),
    ratioSipmeetKamailio: ratio,
    totalS: Math.round(elapsedS()),
  };
  const jsonPath = join(outDir, `register-${stamp}.json`);
  writeFileSync(jsonPath, JSON.stringify(json, null, 2) + '\n');
  const md = markdownTable(allRows, date, machine, Object.fromEntries(targetNames.map((n) => [n, results[n]!.sustained])), ratio);
  writeFileSync(join(outDir, `register-${stamp}.md`), md);
  process.stdout.write(`\nresults: ${jsonPath}\n         ${jsonPath.replace(/\.json$/, '.md')} (markdown for docs/benchmarks.md)\n`);
  return 0;
}

main().then(
  (code) => {
    killAllNow();
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
    killAllNow();
    process.exit(1);
  },
);
