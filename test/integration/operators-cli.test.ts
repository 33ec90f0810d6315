/**
 * Operator accounts are made by the CLI (issue 4 §1), as real processes on a SQLite file: every role, every refusal
 * with its exit code, the password kept only as an Argon2id hash (P2), each creation audited (A1); the operator then
 * uses the console of a portal on the same file; finally `audit verify` names an altered and a removed entry (A2).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ja } from '../../src/web/i18n/ja.ts';
import { runCli, startPortalOn, type PortalOnFile } from '../helpers/accounts.ts';
import { OPERATOR_PASSWORD, operatorLogin } from '../helpers/operators.ts';

describe('operators through the CLI (real processes, SQLite)', () => {
  let dir: string;
  const file = () => join(dir, 'p.db');
  const env = () => ({ DATA_DIR: dir, DATABASE_URL: `sqlite:${file()}`, USER: 'ops-tanaka' });
  const cli = (...args: string[]) => runCli(args, env());
  /** Reads (or, with `write`, changes) the SQLite file directly, as someone with access to the disk could. */
  function onDisk<T>(fn: (db: Database.Database) => T): T {
    const db = new Database(file());
    try {
      return fn(db);
    } finally {
      db.close();
    }
  }
  const auditOf = () => onDisk((db) => db.prepare('select seq, event, outcome, actor, detail from audit_log order by seq').all() as Array<{ seq: number; event: string; outcome: string; actor: string | null; detail: string | null }>);

  before(() => { dir = mkdtempSync(join(tmpdir(), 'iryo-operators-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  test('issue4-1 P2 A1: operators create makes an admin, a support and an editor (exit 0); list shows them; only a hash is kept; each is audited', async () => {
    for (const [username, role, name] of [['kanri', 'admin', '管理 太郎'], ['cc-yamada', 'support', 'コールセンター山田'], ['henshu', 'editor', '編集 花子']] as const) {
      const r = await cli('operators', 'create', '--username', username, '--password', OPERATOR_PASSWORD, '--role', role, '--name', name);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `Created operator "${username}" with the role ${role}. The console is at /admin.`);
    }
    const list = await cli('operators', 'list');
    assert.equal(list.code, 0);
    assert.deepEqual(list.stdout.trim().split('\n'), [
      'username\trole\tstatus\tname', 'cc-yamada\tsupport\tactive\tコールセンター山田', 'henshu\teditor\tactive\t編集 花子', 'kanri\tadmin\tactive\t管理 太郎', '3 operator(s).',
    ]);
    const hashes = onDisk((db) => db.prepare('select password_hash from operators').all() as Array<{ password_hash: string }>);
    assert.ok(hashes.every((h) => h.password_hash.startsWith('$argon2id$') && !h.password_hash.includes(OPERATOR_PASSWORD)));
    const created = auditOf().filter((a) => a.event === 'operator.created');
    assert.deepEqual(created.map((a) => [a.actor, JSON.parse(a.detail!)]), [
      ['cli:ops-tanaka', { operator: 'kanri', role: 'admin' }], ['cli:ops-tanaka', { operator: 'cc-yamada', role: 'support' }], ['cli:ops-tanaka', { operator: 'henshu', role: 'editor' }],
    ]);
    assert.ok(!JSON.stringify(auditOf()).includes(OPERATOR_PASSWORD), 'no password in the audit trail');
  });

  test('issue4-1 P1: refusals — weak password, unknown role, bad or taken username (exit 1); missing options or unknown command (exit 2); nothing created', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['--username', 'weak-op', '--password', 'Password123', '--role', 'support'], 1, /^Not created: the password breaks the "mhlw" policy required of operators: /],
      [['--username', 'shorty', '--password', 'Sh0rt!', '--role', 'support'], 1, /"mhlw" policy/],
      [['--username', 'who-op', '--password', OPERATOR_PASSWORD, '--role', 'root'], 1, /^Not created: --role must be admin, support or editor\.$/],
      [['--username', 'x', '--password', OPERATOR_PASSWORD, '--role', 'editor'], 1, /^Not created: the username must be 3–64 characters/],
      [['--username', 'Bad Name', '--password', OPERATOR_PASSWORD, '--role', 'editor'], 1, /^Not created: the username must be/],
      [['--username', 'KANRI', '--password', OPERATOR_PASSWORD, '--role', 'admin'], 1, /^Not created: the operator "kanri" already exists\.$/],
      [['--username', 'no-pass', '--role', 'admin'], 2, /^Not created: missing --password\n[\s\S]*operators create --username U --password P --role admin\|support\|editor/],
      [['--username', 'extra', '--password', OPERATOR_PASSWORD, '--role', 'admin', '--superuser'], 2, /Unknown option '--superuser'/],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli('operators', 'create', ...args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trim(), message, args.join(' '));
    }
    const unknown = await cli('operators', 'delete', 'kanri');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^Unknown operators command\./);
    assert.equal(onDisk((db) => (db.prepare('select count(*) as n from operators').get() as { n: number }).n), 3);
  });

  describe('the CLI-made operator at work, then tampering', () => {
    let portal: PortalOnFile;
    before(async () => { portal = await startPortalOn(`sqlite:${file()}`); });
    after(async () => { await portal?.close(); });

    test('issue4-1 L2 A1: the support operator made by the CLI logs in and unlocks an account locked by the CLI; the editor may not', async () => {
      const made = await cli('users', 'create', '--username', 'locked-clinic', '--email', 'locked@example.jp', '--password', 'Kanri2026Pass');
      assert.equal(made.code, 0, made.stderr);
      assert.equal((await cli('users', 'lock', 'locked-clinic', '--reason', '不正アクセスの疑い')).code, 0);
      const id = onDisk((db) => (db.prepare("select id from users where username = 'locked-clinic'").get() as { id: string }).id);

      const editor = portal.client();
      assert.equal((await operatorLogin(editor, 'henshu', OPERATOR_PASSWORD)).location, '/admin');
      const refused = await editor.get(`/admin/users/${id}`);
      assert.equal(refused.status, 403);

      const c = portal.client();
      const login = await operatorLogin(c, 'cc-yamada', OPERATOR_PASSWORD);
      assert.equal(login.location, '/admin');
      const page = await c.get(`/admin/users/${id}`);
      assert.ok(page.text.includes(ja['admin.status.lockedIndefinite']));
      const done = await c.post(`/admin/users/${id}/unlock`, { reason: '本人確認のうえ解除' });
      assert.equal(done.status, 200);
      assert.ok(done.text.includes(ja['admin.status.active']));
      const show = await cli('users', 'show', 'locked-clinic');
      assert.match(show.stdout, /active/);
      const actions = auditOf().filter((a) => a.event === 'support.unlocked' || a.event === 'admin.forbidden').map((a) => [a.event, a.actor]);
      assert.deepEqual(actions, [['admin.forbidden', 'operator:henshu'], ['support.unlocked', 'operator:cc-yamada']]);
    });

    test('A2: audit verify — intact (exit 0); then an altered operator entry and a removed entry are each named (exit 1)', async () => {
      await portal.close();
      portal = undefined as unknown as PortalOnFile;
      const intact = await cli('audit', 'verify');
      assert.equal(intact.code, 0, intact.stderr);
      const entries = auditOf();
      assert.equal(intact.stdout.trim(), `Audit trail intact: ${entries.length} entries, each chained to the previous one.`);

      const unlocked = entries.find((a) => a.event === 'support.unlocked')!;
      const created = entries.find((a) => a.event === 'operator.created' && a.detail!.includes('henshu'))!;
      assert.ok(created.seq < unlocked.seq - 1);
      onDisk((db) => {
        db.prepare('update audit_log set detail = ? where seq = ?').run(JSON.stringify({ reason: '理由を書き換えた', wasStatus: 'locked' }), unlocked.seq);
        db.prepare('delete from audit_log where seq = ?').run(created.seq);
      });
      const tampered = await cli('audit', 'verify');
      assert.equal(tampered.code, 1);
      assert.deepEqual(tampered.stderr.trim().split('\n'), [
        `Entries before ${created.seq + 1} were removed.`,
        `Entry ${unlocked.seq} was altered.`,
        `Audit trail NOT intact: 2 problem(s) in ${entries.length - 1} entries.`,
      ]);
    });
  });
});
