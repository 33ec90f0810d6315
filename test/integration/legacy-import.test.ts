/**
 * Migration from the old portal (issue 3 §4): `importLegacyCsv` on every database target, and
 * `npm run cli -- import legacy FILE.csv` as a real process on SQLite. Every bad row is named with its line
 * and reason, nothing is half-imported, a second run changes nothing; the old bcrypt hash is verified at the
 * first login and replaced by argon2id (P2, A1).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSync as bcryptHashSync } from '@node-rs/bcrypt';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { ja } from '../../src/web/i18n/ja.ts';
import { importLegacyCsv, type ImportReport } from '../../src/accounts/legacy-import.ts';
import { checkDigitOf } from '../../src/accounts/institution-code.ts';
import { verifyPassword } from '../../src/accounts/passwords.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { GOOD_PASSWORD, startTestPortal, type Client, type TestPortal } from '../helpers/test-app.ts';
import { logIn, ROOT, runCli, userRow } from '../helpers/accounts.ts';

const OLD_PASSWORD = 'OldPortal2023';
const HASH = bcryptHashSync(OLD_PASSWORD, { cost: 4 });

/** Valid rows, placeholder addresses, bad codes, duplicates, a malformed line; line numbers in comments. */
const CSV = [
  'institution_code,institution_name,contact_name,email,username,password_bcrypt', // 1
  `3410712362,さくら内科,厚生 太郎,sakura@example.jp,imp-sakura,${HASH}`, // 2 valid, old password
  '2714001233,"なにわ歯科医院, 本院",労働 花子,naniwa@13,imp-naniwa,', // 3 valid, provisional
  `0110113719,"北の薬局\n（本店）",北海 次郎,kita@07,imp-kita,${HASH}`, // 4–5 valid, provisional, a field over two lines
  '3410712363,誤り医院,誤り 一郎,wrong@example.jp,imp-badcheck,', // 6 check digit
  '5410712362,県外医院,県外 二郎,pref@example.jp,imp-badpref,', // 7 prefecture 54
  '1310123458,重複医院,重複 三郎,dup@example.jp,imp-sakura,', // 8 username of line 2
  '3410712362,重複医院,重複 四郎,dup2@example.jp,imp-dupcode,', // 9 code of line 2
  '4013104569,引用医院,引用 五郎,quote@example.jp,imp-quo"te,', // 10 malformed: a quote inside a field
  '1313107896,列不足医院,列 六郎,short@example.jp', // 11 too few columns
  '0140113713,宛先医院,宛先 七郎,not-an-address,imp-mail,', // 12 neither address nor placeholder
  '0140113713,,名無 八郎,noname@example.jp,imp-noname,', // 13 empty name
  '0140113713,旧ハッシュ医院,旧 九郎,oldhash@example.jp,imp-oldhash,$2b$10$tooshort', // 14 not a bcrypt hash
  '0140113713,札幌薬局,札幌 十郎,sapporo@example.jp,imp-sapporo,', // 15 valid
  '1310123458,既存医院,既存 太郎,taken@example.jp,pre-existing,', // 16 username taken by an account made in the portal
  '',
].join('\n');

const BAD_LINES = [6, 7, 8, 9, 10, 11, 12, 13, 14, 16];
const IMPORTED = ['imp-sakura', 'imp-naniwa', 'imp-kita', 'imp-sapporo'];

function checkReport(r: ImportReport) {
  assert.deepEqual(
    r.rejected.map((x) => x.line),
    BAD_LINES,
    JSON.stringify(r.rejected, null, 1),
  );
  const reason = (line: number) => r.rejected.find((x) => x.line === line)!.reason;
  assert.match(reason(6), /3410712363.*checkDigit/);
  assert.match(reason(7), /5410712362.*prefecture/);
  assert.match(reason(8), /imp-sakura.*earlier line/);
  assert.match(reason(9), /3410712362.*earlier line/);
  assert.match(reason(10), /malformed/);
  assert.match(reason(11), /expected 6 columns, found 4/);
  assert.match(reason(12), /not-an-address/);
  assert.match(reason(13), /institution_name is empty/);
  assert.match(reason(14), /bcrypt/);
  assert.match(reason(16), /pre-existing.*already used/);
  assert.equal(r.rows, 14);
}

