/**
 * The call center's lookup (issue 4 §2), on every database target: search by username, user ID, institution code,
 * e-mail or name; the account page (status, logins and failures, each reset attempt with its outcome, mails with
 * their history); unknown-user attempts listed by what was typed; the three actions, each with its reason, its
 * audit row (A1) and its effect (L2 unlock, R3/T2 send-reset, R1 mark-email-wrong).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { jstTime } from '../../src/admin/admin-layout.tsx';
import { dbTargets } from '../helpers/db-targets.ts';
import {
  BASE_URL,
  GOOD_PASSWORD,
  linkOf,
  pathOf,
  requestReset,
  startTestPortal,
  type Client,
  type TestPortal,
} from '../helpers/test-app.ts';
import { fieldErrors, logIn, mailTo, outboxTo, SUBJECTS, userRow } from '../helpers/accounts.ts';
import { auditRows, consoleAs, createOperator, detailOf, tableAfter, type TestOperator } from '../helpers/operators.ts';

let ipSeq = 0;
function browser(p: TestPortal): Client {
  const c = p.client();
  c.ip = `10.45.${Math.floor(ipSeq / 250)}.${(ipSeq++ % 250) + 1}`;
  return c;
}

/** The sentence the account page says for a reset attempt's outcome (issue 11 item 5). */
const outcome = (
  o: 'mail_queued' | 'unknown_user' | 'provisional_address' | 'email_mismatch' | 'rate_limited.account',
) => ja[`audit.password_reset.requested.${o}`];
const VISITOR = ja['audit.actor.visitor'];

