/**
 * S12 (issue 10, item 12) in the console, on every database target: who set a lock is kept and shown; support
 * cannot lift a lock set by an admin or the CLI (the page says why, a POST is a 409 that changes and audits
 * nothing); a reset link — sent by support or not — changes the password but keeps an operator's lock;
 * ADMIN_ALLOW_CIDRS closes /admin to other addresses (as Fastify sees them under TRUST_PROXY); the migration
 * classifies the locks that existed before it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { lockUserIndefinitely } from '../../src/accounts/users.repository.ts';
import { migrateToLatest } from '../../src/db/database.ts';
import { dbTargets, freshDatabase } from '../helpers/db-targets.ts';
import { GOOD_PASSWORD, linkOf, pathOf, startTestPortal, type Client, type TestPortal } from '../helpers/test-app.ts';
import { logIn, mailTo, SUBJECTS, userRow } from '../helpers/accounts.ts';
import {
  auditRows,
  consoleAs,
  createOperator,
  detailOf,
  operatorLogin,
  type TestOperator,
} from '../helpers/operators.ts';

let ipSeq = 0;
function browser(p: TestPortal): Client {
  const c = p.client();
  c.ip = `10.46.${Math.floor(ipSeq / 250)}.${(ipSeq++ % 250) + 1}`;
  return c;
}

const origin = (key: 'failures' | 'support' | 'admin' | 'cli') =>
  `${ja['admin.user.lockedBy']} ${ja[`admin.lockOrigin.${key}`]}`;

for (const target of await dbTargets()) {
  describe(`S12 operators and locks [${target}]`, () => {
    let p: TestPortal;
    let admin: TestOperator;
    let support: TestOperator;
    before(async () => {
      p = await startTestPortal(target);
      admin = await createOperator(p, 'admin');
      support = await createOperator(p, 'support');
    });
    after(async () => {
      await p?.close();
    });

    const unlockedRows = async (userId: string) =>
      (await auditRows(p, 'support.unlocked')).filter((r) => r.user_id === userId).length;

    test('S12 A1: an admin locks from the console — sessions end, the lock shows who set it; support sees why it cannot unlock and a forced POST is a 409 with no change; the admin unlocks', async () => {
      const user = await p.createUser({ username: 's12-admin-lock' });
      const u = browser(p);
      assert.ok(
        (await logIn(u, 's12-admin-lock', GOOD_PASSWORD)).text.includes(ja['nav.logout']),
        'the user is logged in',
      );

      const a = await consoleAs(p, admin);
      await a.get(`/admin/users/${user.id}`);
      const locked = await a.post(`/admin/users/${user.id}/lock`, { reason: '不正利用の疑い' });
      assert.equal(locked.status, 200);
      assert.ok(locked.text.includes(ja['admin.status.lockedIndefinite']));
      assert.ok(locked.text.includes(origin('admin')));
      assert.ok(!(await u.get('/account')).text.includes(ja['nav.logout']), "the user's session ended");
      const lockRow = (await auditRows(p, 'support.locked')).find((r) => r.user_id === user.id)!;
      assert.equal(lockRow.actor, `operator:${admin.username}`);
      assert.deepEqual(detailOf(lockRow), { reason: '不正利用の疑い', sessionsEnded: 1, by: 'admin' });

      const s = await consoleAs(p, support);
      const page = await s.get(`/admin/users/${user.id}`);
      assert.ok(page.text.includes(origin('admin')));
      assert.ok(page.text.includes(ja['admin.user.lockHeldByAdmin']), 'the console says why');
      assert.ok(!page.body.includes(`action="/admin/users/${user.id}/unlock"`), 'no unlock form for support');
      const forced = await s.post(`/admin/users/${user.id}/unlock`, { reason: '本人から電話' });
      assert.equal(forced.status, 409);
      assert.ok(forced.text.includes(ja['admin.user.lockHeldByAdmin']));
      // Marking the address wrong would make the account provisional and so drop the lock: refused too.
      assert.ok(
        !page.body.includes(`action="/admin/users/${user.id}/mark-email-wrong"`),
        'no mark-wrong form while an operator lock holds',
      );
      const marked = await s.post(`/admin/users/${user.id}/mark-email-wrong`, { reason: '宛先不明' });
      assert.equal(marked.status, 409);
      assert.ok(marked.text.includes(ja['admin.user.unlockFirst']));
      assert.equal((await userRow(p, 's12-admin-lock'))!.status, 'locked');
      assert.equal(await unlockedRows(user.id), 0, 'nothing audited');
      assert.ok(!(await auditRows(p, 'support.email_marked_wrong')).some((r) => r.user_id === user.id));

      const done = await a.post(`/admin/users/${user.id}/unlock`, { reason: '確認済み' });
      assert.equal(done.status, 200);
      assert.ok(done.text.includes(ja['admin.status.active']));
      assert.equal((await userRow(p, 's12-admin-lock'))!.locked_by, null);
      assert.equal((await logIn(browser(p), 's12-admin-lock', GOOD_PASSWORD)).status, 200);
    });

    test('S12: a lock from the CLI is held against support too; a lock support set, support may lift', async () => {
      const cliLocked = await p.createUser({ username: 's12-cli-lock' });
      await lockUserIndefinitely(p.database.db, cliLocked.id, p.clock.now(), 'cli');
      const s = await consoleAs(p, support);
      const page = await s.get(`/admin/users/${cliLocked.id}`);
      assert.ok(page.text.includes(origin('cli')));
      assert.equal((await s.post(`/admin/users/${cliLocked.id}/unlock`, { reason: '依頼' })).status, 409);
      assert.equal(await unlockedRows(cliLocked.id), 0);

      const own = await p.createUser({ username: 's12-support-lock' });
      await s.get(`/admin/users/${own.id}`);
      const locked = await s.post(`/admin/users/${own.id}/lock`, { reason: '本人の依頼で一時停止' });
      assert.equal(locked.status, 200);
      assert.ok(locked.text.includes(origin('support')));
      assert.ok(locked.body.includes(`action="/admin/users/${own.id}/unlock"`), 'support may lift its own lock');
      assert.equal(
        (await s.post(`/admin/users/${own.id}/lock`, { reason: '二重' })).status,
        409,
        'already locked by an operator',
      );
      assert.equal((await s.post(`/admin/users/${own.id}/unlock`, { reason: '再開' })).status, 200);
      assert.equal((await userRow(p, 's12-support-lock'))!.status, 'active');
    });

    test('S12 C3: a reset link sent by support to an account the admin locked changes the password but keeps the lock', async () => {
      const user = await p.createUser({ username: 's12-reset-lock', email: 's12-reset-lock@example.jp' });
      const a = await consoleAs(p, admin);
      await a.get(`/admin/users/${user.id}`);
      assert.equal((await a.post(`/admin/users/${user.id}/lock`, { reason: '調査中' })).status, 200);
      const s = await consoleAs(p, support);
      await s.get(`/admin/users/${user.id}`);
      assert.equal((await s.post(`/admin/users/${user.id}/send-reset`, { reason: '本人から電話' })).status, 200);
      const mail = await mailTo(p, 's12-reset-lock@example.jp', SUBJECTS.reset);
      const b = browser(p);
      await b.open(pathOf(linkOf(mail)));
      const NEW = 'Renewed2026Pass';
      const done = await b.submit({ password: NEW, confirm: NEW });
      assert.ok(done.text.includes(ja['reset.done.heading']), 'the reset went through');
      const row = (await userRow(p, 's12-reset-lock'))!;
      assert.notEqual(row.password_hash, user.password_hash, 'the password changed');
      assert.equal(row.status, 'locked', 'the lock stays');
      assert.equal(row.locked_by, 'admin');
      assert.equal((await logIn(browser(p), 's12-reset-lock', NEW)).status, 401, 'still no login');
      const completed = (await auditRows(p, 'password_reset.completed')).find((r) => r.user_id === user.id)!;
      assert.equal(detailOf(completed).unlocked, false);
      const page = await s.get(`/admin/users/${user.id}`);
      assert.ok(page.text.includes(origin('admin')), 'the console still shows who locked it');
    });

    test('S12 L2: a lock from failed logins is shown as such, and support may lift it', async () => {
      const user = await p.createUser({ username: 's12-failures' });
      for (let i = 0; i < p.config.lockoutThreshold; i++) await logIn(browser(p), 's12-failures', 'Wrong2026Pass');
      assert.equal((await userRow(p, 's12-failures'))!.locked_by, 'failures');
      const s = await consoleAs(p, support);
      const page = await s.get(`/admin/users/${user.id}`);
      assert.ok(page.text.includes(origin('failures')));
      assert.equal((await s.post(`/admin/users/${user.id}/unlock`, { reason: '本人確認済み' })).status, 200);
    });
  });

  describe(`S12 ADMIN_ALLOW_CIDRS [${target}]`, () => {
    let p: TestPortal;
    let admin: TestOperator;
    before(async () => {
      p = await startTestPortal(target, {
        env: { ADMIN_ALLOW_CIDRS: '192.0.2.0/24, 2001:db8::/32', TRUST_PROXY: '127.0.0.1' },
      });
      admin = await createOperator(p, 'admin');
    });
    after(async () => {
      await p?.close();
    });

    const from = (ip: string) => {
      const c = p.client();
      c.ip = ip;
      return c;
    };

    test('S12 from outside the list every /admin request is a 403 page with no login form, and no login is attempted; public pages are unaffected', async () => {
      const outside = from('198.51.100.5');
      for (const url of ['/admin/login', '/admin', '/admin/users', '/admin/nothing-here']) {
        const r = await outside.get(url);
        assert.equal(r.status, 403, url);
        assert.match(r.body, /<html lang="ja">/);
        assert.ok(r.text.includes(ja['error.adminAddress']), url);
        assert.ok(!r.body.includes('name="password"'), `${url}: no login form`);
      }
      const posted = await outside.post('/admin/login', {
        username: admin.username,
        password: admin.password,
        _csrf: 'x',
      });
      assert.equal(posted.status, 403);
      assert.ok(!(await auditRows(p, 'admin.login')).some((r) => r.ip === '198.51.100.5'), 'no login attempt');
      assert.equal((await outside.get('/login')).status, 200, 'the public login page answers');
    });

    test('S12 inside the list the console works; behind the trusted proxy the forwarded address decides, from elsewhere a forged header does not help', async () => {
      const inside = from('192.0.2.10');
      assert.equal((await inside.get('/admin/login')).status, 200);
      assert.equal((await operatorLogin(inside, admin.username, admin.password)).location, '/admin');
      assert.equal((await from('2001:db8::7').get('/admin/login')).status, 200, 'IPv6 range');
      const proxy = from('127.0.0.1');
      assert.equal((await proxy.get('/admin/login', { 'x-forwarded-for': '192.0.2.20' })).status, 200);
      assert.equal((await proxy.get('/admin/login', { 'x-forwarded-for': '198.51.100.5' })).status, 403);
      assert.equal((await proxy.get('/admin/login')).status, 403, 'the proxy itself is not in the list');
      assert.equal(
        (await from('198.51.100.5').get('/admin/login', { 'x-forwarded-for': '192.0.2.20' })).status,
        403,
        'an untrusted peer cannot forward',
      );
      // A console session opened inside the list is refused too once the address is outside.
      const moved = inside;
      moved.ip = '198.51.100.9';
      assert.equal((await moved.get('/admin')).status, 403);
    });
  });

  test(`S12 the migration classifies existing locks: with an end → failures, without → cli [${target}]`, async () => {
    const database = await freshDatabase(target, '2026-11-24T1900_reset_requests');
    try {
      const base = {
        user_id: null,
        account_type: 'institution',
        display_name: 'x',
        institution_code: null,
        password_hash: 'h',
        failed_logins: 0,
        created_at: 1,
        updated_at: 1,
        password_changed_at: 1,
        institution_name: null,
        phone: null,
        legacy_hash: null,
        email_verified_at: null,
      };
      await database.db
        .insertInto('users')
        .values([
          {
            ...base,
            id: 'u1',
            username: 'temp-locked',
            email: 'a@example.jp',
            status: 'locked',
            locked_until: Date.now() + 60_000,
          },
          { ...base, id: 'u2', username: 'cli-locked', email: 'b@example.jp', status: 'locked', locked_until: null },
          { ...base, id: 'u3', username: 'fine', email: 'c@example.jp', status: 'active', locked_until: null },
        ] as never)
        .execute();
      await migrateToLatest(database.db);
      const rows = await database.db
        .selectFrom('users')
        .select(['username', 'locked_by'])
        .orderBy('username')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.username, r.locked_by]),
        [
          ['cli-locked', 'cli'],
          ['fine', null],
          ['temp-locked', 'failures'],
        ],
      );
    } finally {
      await database.drop();
    }
  });
}
