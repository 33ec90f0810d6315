/** The hash-chained audit trail (A2): verifyAudit finds an altered and a removed entry. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendAudit, GENESIS, verifyAudit } from '../../src/security/audit.repository.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db-targets.ts';

let database: TestDatabase;
before(async () => {
  database = await freshDatabase('sqlite');
});
after(async () => {
  await database?.drop();
});

async function fill(n: number): Promise<void> {
  const t0 = Date.UTC(2026, 10, 24, 9, 0, 0);
  for (let i = 0; i < n; i++) {
    await appendAudit(database.db, database.dialect, t0 + i * 1000, {
      event: 'password_reset.requested', outcome: i % 2 ? 'mail_queued' : 'unknown_user',
      identifier: `user${i}`, ip: '203.0.113.7', userAgent: 'UA', detail: { n: i },
    });
  }
}

const rows = () => database.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();

test('A2: entries are chained from the genesis hash and an intact chain verifies', async () => {
  await fill(6);
  const all = await rows();
  assert.deepEqual(all.map((r) => r.seq), [1, 2, 3, 4, 5, 6]);
  assert.equal(all[0]!.prev_hash, GENESIS);
  for (let i = 1; i < all.length; i++) assert.equal(all[i]!.prev_hash, all[i - 1]!.hash);
  assert.deepEqual(await verifyAudit(database.db), { count: 6, problems: [] });
});

test('A2: an altered entry is named', async () => {
  await database.db.updateTable('audit_log').set({ outcome: 'mail_queued' }).where('seq', '=', 3).execute();
  const r = await verifyAudit(database.db);
  assert.deepEqual(r.problems, [{ seq: 3, problem: 'altered' }]);
  await database.db.updateTable('audit_log').set({ outcome: 'unknown_user' }).where('seq', '=', 3).execute();
  assert.deepEqual((await verifyAudit(database.db)).problems, [], 'restoring the value restores the chain');
});

test('A2: an entry rewritten with a recomputed hash breaks the link to the next one', async () => {
  const before = (await rows())[1]!;
  await database.db.updateTable('audit_log').set({ hash: 'f'.repeat(64), detail: '{"n":99}' }).where('seq', '=', 2).execute();
  const problems = (await verifyAudit(database.db)).problems;
  assert.ok(problems.some((p) => p.seq === 2 && p.problem === 'altered'));
  assert.ok(problems.some((p) => p.seq === 3 && p.problem === 'broken-link'));
  await database.db.updateTable('audit_log').set({ hash: before.hash, detail: before.detail }).where('seq', '=', 2).execute();
  assert.deepEqual((await verifyAudit(database.db)).problems, []);
});

test('A2: a deleted entry is named by the entry after it', async () => {
  await database.db.deleteFrom('audit_log').where('seq', '=', 4).execute();
  const r = await verifyAudit(database.db);
  assert.equal(r.count, 5);
  assert.deepEqual(r.problems, [{ seq: 5, problem: 'removed-before' }]);
});

test('A2: new entries keep chaining after the last one', async () => {
  await fill(1);
  const last = (await rows()).at(-1)!;
  assert.equal(last.seq, 7);
  assert.deepEqual((await verifyAudit(database.db)).problems, [{ seq: 5, problem: 'removed-before' }], 'the gap is still reported, nothing new');
});