const targets = await dbTargets();
for (const target of targets) {
  describe(`call-center lookup [${target}]`, () => {
    let p: TestPortal;
    let op: TestOperator;
    let c: Client;
    before(async () => {
      p = await startTestPortal(target, { env: { RESET_MAILS_PER_ACCOUNT_PER_HOUR: '1' } });
      op = await createOperator(p, 'support', 'cc-sato', 'コールセンター佐藤');
    });
    after(async () => {
      await p.close();
    });
    /** A fresh console session per test (the clock moves in some). */
    const login = async () => {
      c = await consoleAs(p, op);
    };

    test('issue4-2: search by username, user ID, institution code, e-mail, name or institution name finds the account', async () => {
      await login();
      const inst = await p.createUser({
        username: 'cc-find',
        email: 'Find.Me@Example.jp',
        displayName: '検索 花子',
        institutionCode: '1310123458',
        institutionName: '検索クリニック',
      });
      const coord = await p.createUser({
        username: 'cc-coord',
        coordinator: true,
        userId: 't99887766',
        email: 'coord@example.jp',
      });
      const cases: Array<[string, string]> = [
        ['cc-find', inst.id],
        ['CC-FIND', inst.id],
        ['t99887766', coord.id],
        ['1310123458', inst.id],
        ['find.me@example.jp', inst.id],
        ['花子', inst.id],
        ['検索クリニック', inst.id],
      ];
      for (const [q, id] of cases) {
        const page = await c.get(`/admin/users?q=${encodeURIComponent(q)}`);
        assert.equal(page.status, 200, q);
        assert.ok(page.body.includes(`href="/admin/users/${id}"`), `「${q}」 finds the account`);
      }
      const [row] = tableAfter(await c.get('/admin/users?q=1310123458'));
      assert.deepEqual(row, [
        'cc-find',
        '-',
        '1310123458',
        '検索 花子 / 検索クリニック',
        'Find.Me@Example.jp',
        ja['admin.status.active'],
      ]);
      const none = await c.get('/admin/users?q=zz-nobody-here');
      assert.ok(none.text.includes(ja['admin.users.none']));
      assert.ok(none.text.includes(ja['admin.users.noAttempts']));
    });

    test('issue4-2 A1: the account page shows status, failed logins, the recent logins and failures, and viewing it is audited', async () => {
      await login();
      const user = await p.createUser({ username: 'cc-status', email: 'cc-status@example.jp' });
      let page = await c.get(`/admin/users/${user.id}`);
      assert.ok(page.text.includes(`${ja['admin.col.status']} ${ja['admin.status.active']}`));
      assert.equal((await auditRows(p, 'support.viewed')).at(-1)!.user_id, user.id);
      assert.equal((await auditRows(p, 'support.viewed')).at(-1)!.actor, `operator:${op.username}`);

      const u = browser(p);
      assert.equal((await logIn(u, 'cc-status', GOOD_PASSWORD)).status, 200);
      for (let i = 0; i < 2; i++) await logIn(browser(p), 'cc-status', 'Wrong2026Pass');
      page = await c.get(`/admin/users/${user.id}`);
      const failed = (n: number) =>
        `${ja['admin.user.failedLogins']} ${ja['admin.user.failedCount'].replace('{n}', String(n)).replace('{threshold}', String(p.config.lockoutThreshold))}`;
      assert.ok(page.text.includes(failed(2)), 'two failures from unfamiliar addresses');
      for (let i = 2; i < p.config.lockoutThreshold; i++) await logIn(browser(p), 'cc-status', 'Wrong2026Pass');
      const locked = (await userRow(p, 'cc-status'))!;
      assert.ok(locked.locked_until);
      page = await c.get(`/admin/users/${user.id}`);
      assert.ok(
        page.text.includes(
          ja['admin.status.lockedUntil'].replace('{until}', `${jstTime(locked.locked_until).slice(0, 16)} (JST)`),
        ),
        'ロック中（… (JST) まで）, in minutes as on the rest of the page',
      );
      const logins = tableAfter(page, ja['admin.user.logins']);
      const until = `${jstTime(locked.locked_until).slice(0, 16)} (JST)`;
      assert.deepEqual(
        logins.map((r) => [r[1], r[2]]),
        [
          [ja['audit.account.locked.temporary'].replace('{until}', until), VISITOR],
          ...Array.from({ length: p.config.lockoutThreshold }, () => [ja['audit.login.bad_password'], VISITOR]),
          [ja['audit.login.ok'], VISITOR],
        ],
      );
      assert.ok(!page.text.includes('account.locked') && !page.text.includes('"until"'), 'no event code, no JSON');
      assert.equal(logins.at(-1)![3], u.ip, 'where the login came from');
    });

    test('issue4-2 R1 A1: each reset attempt is listed with its outcome — mail queued, e-mail mismatch, rate-limited, provisional address', async () => {
      await login();
      const user = await p.createUser({ username: 'cc-outcomes', email: 'cc-outcomes@example.jp' });
      await requestReset(browser(p), 'cc-outcomes', 'cc-outcomes@example.jp');
      await requestReset(browser(p), 'cc-outcomes', 'someone-else@example.jp');
      await requestReset(browser(p), 'cc-outcomes', 'cc-outcomes@example.jp'); // over RESET_MAILS_PER_ACCOUNT_PER_HOUR=1
      await mailTo(p, 'cc-outcomes@example.jp', SUBJECTS.reset);
      await p.app.mailWorker.runOnce();
      const page = await c.get(`/admin/users/${user.id}`);
      const resets = tableAfter(page, ja['admin.user.resets']);
      assert.deepEqual(
        resets.map((r) => r[1]),
        [outcome('rate_limited.account'), outcome('email_mismatch'), outcome('mail_queued')],
      );
      // The mail that went out, with its delivery history.
      const mails = tableAfter(page, ja['admin.user.mails']);
      assert.equal(mails.length, 1);
      assert.deepEqual(mails[0]!.slice(1, 5), [
        ja['admin.mailKind.password_reset'],
        'cc-outcomes@example.jp',
        ja['admin.mailStatus.sent'],
        '1',
      ]);
      assert.match(
        mails[0]![5]!,
        new RegExp(`\\(JST\\) ${ja['audit.mailEvent.queued']} .* \\(JST\\) ${ja['audit.mailEvent.sent']}$`),
      );

      const prov = await p.createUser({ username: 'cc-prov', email: 'cc-prov@13' });
      await requestReset(browser(p), 'cc-prov', 'cc-prov@example.jp');
      const provPage = await c.get(`/admin/users/${prov.id}`);
      assert.ok(provPage.text.includes(`${ja['admin.col.status']} ${ja['admin.status.provisional']}`));
      assert.deepEqual(
        tableAfter(provPage, ja['admin.user.resets']).map((r) => r[1]),
        [outcome('provisional_address')],
      );
      assert.ok(provPage.text.includes(ja['admin.user.none']), 'no mail');
      assert.ok(provPage.text.includes(ja['admin.user.cannotSend']));
      assert.ok(
        !provPage.body.includes(`/admin/users/${prov.id}/send-reset`),
        'no send-reset form for a provisional account',
      );
    });

    test('issue4-2 R1: attempts for an unknown user are listed on the search page by the identifier typed', async () => {
      await login();
      const who = browser(p);
      await requestReset(who, 'No-Such-Clinic', 'x@example.jp');
      const page = await c.get(`/admin/users?q=${encodeURIComponent('no-such-clinic')}`);
      assert.ok(page.text.includes(ja['admin.users.none']));
      const heading = ja['admin.users.attemptsByIdentifier'].replace('{q}', 'no-such-clinic');
      const rows = tableAfter(page, heading);
      assert.deepEqual(
        rows.map((r) => [r[1], r[2], r[3]]),
        [[outcome('unknown_user'), VISITOR, who.ip]],
      );
    });

    test('L2 A1: unlock — a reason is required (400, nothing changes); with one, the account is unlocked, audited, and the user can log in', async () => {
      await login();
      const user = await p.createUser({ username: 'cc-unlock', email: 'cc-unlock@example.jp' });
      for (let i = 0; i < p.config.lockoutThreshold; i++) await logIn(browser(p), 'cc-unlock', 'Wrong2026Pass');
      assert.equal((await logIn(browser(p), 'cc-unlock', GOOD_PASSWORD)).status, 401, 'locked');
      await c.get(`/admin/users/${user.id}`);
      const noReason = await c.post(`/admin/users/${user.id}/unlock`, { reason: '   ' });
      assert.equal(noReason.status, 400);
      assert.deepEqual(fieldErrors(noReason, 'reason-unlock'), [ja['admin.reasonRequired']]);
      assert.match(noReason.body, /id="reason-unlock"[^>]*aria-invalid="true"/);
      assert.equal((await auditRows(p, 'support.unlocked')).filter((r) => r.user_id === user.id).length, 0);
      assert.equal((await userRow(p, 'cc-unlock'))!.status, 'locked');

      const done = await c.post(`/admin/users/${user.id}/unlock`, { reason: '電話で本人確認済み' });
      assert.equal(done.status, 200);
      assert.ok(done.text.includes(ja['admin.done'].replace('{what}', ja['admin.user.unlock'])));
      assert.ok(done.text.includes(`${ja['admin.col.status']} ${ja['admin.status.active']}`));
      const row = (await auditRows(p, 'support.unlocked')).find((r) => r.user_id === user.id)!;
      assert.equal(row.actor, `operator:${op.username}`);
      assert.equal(detailOf(row).reason, '電話で本人確認済み');
      assert.equal(row.ip, c.ip);
      const u = browser(p);
      const landed = await logIn(u, 'cc-unlock', GOOD_PASSWORD);
      assert.equal(landed.status, 200);
      assert.ok(landed.text.includes(ja['nav.logout']), 'logged in');
    });

    test('L2 A1: unlock is offered only when there is something to clear; a hand-made unlock of an unlocked account is a 409 that changes and audits nothing', async () => {
      await login();
      const user = await p.createUser({ username: 'cc-fine', email: 'cc-fine@example.jp' });
      const page = await c.get(`/admin/users/${user.id}`);
      assert.ok(page.text.includes(ja['admin.user.notLocked']));
      assert.ok(!page.body.includes(`action="/admin/users/${user.id}/unlock"`), 'no unlock form');
      assert.ok(page.body.includes(`action="/admin/users/${user.id}/send-reset"`), 'the other actions stay');
      const refused = await c.post(`/admin/users/${user.id}/unlock`, { reason: '念のため' });
      assert.equal(refused.status, 409);
      assert.ok(refused.text.includes(ja['admin.user.notLocked']));
      assert.equal((await auditRows(p, 'support.unlocked')).filter((r) => r.user_id === user.id).length, 0);

      // One failed login is something to clear: the form appears.
      await logIn(browser(p), 'cc-fine', 'Wrong2026Pass');
      const failed = await c.get(`/admin/users/${user.id}`);
      assert.ok(failed.body.includes(`action="/admin/users/${user.id}/unlock"`), 'unlock form after a failure');
      assert.equal((await c.post(`/admin/users/${user.id}/unlock`, { reason: '失敗回数のリセット' })).status, 200);
      assert.equal((await userRow(p, 'cc-fine'))!.failed_logins, 0);
    });

    test('A1: a closed account (superseded by a new registration) offers no action, and none can be forced: 409, it stays closed, no mail, no audit', async () => {
      await login();
      const user = await p.createUser({ username: 'cc-closed', email: 'cc-closed@example.jp' });
      await p.database.db.updateTable('users').set({ status: 'closed' }).where('id', '=', user.id).execute();
      const page = await c.get(`/admin/users/${user.id}`);
      assert.equal(page.status, 200);
      assert.ok(page.text.includes(ja['admin.user.closedNoActions']));
      for (const action of ['unlock', 'send-reset', 'mark-email-wrong'])
        assert.ok(!page.body.includes(`/admin/users/${user.id}/${action}"`), `no ${action} form`);
      const supportRows = async () =>
        (await auditRows(p)).filter(
          (r) => r.user_id === user.id && r.event.startsWith('support.') && r.event !== 'support.viewed',
        ).length;
      for (const action of ['unlock', 'send-reset', 'mark-email-wrong']) {
        const res = await c.post(`/admin/users/${user.id}/${action}`, { reason: '本人から電話' });
        assert.equal(res.status, 409, action);
        assert.ok(res.text.includes(ja['admin.user.closedNoActions']), action);
      }
      const row = (await userRow(p, 'cc-closed'))!;
      assert.equal(row.status, 'closed');
      assert.equal(row.email, 'cc-closed@example.jp');
      assert.equal(await supportRows(), 0);
      assert.deepEqual(await outboxTo(p, 'cc-closed@example.jp'), []);
    });

    test('T1 T4 A1: send-reset queues the seed mail with a working link to the registered address, audited with the reason', async () => {
      await login();
      const user = await p.createUser({ username: 'cc-send', email: 'cc-send@example.jp' });
      await c.get(`/admin/users/${user.id}`);
      const done = await c.post(`/admin/users/${user.id}/send-reset`, { reason: '問い合わせ番号1234 本人依頼' });
      assert.equal(done.status, 200);
      assert.ok(done.text.includes(ja['admin.done'].replace('{what}', ja['admin.user.sendReset'])));
      const mail = await mailTo(p, 'cc-send@example.jp', SUBJECTS.reset);
      const link = linkOf(mail);
      assert.ok(link.startsWith(`${BASE_URL}/passwordreset.do?sysparm_tiny=`));
      const stage3 = await browser(p).open(pathOf(link));
      assert.equal(stage3.status, 200);
      assert.ok(stage3.text.includes(ja['reset.reset.heading']));
      const row = (await auditRows(p, 'support.reset_sent')).find((r) => r.user_id === user.id)!;
      assert.equal(row.actor, `operator:${op.username}`);
      assert.equal(row.outcome, 'mail_queued');
      assert.equal(detailOf(row).reason, '問い合わせ番号1234 本人依頼');
      const [queued] = await p.database.db.selectFrom('outbox').select('id').where('user_id', '=', user.id).execute();
      assert.equal(detailOf(row).mailId, queued!.id);
      assert.ok(!JSON.stringify(row).includes(link.slice(-32)), 'no token in the audit trail');
      await p.app.mailWorker.runOnce();
      const page = await c.get(`/admin/users/${user.id}`);
      assert.deepEqual(
        tableAfter(page, ja['admin.user.resets']).map((r) => [r[1], r[2]]),
        [
          [ja['audit.password_reset.link_opened.valid'], VISITOR],
          [
            `${ja['audit.support.reset_sent.mail_queued']} ${ja['audit.reason'].replace('{reason}', '問い合わせ番号1234 本人依頼')}`,
            `オペレーター ${op.username}`,
          ],
        ],
      );
    });

    test('R1 A1: mark-email-wrong — the next reset sends nothing (provisional_address), an older link stops working, and login leads to /account/email', async () => {
      await login();
      const user = await p.createUser({ username: 'cc-wrong', email: 'cc-wrong@example.jp' });
      await requestReset(browser(p), 'cc-wrong', 'cc-wrong@example.jp');
      const earlier = await mailTo(p, 'cc-wrong@example.jp', SUBJECTS.reset);
      await c.get(`/admin/users/${user.id}`);
      const done = await c.post(`/admin/users/${user.id}/mark-email-wrong`, { reason: '宛先不明で返送' });
      assert.equal(done.status, 200);
      assert.ok(done.text.includes(ja['admin.done'].replace('{what}', ja['admin.user.markWrong'])));
      assert.ok(done.text.includes(`${ja['admin.col.status']} ${ja['admin.status.provisional']}`));
      assert.ok(done.text.includes(ja['admin.user.cannotSend']));
      const row = (await auditRows(p, 'support.email_marked_wrong')).find((r) => r.user_id === user.id)!;
      assert.equal(row.actor, `operator:${op.username}`);
      assert.equal(detailOf(row).reason, '宛先不明で返送');

      const old = await browser(p).open(pathOf(linkOf(earlier)));
      assert.ok(old.text.includes(ja['reset.link.heading']), 'the link mailed before no longer works');
      const before = (await outboxTo(p, 'cc-wrong@example.jp')).length;
      const again = await requestReset(browser(p), 'cc-wrong', 'cc-wrong@example.jp');
      assert.equal(again.status, 200);
      assert.ok(again.text.includes(ja['reset.sent.heading']), 'the usual page (R1)');
      assert.equal(
        (await auditRows(p, 'password_reset.requested')).filter((r) => r.user_id === user.id).at(-1)!.outcome,
        'provisional_address',
      );
      assert.equal((await outboxTo(p, 'cc-wrong@example.jp')).length, before, 'nothing queued');

      const u = browser(p);
      const landed = await logIn(u, 'cc-wrong', GOOD_PASSWORD);
      assert.ok(landed.text.includes(ja['account.provisional.heading']), 'the login lands on the address form');
      assert.equal((await u.get('/csm')).location, '/account/email');

      const refused = await c.post(`/admin/users/${user.id}/send-reset`, { reason: 'もう一度' });
      assert.equal(refused.status, 409, 'no reset link to an address marked wrong');
      assert.equal((await outboxTo(p, 'cc-wrong@example.jp')).length, before);
    });

    test('B1: an unknown account or action is a 404 page; a form field sent twice is a 400; nothing is audited', async () => {
      await login();
      const user = await p.createUser({ username: 'cc-b1' });
      await c.get(`/admin/users/${user.id}`);
      const _csrf = c.csrf();
      const before = (await auditRows(p)).filter((r) => r.event.startsWith('support.')).length;
      const missing = await c.get('/admin/users/no-such-id');
      assert.equal(missing.status, 404);
      // In the console's own layout (its menu and the way back), not the public site's.
      assert.match(missing.body, /<body class="admin"/);
      assert.ok(missing.text.includes(ja['admin.toConsoleTop']));
      assert.ok(missing.text.includes(ja['error.title']));
      const noRoute = await c.get('/admin/no-such-page');
      assert.equal(noRoute.status, 404);
      assert.match(noRoute.body, /<body class="admin"/);
      assert.equal((await c.get('/admin/users/..%2f..%2fetc')).status, 404);
      assert.equal((await c.post(`/admin/users/${user.id}/delete`, { _csrf, reason: 'x' })).status, 404);
      assert.equal((await c.post('/admin/users/no-such-id/unlock', { _csrf, reason: 'x' })).status, 404);
      const twice = await c.post(
        `/admin/users/${user.id}/unlock`,
        {},
        { payload: `_csrf=${encodeURIComponent(_csrf)}&reason=a&reason=b`, csrf: false },
      );
      assert.equal(twice.status, 400);
      assert.equal((await auditRows(p)).filter((r) => r.event.startsWith('support.')).length, before);
    });
  });
}
