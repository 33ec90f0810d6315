/**
 * The operator's command line, run as a real process (`node --import tsx src/cli.ts …`) on a SQLite file:
 * migrate, users create (every outcome, with its exit code), audit verify (A2) on an intact, altered
 * and truncated trail.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { en } from '../../src/web/i18n/en.ts';
import { verifyPassword } from '../../src/accounts/passwords.ts';
import { runCli, type CliRun } from '../helpers/accounts.ts';

/** The CLI on the SQLite file in `dir` (HOME kept, as an operator's shell has it). */
function cli(dir: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(args, {
    HOME: process.env.HOME ?? dir,
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${join(dir, 'p.db')}`,
    ...env,
  });
}

const USAGE = /Usage:[\s\S]*users create --username U --email E --password P/;

describe('CLI (real processes, SQLite)', () => {
  let dir: string;
  const file = () => join(dir, 'p.db');
  const userRow = (username: string) => {
    const db = new Database(file(), { readonly: true });
    try {
      return db.prepare('select * from users where username = ?').get(username) as Record<string, unknown> | undefined;
    } finally {
      db.close();
    }
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'iryo-cli-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('migrate: applies the migrations on a new database, then says it is up to date', async () => {
    const first = await cli(dir, ['migrate']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^Applied: 2026-11-24T0900_initial/);
    const second = await cli(dir, ['migrate']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), 'The database is up to date.');
  });

  test('users create: an institution user — the message names the user; the password is stored as argon2id', async () => {
    const r = await cli(dir, [
      'users',
      'create',
      '--username',
      'clinic-cli',
      '--email',
      'clinic-cli@example.jp',
      '--password',
      'Kanri2026Pass',
      '--name',
      'CLI医院',
      '--institution-code',
      '3410712362',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      'Created institution user "clinic-cli", e-mail clinic-cli@example.jp, status active.',
    );
    const row = userRow('clinic-cli')!;
    assert.equal(row.display_name, 'CLI医院');
    assert.equal(row.institution_code, '3410712362');
    assert.match(String(row.password_hash), /^\$argon2id\$/);
    assert.ok(!String(row.password_hash).includes('Kanri2026Pass'));
    assert.equal(await verifyPassword(String(row.password_hash), 'Kanri2026Pass'), true);
  });

  test('users create: a coordinator with --user-id (the message names the user ID); without it, refused', async () => {
    const r = await cli(dir, [
      'users',
      'create',
      '--username',
      'chain-cli',
      '--email',
      'chain@example.jp',
      '--password',
      'Kanri2026Pass',
      '--coordinator',
      '--user-id',
      'c0000042',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Created coordinator "chain-cli" with user ID "c0000042"/);
    assert.equal(userRow('chain-cli')!.account_type, 'coordinator');
    const missing = await cli(dir, [
      'users',
      'create',
      '--username',
      'chain-two',
      '--email',
      'chain2@example.jp',
      '--password',
      'Kanri2026Pass',
      '--coordinator',
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Not created: a coordinator needs --user-id/);
    assert.equal(userRow('chain-two'), undefined);
  });

  test('users create: an address ending in @07 makes a provisional account, and the message says so', async () => {
    const r = await cli(dir, [
      'users',
      'create',
      '--username',
      'prov-cli',
      '--email',
      'x@07',
      '--password',
      'Kanri2026Pass',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /status provisional\./);
    assert.match(r.stdout, /provisional placeholder: password reset will send no mail/);
    assert.equal(userRow('prov-cli')!.status, 'provisional');
  });

  test('users create: a username or user ID already used is refused with the reason and exit code 1', async () => {
    const dup = await cli(dir, [
      'users',
      'create',
      '--username',
      'clinic-cli',
      '--email',
      'other@example.jp',
      '--password',
      'Kanri2026Pass',
    ]);
    assert.equal(dup.code, 1);
    assert.equal(dup.stderr.trim(), 'Not created: that username is already used (as a username or a user ID).');
    assert.equal(dup.stdout, '');
    const asUserId = await cli(dir, [
      'users',
      'create',
      '--username',
      'c0000042',
      '--email',
      'other@example.jp',
      '--password',
      'Kanri2026Pass',
    ]);
    assert.equal(asUserId.code, 1, 'a username equal to an existing user ID is taken too');
    assert.match(asUserId.stderr, /already used/);
    assert.equal(userRow('clinic-cli')!.email, 'clinic-cli@example.jp', 'the first account is unchanged');
  });

  test('users create: a weak password is refused naming each broken rule of the policy (P1)', async () => {
    const weak = await cli(dir, [
      'users',
      'create',
      '--username',
      'weak-cli',
      '--email',
      'weak@example.jp',
      '--password',
      'weakpass',
    ]);
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /Not created: the password breaks the "portal" policy:/);
    assert.ok(weak.stderr.includes(en['policy.needUpper']), weak.stderr);
    assert.ok(weak.stderr.includes(en['policy.needDigit']), weak.stderr);
    const nist = await cli(
      dir,
      ['users', 'create', '--username', 'weak-cli', '--email', 'weak@example.jp', '--password', 'Kanri2026Pass'],
      { PASSWORD_POLICY: 'nist' },
    );
    assert.equal(nist.code, 1);
    assert.match(nist.stderr, /"nist" policy/);
    assert.ok(nist.stderr.includes(en['policy.tooShort'].replace('{min}', '15')), nist.stderr);
    assert.equal(userRow('weak-cli'), undefined);
  });

  test('usage errors: missing options, unknown options or commands → exit 2 with the usage', async () => {
    const [missing, unknownOption, unknownUsers, unknown, none] = await Promise.all([
      cli(dir, ['users', 'create', '--username', 'half']),
      cli(dir, ['users', 'create', '--username', 'half', '--bogus']),
      cli(dir, ['users', 'delete', 'half']),
      cli(dir, ['frobnicate']),
      cli(dir, []),
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Not created: missing --email, --password/);
    assert.match(missing.stderr, USAGE);
    assert.equal(unknownOption.code, 2, unknownOption.stderr);
    assert.match(unknownOption.stderr, /--bogus/);
    assert.match(unknownOption.stderr, USAGE);
    assert.equal(unknownUsers.code, 2);
    assert.match(unknownUsers.stderr, USAGE);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown command: frobnicate/);
    assert.match(unknown.stderr, USAGE);
    assert.equal(none.code, 2);
    assert.match(none.stdout + none.stderr, USAGE);
    assert.equal(userRow('half'), undefined);
  });

  test('a bad setting stops the CLI with one line naming it', async () => {
    const r = await cli(dir, ['migrate'], { DATABASE_URL: 'mysql://x' });
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim(), /^Configuration error: DATABASE_URL must be/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  test('A2, H10: audit head prints a signed head; verify --head CHAIN:HASH finds the newest entries removed after it was recorded, and a rewritten head', async () => {
    await cli(dir, ['users', 'list']); // one more audited command, so that there is something after the head
    const head = await cli(dir, ['audit', 'head']);
    assert.equal(head.code, 0, head.stderr);
    const m = /^iryo-audit-head v1 chain=(\d+) hash=([0-9a-f]{64}) at=\S+ keyed-from=1 sig=[0-9a-f]{64}$/.exec(
      head.stdout.trim(),
    );
    assert.ok(m, head.stdout);
    const recorded = `${m[1]}:${m[2]}`;
    const ok = await cli(dir, ['audit', 'verify', '--head', recorded]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`reaching the recorded head ${m[1]}\\.`));

    const bad = await cli(dir, ['audit', 'verify', '--head', 'nonsense']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^Usage: audit verify \[--head CHAIN:HASH\] \[--heads FILE\]/);

    const db = new Database(file());
    try {
      // Someone with the database deletes the newest entry: the chain alone still verifies…
      db.prepare('delete from audit_log where chain = ?').run(Number(m[1]));
      const plain = await cli(dir, ['audit', 'verify']);
      assert.equal(plain.code, 0, 'without an anchor the removal of the newest entries cannot be seen');
      // …but not against the head kept outside.
      const anchored = await cli(dir, ['audit', 'verify', '--head', recorded]);
      assert.equal(anchored.code, 1);
      assert.match(
        anchored.stderr,
        new RegExp(
          `^The chain ends at ${Number(m[1]) - 1}, before the recorded head ${m[1]}: the newest entries were removed\\.$`,
          'm',
        ),
      );
      assert.match(anchored.stderr, /Audit trail NOT intact: 1 problem\(s\)/);
    } finally {
      db.close();
    }
  });

  test('A2: audit verify — intact → 0; an altered outcome → 1 naming the entry; restored → 0; a removed entry → 1 naming where', async () => {
    const intact = await cli(dir, ['audit', 'verify']);
    assert.equal(intact.code, 0, intact.stderr);
    const m = /^Audit trail intact: (\d+) entries/.exec(intact.stdout);
    assert.ok(m, intact.stdout);
    assert.ok(Number(m[1]) >= 3, 'one entry per account created');

    const db = new Database(file());
    try {
      const original = (db.prepare('select outcome from audit_log where seq = 2').get() as { outcome: string }).outcome;
      db.prepare("update audit_log set outcome = 'forged' where seq = 2").run();
      const altered = await cli(dir, ['audit', 'verify']);
      assert.equal(altered.code, 1);
      assert.match(altered.stderr, /^Entry 2 was altered\.$/m);
      assert.match(altered.stderr, /Audit trail NOT intact: 1 problem\(s\)/);

      db.prepare('update audit_log set outcome = ? where seq = 2').run(original);
      assert.equal((await cli(dir, ['audit', 'verify'])).code, 0, 'the original value verifies again');

      db.prepare('delete from audit_log where seq = 2').run();
      const removed = await cli(dir, ['audit', 'verify']);
      assert.equal(removed.code, 1);
      assert.match(removed.stderr, /^Entries before 3 were removed\.$/m);
    } finally {
      db.close();
    }
  });
});
