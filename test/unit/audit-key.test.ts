/**
 * H10 (issue 10 item 10), A2: the chain is keyed with a secret that is not in the database. The review's attack —
 * rewrite the newest entries (an outcome changed, rows deleted) with the chain columns cleared, then re-chain them
 * as the old code did (plain SHA-256) or with a key of one's own — is named by verifyAudit, on SQLite and
 * PostgreSQL. Entries chained before the key keep verifying; signed heads anchor the trail outside the database
 * and catch what the chain alone cannot (the newest entries removed, the whole keyed part re-chained unkeyed).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  appendAudit,
  AuditKeyError,
  auditKeyedFrom,
  canonicalEntry,
  chainAllAudit,
  chainAudit,
  createAuditChainer,
  GENESIS,
  signedAuditHead,
} from '../../src/security/audit.repository.ts';
import { checkSignedHeads, verifyAudit } from '../../src/security/audit-verify.repository.ts';
import {
  auditKeyFrom,
  formatSignedHead,
  keyedLink,
  parseSignedHead,
  type AuditKey,
} from '../../src/security/audit-key.ts';
import { dbTargets, freshDatabase, type TestDatabase } from '../helpers/db-targets.ts';

const KEY = auditKeyFrom('h10-audit-key-h10-audit-key-h10-audit-key');
const OTHER = auditKeyFrom('someone-elses-key-someone-elses-key-0000');

async function fill(db: TestDatabase['db'], n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) {
    // Recent entries: only those within the grace window are chained (H12).
    await appendAudit(db, Date.now() - 200_000 + i * 1000, {
      event: 'login',
      outcome: i % 3 ? 'ok' : 'wrong_password',
      identifier: `user${i}`,
      ip: '203.0.113.7',
    });
  }
}

/**
 * What the attacker does with only the database: clears the chain columns of the newest `n` entries (after
 * changing or deleting some), then chains them again after the remaining head, as the code before the audit key
 * did (plain SHA-256), or with a key of their own.
 */
async function rechainNewest(
  db: TestDatabase['db'],
  n: number,
  link: (prev: string, canonical: string) => string,
): Promise<number[]> {
  const raw = db as unknown as Kysely<any>;
  const newest = await raw
    .selectFrom('audit_log')
    .select('seq')
    .where('chain', 'is not', null)
    .orderBy('chain', 'desc')
    .limit(n)
    .execute();
  const seqs = newest.map((r) => Number(r.seq)).reverse();
  if (seqs.length)
    await raw
      .updateTable('audit_log')
      .set({ chain: null, prev_hash: null, hash: null })
      .where('seq', 'in', seqs)
      .execute();
  const head = await raw
    .selectFrom('audit_log')
    .select(['chain', 'hash'])
    .where('chain', 'is not', null)
    .orderBy('chain', 'desc')
    .limit(1)
    .executeTakeFirst();
  let chain = Number(head?.chain ?? 0);
  let prev: string = head?.hash ?? GENESIS;
  const pending = await db.selectFrom('audit_log').selectAll().where('chain', 'is', null).orderBy('seq').execute();
  for (const e of pending) {
    chain++;
    const hash = link(prev, canonicalEntry({ ...e, chain }));
    await raw.updateTable('audit_log').set({ chain, prev_hash: prev, hash }).where('seq', '=', e.seq).execute();
    prev = hash;
  }
  return seqs;
}

const plainSha256 = (prev: string, canonical: string) =>
  createHash('sha256')
    .update(prev + '\n' + canonical, 'utf8')
    .digest('hex');
const withKey = (k: AuditKey) => (prev: string, canonical: string) => keyedLink(k, prev, canonical);

