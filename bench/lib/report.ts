/** Console table and the markdown summary of bench/register.ts. */

export interface StepRow {
  target: string;
  rate: number;
  procs: number;
  achieved: number;
  successful: number;
  failed: number;
  retransPct: number;
  serverCpuPct: number;
  /** Time the server's threads waited for a CPU, % of the step (summed over threads/processes). */
  serverRunqPct: number;
  /** Machine CPU used by anything but the server and sipp during the step, % of one core. */
  otherCpuPct: number;
  sippCpuPct: number | null;
  pass: boolean;
  reason: string;
  failures: Record<string, number>;
  wallS: number;
  /** Kernel UDP RcvbufErrors during the step (all sockets; null when unreadable). */
  udpDrops: number | null;
  /** Other work on the machine just before the step (% of a core, after the --quiet-wait), when measured. */
  otherBeforePct?: number;
}

const COLS = [
  'target', 'rate/s', 'sipp', 'achieved/s', 'ok', 'failed', 'retrans %', 'UDP drops',
  'server CPU %', 'server runq %', 'sipp CPU %', 'other CPU %', 'verdict',
];
const WIDTHS = [13, 7, 4, 10, 8, 7, 9, 9, 12, 13, 10, 11, 0];

function cells(r: StepRow): string[] {
  return [
    r.target,
    String(r.rate),
    String(r.procs),
    r.achieved.toFixed(0),
    String(r.successful),
    String(r.failed),
    r.retransPct.toFixed(2),
    r.udpDrops === null ? '?' : String(r.udpDrops),
    r.serverCpuPct.toFixed(0),
    r.serverRunqPct.toFixed(0),
    r.sippCpuPct === null ? '?' : r.sippCpuPct.toFixed(0),
    r.otherCpuPct.toFixed(0),
    r.pass ? 'pass' : `FAIL ${r.reason}`,
  ];
}

/** Print rows (and the header first when `header`), fixed-width, as they come in. */
export function printTable(rows: StepRow[], header: boolean): void {
  const line = (c: string[]): string =>
    c.map((v, i) => (i === 0 || i === c.length - 1 ? v.padEnd(WIDTHS[i]!) : v.padStart(WIDTHS[i]!))).join('  ').trimEnd();
  if (header) process.stdout.write(line(COLS) + '\n');
  for (const r of rows) {
    process.stdout.write(line(cells(r)) + '\n');
    const f = Object.entries(r.failures);
    if (f.length > 0) process.stdout.write(`           failures: ${f.map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  }
}

/** A markdown block (table + summary) ready to paste into docs/benchmarks.md. */
export function markdownTable(
  rows: StepRow[],
  date: Date,
  machine: { cpus: number; cpuModel: string; node: string; kamailio: string; sipp: string; loadavgAtStart: number[] },
  sustained: Record<string, number | null>,
  ratio: number | null,
): string {
  const out: string[] = [];
  out.push(`Run ${date.toISOString()} — ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, ${machine.kamailio}, ${machine.sipp}, load average at start ${machine.loadavgAtStart.join(' ')}.`);
  out.push('');
  out.push(`| ${COLS.join(' | ')} |`);
  out.push(`|${COLS.map((_, i) => (i === 0 || i === COLS.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const r of rows) out.push(`| ${cells(r).join(' | ')} |`);
  out.push('');
  for (const [name, s] of Object.entries(sustained)) out.push(`- ${name}: sustained ${s === null ? 'none' : `**${s}/s**`}`);
  if (ratio !== null) out.push(`- ratio sipmeet/kamailio: **${ratio}**`);
  return out.join('\n') + '\n';
}
