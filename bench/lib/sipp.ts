/**
 * One load step with sipp (SIPp 3.6.x) running bench/sipp/register.xml: `procs` sipp processes in
 * parallel, the target rate split between them, each on its own single UDP socket (`-t u1`). Figures come
 * from each process's final `-trace_stat` CSV line (cumulative `(C)` columns); sipp's own CPU time comes
 * from the bash `times` builtin run after sipp exits (user + sys of the waited-for child).
 */
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnManaged, freeUdpPort, findExecutable } from './procs.ts';

export const REGISTER_SCENARIO = fileURLToPath(new URL('../sipp/register.xml', import.meta.url));

export const SIPP_INSTALL_HINT = 'apt-get install -y --no-install-recommends sip-tester';

export function sippPath(): string | undefined {
  return findExecutable('sipp');
}

/** `sipp -v` first non-empty line, e.g. "SIPp v3.6.1-SCTP-PCAP-RTPSTREAM." */
export function sippVersion(sipp: string): Promise<string> {
  const p = spawnManaged('sipp -v', sipp, ['-v']);
  return p.exited.then(() => {
    const line = (p.stdout.toString() + p.stderr.toString()).split('\n').find((l) => /SIPp/.test(l));
    return (line ?? 'unknown').trim();
  });
}

/** Injection file: SEQUENTIAL, one AoR user part per line (`[field0]`), cycled by sipp when exhausted. */
export function writeUsersCsv(path: string, users: number): void {
  const lines = ['SEQUENTIAL'];
  for (let i = 0; i < users; i++) lines.push(`u${i}`);
  writeFileSync(path, lines.join('\n') + '\n');
}

/** The last data line of a sipp `-trace_stat` CSV as column → value (delimiter `;`). */
export function parseSippStatCsv(text: string): Record<string, string> | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length < 2) return undefined;
  const header = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const out: Record<string, string> = {};
  header.forEach((h, i) => {
    if (h) out[h] = last[i] ?? '';
  });
  return out;
}

/** "2026-11-26\t03:25:24.349336\t1795663524.349336" → 1795663524.349336 (seconds). */
function statTime(v: string | undefined): number {
  const parts = (v ?? '').split('\t');
  return Number(parts[parts.length - 1]);
}

/** CPU seconds (user + sys) of the children from the bash `times` builtin's last line. */
export function parseBashTimes(stderr: string): number | undefined {
  const re = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(stderr); m; m = re.exec(stderr)) last = m;
  if (!last) return undefined;
  return Number(last[1]) * 60 + Number(last[2]) + Number(last[3]) * 60 + Number(last[4]);
}

export interface SippStepOptions {
  sipp: string;
  targetPort: number;
  /** Calls (REGISTERs) per second, all processes together. */
  rate: number;
  durationS: number;
  procs: number;
  /** Directory for the CSV files (injection + statistics). */
  workDir: string;
  /** Distinct AoRs per sipp process (the injection file is cycled). */
  users: number;
  /** Prefix for the AoR user part; process i uses `${prefix}${i}-u<n>`. */
  userPrefix: string;
  /** Give up on a REGISTER with no 200 after this long (ms); it counts as a failed call. */
  recvTimeoutMs?: number;
  scenario?: string;
}

export interface SippProcResult {
  rate: number;
  rc: number | null;
  outgoing: number;
  successful: number;
  failed: number;
  retransmissions: number;
  elapsedS: number;
  cpuS: number | undefined;
  /** Non-zero Failed* counters by name. */
  failures: Record<string, number>;
  stderrTail: string;
}

export interface SippStepResult {
  rate: number;
  procs: number;
  outgoing: number;
  successful: number;
  failed: number;
  retransmissions: number;
  /** Successful REGISTERs per second, summed over the processes (each: successful / its elapsed time). */
  achieved: number;
  /** Wall time of the step (first spawn → last exit), seconds. */
  wallS: number;
  /** sipp CPU (all processes) as % of one core over the step's wall time. */
  sippCpuPct: number | undefined;
  failures: Record<string, number>;
  perProc: SippProcResult[];
  /** Set when a sipp process could not run at all (bad flags, bind failure, …). */
  error?: string;
}

function splitRate(rate: number, procs: number): number[] {
  const base = Math.floor(rate / procs);
  return Array.from({ length: procs }, (_, i) => base + (i < rate % procs ? 1 : 0));
}

