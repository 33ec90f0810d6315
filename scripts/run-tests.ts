/**
 * npm test: the type check (tsc --noEmit), the linter and format check (biome check), then every test file with
 * Node's test runner through tsx (`node --test dir/` finds nothing on Node 20, so the files are listed here).
 * A failing check stops the run before the suite. Usage: npm test [-- [--skip-checks] unit|integration|e2e ...]
 * --skip-checks runs the suite alone: CI runs the checks once and the suite on every Node version (neither tsc 7 nor
 * Biome runs on Node, so their verdict does not depend on its version).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const groups = args.filter((a) => !a.startsWith('-'));
const dirs = (groups.length ? groups : ['unit', 'integration', 'e2e']).map((g) => join('test', g));
const files = dirs.flatMap((d) =>
  existsSync(d)
    ? readdirSync(d)
        .filter((f) => f.endsWith('.test.ts') || f.endsWith('.test.tsx'))
        .sort()
        .map((f) => join(d, f))
    : [],
);
if (files.length === 0) {
  console.error(`No test files in ${dirs.join(', ')}`);
  process.exit(1);
}

/** Runs one step with its output shown; its exit status, with a header line that the CI log shows. */
function step(
  title: string,
  command: string,
  commandArgs: string[],
  shown = [command, ...commandArgs].join(' '),
): number {
  console.log(`\n▶ ${title}: ${shown}`);
  const started = Date.now();
  const r = spawnSync(command, commandArgs, { stdio: 'inherit' });
  if (r.error) console.error(`${title}: ${r.error.message}`);
  const status = r.status ?? 1;
  console.log(`${status === 0 ? '✔' : '✖'} ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return status;
}

const bin = (name: string) => join('node_modules', '.bin', name);

if (!args.includes('--skip-checks')) {
  if (step('Type check', bin('tsc'), ['--noEmit']) !== 0) process.exit(1);
  // Warnings fail too: the code base starts clean, so every new finding is either fixed or turned off in biome.json.
  if (step('Lint and format check', bin('biome'), ['check', '--error-on-warnings', '.']) !== 0) process.exit(1);
}
const suite = step(
  `Tests on Node ${process.version}`,
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  `node --import tsx --test (${files.length} files in ${dirs.join(', ')})`,
);
process.exit(suite);
