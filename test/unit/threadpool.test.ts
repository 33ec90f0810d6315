/** The thread pool where argon2id runs: one thread per core by default; an operator's UV_THREADPOOL_SIZE is kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

function sizeWith(env: Record<string, string>): string {
  const script = "await import('./src/threadpool.ts'); console.log(process.env.UV_THREADPOOL_SIZE);";
  const { UV_THREADPOOL_SIZE: _ignored, ...rest } = process.env;
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...rest, ...env },
    encoding: 'utf8',
  }).trim();
}

test('P2: the argon2id thread pool has one thread per core (at least 2) unless UV_THREADPOOL_SIZE is set', () => {
  assert.equal(sizeWith({}), String(Math.max(2, availableParallelism())));
  assert.equal(sizeWith({ UV_THREADPOOL_SIZE: '6' }), '6');
});

test('server.ts sizes the pool before anything else runs (its first import)', async () => {
  const { readFileSync } = await import('node:fs');
  const firstImport = /^import .*$/m.exec(readFileSync('src/server.ts', 'utf8'))?.[0];
  assert.equal(firstImport, "import './threadpool.ts'; // first: sizes libuv's thread pool before anything uses it");
});
