/**
 * Where the portal's time goes under one benchmark: runs it against a portal started with --cpu-prof and
 * prints the self time by package/file and the heaviest functions.
 *   npx tsx bench/profile.ts csm|login-page|login|reset [sqlite|postgres] [SECONDS]
 * The profile is kept in the temporary directory printed at the end (open it in Chrome DevTools → Performance).
 * The portal is the build (node dist/server.js): its frames are mapped back to src/ files and lines through
 * dist/server.mjs.map.
 */
import { mkdtempSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { TargetName } from '../test/helpers/db-targets.ts';
import { createBenchUsers, openBenchDatabase } from './lib/database.ts';
import { fetchCsrf } from './lib/http.ts';
import { startSink } from './lib/limits.ts';
import { startPortal } from './lib/portal.ts';
import { ROOT } from './lib/processes.ts';
import { benchGet, benchLogin, benchReset } from './lib/scenarios.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount: number;
  children?: number[];
}

const scenario = process.argv[2] ?? 'csm';
const target = (process.argv[3] ?? 'sqlite') as TargetName;
const seconds = Number(process.argv[4] ?? 8);
if (!['csm', 'login-page', 'login', 'reset'].includes(scenario)) throw new Error(`unknown scenario ${scenario}`);

const profDir = mkdtempSync(join(tmpdir(), 'iryo-prof-'));
const sink = await startSink();
const db = await openBenchDatabase(target);
const users = await createBenchUsers(db.db, 'bench', 200);
const portal = await startPortal({
  databaseUrl: db.serverUrl,
  smtpUrl: sink.url,
  nodeArgs: ['--cpu-prof', '--cpu-prof-interval=200', `--cpu-prof-dir=${profDir}`],
});
let summary = '';
// V8's profile clock and process.hrtime are both CLOCK_MONOTONIC: the load window (µs) selects its samples.
let windowStart = 0;
let windowEnd = 0;
try {
  const csrf = await fetchCsrf(portal.url);
  const d = { seconds, warmup: 2 };
  windowStart = Number(process.hrtime.bigint() / 1000n);
  if (scenario === 'csm') summary = JSON.stringify(await benchGet(portal.url, '/csm', 50, d));
  else if (scenario === 'login-page') summary = JSON.stringify(await benchGet(portal.url, '/login', 50, d));
  else if (scenario === 'login') summary = JSON.stringify(await benchLogin(portal.url, csrf, users, 16, d));
  else {
    const r = await benchReset(portal.url, csrf, users, 50, d);
    summary = JSON.stringify({ resetsPerSecond: r.resetsPerSecond, p50: r.p50, p99: r.p99, statuses: r.statuses });
  }
  windowEnd = Number(process.hrtime.bigint() / 1000n);
} finally {
  await portal.stop();
  await sink.stop();
  await db.drop();
}
console.log(summary);

const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile written');
const out = join(profDir, `${scenario}-${target}.cpuprofile`);
renameSync(join(profDir, file), out);

const raw = JSON.parse(readFileSync(out, 'utf8')) as {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
};
// Keep the samples taken under load (not the start-up); hit counts are recomputed from them.
const samples: number[] = [];
let t = raw.startTime;
raw.samples.forEach((id, i) => {
  t += raw.timeDeltas[i] ?? 0;
  if (t >= windowStart && t <= windowEnd) samples.push(id);
});
const hits = new Map<number, number>();
for (const id of samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const profile = { nodes: raw.nodes.map((n) => ({ ...n, hitCount: hits.get(n.id) ?? 0 })), samples };
const totalSamples = samples.length;
const bundleMap = new SourceMap(JSON.parse(readFileSync(join(ROOT, 'dist/server.mjs.map'), 'utf8')));
/** The frame's file (src/…, a package, node:…) and 1-based line; frames of the bundle through its source map. */
const locate = (cf: ProfileNode['callFrame']): { place: string; line: number } => {
  if (cf.url.endsWith('/dist/server.mjs')) {
    const e = bundleMap.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string; originalLine?: number };
    if (e.originalSource) return { place: where(e.originalSource), line: (e.originalLine ?? 0) + 1 };
  }
  return { place: where(cf.url), line: cf.lineNumber + 1 };
};
function where(url: string): string {
  if (!url) return '(native/V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return url;
  const src = /(?:^|\/)((?:src|bench|test)\/.+)$/.exec(url);
  return src ? src[1]! : url;
}
const byPlace = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const n of profile.nodes) {
  if (!n.hitCount) continue;
  const at = locate(n.callFrame);
  const place =
    n.callFrame.functionName === '(idle)'
      ? '(idle)'
      : n.callFrame.functionName === '(garbage collector)'
        ? '(garbage collector)'
        : at.place;
  byPlace.set(place, (byPlace.get(place) ?? 0) + n.hitCount);
  const fn = `${n.callFrame.functionName || '(anonymous)'} ${at.place}:${at.line}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + n.hitCount);
}
// Inclusive time of the portal's own functions: each sample counts once for every src/ function on its stack.
const parent = new Map<number, number>();
const nodeById = new Map<number, ProfileNode>();
for (const n of profile.nodes) {
  nodeById.set(n.id, n);
  for (const c of n.children ?? []) parent.set(c, n.id);
}
const inclusive = new Map<string, number>();
for (const id of profile.samples) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = nodeById.get(cur)!;
    const { place, line } = locate(n.callFrame);
    if (!place.startsWith('src/')) continue;
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${place}:${line}`;
    if (seen.has(fn)) continue;
    seen.add(fn);
    inclusive.set(fn, (inclusive.get(fn) ?? 0) + 1);
  }
}
const top = (m: Map<string, number>, k: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, hits]) => `  ${((hits / totalSamples) * 100).toFixed(1).padStart(5)}%  ${name}`)
    .join('\n');
console.log(
  `\nProfile ${out} (${totalSamples} samples of the main thread under load, of ${raw.samples.length})\nSelf time by package or file:\n${top(byPlace, 25)}\n\nHeaviest functions (self time):\n${top(byFunction, 30)}\n\nThe portal's functions, inclusive time (with what they call):\n${top(inclusive, 30)}`,
);
