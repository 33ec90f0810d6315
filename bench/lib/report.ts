/** The results: their shape (bench/results/latest.json) and the Markdown tables printed and kept in the README. */
import type { Argon2Limit } from './limits.ts';
import type { OtherWork } from './machine.ts';
import type { PlatformProbe } from './platform.ts';
import type { LoadResult } from './load.ts';
import type { ResetResult, TimingComparison } from './scenarios.ts';

export const TARGETS = { csmRatio: 0.5, loginRatio: 0.9, resetP99Ms: 50, timingMedianMs: 1, timingP: 0.01 } as const;

export interface Machine {
  cpu: string;
  nproc: number;
  node: string;
  os: string;
  date: string;
  /** 1-minute load average when the run started and when it ended (other work on the machine disturbs the figures). */
  loadBefore: number;
  loadAfter: number;
  /** CPU time used by processes other than the benchmark's and PostgreSQL's while it ran (Linux). */
  otherWork: OtherWork | undefined;
  /** What the machine charges for a system call, a loopback round trip and a PostgreSQL commit (bench/lib/platform.ts). */
  platform: PlatformProbe;
}

export interface MailResult {
  mails: number;
  seconds: number;
  rate: number;
  peakRss: number;
  subject: string;
}

export interface TargetResults {
  target: 'sqlite' | 'postgres';
  csm: LoadResult & { peakRss: number };
  /** The better of a run before and a run after the portal's (`runs`: both rps). */
  bareCsm: LoadResult & { peakRss: number; bytes: number; runs: number[] };
  loginPage: LoadResult & { peakRss: number };
  login: LoadResult & { peakRss: number; outcomes: Record<string, number> };
  /** All rounds together, interleaved with the logins' (`runs`: each round's rate). */
  argon2: Argon2Limit & { runs: number[] };
  /** A reference beside (a): bare Fastify with only a POST /login verifying the password (no database, CSRF or session). */
  bareLogin: LoadResult & { peakRss: number; runs: number[] };
  reset: ResetResult & { peakRss: number; outcomes: Record<string, number> };
  mail: MailResult;
  timing: {
    reset: TimingComparison & { outcomes: Record<string, number> };
    login: TimingComparison & { outcomes: Record<string, number> };
  };
  checks: {
    a: { ratio: number; pass: boolean };
    b: { ratio: number; pass: boolean };
    c: { p99: number; pass: boolean };
    d: { resetPass: boolean; loginPass: boolean };
  };
}

export interface BenchResults {
  machine: Machine;
  settings: {
    seconds: number;
    warmup: number;
    loginRounds: number;
    samples: number;
    mails: number;
    connections: Record<string, number>;
    liftedLimits: Record<string, string>;
    peakRssPerBenchmark: boolean;
  };
  targets: TargetResults[];
}

export function checksOf(r: Omit<TargetResults, 'checks'>): TargetResults['checks'] {
  const a = r.login.rps / r.argon2.rate;
  const b = r.csm.rps / r.bareCsm.rps;
  const timingOk = (t: TimingComparison) => Math.abs(t.difference) <= TARGETS.timingMedianMs && t.p >= TARGETS.timingP;
  return {
    a: { ratio: a, pass: a >= TARGETS.loginRatio },
    b: { ratio: b, pass: b >= TARGETS.csmRatio },
    c: { p99: r.reset.p99, pass: r.reset.p99 < TARGETS.resetP99Ms },
    d: { resetPass: timingOk(r.timing.reset), loginPass: timingOk(r.timing.login) },
  };
}

const DB = { sqlite: 'SQLite', postgres: 'PostgreSQL' } as const;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n >= 100 ? `${Math.round(n)} ms` : `${n.toFixed(1)} ms`);
const ms2 = (n: number) => `${n.toFixed(2)} ms`;
const mb = (n: number) => `${Math.round(n)} MB`;
const pct = (n: number) => `${Math.round(n * 100)}%`;
const mark = (pass: boolean) => (pass ? 'pass' : '**MISS**');
const pval = (p: number) => (p < 0.001 ? '< 0.001' : p.toFixed(3));

