/**
 * H10, A2: the scheduled export of signed heads, as deploy/systemd/iryo-portal-audit-head.service runs it (its
 * ExecStart, with the install and state paths of this machine), on SQLite and PostgreSQL. Then the review's attack
 * with only the database — the newest entries rewritten with the chain columns cleared and re-chained as the old
 * code did (plain SHA-256) — and `audit verify --heads FILE`: exit 1, a line naming the first bad entry and the
 * anchored head that no longer matches; a forged and an unsigned line in the heads file are reported.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { appendAudit, canonicalEntry, chainAllAudit } from '../../src/security/audit.repository.ts';
import { auditKeyFrom } from '../../src/security/audit-key.ts';
import { dbTargets, freshDatabase, PG_URL, type TestDatabase } from '../helpers/db-targets.ts';
import { buildPortal } from '../../scripts/build.ts';
import { ROOT, runToEnd, type ProcessRun } from '../helpers/server-process.ts';

const UNIT = readFileSync(join(ROOT, 'deploy/systemd/iryo-portal-audit-head.service'), 'utf8');
const AUDIT_KEY = 'anchors-test-audit-key-anchors-test-audit-key';

/** Runs `argv` with the unit's environment (HOME in the state directory, as the service user's). */
function run(argv: string[], env: Record<string, string>): Promise<ProcessRun> {
  return runToEnd(argv, { PATH: process.env.PATH ?? '', HOME: env.DATA_DIR!, ...env });
}

/** The unit's command and environment, with this machine's node, install directory (cwd) and state directory. */
function unitCommand(stateDir: string): { argv: string[]; env: Record<string, string> } {
  const exec = /^ExecStart=(.+)$/m.exec(UNIT)![1]!.replaceAll('/var/lib/iryo-portal', stateDir);
  const argv = exec.split(' ');
  assert.equal(argv[0], '/usr/bin/node');
  argv[0] = process.execPath;
  assert.match(
    /^WorkingDirectory=(.+)$/m.exec(UNIT)![1]!,
    /^\/opt\/iryo-portal$/,
    'run from the install directory (here: the repository)',
  );
  const env: Record<string, string> = {};
  for (const m of UNIT.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm))
    env[m[1]!] = m[2]!.replaceAll('/var/lib/iryo-portal', stateDir);
  return { argv, env };
}