const targets = await dbTargets();
for (const target of targets) {
  describe(`legacy import [${target}]`, () => {
    let p: TestPortal;
    let ipSeq = 0;
    const browser = (): Client => {
      const c = p.client();
      c.ip = `10.34.0.${++ipSeq}`;
      return c;
    };
    before(async () => {
      p = await startTestPortal(target);
      await p.createUser({ username: 'pre-existing', email: 'pre@example.jp', institutionCode: '4013104569' });
    });
    after(async () => {
      await p.close();
    });

    test('issue3-4 A1: every bad row is named with its line and reason; the good rows are imported whole; a second run changes nothing', async () => {
      const first = await importLegacyCsv(p.database.db, CSV, p.clock.now());
      checkReport(first);
      assert.deepEqual(
        { imported: first.imported, provisional: first.provisional, unchanged: first.unchanged },
        { imported: 4, provisional: 2, unchanged: 0 },
      );

      const users = await p.database.db
        .selectFrom('users')
        .selectAll()
        .where('username', 'like', 'imp-%')
        .orderBy('username')
        .execute();
      assert.deepEqual(
        users.map((u) => u.username),
        [...IMPORTED].sort(),
        'only the good rows, nothing of a rejected one',
      );
      const byName = Object.fromEntries(users.map((u) => [u.username, u]));
      assert.equal(byName['imp-naniwa']!.institution_name, 'なにわ歯科医院, 本院');
      assert.equal(byName['imp-kita']!.institution_name, '北の薬局\n（本店）');
      assert.equal(byName['imp-naniwa']!.status, 'provisional');
      assert.equal(byName['imp-kita']!.status, 'provisional');
      assert.equal(byName['imp-sakura']!.status, 'active');
      assert.equal(byName['imp-sakura']!.legacy_hash, HASH);
      assert.equal(byName['imp-sakura']!.display_name, '厚生 太郎');
      const audited = (await p.audit('user.imported')).map((a) => a.user_id).sort();
      assert.deepEqual(
        audited,
        users.map((u) => u.id).sort(),
        'one audit entry per imported account, none for a rejected one',
      );
      assert.ok(!JSON.stringify(await p.audit()).includes(HASH), 'no hash in the audit');

      const count = async () => (await p.database.db.selectFrom('users').select('id').execute()).length;
      const before = await count();
      const second = await importLegacyCsv(p.database.db, CSV, p.clock.now());
      checkReport(second);
      assert.deepEqual(
        { imported: second.imported, provisional: second.provisional, unchanged: second.unchanged },
        { imported: 0, provisional: 0, unchanged: 4 },
      );
      assert.equal(await count(), before);
      assert.equal((await p.audit('user.imported')).length, 4);
    });

    test('issue3-4 B1: when the database refuses a row while writing, its whole transaction is undone and each of its lines is named', async () => {
      const db = p.database.db;
      if (target === 'sqlite') {
        await sql`create trigger boom before insert on users when new.username = 'imp-boom' begin select raise(abort, 'refused by a test trigger'); end`.execute(
          db,
        );
      } else {
        await sql`create function boom() returns trigger language plpgsql as $$ begin if new.username = 'imp-boom' then raise exception 'refused by a test trigger'; end if; return new; end $$`.execute(
          db,
        );
        await sql`create trigger boom before insert on users for each row execute function boom()`.execute(db);
      }
      const code = (body: string) => body + checkDigitOf(body);
      const csv = [
        'institution_code,institution_name,contact_name,email,username,password_bcrypt',
        `${code('221000001')},一番医院,一番 太郎,one@example.jp,imp-one,`,
        `${code('471234567')},沖縄医院,沖縄 花子,boom@example.jp,imp-boom,`,
        `${code('224000003')},三番薬局,三番 次郎,three@example.jp,imp-three,`,
      ].join('\n');
      const auditBefore = (await p.audit()).length;
      const r = await importLegacyCsv(db, csv, p.clock.now());
      assert.deepEqual(
        r.rejected.map((x) => x.line),
        [2, 3, 4],
      );
      for (const x of r.rejected) assert.match(x.reason, /^not written: .*refused by a test trigger/);
      assert.equal(r.imported, 0);
      assert.equal(await userRow(p, 'imp-one'), undefined, 'the row before the failure is undone too');
      assert.equal((await p.audit()).length, auditBefore, 'no audit entry of an undone row');
      await sql`drop trigger boom${sql.raw(target === 'postgres' ? ' on users' : '')}`.execute(db);
      const retry = await importLegacyCsv(db, csv, p.clock.now());
      assert.deepEqual({ imported: retry.imported, rejected: retry.rejected }, { imported: 3, rejected: [] });
    });

    test('issue3-4 P2 A1: the old bcrypt password logs in once, is replaced by argon2id, and keeps working; a wrong one is refused', async () => {
      assert.ok((await userRow(p, 'imp-sakura'))?.legacy_hash, 'imported by the previous test');
      assert.equal((await logIn(browser(), 'imp-sakura', 'oldportal2023')).status, 401);
      const home = await logIn(browser(), 'imp-sakura', OLD_PASSWORD);
      assert.equal(home.status, 200);
      assert.ok(home.text.includes(ja['nav.user'].replace('{name}', '厚生 太郎')));
      const row = (await userRow(p, 'imp-sakura'))!;
      assert.equal(row.legacy_hash, null);
      assert.match(row.password_hash, /^\$argon2id\$/);
      assert.equal(await verifyPassword(row.password_hash, OLD_PASSWORD), true);
      assert.ok((await p.audit('password.migrated')).some((a) => a.user_id === row.id && a.outcome === 'ok'));
      assert.equal((await logIn(browser(), 'imp-sakura', OLD_PASSWORD)).status, 200, 'again, now with argon2id');
      const account = await browser().open('/login');
      assert.equal(account.status, 200);
    });

    test('issue3-3 issue3-4: an imported provisional account with its old password must first replace its address', async () => {
      const c = browser();
      const landed = await logIn(c, 'imp-kita', OLD_PASSWORD);
      assert.ok(landed.text.includes(ja['account.provisional.heading']));
      assert.ok(landed.text.includes(ja['account.provisional.p1'].replace('{email}', 'kita@07')));
      assert.equal((await c.get('/csm')).location, '/account/email');
      // Without a hash, an imported account cannot log in at all (its holder registers anew).
      assert.equal((await logIn(browser(), 'imp-naniwa', GOOD_PASSWORD)).status, 401);
    });
  });
}

