/**
 * npm test: runs every test file with Node's test runner through tsx
 * (`node --test dir/` finds nothing on Node 20, so the files are listed here).
 * Usage: npm test [-- unit|integration|e2e ...]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const groups = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const dirs = (groups.length ? groups : ['unit', 'integration', 'e2e']).map((g) => join('test', g));
const files = dirs.flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.test.ts') || f.endsWith('.test.tsx')).sort().map((f) => join(d, f)) : []));
if (files.length === 0) {
  console.error(`No test files in ${dirs.join(', ')}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