for (const target of await dbTargets()) {
  describe(`H10, A2: the review's attack on the keyed chain [${target}]`, () => {
    let d: TestDatabase;
    before(async () => {
      d = await freshDatabase(target);
    });
    after(async () => {
      await d?.drop();
    });

    test('an outcome changed in the newest entries and re-chained with plain SHA-256 (the old code) is named', async () => {
      await fill(d.db, 10);
      await chainAllAudit(d.db, d.dialect, KEY);
      assert.deepEqual((await verifyAudit(d.db, KEY)).problems, [], 'intact before');
      const raw = d.db as unknown as Kysely<any>;
      const victim = await raw.selectFrom('audit_log').select('seq').where('chain', '=', 9).executeTakeFirstOrThrow();
      await raw.updateTable('audit_log').set({ outcome: 'ok' }).where('seq', '=', victim.seq).execute();
      const seqs = await rechainNewest(d.db, 2, plainSha256);
      const r = await verifyAudit(d.db, KEY);
      assert.equal(r.problems[0]?.seq, seqs[0], 'the first rewritten entry is named first');
      assert.deepEqual(
        r.problems,
        seqs.map((seq) => ({ seq, problem: 'unkeyed' })),
        'both re-chained entries are named',
      );
    });

    test("rows deleted and the rest re-chained with a key of the attacker's own: every re-chained entry is named", async () => {
      await d.db.deleteFrom('audit_log').execute();
      await fill(d.db, 10);
      await chainAllAudit(d.db, d.dialect, KEY);
      const raw = d.db as unknown as Kysely<any>;
      await raw.deleteFrom('audit_log').where('chain', 'in', [8, 9]).execute();
      const seqs = await rechainNewest(d.db, 1, withKey(OTHER));
      const r = await verifyAudit(d.db, KEY);
      assert.equal(r.count, 8, 'the trail now looks complete: chain 1–8');
      assert.deepEqual(
        r.problems,
        [{ seq: seqs[0], problem: 'altered' }],
        'the entry linked with another key is named',
      );
    });

    test('the chainer refuses to chain with a key that did not chain the trail (a CLI with another DATA_DIR)', async () => {
      await d.db.deleteFrom('audit_log').execute();
      await fill(d.db, 3);
      await chainAllAudit(d.db, d.dialect, KEY);
      await fill(d.db, 1, 100);
      await assert.rejects(chainAudit(d.db, d.dialect, OTHER, { wait: true }), AuditKeyError);
      const waiting = await d.db.selectFrom('audit_log').select('seq').where('chain', 'is', null).execute();
      assert.equal(waiting.length, 1, 'the new entry waits for the right key');
    });

    test('signed heads: a head exported before the attack names the removed and re-chained entries; a forged head line is refused', async () => {
      await d.db.deleteFrom('audit_log').execute();
      await fill(d.db, 6);
      await chainAllAudit(d.db, d.dialect, KEY);
      const exported = formatSignedHead(KEY, await signedAuditHead(d.db, KEY, Date.UTC(2026, 11, 1, 10, 0)));
      assert.match(
        exported,
        /^iryo-audit-head v1 chain=6 hash=[0-9a-f]{64} at=2026-12-01T10:00:00\.000Z keyed-from=1 sig=[0-9a-f]{64}$/,
      );
      const ok = await checkSignedHeads(d.db, KEY, `${exported}\n`, await verifyAudit(d.db, KEY));
      assert.deepEqual([ok.heads, ok.problems], [1, []]);

      // The attacker deletes the newest entry: the chain alone still verifies …
      const raw = d.db as unknown as Kysely<any>;
      await raw.deleteFrom('audit_log').where('chain', '=', 6).execute();
      const trail = await verifyAudit(d.db, KEY);
      assert.deepEqual(trail.problems, [], 'without an anchor, the removal of the newest entry leaves no trace');
      // … and even forges the anchor, without the key.
      const forged = exported.replace('chain=6', 'chain=5');
      const unsigned = exported.replace(/ sig=.*$/, '');
      const r = await checkSignedHeads(
        d.db,
        KEY,
        [exported, forged, unsigned, 'Dec  1 10:15:00 host CRON[1]: something else'].join('\n'),
        trail,
      );
      assert.deepEqual(
        r.problems.map((p) => [p.line, p.kind]),
        [
          [1, 'missing'],
          [2, 'forged'],
          [3, 'unsigned'],
        ],
      );
      assert.equal(r.ignored, 1, 'a line without a head is skipped, not taken for one');
    });

    test('re-chaining the whole keyed part with plain SHA-256 passes the chain alone, not a signed head exported after the key', async () => {
      await d.db.deleteFrom('audit_log').execute();
      await fill(d.db, 5);
      await chainAllAudit(d.db, d.dialect, KEY);
      const exported = formatSignedHead(KEY, await signedAuditHead(d.db, KEY, Date.now()));
      await fill(d.db, 2, 5);
      await chainAllAudit(d.db, d.dialect, KEY);
      await rechainNewest(d.db, 7, plainSha256);
      const trail = await verifyAudit(d.db, KEY);
      assert.deepEqual([trail.keyedFrom, trail.problems], [0, []], 'it looks like a trail from before the key');
      const r = await checkSignedHeads(d.db, KEY, exported, trail);
      assert.deepEqual(
        r.problems.map((p) => p.kind),
        ['different'],
        'the anchored entry no longer has its hash',
      );
    });

    test('a head signed with another key is forged; the newest export behind an older one shows the trail was cut back', async () => {
      await d.db.deleteFrom('audit_log').execute();
      await fill(d.db, 3);
      await chainAllAudit(d.db, d.dialect, KEY);
      const three = await signedAuditHead(d.db, KEY, Date.UTC(2026, 11, 1, 10, 0));
      assert.equal(parseSignedHead(OTHER, formatSignedHead(OTHER, three)).kind, 'head');
      assert.equal(parseSignedHead(KEY, formatSignedHead(OTHER, three)).kind, 'forged');
      const lines = [
        formatSignedHead(KEY, three),
        formatSignedHead(KEY, { ...three, chain: 2, at: three.at + 900_000 }),
      ];
      const r = await checkSignedHeads(d.db, KEY, lines.join('\n'), await verifyAudit(d.db, KEY));
      assert.deepEqual(
        r.problems.map((p) => [p.line, p.kind]),
        [
          [2, 'different'],
          [2, 'went-back'],
        ],
      );
    });
  });
}

