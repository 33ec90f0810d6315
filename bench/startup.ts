/**
 * Start-up of the portal to its first answer: from spawning the process to the first 200 from /healthz (the server
 * listens only after the database is open and migrated and the app is built), for the build under plain node
 * (node dist/server.js, as systemd starts it) and, as the same-run reference, src/server.ts through tsx. Rounds
 * alternate between the two so that a machine whose speed drifts weighs on both alike. Also the resident memory
 * at that moment (VmRSS) and the command line read from /proc, which must show no loader for the build.
 *   npm run bench:startup -- [--only sqlite|postgres] [--rounds N]      (bench/run.ts calls measureStartup too)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dbTargets, type TargetName } from '../test/helpers/db-targets.ts';
import { createBenchUsers, openBenchDatabase } from './lib/database.ts';
import { startSink } from './lib/limits.ts';
import { ensureBuilt, spawnPortal, type PortalOptions } from './lib/portal.ts';
import { freePort, sleep } from './lib/processes.ts';

export interface StartupRun {
  /** Milliseconds from spawn to the first 200 from /healthz. */
  ms: number;
  /** VmRSS (MiB) at the first answer. */
  rssMiB: number;
}

export interface StartupSide {
  runs: StartupRun[];
  medianMs: number;
  medianRssMiB: number;
  /** The process's command line (argv joined by spaces), as /proc/PID/cmdline shows it. */
  cmdline: string;
}

export interface StartupResult {
  built: StartupSide;
  source: StartupSide;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** One start: spawn, poll /healthz every 5 ms, read /proc, stop. */
async function startOnce(o: PortalOptions): Promise<StartupRun & { cmdline: string }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'iryo-bench-startup-'));
  const t0 = performance.now();
  const child = await spawnPortal(o, port, dataDir);
  try {
    for (;;) {
      if (child.proc.exitCode !== null)
        throw new Error(`the portal exited (${child.proc.exitCode}):\n${child.output()}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        await res.arrayBuffer();
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      if (performance.now() - t0 > 60_000) throw new Error(`no answer from /healthz within 60 s:\n${child.output()}`);
      await sleep(5);
    }
    const ms = performance.now() - t0;
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return { ms, rssMiB: rssMiB(child.pid), cmdline };
  } finally {
    await child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Starts the portal `rounds` times built and `rounds` times from source on a migrated database with accounts
 * (so that no demo accounts are hashed at start). Fails when the built server's command line names a loader.
 */
export async function measureStartup(databaseUrl: string, smtpUrl: string, rounds = 5): Promise<StartupResult> {
  await ensureBuilt(); // the build itself is not part of the start-up
  const built: StartupSide = { runs: [], medianMs: 0, medianRssMiB: 0, cmdline: '' };
  const source: StartupSide = { runs: [], medianMs: 0, medianRssMiB: 0, cmdline: '' };
  for (let i = 0; i < rounds; i++) {
    for (const [side, o] of [
      [built, { databaseUrl, smtpUrl }],
      [source, { databaseUrl, smtpUrl, source: true }],
    ] as const) {
      const { cmdline, ...run } = await startOnce(o);
      side.runs.push(run);
      side.cmdline = cmdline;
    }
  }
  if (/(^| )(--import|--loader|--experimental-loader|--require|-r)( |=)|tsx/.test(built.cmdline)) {
    throw new Error(`the built server runs with a loader: ${built.cmdline}`);
  }
  for (const side of [built, source]) {
    side.medianMs = median(side.runs.map((r) => r.ms));
    side.medianRssMiB = median(side.runs.map((r) => r.rssMiB));
  }
  return { built, source };
}

/** One line for the console: the build's start-up beside the source's. */
export function startupLine(target: string, r: StartupResult): string {
  const side = (s: StartupSide) => `${s.medianMs.toFixed(0)} ms (RSS ${s.medianRssMiB.toFixed(0)} MiB)`;
  return (
    `${target}: start-up to the first /healthz answer, median of ${r.built.runs.length}: built (${r.built.cmdline.replace(/^\S*\//, '')}) ${side(r.built)}` +
    ` · source through tsx ${side(r.source)} · ${(r.source.medianMs / r.built.medianMs).toFixed(1)}× faster`
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] as TargetName) : undefined;
  const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 5;
  const available = await dbTargets();
  const sink = await startSink();
  try {
    for (const target of only ? [only] : (['sqlite', 'postgres'] as TargetName[])) {
      if (!available.includes(target)) {
        console.log(`${target}: not available, skipped`);
        continue;
      }
      const db = await openBenchDatabase(target);
      try {
        await createBenchUsers(db.db, 'startup', 5);
        console.log(startupLine(target, await measureStartup(db.serverUrl, sink.url, rounds)));
      } finally {
        await db.drop();
      }
    }
  } finally {
    await sink.stop();
  }
  process.exit(0);
}