describe('legacy import through the CLI (real process, SQLite)', () => {
  let dir: string;
  const env = (db = 'p.db') => ({ DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, db)}` });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'iryo-import-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('issue3-4: the sample file imports cleanly (exit 0) and says what it did', async () => {
    const r = await runCli(['import', 'legacy', join(ROOT, 'docs/legacy-accounts.sample.csv')], env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'Read 3 row(s): imported 3 (1 provisional), unchanged 0, rejected 0.');
    assert.equal(r.stderr, '');
    const again = await runCli(['import', 'legacy', join(ROOT, 'docs/legacy-accounts.sample.csv')], env());
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), 'Read 3 row(s): imported 0 (0 provisional), unchanged 3, rejected 0.');
  });

  test('issue3-4: a file with bad rows exits 1, names each bad line on stderr, imports the rest; a second run imports nothing', async () => {
    const file = join(dir, 'legacy.csv');
    writeFileSync(file, CSV);
    const made = await runCli(
      [
        'users',
        'create',
        '--username',
        'pre-existing',
        '--email',
        'pre@example.jp',
        '--password',
        GOOD_PASSWORD,
        '--institution-code',
        '4013104569',
      ],
      env('bad.db'),
    );
    assert.equal(made.code, 0, made.stderr);
    const r = await runCli(['import', 'legacy', file], env('bad.db'));
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => Number(/^line (\d+): rejected: /.exec(l)?.[1])),
      BAD_LINES,
      r.stderr,
    );
    assert.match(lines.at(-1)!, /^line 16: rejected: username "pre-existing" is already used by another account$/);
    assert.equal(r.stdout.trim(), 'Read 14 row(s): imported 4 (2 provisional), unchanged 0, rejected 10.');
    const db = new Database(join(dir, 'bad.db'), { readonly: true });
    try {
      const names = (
        db.prepare("select username from users where username like 'imp-%' order by username").all() as Array<{
          username: string;
        }>
      ).map((u) => u.username);
      assert.deepEqual(names, [...IMPORTED].sort());
      const actors = db.prepare("select distinct actor from audit_log where event = 'user.imported'").all() as Array<{
        actor: string;
      }>;
      assert.deepEqual(
        actors.map((a) => a.actor),
        ['cli'],
      );
    } finally {
      db.close();
    }
    const again = await runCli(['import', 'legacy', file], env('bad.db'));
    assert.equal(again.code, 1);
    assert.equal(again.stdout.trim(), 'Read 14 row(s): imported 0 (0 provisional), unchanged 4, rejected 10.');
    assert.equal(again.stderr, r.stderr, 'the same rows named again');
  });

  test('B1: a missing or unreadable file, or a wrong header, is a clear error', async () => {
    const missing = await runCli(['import', 'legacy'], env());
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Missing FILE\.csv/);
    const unreadable = await runCli(['import', 'legacy', join(dir, 'nope.csv')], env());
    assert.equal(unreadable.code, 1);
    assert.match(unreadable.stderr, /^Cannot read .*nope\.csv/);
    const file = join(dir, 'header.csv');
    writeFileSync(
      file,
      `code,name\n${readFileSync(join(ROOT, 'docs/legacy-accounts.sample.csv'), 'utf8').split('\n')[1]}\n`,
    );
    const header = await runCli(['import', 'legacy', file], env());
    assert.equal(header.code, 1);
    assert.match(
      header.stderr,
      /^line 1: rejected: the first line must be the header institution_code,institution_name,contact_name,email,username,password_bcrypt/,
    );
  });
});
