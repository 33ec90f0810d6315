/**
 * The hash-chained audit trail (A2): entries are appended without a lock and chained in the background, in the
 * order they were inserted; verifyAudit finds an altered and a removed entry. On PostgreSQL, many writers and
 * several chainers at once still make one unbroken chain.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendAudit,
  auditHead,
  chainAllAudit,
  chainAudit,
  createAuditChainer,
  GENESIS,
} from '../../src/security/audit.repository.ts';
import { verifyAudit } from '../../src/security/audit-verify.repository.ts';
import { auditKeyFrom, type SignedHead } from '../../src/security/audit-key.ts';
import { dbTargets, freshDatabase, type TestDatabase } from '../helpers/db-targets.ts';

const KEY = auditKeyFrom('unit-test-audit-key-unit-test-audit-key-0123');
let database: TestDatabase;
before(async () => {
  database = await freshDatabase('sqlite');
});
after(async () => {
  await database?.drop();
});

async function fill(n: number): Promise<void> {
  // Recent entries (within the grace window for chaining, H12), one a second up to now.
  const t0 = Date.now() - n * 1000;
  for (let i = 0; i < n; i++) {
    await appendAudit(database.db, t0 + i * 1000, {
      event: 'password_reset.requested',
      outcome: i % 2 ? 'mail_queued' : 'unknown_user',
      identifier: `user${i}`,
      ip: '203.0.113.7',
      userAgent: 'UA',
      detail: { n: i },
    });
  }
}

const NONE_UNCHAINED = { waiting: 0, newestWaitingAt: null, refused: 0, firstRefused: null };
const rows = () => database.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();

test('A2: entries wait unchained until the chainer runs, then are chained from the genesis hash in insertion order', async () => {
  await fill(6);
  assert.deepEqual(
    (await rows()).map((r) => [r.seq, r.chain, r.hash]),
    [1, 2, 3, 4, 5, 6].map((n) => [n, null, null]),
    'an append is one INSERT, chained later',
  );
  assert.equal(await chainAudit(database.db, database.dialect, KEY, { limit: 4 }), 4);
  assert.equal(await chainAudit(database.db, database.dialect, KEY), 2, 'the next round chains the rest');
  assert.equal(await chainAudit(database.db, database.dialect, KEY), 0);
  const all = await rows();
  assert.deepEqual(
    all.map((r) => r.seq),
    [1, 2, 3, 4, 5, 6],
  );
  assert.deepEqual(
    all.map((r) => r.chain),
    [1, 2, 3, 4, 5, 6],
  );
  assert.equal(all[0]!.prev_hash, GENESIS);
  for (let i = 1; i < all.length; i++) assert.equal(all[i]!.prev_hash, all[i - 1]!.hash);
  assert.deepEqual(await verifyAudit(database.db, KEY), {
    count: 6,
    keyedFrom: 1,
    last: 6,
    problems: [],
    unchained: NONE_UNCHAINED,
  });
});

test('A2: an altered entry is named', async () => {
  await database.db.updateTable('audit_log').set({ outcome: 'mail_queued' }).where('seq', '=', 3).execute();
  const r = await verifyAudit(database.db, KEY);
  assert.deepEqual(r.problems, [{ seq: 3, problem: 'altered' }]);
  await database.db.updateTable('audit_log').set({ outcome: 'unknown_user' }).where('seq', '=', 3).execute();
  assert.deepEqual((await verifyAudit(database.db, KEY)).problems, [], 'restoring the value restores the chain');
});

test('A2: an entry rewritten with a recomputed hash breaks the link to the next one', async () => {
  const before = (await rows())[1]!;
  await database.db
    .updateTable('audit_log')
    .set({ hash: 'f'.repeat(64), detail: '{"n":99}' })
    .where('seq', '=', 2)
    .execute();
  const problems = (await verifyAudit(database.db, KEY)).problems;
  assert.ok(problems.some((p) => p.seq === 2 && p.problem === 'altered'));
  assert.ok(problems.some((p) => p.seq === 3 && p.problem === 'broken-link'));
  await database.db
    .updateTable('audit_log')
    .set({ hash: before.hash, detail: before.detail })
    .where('seq', '=', 2)
    .execute();
  assert.deepEqual((await verifyAudit(database.db, KEY)).problems, []);
});

test('A2: a deleted entry is named by the entry after it', async () => {
  await database.db.deleteFrom('audit_log').where('seq', '=', 4).execute();
  const r = await verifyAudit(database.db, KEY);
  assert.equal(r.count, 5);
  assert.deepEqual(r.problems, [{ seq: 5, problem: 'removed-before' }]);
});

test('A2: new entries keep chaining after the last one', async () => {
  await fill(1);
  await chainAllAudit(database.db, database.dialect, KEY);
  const last = (await rows()).at(-1)!;
  assert.equal(last.seq, 7);
  assert.deepEqual(
    (await verifyAudit(database.db, KEY)).problems,
    [{ seq: 5, problem: 'removed-before' }],
    'the gap is still reported, nothing new',
  );
});

test('A2: the running chainer chains new entries within a moment and reports the new head (logged by the server as the anchor)', async () => {
  const heads: SignedHead[] = [];
  const errors: unknown[] = [];
  const chainer = createAuditChainer(
    database.db,
    database.dialect,
    KEY,
    20,
    (err) => errors.push(err),
    (h) => heads.push(h),
  );
  chainer.start();
  try {
    await appendAudit(database.db, Date.now(), { event: 'test.head', outcome: 'ok' });
    for (let i = 0; i < 100 && heads.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  } finally {
    await chainer.stop();
  }
  assert.deepEqual(errors, []);
  assert.ok(heads.length >= 1, 'a head was reported');
  const { at: _at, keyedFrom, ...head } = heads.at(-1)!;
  assert.deepEqual(head, await auditHead(database.db));
  assert.equal(keyedFrom, 1, 'the signed head says where the keyed entries begin');
  const last = await database.db
    .selectFrom('audit_log')
    .select(['event', 'chain'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
  assert.equal(last.event, 'test.head');
  assert.equal(Number(last.chain), heads.at(-1)!.chain, 'the new entry is the head');
});

const pg = (await dbTargets()).includes('postgres');

describe('A2 on PostgreSQL: 400 entries from 20 writers while 3 chainers run make one chain', {
  skip: !pg && 'PostgreSQL does not answer',
}, () => {
  let p: TestDatabase;
  before(async () => {
    p = await freshDatabase('postgres');
  });
  after(async () => {
    await p?.drop();
  });

  test('no entry is lost, none is chained twice, and the chain verifies', async () => {
    let writing = true;
    const writers = Array.from({ length: 20 }, async (_, w) => {
      for (let i = 0; i < 20; i++) {
        await p.db.transaction().execute(async (trx) => {
          await appendAudit(trx, Date.now(), { event: 'test.concurrent', outcome: 'ok', identifier: `w${w}-${i}` });
        });
      }
    });
    const chainers = Array.from({ length: 3 }, async () => {
      while (writing) await chainAudit(p.db, p.dialect, KEY);
    });
    await Promise.all(writers);
    writing = false;
    await Promise.all(chainers);
    await chainAllAudit(p.db, p.dialect, KEY);
    const r = await verifyAudit(p.db, KEY);
    assert.deepEqual(r, { count: 400, keyedFrom: 1, last: 400, problems: [], unchained: NONE_UNCHAINED });
    const chains = (await p.db.selectFrom('audit_log').select('chain').orderBy('chain').execute()).map((x) =>
      Number(x.chain),
    );
    assert.deepEqual(
      chains,
      Array.from({ length: 400 }, (_, i) => i + 1),
    );
  });
});

for (const target of await dbTargets()) {
  describe(`A2: a trail written before the background chain, after the upgrade [${target}]`, () => {
    let old: TestDatabase;
    before(async () => {
      old = await freshDatabase(target, '2026-11-24T1500_operators_content');
    });
    after(async () => {
      await old?.drop();
    });

    test('still verifies, is named by seq when altered, and new entries continue the chain', async () => {
      // Entries as the portal wrote them before: seq numbered by the writer, each hash over [seq, …] and the previous hash.
      const { createHash } = await import('node:crypto');
      let prev = GENESIS;
      for (let seq = 1; seq <= 3; seq++) {
        const row = {
          seq,
          id: `old-${seq}`,
          at: 1_700_000_000_000 + seq,
          event: 'user.created',
          outcome: 'ok',
          user_id: null,
          identifier: `u${seq}`,
          actor: 'cli:test',
          ip: null,
          user_agent: null,
          detail: null,
        };
        const hash = createHash('sha256')
          .update(
            prev +
              '\n' +
              JSON.stringify([
                row.seq,
                row.id,
                row.at,
                row.event,
                row.outcome,
                row.user_id,
                row.identifier,
                row.actor,
                row.ip,
                row.user_agent,
                row.detail,
              ]),
            'utf8',
          )
          .digest('hex');
        await (old.db as unknown as import('kysely').Kysely<any>)
          .insertInto('audit_log')
          .values({ ...row, prev_hash: prev, hash })
          .execute();
        prev = hash;
      }
      const { migrateToLatest } = await import('../../src/db/database.ts');
      await migrateToLatest(old.db);
      assert.deepEqual(
        await verifyAudit(old.db, KEY),
        { count: 3, keyedFrom: 0, last: 3, problems: [], unchained: NONE_UNCHAINED },
        'the old chain (plain SHA-256) verifies after the migration',
      );
      await appendAudit(old.db, Date.now(), { event: 'user.created', outcome: 'ok', identifier: 'u4' });
      await chainAllAudit(old.db, old.dialect, KEY);
      const r = await verifyAudit(old.db, KEY);
      assert.deepEqual(
        r,
        { count: 4, keyedFrom: 4, last: 4, problems: [], unchained: NONE_UNCHAINED },
        'a new entry continues it, keyed (H10)',
      );
      const all = await old.db.selectFrom('audit_log').select(['seq', 'chain']).orderBy('seq').execute();
      assert.deepEqual(
        all.map((x) => [Number(x.seq), Number(x.chain)]),
        [
          [1, 1],
          [2, 2],
          [3, 3],
          [4, 4],
        ],
        'the database numbers the new entry after the old ones',
      );
      await old.db.updateTable('audit_log').set({ identifier: 'forged' }).where('seq', '=', 2).execute();
      assert.deepEqual((await verifyAudit(old.db, KEY)).problems, [{ seq: 2, problem: 'altered' }]);
    });
  });
}