for (const target of await dbTargets()) {
  describe(`H10: signed heads exported by the systemd unit's command, verified with --heads [${target}]`, () => {
    let d: TestDatabase;
    let state: string;
    let env: Record<string, string>;
    let argv: string[];
    const heads = () => join(state, 'audit-heads.log');
    const cli = (...args: string[]) => run([process.execPath, '--import', 'tsx', 'src/cli.ts', ...args], env);

    before(async () => {
      await buildPortal(); // the unit runs the build (node dist/cli.js)
      d = await freshDatabase(target);
      state = mkdtempSync(join(tmpdir(), 'iryo-anchors-'));
      const unit = unitCommand(state);
      argv = unit.argv;
      // What /etc/iryo-portal/iryo-portal.env gives the unit, then the unit's own Environment= lines.
      env = {
        DATABASE_URL: target === 'sqlite' ? d.url : `${PG_URL}?options=-c%20search_path%3D${d.schema}`,
        AUDIT_KEY,
        SMTP_URL: 'smtp://127.0.0.1:2525',
        ...unit.env,
      };
      assert.equal(env.NODE_ENV, 'production');
      for (let i = 0; i < 5; i++)
        await appendAudit(d.db, Date.now(), { event: 'login', outcome: 'ok', identifier: `anchor${i}` });
    });
    after(async () => {
      await d?.drop();
      rmSync(state, { recursive: true, force: true });
    });

    test('each run appends one signed line (the same it prints for the journal); verify --heads accepts them', async () => {
      const first = await run(argv, env);
      assert.equal(first.code, 0, first.stderr);
      assert.match(
        first.stdout,
        /^iryo-audit-head v1 chain=5 hash=[0-9a-f]{64} at=\S+ keyed-from=1 sig=[0-9a-f]{64}\n$/,
      );
      for (let i = 0; i < 3; i++)
        await appendAudit(d.db, Date.now(), { event: 'login', outcome: 'ok', identifier: `later${i}` });
      const second = await run(argv, env);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(readFileSync(heads(), 'utf8'), first.stdout + second.stdout);
      assert.equal(statSync(heads()).mode & 0o007, 0, 'the heads file is not readable by others');

      await appendAudit(d.db, Date.now(), { event: 'login', outcome: 'ok', identifier: 'after-the-export' });
      const waiting = await cli('audit', 'verify', '--heads', heads());
      assert.equal(waiting.code, 0, `H12: an entry within the grace window only waits: ${waiting.stderr}`);
      assert.match(
        waiting.stdout,
        /^Waiting to be chained \(1 entry, newest \d+s old\): the portal's chainer links them within a moment\.$/m,
      );
      assert.match(waiting.stdout, /^Audit trail intact: 8 entries/m, 'verify chains nothing itself');
      await chainAllAudit(d.db, d.dialect, auditKeyFrom(AUDIT_KEY));
      const ok = await cli('audit', 'verify', '--heads', heads());
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(
        ok.stdout,
        /^Audit trail intact: 9 entries, each chained to the previous one\. All 2 anchored head\(s\) are in the trail unchanged; the newest, chain 8 at \S+, is followed by 1 entry not anchored yet\.$/m,
      );
    });

    test('the newest entries rewritten and re-chained with plain SHA-256 (the old code), without the key: exit 1, naming the first bad entry and the anchor', async () => {
      const raw = d.db as unknown as Kysely<any>;
      // The attacker: entries 7 and 8 get another outcome, their chain columns are cleared and they are linked again.
      const victims = await raw
        .selectFrom('audit_log')
        .select('seq')
        .where('chain', 'in', [7, 8])
        .orderBy('chain')
        .execute();
      const seqs = victims.map((v) => Number(v.seq));
      await raw
        .updateTable('audit_log')
        .set({ outcome: 'wrong_password', chain: null, prev_hash: null, hash: null })
        .where('seq', 'in', seqs)
        .execute();
      let prev = (await raw.selectFrom('audit_log').select('hash').where('chain', '=', 6).executeTakeFirstOrThrow())
        .hash as string;
      let chain = 6;
      for (const seq of seqs) {
        const e = await d.db.selectFrom('audit_log').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow();
        chain++;
        const hash = createHash('sha256')
          .update(prev + '\n' + canonicalEntry({ ...e, chain }), 'utf8')
          .digest('hex');
        await raw.updateTable('audit_log').set({ chain, prev_hash: prev, hash }).where('seq', '=', seq).execute();
        prev = hash;
      }
      // Entry 9 links to the old entry 8: the attacker links it again too.
      const nine = await d.db.selectFrom('audit_log').selectAll().where('chain', '=', 9).executeTakeFirstOrThrow();
      await raw
        .updateTable('audit_log')
        .set({
          prev_hash: prev,
          hash: createHash('sha256')
            .update(prev + '\n' + canonicalEntry(nine), 'utf8')
            .digest('hex'),
        })
        .where('seq', '=', nine.seq)
        .execute();

      const plain = await cli('audit', 'verify');
      assert.equal(plain.code, 1, 'the chain alone already shows it: the links are not keyed');
      assert.match(
        plain.stderr.split('\n')[0]!,
        new RegExp(
          `^Entry ${seqs[0]} is not keyed with the audit key although keyed entries come before it: it was re-chained without the key\\.$`,
        ),
      );
      const anchored = await cli('audit', 'verify', '--heads', heads());
      assert.equal(anchored.code, 1);
      assert.match(
        anchored.stderr,
        new RegExp(
          `^Heads file line 2: entry ${seqs[1]} \\(chain 8\\) differs from the head anchored at \\S+: the trail was rewritten\\.$`,
          'm',
        ),
      );
      assert.match(anchored.stderr, /^Audit trail NOT intact: 4 problem\(s\) in 9 entries\.$/m);
    });

    test('a forged line (another chain, no key) and an unsigned one in the heads file are reported', async () => {
      const line = readFileSync(heads(), 'utf8').split('\n')[0]!;
      appendFileSync(heads(), `${line.replace('chain=5', 'chain=4')}\n${line.replace(/ sig=\S+$/, '')}\n`);
      const r = await cli('audit', 'verify', '--heads', heads());
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^Heads file line 3: the signature does not match: the line was forged or altered, or signed with another audit key\.$/m,
      );
      assert.match(r.stderr, /^Heads file line 4: the head is not signed \(anyone could have written it\)\.$/m);
    });

    test("with another audit key, verify names no entry as keyed and says the key is not the trail's; the export refuses to chain with it", async () => {
      const other = { ...env, AUDIT_KEY: 'another-audit-key-another-audit-key-000000' };
      await appendAudit(d.db, Date.now(), { event: 'login', outcome: 'ok', identifier: 'waits' });
      const r = await run([process.execPath, '--import', 'tsx', 'src/cli.ts', 'audit', 'verify'], other);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^No entry is linked with this audit key: AUDIT_KEY or DATA_DIR\/audit-key is not the key the trail was chained with/m,
      );
      const exported = await run(argv, other);
      assert.notEqual(exported.code, 0, 'no head is signed with a key that did not chain the trail');
      const waiting = await d.db.selectFrom('audit_log').select('seq').where('chain', 'is', null).execute();
      assert.equal(waiting.length, 1, 'the entry waits for the right key');
    });
  });
}