export function markdownTables(res: BenchResults): string {
  const rows: string[] = [
    '| Benchmark | DB | Conn. | Throughput | p50 | p99 | Peak RSS | Limit measured in the same run | Ratio / check | Target |',
    '|---|---|--:|--:|--:|--:|--:|---|---|---|',
  ];
  for (const t of res.targets) {
    const db = DB[t.target];
    rows.push(
      `| GET /csm | ${db} | ${t.csm.connections} | ${int(t.csm.rps)} req/s | ${ms(t.csm.p50)} | ${ms(t.csm.p99)} | ${mb(t.csm.peakRss)} | (b) bare Fastify, same ${int(t.bareCsm.bytes)} bytes: ${int(t.bareCsm.rps)} req/s | ${pct(t.checks.b.ratio)} ${mark(t.checks.b.pass)} | ≥ 50% |`,
      `| GET /login | ${db} | ${t.loginPage.connections} | ${int(t.loginPage.rps)} req/s | ${ms(t.loginPage.p50)} | ${ms(t.loginPage.p99)} | ${mb(t.loginPage.peakRss)} | — | — | — |`,
      `| POST /login, valid password | ${db} | ${t.login.connections} | ${int(t.login.rps)} logins/s | ${ms(t.login.p50)} | ${ms(t.login.p99)} | ${mb(t.login.peakRss)} | (a) bare argon2id verify loop, ${t.argon2.concurrency} in flight: ${int(t.argon2.rate)} /s (rounds: ${t.argon2.runs.map(int).join(', ')}) | ${pct(t.checks.a.ratio)} ${mark(t.checks.a.pass)} | ≥ 90% |`,
      `| └ reference: bare Fastify, only an argon2id POST /login | — | ${t.bareLogin.connections} | ${int(t.bareLogin.rps)} logins/s | ${ms(t.bareLogin.p50)} | ${ms(t.bareLogin.p99)} | ${mb(t.bareLogin.peakRss)} | its own ratio to (a): ${pct(t.bareLogin.rps / t.argon2.rate)}; the portal's login to it: ${pct(t.login.rps / t.bareLogin.rps)} | — | — |`,
      `| Reset ①+② (pair) | ${db} | ${t.reset.connections} | ${int(t.reset.resetsPerSecond)} resets/s | ${ms(t.reset.p50)} | ${ms(t.reset.p99)} | ${mb(t.reset.peakRss)} | (c) p99 of the pair | ${ms(t.reset.p99)} ${mark(t.checks.c.pass)} | p99 < 50 ms |`,
      `| Mails to the SMTP sink | ${db} | — | ${int(t.mail.rate)} mails/s | — | — | ${mb(t.mail.peakRss)} | — | — | — |`,
    );
  }
  const timing: string[] = [
    `| (d) Existing vs unknown, ${res.settings.samples.toLocaleString('en-US')} + ${res.settings.samples.toLocaleString('en-US')} samples | DB | Existing median | Unknown median | Difference | Mann–Whitney p | Check (\\|Δ\\| ≤ 1 ms, p ≥ 0.01) |`,
    '|---|---|--:|--:|--:|--:|---|',
  ];
  for (const t of res.targets) {
    const db = DB[t.target];
    const line = (name: string, c: TimingComparison, pass: boolean) =>
      `| ${name} | ${db} | ${ms2(c.existingMedian)} | ${ms2(c.unknownMedian)} | ${c.difference >= 0 ? '+' : ''}${ms2(c.difference)} | ${pval(c.p)} | ${mark(pass)} |`;
    timing.push(
      line('Reset stage ② (mail queued vs unknown user)', t.timing.reset, t.checks.d.resetPass),
      line('POST /login (wrong password vs unknown user)', t.timing.login, t.checks.d.loginPass),
    );
  }
  const m = res.machine;
  const machine = `Machine: ${m.cpu} (\`/proc/cpuinfo\`), nproc ${m.nproc}, Node ${m.node}, ${m.os}; run ended ${m.date}; 1-min load average ${m.loadBefore.toFixed(2)} before the run, ${m.loadAfter.toFixed(2)} at its end (the run itself keeps both cores busy: about 2)${m.otherWork ? `; other processes used ${m.otherWork.cpuSeconds.toFixed(0)} CPU-seconds during the run (${(m.otherWork.share * 100).toFixed(1)}% of the machine)` : ''}.`;
  const settings = `Runs of ${res.settings.seconds} s after ${res.settings.warmup} s of warm-up, each benchmark against a portal process of its own; the logins, limit (a) and the bare login route in ${res.settings.loginRounds} interleaved rounds (each figure the total of its rounds, so that a drift of the machine's speed weighs on all three alike); limit (b) the better of a run before and a run after (a disturbance only lowers a figure); p50/p99 over every response; peak RSS = VmHWM of the server process from the end of its start-up${res.settings.peakRssPerBenchmark ? '' : ' (could not be reset: since its start)'}.`;
  const p = m.platform;
  const platform = `Platform probe, before the benchmarks (bench/lib/platform.ts): a system call (write(2) of 64 bytes to /dev/null) takes ${p.syscallMicros.toFixed(2)} µs; a 64-byte request and answer between two Node processes over loopback TCP ${p.roundTripMicros.toFixed(0)} µs${p.pgCommitsPerSecond === undefined ? '' : `; PostgreSQL commits ${Math.round(p.pgCommitsPerSecond).toLocaleString('en-US')} one-row INSERT transactions/s for pgbench (16 connections, nothing else running)`}. Every request is a chain of such steps, so these figures bound what any server gets on this machine.`;
  return [machine, '', platform, '', settings, '', ...rows, '', ...timing].join('\n');
}
