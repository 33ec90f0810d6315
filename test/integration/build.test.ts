/**
 * The production build (issue 14 §1), as an operator runs it: `npm run build`, then `node dist/server.js` with no
 * loader. The bundle reads its static files and the CAPTCHA font from beside itself, sizes libuv's thread pool
 * before the pool starts (P2), and the build refuses an output that reads a file it did not copy.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPortal, missingAssets } from '../../scripts/build.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Server {
  child: ChildProcess;
  base: string;
  output(): string;
  stop(): Promise<void>;
}

/** node dist/server.js on a fresh SQLite file, without UV_THREADPOOL_SIZE unless given; resolves once /healthz answers. */
async function startBuilt(extra: Record<string, string> = {}): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'iryo-build-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      DATABASE_URL: `sqlite:${join(dir, 'p.db')}`,
      SESSION_SECRET: 'build-test-secret-build-test-secret-0123',
      LOG_LEVEL: 'warn',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  for (const end = Date.now() + 60_000; ; ) {
    if (child.exitCode !== null) break;
    if (
      (await fetch(`${base}/healthz`).then(
        (r) => r.status,
        () => 0,
      )) === 200
    )
      return { child, base, output: () => out, stop };
    if (Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`the built server did not answer /healthz:\n${out}`);
}

/** Threads of a process (libuv's pool starts at start-up: the migrations and the demo accounts' hashes use it). */
function threads(pid: number): number {
  return readdirSync(`/proc/${pid}/task`).length;
}

describe('npm run build → node dist/server.js', () => {
  before(() => buildPortal());

  describe('the built server', () => {
    let server: Server;
    before(async () => {
      server = await startBuilt();
    });
    after(() => server.stop());

    test('runs under plain node, with no loader, and serves the pages', async () => {
      const argv = readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      assert.deepEqual(argv.slice(1), ['dist/server.js'], 'node dist/server.js and nothing else (no --import tsx)');
      const res = await fetch(`${server.base}/csm`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /医療機関等向け総合ポータルサイト/);
    });

    test('serves the static files copied beside the bundle (dist/web/static)', async () => {
      for (const file of readdirSync(join(ROOT, 'src/web/static'))) {
        const res = await fetch(`${server.base}/static/${file}`);
        assert.equal(res.status, 200, `/static/${file}`);
        assert.equal(
          await res.text(),
          readFileSync(join(ROOT, 'src/web/static', file), 'utf8'),
          `/static/${file} is the file of src/`,
        );
      }
    });

    test('draws the reset CAPTCHA picture with the font copied beside the bundle (dist/fonts)', async () => {
      const page = await fetch(`${server.base}/password-reset`, { redirect: 'manual' });
      const cookie = page.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      let html = await page.text();
      const location = page.headers.get('location');
      if (location) html = await (await fetch(new URL(location, server.base), { headers: { cookie } })).text();
      const src = /class="captcha__image" src="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
      assert.ok(src, `a CAPTCHA picture on the reset page:\n${html.slice(0, 500)}`);
      const img = await fetch(new URL(src, server.base), { headers: { cookie } });
      assert.equal(img.status, 200);
      assert.equal(img.headers.get('content-type'), 'image/png');
      assert.deepEqual([...new Uint8Array(await img.arrayBuffer()).slice(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG');
    });
  });

  test("P2: the built server runs one pool thread per core (at least 2), as if UV_THREADPOOL_SIZE were set so; an operator's value is kept", {
    timeout: 120_000,
  }, async () => {
    const perCore = Math.max(2, availableParallelism());
    const count = async (env: Record<string, string>) => {
      const s = await startBuilt(env);
      try {
        return threads(s.child.pid!);
      } finally {
        await s.stop();
      }
    };
    const byDefault = await count({});
    const explicit = await count({ UV_THREADPOOL_SIZE: String(perCore) });
    const more = await count({ UV_THREADPOOL_SIZE: String(perCore + 3) });
    assert.equal(more - explicit, 3, 'the thread count shows the pool (3 more threads with 3 more in the pool)');
    assert.equal(byDefault, explicit, `the default is ${perCore} pool threads (libuv's own default is 4)`);
  });
});

test('the build refuses an output that reads a file relative to itself that it did not copy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iryo-build-assets-'));
  try {
    mkdirSync(join(dir, 'fonts'));
    writeFileSync(join(dir, 'fonts', 'ok.ttf'), '');
    writeFileSync(
      join(dir, 'server.mjs'),
      'const a = new URL("./fonts/ok.ttf", import.meta.url);\nconst b = new URL("./web/static/", import.meta.url);\n',
    );
    assert.deepEqual(missingAssets(dir), ['server.mjs: ./web/static/ (web/static)']);
    mkdirSync(join(dir, 'web', 'static'), { recursive: true });
    assert.deepEqual(missingAssets(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
