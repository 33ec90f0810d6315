/**
 * The operators' command line for accounts (issue 3 §6), run as real processes (`node --import tsx src/cli.ts
 * users …`) on a SQLite file, with a portal on the same file to show what a user then meets: list, show, lock,
 * unlock and set-email, each audited with an actor `cli:…` and a reason (L2, A1, A2).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ja } from '../../src/web/i18n/ja.ts';
import { OPERATOR_PASSWORD, operatorLogin } from '../helpers/operators.ts';
import { GOOD_PASSWORD, linkOf, pathOf, requestReset, type Client } from '../helpers/test-app.ts';
import {
  logIn,
  mailTo,
  register,
  registrationLinkOf,
  ROOT,
  runCli,
  startPortalOn,
  SUBJECTS,
  type CliRun,
  type PortalOnFile,
} from '../helpers/accounts.ts';

const FAILED = ja['login.failed'].replace('{threshold}', '5').replace('{minutes}', '15');

describe('users CLI (real processes, SQLite)', () => {
  let dir: string;
  let portal: PortalOnFile;
  let ipSeq = 0;
  // One audit key for the CLI and the portal, as in production (each chains onto the other's entries).
  const AUDIT_KEY = 'users-cli-audit-key-users-cli-audit-key-users';
  const env = () => ({ DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'p.db')}`, USER: 'tanaka', AUDIT_KEY });
  const cli = (...args: string[]): Promise<CliRun> => runCli(args, env());
  const browser = (): Client => {
    const c = portal.client();
    c.ip = `10.35.0.${++ipSeq}`;
    return c;
  };
  const query = <T>(q: string, ...params: unknown[]): T[] => {
    const db = new Database(join(dir, 'p.db'), { readonly: true });
    try {
      return db.prepare(q).all(...params) as T[];
    } finally {
      db.close();
    }
  };
  const user = (username: string) =>
    query<{ id: string; status: string; email: string; locked_until: number | null; email_verified_at: number | null }>(
      'select * from users where username = ?',
      username,
    )[0]!;
  const auditOf = (username: string, event: string) =>
    query<{ actor: string; outcome: string; detail: string }>(
      'select actor, outcome, detail from audit_log where event = ? and user_id = ? order by seq',
      event,
      user(username).id,
    );

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iryo-users-'));
    const setup: string[][] = [
      [
        'users',
        'create',
        '--username',
        'ops-clinic',
        '--email',
        'ops-clinic@example.jp',
        '--password',
        GOOD_PASSWORD,
        '--name',
        '運用医院',
        '--institution-code',
        '3410712362',
      ],
      [
        'users',
        'create',
        '--username',
        'ops-chain',
        '--email',
        'ops-chain@example.jp',
        '--password',
        GOOD_PASSWORD,
        '--name',
        '薬局チェーン',
        '--coordinator',
        '--user-id',
        't23456784',
      ],
      [
        'users',
        'create',
        '--username',
        'ops-lockout',
        '--email',
        'ops-lockout@example.jp',
        '--password',
        GOOD_PASSWORD,
      ],
      ['users', 'create', '--username', 'ops-mail', '--email', 'ops-mail@example.jp', '--password', GOOD_PASSWORD],
      ['import', 'legacy', join(ROOT, 'docs/legacy-accounts.sample.csv')],
    ];
    // The first run migrates the new file; the others can then run side by side.
    const [first, ...rest] = setup;
    const runs = [await cli(...first!), ...(await Promise.all(rest.map((args) => cli(...args))))];
    runs.forEach((r, i) => assert.equal(r.code, 0, `${setup[i]!.join(' ')}: ${r.stderr}`));
    portal = await startPortalOn(`sqlite:${join(dir, 'p.db')}`, { auditKey: AUDIT_KEY });
  });
  after(async () => {
    await portal?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('issue3-6 A3: users list — every account, then filtered by status, type and search; a bad filter is refused', async () => {
    // Read-only runs, side by side.
    const [all, provisional, coordinators, search, limited, bad, zero] = await Promise.all([
      cli('users', 'list'),
      cli('users', 'list', '--status', 'provisional'),
      cli('users', 'list', '--type', 'coordinator'),
      cli('users', 'list', '--search', '0140113713'),
      cli('users', 'list', '--limit', '2'),
      cli('users', 'list', '--status', 'deleted'),
      cli('users', 'list', '--limit', '0'),
    ]);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trim().split('\n');
    assert.equal(lines[0], 'username\tuser_id\ttype\tstatus\tinstitution_code\temail\tname');
    assert.equal(lines.at(-1), '7 account(s).');
    assert.ok(lines.includes('ops-chain\tt23456784\tcoordinator\tactive\t-\tops-chain@example.jp\t薬局チェーン'));
    assert.ok(lines.includes('naniwa-shika\t-\tinstitution\tprovisional\t2714001233\tnaniwa@13\t労働 花子'));

    assert.deepEqual(provisional.stdout.trim().split('\n').slice(1), [
      'naniwa-shika\t-\tinstitution\tprovisional\t2714001233\tnaniwa@13\t労働 花子',
      '1 account(s).',
    ]);
    assert.match(coordinators.stdout, /^ops-chain\t/m);
    assert.match(coordinators.stdout, /1 account\(s\)\.\n$/);
    assert.match(search.stdout, /^kita-pharmacy\t/m);
    assert.match(search.stdout, /1 account\(s\)\.\n$/);
    assert.match(limited.stdout, /2 account\(s\)\.\n$/);

    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim(), '--status must be active, locked, provisional or closed');
    const listed = query<{ actor: string; detail: string }>(
      "select actor, detail from audit_log where event = 'users.listed' order by seq",
    );
    assert.equal(listed.length, 5, 'each successful list is audited; the refused ones are not');
    assert.match(listed[0]!.actor, /^cli:/);
    assert.equal(zero.code, 2);
  });

  test('issue3-6: users show — by username or user ID; the provisional placeholder and the old-portal hash are explained', async () => {
    const [chain, naniwa, sakura, unknown] = await Promise.all([
      cli('users', 'show', 't23456784'),
      cli('users', 'show', 'NANIWA-SHIKA'),
      cli('users', 'show', 'sakura-naika'),
      cli('users', 'show', 'nobody'),
    ]);
    assert.equal(chain.code, 0, chain.stderr);
    assert.match(chain.stdout, /^username {10}ops-chain$/m);
    assert.match(chain.stdout, /^user ID {11}t23456784$/m);
    assert.match(chain.stdout, /^type {14}coordinator$/m);
    assert.match(naniwa.stdout, /^e-mail {12}naniwa@13 \(provisional placeholder: no mail can be sent\)$/m);
    assert.match(naniwa.stdout, /^institution {7}2714001233 なにわ歯科医院, 本院$/m);
    assert.match(naniwa.stdout, /user\.imported {2}provisional/, 'recent events');
    assert.match(sakura.stdout, /^old-portal hash {3}yes \(replaced at the first login\)$/m);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.trim(), 'No account has the username or user ID "nobody".');
    // Reading an account's personal data is audited with the operator (issue 3 point 6, A1).
    const viewed = auditOf('ops-chain', 'user.viewed');
    assert.equal(viewed.length, 1);
    assert.match(viewed[0]!.actor, /^cli:/);
  });

  test('L2 A1 A2: users lock ends sessions and refuses login until users unlock; each is audited with the operator and reason', async () => {
    const c = browser();
    assert.equal((await logIn(c, 'ops-clinic', GOOD_PASSWORD)).status, 200);
    assert.equal((await c.get('/account')).status, 200);

    const noReason = await cli('users', 'lock', 'ops-clinic');
    assert.equal(noReason.code, 2);
    assert.match(noReason.stderr, /^Nothing changed: give --reason/);
    assert.equal(user('ops-clinic').status, 'active');

    const lock = await cli('users', 'lock', 'ops-clinic', '--reason', '不正アクセスの疑い（問合せ番号 1234）');
    assert.equal(lock.code, 0, lock.stderr);
    assert.equal(
      lock.stdout.trim(),
      'Locked ops-clinic until an operator unlocks it; its sessions and reset links have ended.',
    );
    assert.equal(user('ops-clinic').status, 'locked');
    assert.equal(user('ops-clinic').locked_until, null);
    const [locked] = auditOf('ops-clinic', 'user.locked');
    assert.equal(locked!.actor, 'cli:tanaka');
    assert.equal(JSON.parse(locked!.detail).reason, '不正アクセスの疑い（問合せ番号 1234）');
    assert.equal(JSON.parse(locked!.detail).sessionsEnded, 1);

    assert.equal((await c.get('/account')).location, '/login?m=loginRequired&next=%2Faccount', 'the session has ended');
    const refused = await logIn(browser(), 'ops-clinic', GOOD_PASSWORD);
    assert.equal(refused.status, 401);
    assert.ok(refused.text.includes(FAILED), 'the same generic message (L1)');

    const unlock = await cli('users', 'unlock', 'ops-clinic', '--reason', '本人確認済み');
    assert.equal(unlock.code, 0, unlock.stderr);
    assert.equal(unlock.stdout.trim(), 'Unlocked ops-clinic.');
    const [unlocked] = auditOf('ops-clinic', 'user.unlocked');
    assert.equal(unlocked!.actor, 'cli:tanaka');
    assert.deepEqual(JSON.parse(unlocked!.detail), { reason: '本人確認済み', wasStatus: 'locked' });
    assert.equal((await logIn(browser(), 'ops-clinic', GOOD_PASSWORD)).status, 200);

    const verify = await cli('audit', 'verify');
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /^Audit trail intact: \d+ entries/);
  });

  test('L2: users unlock lifts a lockout after too many failed logins', async () => {
    for (let i = 0; i < 5; i++) await logIn(browser(), 'ops-lockout', 'WrongPass2026');
    assert.equal(user('ops-lockout').status, 'locked');
    assert.equal(
      (await logIn(browser(), 'ops-lockout', GOOD_PASSWORD)).status,
      401,
      'locked out, even with the right password',
    );
    const unlock = await cli('users', 'unlock', 'ops-lockout', '--reason', '電話で本人確認');
    assert.equal(unlock.code, 0, unlock.stderr);
    assert.equal((await logIn(browser(), 'ops-lockout', GOOD_PASSWORD)).status, 200);
  });

  test('issue3-6 A1: users set-email — reset mails go to the new address, older links end; a placeholder makes the account provisional', async () => {
    await requestReset(browser(), 'ops-mail', 'ops-mail@example.jp');
    const oldLink = linkOf(
      await portal.sink.waitFor((m) => m.to.includes('ops-mail@example.jp') && m.subject === SUBJECTS.reset),
    );

    const bad = await cli('users', 'set-email', 'ops-mail', 'not an address', '--reason', 'x');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Nothing changed: "not an address" is neither an address nor a placeholder/);
    assert.equal((await cli('users', 'set-email', 'ops-mail', 'ops-mail2@example.jp')).code, 2, 'a reason is required');
    assert.equal(user('ops-mail').email, 'ops-mail@example.jp');

    const set = await cli(
      'users',
      'set-email',
      'ops-mail',
      'ops-mail2@example.jp',
      '--reason',
      'コールセンター受付 5678',
    );
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout.trim(), 'Set the e-mail of ops-mail to ops-mail2@example.jp; open reset links have ended.');
    assert.equal(user('ops-mail').email, 'ops-mail2@example.jp');
    const [row] = auditOf('ops-mail', 'user.email_set');
    assert.equal(row!.actor, 'cli:tanaka');
    assert.deepEqual(JSON.parse(row!.detail), { reason: 'コールセンター受付 5678', provisional: false });
    assert.equal((await browser().open(pathOf(oldLink))).status, 410, 'the link sent to the old address has ended');
    await requestReset(browser(), 'ops-mail', 'ops-mail2@example.jp');
    await portal.sink.waitFor((m) => m.to.includes('ops-mail2@example.jp') && m.subject === SUBJECTS.reset);

    const placeholder = await cli(
      'users',
      'set-email',
      'ops-mail',
      'ops-mail@21',
      '--reason',
      '旧ポータルの状態に戻す',
    );
    assert.equal(placeholder.code, 0, placeholder.stderr);
    assert.match(placeholder.stdout, /\(a provisional placeholder: no mail will be sent\)/);
    assert.equal(user('ops-mail').status, 'provisional');
    const c = browser();
    const landed = await logIn(c, 'ops-mail', GOOD_PASSWORD);
    assert.ok(landed.text.includes(ja['account.provisional.heading']), 'the user must now give a real address first');
  });

  test('issue3-2 issue3-6: an account closed by a new registration of its code cannot be reopened by lock, unlock or set-email', async () => {
    // The code is held by a provisional account: the registration waits as a case (V5) until the call center
    // approves it after the call-back (V6); the approval closes the provisional account.
    const registrant = browser();
    assert.equal(
      (
        await register(registrant, {
          code: '2714001233',
          name: 'なにわ歯科医院',
          contact: '労働 花子',
          email: 'naniwa-new@example.jp',
        })
      ).status,
      200,
    );
    await registrant.open(pathOf(registrationLinkOf(await mailTo(portal, 'naniwa-new@example.jp', SUBJECTS.verify))));
    assert.equal((await registrant.submit({ password: 'Kaigan2026Shika', confirm: 'Kaigan2026Shika' })).status, 200);
    await mailTo(portal, 'naniwa-new@example.jp', SUBJECTS.casePending);
    assert.equal(
      (
        await cli(
          'operators',
          'create',
          '--username',
          'cli-support',
          '--password',
          OPERATOR_PASSWORD,
          '--role',
          'support',
        )
      ).code,
      0,
    );
    const desk = browser();
    assert.equal((await operatorLogin(desk, 'cli-support', OPERATOR_PASSWORD)).status, 303);
    const caseId = /href="\/admin\/registration-cases\/([A-Za-z0-9_-]+)"/.exec(
      (await desk.get('/admin/registration-cases')).body,
    )![1]!;
    await desk.get(`/admin/registration-cases/${caseId}`);
    const approved = await desk.post(`/admin/registration-cases/${caseId}/approve`, {
      calledRegisteredPhone: '1',
      institutionConfirmed: '1',
      contactConfirmed: '1',
      reason: '登録の電話へ折り返し確認',
    });
    assert.equal(approved.status, 303, approved.text.slice(0, 300));
    assert.equal(user('naniwa-shika').status, 'closed');
    for (const args of [
      ['unlock', 'naniwa-shika'],
      ['lock', 'naniwa-shika'],
      ['set-email', 'naniwa-shika', 'naniwa-old@example.jp'],
    ]) {
      const r = await cli('users', ...args, '--reason', '誤操作');
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr.trim(), 'Nothing changed: naniwa-shika is closed (superseded by a new registration).');
      assert.equal(user('naniwa-shika').status, 'closed', args.join(' '));
    }
    const open = query<{ username: string }>(
      "select username from users where institution_code = '2714001233' and status != 'closed'",
    );
    assert.equal(open.length, 1, 'one open account for the code');
    assert.match((await cli('users', 'show', 'naniwa-shika')).stdout, /^status {12}closed$/m);
  });

  test('B1: unknown subcommand, missing LOGIN and unknown options are refused with usage and exit 2, changing nothing', async () => {
    const unknown = await cli('users', 'delete', 'ops-clinic');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^Unknown users command\./);
    assert.match(unknown.stderr, /users set-email LOGIN EMAIL --reason TEXT/);
    const missing = await cli('users', 'lock');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^Missing LOGIN/);
    const option = await cli('users', 'lock', 'ops-chain', '--reason', 'x', '--force');
    assert.equal(option.code, 2);
    assert.match(option.stderr, /^Unknown option '--force'/);
    assert.match(option.stderr, /Usage: npm run cli -- <command>/);
    assert.equal(user('ops-chain').status, 'active');
    assert.deepEqual(auditOf('ops-chain', 'user.locked'), []);
  });
});
