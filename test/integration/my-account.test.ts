/**
 * アカウント情報 (issue 3 §5), on every database target: the details and recent security events; change of e-mail
 * (new address verified by link, old address notified, open reset links end); change of password (current
 * password required, policy applied, other sessions ended, notice mail: C1, C3, C4, L5, A1).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { GOOD_PASSWORD, linkOf, pathOf, requestReset, startTestPortal, type Client, type TestPortal } from '../helpers/test-app.ts';
import { emailLinkOf, fieldErrors, logIn, mailTo, mailsTo, outboxTo, SUBJECTS, userRow } from '../helpers/accounts.ts';

const NEW_PASSWORD = 'Henkou2026Pass';

let ipSeq = 0;
function browser(p: TestPortal): Client {
  const c = p.client();
  c.ip = `10.33.${Math.floor(ipSeq / 250)}.${(ipSeq++ % 250) + 1}`;
  return c;
}

const targets = await dbTargets();
for (const target of targets) {
  describe(`my account [${target}]`, () => {
    let p: TestPortal;
    before(async () => { p = await startTestPortal(target); });
    after(async () => { await p.close(); });

    test('L4: without a session the account pages lead to the login page', async () => {
      const c = browser(p);
      for (const path of ['/account', '/account/email', '/account/password']) {
        const page = await c.get(path);
        assert.equal(page.status, 303, path);
        assert.equal(page.location, '/login?m=loginRequired', path);
      }
      const login = await c.open('/account');
      assert.ok(login.text.includes(ja['account.loginRequired']));
    });

    test('A1: the details, and recent logins and security events with their address', async () => {
      await p.createUser({ username: 'me-view', email: 'me-view@example.jp', displayName: '閲覧 太郎', institutionCode: '3410712362', institutionName: '閲覧医院', phone: '03-1111-2222' });
      const failing = browser(p);
      await logIn(failing, 'me-view', 'WrongPass2026');
      const c = browser(p);
      await logIn(c, 'me-view', GOOD_PASSWORD);
      const page = await c.open('/account');
      assert.equal(page.status, 200);
      assert.match(String(page.headers['cache-control']), /no-store/);
      for (const [label, value] of [
        [ja['account.username'], 'me-view'], [ja['account.type'], ja['reg.type.institution']], [ja['account.institutionCode'], '3410712362'],
        [ja['account.institutionName'], '閲覧医院'], [ja['account.contactName'], '閲覧 太郎'], [ja['account.email'], 'me-view@example.jp'], [ja['account.phone'], '03-1111-2222'],
      ]) assert.ok(page.text.includes(`${label} ${value}`), `${label}: ${value}`);
      assert.ok(!page.text.includes(ja['account.userId']), 'no ユーザーID row for an institution user');
      assert.ok(page.text.includes(`${ja['event.login.ok']} ${c.ip}`), 'the login, with its address');
      assert.ok(page.text.includes(`${ja['event.login.failed']} ${failing.ip}`), 'the failed attempt, with its address');
    });

    test('issue3-5 T3 C3 A1: change of e-mail — link to the new address, notice to the old, open reset links end', async () => {
      const user = await p.createUser({ username: 'me-mail', email: 'me-old@example.jp' });
      const c = browser(p);
      await logIn(c, 'me-mail', GOOD_PASSWORD);
      await requestReset(browser(p), 'me-mail', 'me-old@example.jp');
      const resetLink = linkOf(await mailTo(p, 'me-old@example.jp', SUBJECTS.reset));

      const form = await c.open('/account/email');
      assert.ok(form.text.includes(ja['account.email.current'].replace('{email}', 'me-old@example.jp')));
      assert.deepEqual(fieldErrors(await c.submit({ email: '' }), 'email'), [ja['reg.required'].replace('{label}', ja['account.email.new'])]);
      assert.deepEqual(fieldErrors(await c.submit({ email: 'ME-OLD@example.jp' }), 'email'), [ja['account.email.same']]);
      assert.deepEqual(fieldErrors(await c.submit({ email: 'me new@example' }), 'email'), [ja['reset.emailInvalid']]);
      const sent = await c.submit({ email: 'me-new@example.jp' });
      assert.equal(sent.status, 200);
      assert.ok(sent.text.includes(ja['account.email.sent'].replace('{email}', 'me-new@example.jp')));
      const link = emailLinkOf(await mailTo(p, 'me-new@example.jp', SUBJECTS.emailVerify));
      assert.equal((await userRow(p, 'me-mail'))!.email, 'me-old@example.jp', 'unchanged until confirmed');

      // The link works in the browser that opens it (the mailbox's owner); a GET only shows the confirmation.
      const opener = browser(p);
      const confirm = await opener.open(pathOf(link));
      assert.ok(confirm.text.includes(ja['account.email.confirmHeading']));
      assert.equal((await userRow(p, 'me-mail'))!.email, 'me-old@example.jp');
      const done = await opener.submit({});
      assert.ok(done.text.includes(ja['account.email.done']));
      assert.equal((await userRow(p, 'me-mail'))!.email, 'me-new@example.jp');

      const notice = await mailTo(p, 'me-old@example.jp', SUBJECTS.emailChanged);
      assert.ok(notice.text.includes('アカウント「me-mail」のメールアドレスが m***@example.jp に変更されました。'));
      assert.ok(!notice.text.includes('me-new@example.jp'), 'the new address is masked in the notice');
      const again = await browser(p).get(pathOf(link));
      assert.equal(again.status, 410, 'the link is used up');

      // The reset link sent to the old address no longer works.
      const stale = await browser(p).open(pathOf(resetLink));
      assert.equal(stale.status, 410);
      const account = await c.open('/account');
      assert.ok(account.text.includes(`${ja['account.email']} me-new@example.jp`));
      assert.ok(account.text.includes(ja['event.email.changed']));
      const events = (await p.audit()).filter((a) => a.user_id === user.id).map((a) => `${a.event}:${a.outcome}`);
      assert.ok(events.includes('email.change_requested:mail_queued'));
      assert.ok(events.includes('email.changed:ok'));
    });

    test('issue3-5 R3: more than 3 change-of-address mails an hour to one address are refused with 429', async () => {
      await p.createUser({ username: 'me-many', email: 'me-many@example.jp' });
      const c = browser(p);
      await logIn(c, 'me-many', GOOD_PASSWORD);
      await c.open('/account/email');
      for (let i = 0; i < 3; i++) assert.equal((await c.submit({ email: 'me-many-new@example.jp' })).status, 200);
      const refused = await c.submit({ email: 'me-many-new@example.jp' });
      assert.equal(refused.status, 429);
      assert.deepEqual(fieldErrors(refused, 'email'), [ja['account.email.tooMany']]);
      assert.equal((await outboxTo(p, 'me-many-new@example.jp')).length, 3);
      // A newer link cancels the older ones.
      await p.sink.waitFor(() => mailsTo(p, 'me-many-new@example.jp').length === 3);
      const [first, , last] = mailsTo(p, 'me-many-new@example.jp').map(emailLinkOf);
      assert.equal((await browser(p).get(pathOf(first!))).status, 410);
      assert.equal((await browser(p).get(pathOf(last!))).status, 303);
    });

    test('C1 C3 C4 L5 A1: change of password — current password required, policy named, other sessions end, notice mail', async () => {
      const user = await p.createUser({ username: 'me-pass', email: 'me-pass@example.jp', displayName: '変更 花子' });
      const c = browser(p);
      const other = browser(p);
      await logIn(c, 'me-pass', GOOD_PASSWORD);
      await logIn(other, 'me-pass', GOOD_PASSWORD);
      const form = await c.open('/account/password');
      assert.match(form.body, /autocomplete="current-password"/);
      assert.match(form.body, /autocomplete="new-password"/);

      const noCsrf = await c.post('/account/password', { current: GOOD_PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD }, { csrf: false });
      assert.equal(noCsrf.status, 403);

      await c.open('/account/password');
      const wrong = await c.submit({ current: 'NotMine2026Pass', password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      assert.equal(wrong.status, 400);
      assert.deepEqual(fieldErrors(wrong, 'current-password'), [ja['account.password.currentWrong']]);
      const weak = await c.submit({ current: GOOD_PASSWORD, password: 'alllowercase', confirm: 'different' });
      assert.ok(fieldErrors(weak, 'new-password').includes(ja['policy.needUpper']));
      assert.ok(fieldErrors(weak, 'new-password').includes(ja['policy.needDigit']));
      assert.deepEqual(fieldErrors(weak, 'confirm-password'), [ja['reset.mismatch']]);
      const withName = await c.submit({ current: GOOD_PASSWORD, password: 'Me-pass2026X', confirm: 'Me-pass2026X' });
      assert.ok(fieldErrors(withName, 'new-password').includes(ja['policy.containsUsername']), 'P1: not the username');
      assert.ok(await p.audit('password.changed').then((rows) => rows.some((a) => a.user_id === user.id && a.outcome === 'wrong_current')));
      assert.equal((await logIn(browser(p), 'me-pass', GOOD_PASSWORD)).status, 200, 'refused attempts change nothing');

      const ok = await c.post('/account/password', { current: GOOD_PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      assert.equal(ok.status, 303);
      assert.equal(ok.location, '/account?m=password');
      const account = await c.open(ok.location!);
      assert.ok(account.text.includes(ja['account.password.done']), 'this session stays');
      assert.ok(account.text.includes(ja['event.password.changed']));
      assert.ok(account.text.includes(ja['event.password.changeFailed']));
      const ended = await other.get('/account');
      assert.equal(ended.location, '/login?m=loginRequired', 'the other session has ended');

      const mail = await mailTo(p, 'me-pass@example.jp', SUBJECTS.passwordChanged);
      assert.ok(mail.text.includes('アカウント「me-pass」のパスワードが変更されました'));
      assert.ok(!mail.text.includes(NEW_PASSWORD));
      assert.equal((await logIn(browser(p), 'me-pass', GOOD_PASSWORD)).status, 401);
      assert.equal((await logIn(browser(p), 'me-pass', NEW_PASSWORD)).status, 200);
      const row = (await p.audit('password.changed')).find((a) => a.user_id === user.id && a.outcome === 'ok');
      assert.ok(row && JSON.parse(row.detail!).otherSessionsEnded >= 1);
      assert.ok(!JSON.stringify(await p.audit()).includes(NEW_PASSWORD), 'no password in the audit');
    });
  });
}
