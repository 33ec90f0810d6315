/**
 * Where the CPU goes per operation, by thread: runs one benchmark against a portal process and reads the CPU time
 * of each of its threads (/proc/PID/task), of the benchmark's own process (the load generator) and of the whole
 * machine (PostgreSQL's share is the rest). Linux only.
 *   npx tsx bench/cpu-split.ts login|reset|page [sqlite|postgres] [SECONDS]
 * The argon2id hashes run on the portal's thread-pool threads; "main" is the portal's JavaScript thread.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { TargetName } from '../test/helpers/db-targets.ts';
import { createBenchUsers, openBenchDatabase } from './lib/database.ts';
import { fetchCsrf } from './lib/http.ts';
import { startSink } from './lib/limits.ts';
import { startPortal } from './lib/portal.ts';
import { benchGet, benchLogin, benchReset } from './lib/scenarios.ts';

const scenario = process.argv[2] ?? 'login';
const target = (process.argv[3] ?? 'sqlite') as TargetName;
const seconds = Number(process.argv[4] ?? 6);
if (!['login', 'reset', 'page'].includes(scenario)) throw new Error(`unknown scenario ${scenario}`);
const TICK_MS = 1000 / 100; // USER_HZ

function ticks(path: string): { user: number; total: number } {
  const s = readFileSync(path, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]), total: Number(f[11]) + Number(f[12]) };
}
const threads = (pid: number) =>
  new Map(readdirSync(`/proc/${pid}/task`).map((tid) => [tid, ticks(`/proc/${pid}/task/${tid}/stat`).total]));
function machine(): { busy: number; all: number } {
  const v = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return { busy: v[0]! + v[1]! + v[2]! + v[5]! + v[6]!, all: v.reduce((a, b) => a + b, 0) };
}

const sink = await startSink();
const db = await openBenchDatabase(target);
const users = await createBenchUsers(db.db, 'bench', 200);
const portal = await startPortal({ databaseUrl: db.serverUrl, smtpUrl: sink.url });
try {
  const csrf = await fetchCsrf(portal.url);
  const d = { seconds: 2, warmup: 0 };
  // Warm-up, then the measured run.
  if (scenario === 'login') await benchLogin(portal.url, csrf, users, 16, d);
  else if (scenario === 'reset') await benchReset(portal.url, csrf, users, 50, d);
  else await benchGet(portal.url, '/login', 50, d);
  const t0 = threads(portal.pid);
  const self0 = ticks('/proc/self/stat').total;
  const m0 = machine();
  const run = { seconds, warmup: 0 };
  let ops: number;
  let summary: string;
  if (scenario === 'login') {
    const r = await benchLogin(portal.url, csrf, users, 16, run);
    ops = r.responses;
    summary = `${r.rps.toFixed(0)} logins/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`;
  } else if (scenario === 'reset') {
    const r = await benchReset(portal.url, csrf, users, 50, run);
    ops = r.resets;
    summary = `${r.resetsPerSecond.toFixed(0)} resets/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`;
  } else {
    const r = await benchGet(portal.url, '/login', 50, run);
    ops = r.responses;
    summary = `${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`;
  }
  const t1 = threads(portal.pid);
  const self1 = ticks('/proc/self/stat').total;
  const m1 = machine();
  const per = (t: number) => `${((t * TICK_MS) / ops).toFixed(3)} ms`;
  console.log(`${scenario} on ${target}: ${summary} (${ops} operations)\nCPU per operation:`);
  let portalTotal = 0;
  for (const [tid, t] of t1) {
    const used = t - (t0.get(tid) ?? 0);
    portalTotal += used;
    if ((used * TICK_MS) / ops >= 0.05)
      console.log(`  portal thread ${tid}${tid === String(portal.pid) ? ' (main)' : ''}: ${per(used)}`);
  }
  console.log(`  portal, all threads: ${per(portalTotal)}`);
  console.log(`  load generator (this process): ${per(self1 - self0)}`);
  const busy = m1.busy - m0.busy;
  console.log(
    `  whole machine: ${per(busy)} (${((busy / (m1.all - m0.all)) * 100).toFixed(0)}% busy); the rest (PostgreSQL, SMTP sink, kernel): ${per(busy - portalTotal - (self1 - self0))}`,
  );
} finally {
  await portal.stop();
  await sink.stop();
  await db.drop();
}
process.exit(0);
