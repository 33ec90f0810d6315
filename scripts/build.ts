/**
 * npm run build: compiles src/server.ts and src/cli.ts to plain JavaScript in dist/, so that production runs
 * `node dist/server.js` (and `node dist/cli.js …`) with no loader and no compiler in the process.
 *
 * esbuild bundles each entry point into one ES module file (its TypeScript and Preact JSX settings come from
 * tsconfig.json); packages in node_modules stay external and are loaded by node as they are (better-sqlite3,
 * @node-rs/argon2 and @resvg/resvg-js are native, and pino/fastify resolve their own files at run time). One file per
 * entry point instead of a file per module: node resolves and reads one file instead of about 120 at start-up.
 * No type check here: `npm run typecheck` does that, and the build stays under a second.
 *
 * Files the code reads relative to its own module (`new URL('./fonts/…', import.meta.url)`) are copied beside the
 * bundle, and the build fails when a `new URL('…', import.meta.url)` in the output names a file that is not there,
 * so that moving an asset in src/ cannot produce a dist/ that fails only at run time.
 *
 * dist/server.js and dist/cli.js are small CommonJS launchers that import the bundles (server.mjs, cli.mjs). Node 20
 * starts libuv's thread pool while it reads an ES module entry file, before any code of it runs, so src/threadpool.ts
 * inside an ES module cannot size the pool (measured: 4 threads on 2 cores); a CommonJS entry runs before the pool
 * exists, so the launcher sizes it first (P2), then imports the bundle.
 *
 * The output is written to a fresh directory and renamed over dist/, so a server started during a rebuild never
 * sees half a dist/; dist/build-id (a hash of the output) lets a build of the same source keep the dist/ in place. Usage: npm run build [-- --outdir DIR]
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Copied from src/ (left) to the output directory (right), for the bundled modules that read them. */
export const ASSETS: ReadonlyArray<readonly [string, string]> = [
  ['src/web/static', 'web/static'], // app.ts: new URL('./web/static/', import.meta.url) → @fastify/static's root
  ['src/security/fonts', 'fonts'], // captcha-picture.ts: new URL('./fonts/Comismsh.ttf', import.meta.url)
];

const ENTRY_POINTS = ['src/server.ts', 'src/cli.ts'];

/** The CommonJS launcher of one bundle; the server's sizes the thread pool first (threadpool.ts, as CommonJS). */
async function launcher(name: string): Promise<string> {
  let pool = '';
  if (name === 'server') {
    const r = await build({
      absWorkingDir: ROOT,
      entryPoints: ['src/threadpool.ts'],
      bundle: true,
      platform: 'node',
      format: 'iife',
      write: false,
      logLevel: 'warning',
    });
    pool = r.outputFiles[0]!.text;
  }
  return [
    `// Written by scripts/build.ts: runs dist/${name}.mjs. CommonJS so that it runs before libuv's thread pool starts.`,
    pool,
    `import('./${name}.mjs');`,
    '',
  ].join('\n');
}

/** Every `new URL('relative', import.meta.url)` in the output's .js files that names nothing under `outdir`. */
export function missingAssets(outdir: string): string[] {
  const missing: string[] = [];
  const pattern = /new URL\(\s*["'`](\.{1,2}\/[^"'`]*)["'`]\s*,\s*import\.meta\.url\s*\)/g;
  for (const file of readdirSync(outdir)) {
    if (!/\.m?js$/.test(file)) continue;
    const text = readFileSync(join(outdir, file), 'utf8');
    for (const m of text.matchAll(pattern)) {
      const target = resolve(outdir, m[1]!);
      if (!existsSync(target)) missing.push(`${file}: ${m[1]} (${relative(outdir, target) || '.'})`);
    }
  }
  return missing;
}

/** A hash of every file under `dir` (names and contents), in a stable order. */
function contentId(dir: string): string {
  const hash = createHash('sha256');
  for (const file of (readdirSync(dir, { recursive: true }) as string[]).sort()) {
    const path = join(dir, file);
    if (!statSync(path).isFile()) continue;
    hash.update(`${file}\0`).update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex');
}

function buildIdOf(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, 'build-id'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Builds into `outdir` (default ROOT/dist), replacing it whole. Returns the output files and their sizes. */
export async function buildPortal(outdir = join(ROOT, 'dist')): Promise<Record<string, number>> {
  const staging = `${outdir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(dirname(staging), { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRY_POINTS,
    outdir: staging,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    packages: 'external',
    tsconfig: 'tsconfig.json',
    sourcemap: 'linked', // node --enable-source-maps dist/server.js maps stack traces back to src/ when needed
    outExtension: { '.js': '.mjs' },
    metafile: true,
    logLevel: 'warning',
  });
  // dist/*.js are the CommonJS launchers (the project's package.json says "type": "module").
  writeFileSync(join(staging, 'package.json'), '{ "type": "commonjs" }\n');
  for (const name of ['server', 'cli']) writeFileSync(join(staging, `${name}.js`), await launcher(name));
  for (const [from, to] of ASSETS) cpSync(join(ROOT, from), join(staging, to), { recursive: true });
  const missing = missingAssets(staging);
  if (missing.length) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `the build reads files that are not in its output (add them to ASSETS in scripts/build.ts):\n  ${missing.join('\n  ')}`,
    );
  }
  const sizes: Record<string, number> = {};
  for (const [file, out] of Object.entries(result.metafile.outputs)) {
    const name = relative(staging, join(ROOT, file));
    if (name.endsWith('.mjs')) sizes[name] = out.bytes;
  }
  const id = contentId(staging);
  writeFileSync(join(staging, 'build-id'), `${id}\n`);
  // The same output is already there (another build of the same source, e.g. a test running beside this one):
  // keep it, so that a process starting from it meanwhile is never disturbed.
  if (buildIdOf(outdir) === id) {
    rmSync(staging, { recursive: true, force: true });
    return sizes;
  }
  const old = `${outdir}.old-${process.pid}`;
  try {
    renameSync(outdir, old);
  } catch {
    // no dist/ yet (or another build moved it away at this moment)
  }
  try {
    renameSync(staging, outdir);
  } catch (err) {
    // Another build put its dist/ in place between the two renames: fine when it is this same output.
    rmSync(staging, { recursive: true, force: true });
    if (buildIdOf(outdir) !== id) throw err;
  }
  rmSync(old, { recursive: true, force: true });
  return sizes;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outdir = args.includes('--outdir') ? resolve(args[args.indexOf('--outdir') + 1]!) : undefined;
  const t0 = performance.now();
  const sizes = await buildPortal(outdir);
  const list = Object.entries(sizes)
    .map(([f, n]) => `${f} ${(n / 1024).toFixed(0)} KiB`)
    .join(', ');
  console.log(
    `Built ${relative(process.cwd(), outdir ?? join(ROOT, 'dist')) || '.'}/: ${list} in ${(performance.now() - t0).toFixed(0)} ms`,
  );
}