async function runOne(o: SippStepOptions, index: number, rate: number, csv: string): Promise<SippProcResult> {
  const [localPort, controlPort, mediaPort] = await Promise.all([freeUdpPort(), freeUdpPort(), freeUdpPort()]);
  const statFile = join(o.workDir, `stat-${o.userPrefix}${index}-${rate}.csv`);
  const calls = Math.max(1, Math.round(rate * o.durationS));
  const args = [
    `127.0.0.1:${o.targetPort}`,
    '-sf', o.scenario ?? REGISTER_SCENARIO,
    '-inf', csv,
    '-key', 'user_prefix', `${o.userPrefix}${index}-`,
    '-i', '127.0.0.1',
    '-p', String(localPort),
    '-cp', String(controlPort),
    '-mp', String(mediaPort),
    '-t', 'u1',
    '-m', String(calls),
    '-r', String(rate),
    '-rp', '1000',
    // At most 2 s worth of open calls: a server that falls behind throttles sipp (achieved < target).
    '-l', String(Math.max(100, rate * 2)),
    '-recv_timeout', String(o.recvTimeoutMs ?? 5000),
    // A hard stop well past the step's length, counted as an error.
    '-timeout', `${Math.ceil(o.durationS * 2 + 30)}s`, '-timeout_error',
    '-nd',
    // 4 MiB socket buffers (capped by net.core.rmem_max / wmem_max): with sipp's default 64 KiB, the
    // 200s arriving between two of its 10 ms scheduling ticks overflow sipp's own receive buffer.
    '-buff_size', String(4 * 1024 * 1024),
    '-nostdin',
    '-trace_stat', '-stf', statFile, '-fd', '1',
  ];
  // bash runs sipp and then `times`, whose second line is the CPU used by the waited-for sipp.
  const p = spawnManaged(`sipp#${index}`, 'bash', [
    '-c', '"$0" "$@" >/dev/null; rc=$?; times 1>&2; exit $rc', o.sipp, ...args,
  ]);
  const exit = await p.exited;
  const stderr = p.stderr.toString();
  const stat = existsSync(statFile) ? parseSippStatCsv(readFileSync(statFile, 'utf8')) : undefined;
  const num = (k: string): number => Number(stat?.[k] ?? 0) || 0;
  const failures: Record<string, number> = {};
  if (stat) {
    for (const [k, v] of Object.entries(stat)) {
      if (k.startsWith('Failed') && k.endsWith('(C)') && k !== 'FailedCall(C)' && Number(v) > 0) {
        failures[k.slice(0, -3)] = Number(v);
      }
    }
  }
  const elapsedS = stat ? statTime(stat['CurrentTime']) - statTime(stat['StartTime']) : 0;
  return {
    rate,
    rc: exit.code,
    outgoing: num('OutgoingCall(C)'),
    successful: num('SuccessfulCall(C)'),
    failed: num('FailedCall(C)'),
    retransmissions: num('Retransmissions(C)'),
    elapsedS,
    cpuS: parseBashTimes(stderr),
    failures,
    stderrTail: p.stderr.lines(15),
  };
}

/** Run one step: `procs` sipp processes at rate/procs each for `durationS` seconds. */
export async function runSippStep(o: SippStepOptions): Promise<SippStepResult> {
  const csv = join(o.workDir, `users-${o.users}.csv`);
  if (!existsSync(csv)) writeUsersCsv(csv, o.users);
  const started = process.hrtime.bigint();
  const perProc = await Promise.all(splitRate(o.rate, o.procs).map((r, i) => runOne(o, i, r, csv)));
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  const sum = (f: (r: SippProcResult) => number): number => perProc.reduce((a, r) => a + f(r), 0);
  const failures: Record<string, number> = {};
  for (const r of perProc) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
  const cpu = perProc.every((r) => r.cpuS !== undefined) ? sum((r) => r.cpuS!) : undefined;
  // sipp exit codes: 0 = all calls succeeded, 1 = some failed; anything else = sipp itself failed.
  const broken = perProc.filter((r) => r.rc !== 0 && r.rc !== 1);
  const result: SippStepResult = {
    rate: o.rate,
    procs: o.procs,
    outgoing: sum((r) => r.outgoing),
    successful: sum((r) => r.successful),
    failed: sum((r) => r.failed),
    retransmissions: sum((r) => r.retransmissions),
    achieved: sum((r) => (r.elapsedS > 0 ? r.successful / r.elapsedS : 0)),
    wallS,
    sippCpuPct: cpu === undefined ? undefined : (cpu / wallS) * 100,
    failures,
    perProc,
  };
  if (broken.length > 0) {
    result.error = broken.map((r) => `sipp exited with ${r.rc}:\n${r.stderrTail}`).join('\n');
  }
  return result;
}
