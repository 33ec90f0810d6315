/**
 * package.json lists what the code uses, where it uses it: a production install (`npm ci --omit=dev`) has every
 * package that src/ loads at run time, and nothing is listed that no file imports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const dependencies = Object.keys(pkg.dependencies);
const devDependencies = Object.keys(pkg.devDependencies);

/** Every .ts/.tsx/.js file under dir. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|tsx|js)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** The packages a file imports (`from '…'`, `import('…')`, `require('…')`, `require.resolve('…')`); type-only ones when `types`. */
function importsOf(file: string, types: boolean): string[] {
  // Comments may quote an import; they are left out (block comments, and lines that are only a comment).
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const specifiers: string[] = [];
  for (const m of text.matchAll(/\bimport\s+(type\s+)?(?:[^;'"]*?\sfrom\s+)?'([^']+)'/g)) {
    if (types || !m[1]) specifiers.push(m[2] as string);
  }
  for (const m of text.matchAll(/\b(?:import|require|require\.resolve)\(\s*'([^']+)'\s*\)/g))
    specifiers.push(m[1] as string);
  return specifiers
    .filter((s) => !s.startsWith('.') && !s.startsWith('/') && !isBuiltin(s))
    .map((s) =>
      s
        .split('/')
        .slice(0, s.startsWith('@') ? 2 : 1)
        .join('/'),
    );
}

const runtime = new Set(sources('src').flatMap((f) => importsOf(f, false)));
const everywhere = new Set(
  ['src', 'test', 'bench', 'scripts', 'deploy'].flatMap((d) => sources(d).flatMap((f) => importsOf(f, true))),
);

/** Used without an import: npm start and the CLI run through tsx; npm test's checks run tsc and Biome (node's types). */
const TOOLS = new Set(['tsx', 'typescript', '@biomejs/biome', '@types/node']);

test('package.json: every package that src/ loads at run time is a dependency (npm ci --omit=dev has it)', () => {
  const missing = [...runtime].filter((p) => !dependencies.includes(p)).sort();
  assert.deepEqual(missing, []);
});

test('package.json: every dependency is loaded by src/ (or runs npm start); the rest are devDependencies', () => {
  // tsx runs `npm start` and `npm run build`, and the build imports esbuild: both are needed after npm ci --omit=dev.
  const unused = dependencies.filter((p) => !runtime.has(p) && p !== 'tsx' && p !== 'esbuild').sort();
  assert.deepEqual(unused, [], 'import them in src/, or move them to devDependencies, or remove them');
});

test('package.json: every devDependency is imported by the tests, the benchmarks or the scripts, or is a tool', () => {
  const unused = devDependencies
    .filter((p) => !everywhere.has(p) && !TOOLS.has(p))
    // @types/x gives the types of x, which must itself be listed.
    .filter((p) => !(p.startsWith('@types/') && [...dependencies, ...devDependencies].includes(p.slice(7))))
    .sort();
  assert.deepEqual(unused, []);
  const unlisted = [...everywhere].filter((p) => !dependencies.includes(p) && !devDependencies.includes(p)).sort();
  assert.deepEqual(unlisted, [], 'imported but not in package.json');
});
