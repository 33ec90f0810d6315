/**
 * H12, A2: nothing of ours chains an entry that is not genuinely new, on SQLite and PostgreSQL. The red team's
 * attack — entries 140–142 rewritten with their chain columns cleared — is named by `audit verify` (a real process,
 * exit 1), which writes nothing; the running chainer leaves those entries unchained and logs them once, while fresh
 * entries keep being chained; a CLI command chains the entries it wrote itself, and only those.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import {
  appendAudit,
  AuditUnchainedError,
  chainAllAudit,
  createAuditChainer,
} from '../../src/security/audit.repository.ts';
import { verifyAudit } from '../../src/security/audit-verify.repository.ts';
import { auditKeyFrom } from '../../src/security/audit-key.ts';
import { dbTargets, freshDatabase, PG_URL, type TestDatabase } from '../helpers/db-targets.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const AUDIT_KEY = 'no-launder-audit-key-no-launder-audit-key-01';
const KEY = auditKeyFrom(AUDIT_KEY);

function cli(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: env.DATA_DIR!, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const until = async (done: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 300 && !(await done()); i++) await new Promise((r) => setTimeout(r, 20));
};

for (const target of await dbTargets()) {
  describe(`H12, A2: rewritten entries are never chained anew [${target}]`, () => {
    let d: TestDatabase;
    let dir: string;
    let env: Record<string, string>;
    const rows = () => d.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();

    before(async () => {
      d = await freshDatabase(target);
      dir = mkdtempSync(join(tmpdir(), 'iryo-launder-'));
      env = {
        NODE_ENV: 'test',
        DATA_DIR: dir,
        AUDIT_KEY,
        DATABASE_URL: target === 'sqlite' ? d.url : `${PG_URL}?options=-c%20search_path%3D${d.schema}`,
      };
      // 142 entries written (and chained by the portal) 20 minutes ago.
      const t0 = Date.now() - 20 * 60_000;
      for (let i = 0; i < 142; i++)
        await appendAudit(d.db, t0 + i * 100, {
          event: 'login',
          outcome: 'ok',
          identifier: `user${i}`,
          ip: '203.0.113.7',
        });
      await chainAllAudit(d.db, d.dialect, KEY, { now: t0 + 60_000 });
      assert.equal((await rows()).filter((r) => r.chain === null).length, 0);
    });
    after(async () => {
      await d?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test("the red team's attack: audit verify exits 1 naming entry 140 as possible tampering, and changes nothing", async () => {
      const intact = await cli(env, ['audit', 'verify']);
      assert.equal(intact.code, 0, intact.stderr);
      await sql`update audit_log set identifier='someone', chain=NULL, prev_hash=NULL, hash=NULL where seq>=140`.execute(
        d.db,
      );
      const before = await rows();
      const r = await cli(env, ['audit', 'verify']);
      assert.equal(r.code, 1, r.stdout);
      assert.match(
        r.stderr,
        /^3 audit entries are not chained although older than the window: possible tampering .*the first is entry 140 \(written at \S+, older than the 10-minute window for chaining\)/m,
      );
      assert.match(r.stderr, /^Audit trail NOT intact: 1 problem\(s\) in 139 entries\.$/m);
      assert.doesNotMatch(r.stdout, /intact:/);
      assert.deepEqual(
        await rows(),
        before,
        'verify wrote nothing: the rewritten entries stay unchained, the evidence stays',
      );
    });

    test('the running chainer leaves the cleared entries unchained and logs them once; a fresh entry is still chained', async () => {
      const errors: unknown[] = [];
      const chainer = createAuditChainer(d.db, d.dialect, KEY, 20, (err) => errors.push(err));
      chainer.start();
      try {
        await until(() => errors.length > 0);
        await appendAudit(d.db, Date.now(), { event: 'login', outcome: 'ok', identifier: 'fresh' });
        await until(async () => (await rows()).at(-1)!.chain !== null);
        await new Promise((r) => setTimeout(r, 200)); // ten more rounds
      } finally {
        await chainer.stop();
      }
      const all = await rows();
      assert.deepEqual(
        all.filter((r) => r.chain === null).map((r) => r.seq),
        [140, 141, 142],
        'never chained, not even at shutdown',
      );
      const fresh = all.at(-1)!;
      assert.equal(fresh.identifier, 'fresh');
      assert.equal(Number(fresh.chain), 140, 'the fresh entry is chained after the head');
      assert.equal(errors.length, 1, 'logged once, not every round');
      assert.ok(errors[0] instanceof AuditUnchainedError);
      assert.match(
        (errors[0] as Error).message,
        /^3 audit entries are not chained although older than the window: possible tampering.* the first is entry 140 /,
      );
      const v = await verifyAudit(d.db, KEY);
      assert.deepEqual(v.problems, []);
      assert.equal(v.unchained.refused, 3);
      assert.equal(v.unchained.firstRefused?.seq, 140);
    });

    test('a CLI command chains the entry it wrote itself at once (no portal runs), and not the cleared ones', async () => {
      const r = await cli(env, ['users', 'list']);
      assert.equal(r.code, 0, r.stderr);
      const all = await rows();
      const listed = all.at(-1)!;
      assert.equal(listed.event, 'users.listed');
      assert.equal(Number(listed.chain), 141, 'chained by the CLI before it exited');
      assert.deepEqual(
        all.filter((x) => x.chain === null).map((x) => x.seq),
        [140, 141, 142],
      );
    });

    test('an entry inside the window, cleared below the chained head: refused on SQLite; on PostgreSQL chained (a late commit looks the same)', async () => {
      await appendAudit(d.db, Date.now(), { event: 'login', outcome: 'ok', identifier: 'middle' });
      await appendAudit(d.db, Date.now(), { event: 'login', outcome: 'ok', identifier: 'last' });
      await chainAllAudit(d.db, d.dialect, KEY);
      const middle = (await rows()).at(-2)!;
      await d.db
        .updateTable('audit_log')
        .set({ chain: null, prev_hash: null, hash: null })
        .where('seq', '=', middle.seq)
        .execute();
      await chainAllAudit(d.db, d.dialect, KEY);
      const after = await d.db
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '=', middle.seq)
        .executeTakeFirstOrThrow();
      const v = await verifyAudit(d.db, KEY);
      if (target === 'sqlite') {
        assert.equal(after.chain, null);
        assert.equal(v.unchained.refused, 4);
        const r = await cli(env, ['audit', 'verify']);
        assert.equal(r.code, 1);
      } else {
        assert.notEqual(after.chain, null);
        assert.equal(v.unchained.refused, 3);
      }
      assert.ok(
        v.problems.some((p) => p.problem === 'removed-before'),
        'either way the gap it left in the chain is named',
      );
    });
  });
}
