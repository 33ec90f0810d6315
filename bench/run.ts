/**
 * npm run bench: the portal under load on SQLite and on PostgreSQL, each figure beside the limit it is
 * measured against in the same run. Prints the tables and writes bench/results/latest.json.
 *   npm run bench -- [--only sqlite|postgres] [--quick] [--readme]
 * --quick: short runs and 100 timing samples, to try the script (not for results).
 * --readme: also replaces the results block of README.md (between the bench:results markers).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { dbTargets, type TargetName } from '../test/helpers/db-targets.ts';
import {
  createBenchUsers,
  loginOutcomes,
  openBenchDatabase,
  queueResetMails,
  resetOutcomes,
  type BenchDatabase,
} from './lib/database.ts';
import { fetchCsrf, send, type Csrf } from './lib/http.ts';
import { measureArgon2Limit, startBareFastify, startBareLogin, startSink, type Sink } from './lib/limits.ts';
import { LIFTED_LIMITS, startPortal, type Portal } from './lib/portal.ts';
import { watchOtherWork } from './lib/machine.ts';
import { probePlatform } from './lib/platform.ts';
import { ROOT } from './lib/processes.ts';
import { checksOf, markdownTables, type BenchResults, type MailResult, type TargetResults } from './lib/report.ts';
import {
  benchGet,
  benchLogin,
  benchReset,
  sampleLoginTiming,
  sampleResetTiming,
  type Durations,
} from './lib/scenarios.ts';
import { combineLoads, type LoadResult } from './lib/load.ts';
import { measureStartup, startupLine, type StartupResult } from './startup.ts';
import type { Argon2Limit } from './lib/limits.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] as TargetName) : undefined;
const d: Durations = quick ? { seconds: 3, warmup: 1 } : { seconds: 6, warmup: 2 };
const SAMPLES = quick ? 100 : 1000;
const MAILS = quick ? 300 : 1000;
const CONNECTIONS = { csm: 50, loginPage: 50, login: 16, reset: 50 };
const ROUNDS = 3;
const started = Date.now();
let peakResetWorked = true;
/** Start-up of the built server and of the source, per target (printed after the tables, in latest.json as `startup`). */
const startups: Partial<Record<TargetName, StartupResult>> = {};

