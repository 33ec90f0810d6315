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
  // One audit key for the CLI and the portal, as in production (each chains onto the other's entries).
  const AUDIT_KEY = 'operators-cli-audit-key-operators-cli-audit-key';
  const env = () => ({ DATA_DIR: dir, DATABASE_URL: `sqlite:${file()}`, USER: 'ops-tanaka', AUDIT_KEY });
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
  const auditOf = () =>
    onDisk(
      (db) =>
        db.prepare('select seq, event, outcome, actor, detail from audit_log order by seq').all() as Array<{
          seq: number;
          event: string;
          outcome: string;
          actor: string | null;
          detail: string | null;
        }>,
    );

  const sessionsOf = (username: string) =>
    onDisk(
      (db) =>
        (
          db
            .prepare(
              'select count(*) as n from operator_sessions s join operators o on o.id = s.operator_id where o.username = ?',
            )
            .get(username) as { n: number }
        ).n,
    );

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'iryo-operators-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('issue4-1 P2 A1: operators create makes an admin, a support and an editor (exit 0); list shows them; only a hash is kept; each is audited', async () => {
    for (const [username, role, name] of [
      ['kanri', 'admin', '管理 太郎'],
      ['cc-yamada', 'support', 'コールセンター山田'],
      ['henshu', 'editor', '編集 花子'],
    ] as const) {
      const r = await cli(
        'operators',
        'create',
        '--username',
        username,
        '--password',
        OPERATOR_PASSWORD,
        '--role',
        role,
        '--name',
        name,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `Created operator "${username}" with the role ${role}. The console is at /admin.`);
    }
    const list = await cli('operators', 'list');
    assert.equal(list.code, 0);
    assert.deepEqual(list.stdout.trim().split('\n'), [
      'username\trole\tstatus\tname',
      'cc-yamada\tsupport\tactive\tコールセンター山田',
      'henshu\teditor\tactive\t編集 花子',
      'kanri\tadmin\tactive\t管理 太郎',
      '3 operator(s).',
    ]);
    const hashes = onDisk(
      (db) => db.prepare('select password_hash from operators').all() as Array<{ password_hash: string }>,
    );
    assert.ok(
      hashes.every((h) => h.password_hash.startsWith('$argon2id$') && !h.password_hash.includes(OPERATOR_PASSWORD)),
    );
    const created = auditOf().filter((a) => a.event === 'operator.created');
    assert.deepEqual(
      created.map((a) => [a.actor, JSON.parse(a.detail!)]),
      [
        ['cli:ops-tanaka', { operator: 'kanri', role: 'admin' }],
        ['cli:ops-tanaka', { operator: 'cc-yamada', role: 'support' }],
        ['cli:ops-tanaka', { operator: 'henshu', role: 'editor' }],
      ],
    );
    assert.ok(!JSON.stringify(auditOf()).includes(OPERATOR_PASSWORD), 'no password in the audit trail');
  });

  test('issue4-1 P1: refusals — weak password, unknown role, bad or taken username (exit 1); missing options or unknown command (exit 2); nothing created', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [
        ['--username', 'weak-op', '--password', 'Password123', '--role', 'support'],
        1,
        /^Not created: the password breaks the "mhlw" policy required of operators: /,
      ],
      [['--username', 'shorty', '--password', 'Sh0rt!', '--role', 'support'], 1, /"mhlw" policy/],
      [
        ['--username', 'who-op', '--password', OPERATOR_PASSWORD, '--role', 'root'],
        1,
        /^Not created: --role must be admin, support or editor\.$/,
      ],
      [
        ['--username', 'x', '--password', OPERATOR_PASSWORD, '--role', 'editor'],
        1,
        /^Not created: the username must be 3–64 characters/,
      ],
      [
        ['--username', 'Bad Name', '--password', OPERATOR_PASSWORD, '--role', 'editor'],
        1,
        /^Not created: the username must be/,
      ],
      [
        ['--username', 'KANRI', '--password', OPERATOR_PASSWORD, '--role', 'admin'],
        1,
        /^Not created: the operator "kanri" already exists\.$/,
      ],
      [
        ['--username', 'no-pass', '--role', 'admin'],
        2,
        /^Not created: missing --password\n[\s\S]*operators create --username U --password P --role admin\|support\|editor/,
      ],
      [
        ['--username', 'extra', '--password', OPERATOR_PASSWORD, '--role', 'admin', '--superuser'],
        2,
        /Unknown option '--superuser'/,
      ],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli('operators', 'create', ...args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trim(), message, args.join(' '));
    }
    const unknown = await cli('operators', 'delete', 'kanri');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^Unknown operators command\./);
    assert.equal(
      onDisk((db) => (db.prepare('select count(*) as n from operators').get() as { n: number }).n),
      3,
    );
  });

  describe('the CLI-made operator at work, then tampering', () => {
    let portal: PortalOnFile;
    before(async () => {
      portal = await startPortalOn(`sqlite:${file()}`, { auditKey: AUDIT_KEY });
    });
    after(async () => {
      await portal?.close();
    });

    test('issue4-1 S12 L2 A1: an account locked by the CLI — the support operator made by the CLI sees who locked it but may not lift it (409); the admin does; the editor may not look', async () => {
      const made = await cli(
        'users',
        'create',
        '--username',
        'locked-clinic',
        '--email',
        'locked@example.jp',
        '--password',
        'Kanri2026Pass',
      );
      assert.equal(made.code, 0, made.stderr);
      assert.equal((await cli('users', 'lock', 'locked-clinic', '--reason', '不正アクセスの疑い')).code, 0);
      const id = onDisk(
        (db) => (db.prepare("select id from users where username = 'locked-clinic'").get() as { id: string }).id,
      );

      const editor = portal.client();
      assert.equal((await operatorLogin(editor, 'henshu', OPERATOR_PASSWORD)).location, '/admin');
      const refused = await editor.get(`/admin/users/${id}`);
      assert.equal(refused.status, 403);

      const c = portal.client();
      const login = await operatorLogin(c, 'cc-yamada', OPERATOR_PASSWORD);
      assert.equal(login.location, '/admin');
      const page = await c.get(`/admin/users/${id}`);
      assert.ok(page.text.includes(ja['admin.status.lockedIndefinite']));
      assert.ok(page.text.includes(`${ja['admin.user.lockedBy']} ${ja['admin.lockOrigin.cli']}`), 'who set the lock');
      assert.ok(page.text.includes(ja['admin.user.lockHeldByAdmin']), 'the console says why support cannot unlock');
      assert.ok(!page.body.includes(`action="/admin/users/${id}/unlock"`), 'no unlock form for support');
      const held = await c.post(`/admin/users/${id}/unlock`, { reason: '本人確認のうえ解除' });
      assert.equal(held.status, 409);
      assert.ok(held.text.includes(ja['admin.user.lockHeldByAdmin']));
      assert.match(
        (await cli('users', 'show', 'locked-clinic')).stdout,
        /status\s+locked \(until an operator unlocks; locked by cli\)/,
      );

      const admin = portal.client();
      assert.equal((await operatorLogin(admin, 'kanri', OPERATOR_PASSWORD)).location, '/admin');
      await admin.get(`/admin/users/${id}`);
      const done = await admin.post(`/admin/users/${id}/unlock`, { reason: '本人確認のうえ解除' });
      assert.equal(done.status, 200);
      assert.ok(done.text.includes(ja['admin.status.active']));
      const show = await cli('users', 'show', 'locked-clinic');
      assert.match(show.stdout, /status\s+active/);
      const actions = auditOf()
        .filter((a) => a.event === 'support.unlocked' || a.event === 'admin.forbidden')
        .map((a) => [a.event, a.actor]);
      assert.deepEqual(actions, [
        ['admin.forbidden', 'operator:henshu'],
        ['support.unlocked', 'operator:kanri'],
      ]);
    });

    test('S12 A1: operators disable ends the console session at once and refuses the login; list shows it; enable lets it in again; each audited with actor cli', async () => {
      const c = portal.client();
      assert.equal((await operatorLogin(c, 'cc-yamada', OPERATOR_PASSWORD)).location, '/admin');
      assert.equal((await c.get('/admin/users')).status, 200, 'logged in');
      assert.equal((await cli('operators', 'disable', 'cc-yamada')).code, 2, 'a reason is required');
      const open = sessionsOf('cc-yamada');
      assert.ok(open >= 1);
      const off = await cli('operators', 'disable', 'CC-Yamada', '--reason', '退職');
      assert.equal(off.code, 0, off.stderr);
      assert.equal(
        off.stdout.trim(),
        `Disabled operator "cc-yamada": no login any more; ${open} console session(s) ended.`,
      );
      assert.equal(sessionsOf('cc-yamada'), 0);
      const after = await c.get('/admin/users');
      assert.equal(after.status, 303, 'the open session ended at once');
      assert.match(after.location!, /^\/admin\/login/);
      const again = await operatorLogin(portal.client(), 'cc-yamada', OPERATOR_PASSWORD);
      assert.equal(again.status, 401, 'a disabled operator cannot log in');
      assert.ok(again.text.includes(ja['admin.login.failed']));
      const list = await cli('operators', 'list');
      assert.match(list.stdout, /^cc-yamada\tsupport\tdisabled since \d{4}-\d\d-\d\dT[\d:.]+Z\tコールセンター山田$/m);
      assert.equal((await cli('operators', 'disable', 'cc-yamada', '--reason', '二重')).code, 1, 'already disabled');
      assert.equal((await cli('operators', 'disable', 'nobody-here', '--reason', 'x')).code, 1, 'unknown operator');

      const on = await cli('operators', 'enable', 'cc-yamada', '--reason', '復職');
      assert.equal(on.code, 0, on.stderr);
      assert.equal(
        (await operatorLogin(portal.client(), 'cc-yamada', OPERATOR_PASSWORD)).location,
        '/admin',
        'enabled again',
      );
      assert.equal((await cli('operators', 'enable', 'cc-yamada', '--reason', '二重')).code, 1, 'not disabled');
      const rows = auditOf().filter((a) => a.event === 'operator.disabled' || a.event === 'operator.enabled');
      assert.deepEqual(
        rows.map((a) => [a.event, a.actor, JSON.parse(a.detail!)]),
        [
          ['operator.disabled', 'cli:ops-tanaka', { operator: 'cc-yamada', reason: '退職', sessionsEnded: open }],
          ['operator.enabled', 'cli:ops-tanaka', { operator: 'cc-yamada', reason: '復職' }],
        ],
      );
    });

    test('S12 P1 A1: operators reset-password reads the new password from stdin (never an argument), checks the mhlw policy, ends the sessions; the old password stops working', async () => {
      const c = portal.client();
      assert.equal((await operatorLogin(c, 'henshu', OPERATOR_PASSWORD)).location, '/admin');
      const NEW = 'Editor-Renewed-2026!';
      const open = sessionsOf('henshu');
      assert.equal((await runCli(['operators', 'reset-password', 'henshu'], env(), '')).code, 2, 'nothing on stdin');
      const weak = await runCli(['operators', 'reset-password', 'henshu'], env(), 'Password123\n');
      assert.equal(weak.code, 1);
      assert.match(weak.stderr, /^Nothing changed: the password breaks the "mhlw" policy/);
      const r = await runCli(['operators', 'reset-password', 'henshu'], env(), `${NEW}\n`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `Set a new password for operator "henshu"; ${open} console session(s) ended.`);
      assert.equal(sessionsOf('henshu'), 0);
      assert.ok(!r.stdout.includes(NEW) && !r.stderr.includes(NEW), 'the password is not echoed');
      assert.equal((await c.get('/admin')).status, 303, 'the session ended');
      assert.equal(
        (await operatorLogin(portal.client(), 'henshu', OPERATOR_PASSWORD)).status,
        401,
        'the old password fails',
      );
      assert.equal((await operatorLogin(portal.client(), 'henshu', NEW)).location, '/admin', 'the new one works');
      const row = auditOf().filter((a) => a.event === 'operator.password_reset');
      assert.deepEqual(
        row.map((a) => [a.actor, JSON.parse(a.detail!)]),
        [['cli:ops-tanaka', { operator: 'henshu', sessionsEnded: open }]],
      );
      assert.ok(!JSON.stringify(auditOf()).includes(NEW), 'no password in the audit trail');
      const hash = onDisk(
        (db) =>
          (
            db.prepare("select password_hash from operators where username = 'henshu'").get() as {
              password_hash: string;
            }
          ).password_hash,
      );
      assert.ok(hash.startsWith('$argon2id$') && !hash.includes(NEW));
    });

    test('A2: audit verify — intact (exit 0); then an altered operator entry and a removed entry are each named (exit 1)', async () => {
      await portal.close();
      portal = undefined as unknown as PortalOnFile;
      const intact = await cli('audit', 'verify');
      assert.equal(intact.code, 0, intact.stderr);
      const entries = auditOf();
      assert.equal(
        intact.stdout.trim(),
        `Audit trail intact: ${entries.length} entries, each chained to the previous one.`,
      );

      const unlocked = entries.find((a) => a.event === 'support.unlocked')!;
      const created = entries.find((a) => a.event === 'operator.created' && a.detail!.includes('henshu'))!;
      assert.ok(created.seq < unlocked.seq - 1);
      onDisk((db) => {
        db.prepare('update audit_log set detail = ? where seq = ?').run(
          JSON.stringify({ reason: '理由を書き換えた', wasStatus: 'locked' }),
          unlocked.seq,
        );
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