describe('H10: a trail chained before the audit key', () => {
  let d: TestDatabase;
  before(async () => {
    d = await freshDatabase('sqlite');
  });
  after(async () => {
    await d?.drop();
  });

  test('keeps verifying; the first keyed entry links onto it, and a plain entry after that is named', async () => {
    await fill(d.db, 3);
    // Chained as the code before the key did.
    await rechainNewest(d.db, 0, plainSha256);
    assert.deepEqual(await verifyAudit(d.db, KEY), {
      count: 3,
      keyedFrom: 0,
      last: 3,
      problems: [],
      unchained: { waiting: 0, newestWaitingAt: null, refused: 0, firstRefused: null },
    });
    assert.equal(await auditKeyedFrom(d.db, KEY), 0);
    await fill(d.db, 2, 3);
    await chainAllAudit(d.db, d.dialect, KEY);
    const r = await verifyAudit(d.db, KEY);
    assert.deepEqual(
      r,
      {
        count: 5,
        keyedFrom: 4,
        last: 5,
        problems: [],
        unchained: { waiting: 0, newestWaitingAt: null, refused: 0, firstRefused: null },
      },
      'entries 4 and 5 are keyed, linked onto entry 3',
    );
    assert.equal(await auditKeyedFrom(d.db, KEY), 4, 'the signed head says where the keyed entries begin');
    const seqs = await rechainNewest(d.db, 1, plainSha256);
    assert.deepEqual((await verifyAudit(d.db, KEY)).problems, [{ seq: seqs[0], problem: 'unkeyed' }]);
  });
});

describe('H10: the running chainer', () => {
  let d: TestDatabase;
  before(async () => {
    d = await freshDatabase('sqlite');
  });
  after(async () => {
    await d?.drop();
  });

  test('reports (to the log) entries whose chain columns were cleared to have them chained anew', async () => {
    const errors: unknown[] = [];
    let heads = 0;
    const chainer = createAuditChainer(
      d.db,
      d.dialect,
      KEY,
      10,
      (err) => errors.push(err),
      () => heads++,
    );
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    chainer.start();
    try {
      await fill(d.db, 4);
      await until(() => heads > 0);
      assert.deepEqual(errors, [], 'nothing to report while the trail only grows');
      const raw = d.db as unknown as Kysely<any>;
      await raw
        .updateTable('audit_log')
        .set({ outcome: 'ok', chain: null, prev_hash: null, hash: null })
        .where('chain', '=', 4)
        .execute();
      await until(() => errors.length > 0);
    } finally {
      await chainer.stop();
    }
    assert.equal(errors.length, 1);
    assert.ok((errors[0] as unknown) instanceof AuditKeyError);
    assert.match(
      (errors[0] as unknown as Error).message,
      /^the audit trail was rewound: the head chained here \(chain 4\) is gone/,
    );
  });
});

test("H10: a signed head is read from a syslog line and from the portal's JSON log line (signedAuditHead), and nowhere else", () => {
  const line = formatSignedHead(KEY, {
    chain: 12,
    hash: 'a'.repeat(64),
    at: Date.UTC(2026, 11, 1, 10, 15),
    keyedFrom: 1,
  });
  const expected = {
    kind: 'head',
    head: { chain: 12, hash: 'a'.repeat(64), at: Date.UTC(2026, 11, 1, 10, 15), keyedFrom: 1 },
  };
  assert.deepEqual(parseSignedHead(KEY, `Dec  1 10:15:01 portal iryo-audit-head[4242]: ${line}`), expected);
  assert.deepEqual(
    parseSignedHead(
      KEY,
      JSON.stringify({ level: 30, auditHead: `12:${'a'.repeat(64)}`, signedAuditHead: line, msg: 'audit chain head' }),
    ),
    expected,
  );
  assert.deepEqual(
    parseSignedHead(KEY, `12:${'a'.repeat(64)}`),
    { kind: 'unsigned' },
    'a bare CHAIN:HASH carries no signature',
  );
  assert.deepEqual(parseSignedHead(KEY, line.replace('keyed-from=1', 'keyed-from=0')), { kind: 'forged' });
  assert.deepEqual(parseSignedHead(KEY, 'iryo-audit-head v1 chain=x'), { kind: 'malformed' });
  assert.deepEqual(parseSignedHead(KEY, 'Dec  1 10:15:01 portal systemd[1]: Starting iryo-portal-audit-head.service'), {
    kind: 'none',
  });
});