function log(line: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${s}s] ${line}\n`);
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

/**
 * Runs one benchmark against a portal process of its own (so that each peak RSS is that benchmark's, and
 * nothing left over by a previous one, such as queued mail, runs in the background), with its peak RSS
 * counted from the end of the start-up.
 */
async function withPortal<T extends object>(
  db: BenchDatabase,
  sink: Sink,
  fn: (portal: Portal, csrf: Csrf) => Promise<T>,
): Promise<T & { peakRss: number }> {
  const portal = await startPortal({ databaseUrl: db.serverUrl, smtpUrl: sink.url });
  try {
    await portal.outboxDrained(120_000);
    const csrf = await fetchCsrf(portal.url);
    if (!portal.resetPeak()) peakResetWorked = false;
    const r = await fn(portal, csrf);
    return { ...r, peakRss: portal.peakRss() };
  } finally {
    await portal.stop();
  }
}

/** The exact response of GET /csm for a first-time visitor, without the per-connection headers. */
async function csmResponse(url: string): Promise<{ headers: Record<string, string | string[]>; body: string }> {
  const res = await send(url, 'GET', '/csm');
  if (res.status !== 200) throw new Error(`GET /csm answered ${res.status}`);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v !== undefined && !/^(date|connection|keep-alive|content-length|transfer-encoding)$/.test(k)) headers[k] = v;
  }
  return { headers, body: res.body };
}

async function mailRun(target: TargetName, sink: Sink): Promise<MailResult> {
  const db = await openBenchDatabase(target);
  try {
    await queueResetMails(db.db, MAILS, 'http://localhost:3000');
    sink.reset();
    const portal = await startPortal({ databaseUrl: db.serverUrl, smtpUrl: sink.url });
    try {
      const s = await sink.waitFor(MAILS, 180_000);
      const seconds = (s.last - s.first) / 1000;
      return {
        mails: s.count,
        seconds,
        rate: (s.count - 1) / seconds,
        peakRss: portal.peakRss(),
        subject: s.firstSubject,
      };
    } finally {
      await portal.stop();
    }
  } finally {
    await db.drop();
  }
}

async function runTarget(target: TargetName, sink: Sink): Promise<TargetResults> {
  const db = await openBenchDatabase(target);
  try {
    log(`${target}: creating accounts`);
    const users = await createBenchUsers(db.db, 'bench', 200);
    const timingUsers = await createBenchUsers(db.db, 'timing', 20);

    log(
      `${target}: start-up of the built server (node dist/server.js) and of the source through tsx, to the first /healthz`,
    );
    startups[target] = await measureStartup(db.serverUrl, sink.url, quick ? 2 : 5);
    log(startupLine(target, startups[target]!));

    log(`${target}: GET /csm, between two runs of bare Fastify serving the same bytes`);
    let bareCsm!: TargetResults['bareCsm'];
    const csm = await withPortal(db, sink, async (portal) => {
      const page = await csmResponse(portal.url);
      const bare = await startBareFastify(page.headers, page.body);
      try {
        const before = await benchGet(bare.url, '/csm', CONNECTIONS.csm, d);
        const app = await benchGet(portal.url, '/csm', CONNECTIONS.csm, d);
        const after = await benchGet(bare.url, '/csm', CONNECTIONS.csm, d);
        bareCsm = {
          ...(after.rps > before.rps ? after : before),
          runs: [before.rps, after.rps],
          peakRss: bare.peakRss(),
          bytes: Buffer.byteLength(page.body),
        };
        return app;
      } finally {
        await bare.stop();
      }
    });

    log(`${target}: GET /login`);
    const loginPage = await withPortal(db, sink, (portal) => benchGet(portal.url, '/login', CONNECTIONS.loginPage, d));

    log(`${target}: timing samples, reset stage ② and POST /login (${SAMPLES} + ${SAMPLES} each)`);
    const timing = await withPortal(db, sink, async (portal, csrf) => {
      let since = Date.now();
      const reset = await sampleResetTiming(portal.url, csrf, timingUsers, SAMPLES);
      const resetSeen = await resetOutcomes(db.db, since);
      since = Date.now();
      const login = await sampleLoginTiming(portal.url, csrf, timingUsers, SAMPLES);
      const loginSeen = await loginOutcomes(db.db, since);
      return { reset: { ...reset, outcomes: resetSeen }, login: { ...login, outcomes: loginSeen } };
    });

    // (a) in interleaved rounds: loop, portal, bare route, loop, portal, bare route, … so that a machine whose speed
    // drifts (seen on these machines: a fifth within minutes) weighs on the three alike; each is the total of its rounds.
    log(
      `${target}: POST /login, the bare argon2id loop and bare Fastify's argon2id login route, ${ROUNDS} interleaved rounds`,
    );
    let since = Date.now();
    const argonRuns: Argon2Limit[] = [];
    const bareRuns: LoadResult[] = [];
    const loginRun = await withPortal(db, sink, async (portal, csrf) => {
      const bare = await startBareLogin();
      const runs: LoadResult[] = [];
      try {
        for (let i = 0; i < ROUNDS; i++) {
          argonRuns.push(await measureArgon2Limit(d.seconds, CONNECTIONS.login));
          runs.push(await benchLogin(portal.url, csrf, users, CONNECTIONS.login, d));
          bareRuns.push(await benchLogin(bare.url, { cookie: 'x=y', token: '' }, users, CONNECTIONS.login, d));
        }
        return { ...combineLoads(runs), bareRss: bare.peakRss() };
      } finally {
        await bare.stop();
      }
    });
    const { bareRss, ...loginCombined } = loginRun;
    const login = { ...loginCombined, outcomes: await loginOutcomes(db.db, since) };
    const verifications = argonRuns.reduce((a, r) => a + r.verifications, 0);
    const argonSeconds = argonRuns.reduce((a, r) => a + r.seconds, 0);
    const argon2 = {
      ...argonRuns[0]!,
      verifications,
      seconds: argonSeconds,
      rate: verifications / argonSeconds,
      peakRss: Math.max(...argonRuns.map((r) => r.peakRss)),
      runs: argonRuns.map((r) => r.rate),
    };
    const bareLogin = { ...combineLoads(bareRuns), peakRss: bareRss, runs: bareRuns.map((r) => r.rps) };

    log(`${target}: reset ①+②`);
    since = Date.now();
    const reset = await withPortal(db, sink, async (portal, csrf) => {
      const r = await benchReset(portal.url, csrf, users, CONNECTIONS.reset, d);
      return { ...r, outcomes: await resetOutcomes(db.db, since) };
    });

    log(`${target}: mails to the SMTP sink (${MAILS})`);
    const mail = await mailRun(target, sink);

    const r: Omit<TargetResults, 'checks'> = {
      target,
      csm,
      bareCsm,
      loginPage,
      login,
      argon2,
      bareLogin,
      reset,
      mail,
      timing,
    };
    return { ...r, checks: checksOf(r) };
  } finally {
    await db.drop();
  }
}

/** What must hold for the figures to mean what the table says; a broken run stops here. */
function sanityProblems(t: TargetResults): string[] {
  const p: string[] = [];
  const onlyStatus = (name: string, statuses: Record<string, number>, status: string) => {
    const other = Object.entries(statuses).filter(([s]) => s !== status);
    if (other.length) p.push(`${t.target} ${name}: answers other than ${status}: ${JSON.stringify(statuses)}`);
  };
  onlyStatus('GET /csm', t.csm.statuses, '200');
  onlyStatus('bare GET /csm', t.bareCsm.statuses, '200');
  onlyStatus('GET /login', t.loginPage.statuses, '200');
  onlyStatus('POST /login', t.login.statuses, '303');
  onlyStatus('bare POST /login', t.bareLogin.statuses, '303');
  onlyStatus('reset start', t.reset.statuses.start, '303');
  onlyStatus('reset ①', t.reset.statuses.identify, '303');
  onlyStatus('reset ②', t.reset.statuses.verify, '303');
  onlyStatus('timing reset existing', t.timing.reset.statuses.existing, '303');
  onlyStatus('timing reset unknown', t.timing.reset.statuses.unknown, '303');
  onlyStatus('timing login existing', t.timing.login.statuses.existing, '401');
  onlyStatus('timing login unknown', t.timing.login.statuses.unknown, '401');
  const resetOther = Object.keys(t.reset.outcomes).filter((o) => o !== 'mail_queued');
  if (resetOther.length)
    p.push(`${t.target} reset: outcomes other than mail_queued: ${JSON.stringify(t.reset.outcomes)}`);
  const tr = t.timing.reset.outcomes;
  if (tr.mail_queued !== t.timing.reset.samples || tr.unknown_user !== t.timing.reset.samples)
    p.push(`${t.target} timing reset outcomes: ${JSON.stringify(tr)}`);
  const tl = t.timing.login.outcomes;
  if (tl.bad_password !== t.timing.login.samples || tl.unknown_user !== t.timing.login.samples)
    p.push(`${t.target} timing login outcomes: ${JSON.stringify(tl)}`);
  if (!t.mail.subject.includes('パスワード')) p.push(`${t.target} mail: unexpected subject "${t.mail.subject}"`);
  return p;
}

function replaceReadmeBlock(tables: string): void {
  const file = join(ROOT, 'README.md');
  const text = readFileSync(file, 'utf8');
  const start = '<!-- bench:results:start -->';
  const end = '<!-- bench:results:end -->';
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error('README.md has no bench:results markers');
  writeFileSync(file, `${text.slice(0, i + start.length)}\n${tables}\n${text.slice(j)}`);
}

const available = await dbTargets();
const targets = (only ? [only] : (['sqlite', 'postgres'] as TargetName[])).filter((t) => {
  if (available.includes(t)) return true;
  log(`${t}: not available (PostgreSQL does not answer), skipped`);
  return false;
});

log('platform probe: system call, loopback round trip, PostgreSQL commits');
const platform = await probePlatform(targets.includes('postgres'));
const loadBefore = os.loadavg()[0]!;
const otherWork = watchOtherWork(os.availableParallelism());
const sink = await startSink();
const results: TargetResults[] = [];
try {
  for (const target of targets) results.push(await runTarget(target, sink));
} finally {
  await sink.stop();
}

const res: BenchResults = {
  machine: {
    cpu: cpuModel(),
    nproc: os.availableParallelism(),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
    loadBefore,
    loadAfter: os.loadavg()[0]!,
    otherWork: otherWork(),
    platform,
  },
  settings: {
    seconds: d.seconds,
    warmup: d.warmup,
    loginRounds: ROUNDS,
    samples: SAMPLES,
    mails: MAILS,
    connections: CONNECTIONS,
    liftedLimits: LIFTED_LIMITS,
    peakRssPerBenchmark: peakResetWorked,
  },
  targets: results,
};

const problems = results.flatMap(sanityProblems);
const tables = markdownTables(res);
console.log(`\n${tables}\n`);
for (const [target, r] of Object.entries(startups)) console.log(startupLine(target, r));
console.log(
  `Limits lifted for the run (all requests come from 127.0.0.1): ${Object.entries(LIFTED_LIMITS)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')}`,
);
if (quick) console.log('--quick: short runs, not results; bench/results/latest.json is not written.');
else {
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench/results/latest.json'),
    JSON.stringify({ ...res, startup: startups }, (k, v) => (k === 'latencies' ? undefined : v), 2) + '\n',
  );
  console.log('Written to bench/results/latest.json');
  if (args.includes('--readme') && problems.length === 0) {
    replaceReadmeBlock(tables);
    console.log('README.md results block updated');
  }
}
log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
if (problems.length) {
  console.error(`\nThe run is not valid:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
process.exit(0);
