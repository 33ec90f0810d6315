/**
 * アカウント情報 (issue 3 §5), on every database target: the details and recent security events; change of e-mail
 * (new address verified by link, old address notified, open reset links end); change of password (current
 * password required, policy applied, other sessions ended, notice mail: C1, C3, C4, L5, A1).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import {
  GOOD_PASSWORD,
  linkOf,
  pathOf,
  requestReset,
  startTestPortal,
  type Client,
  type TestPortal,
} from '../helpers/test-app.ts';
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
    before(async () => {
      p = await startTestPortal(target);
    });
    after(async () => {
      await p.close();
    });

    test('L4: without a session the account pages lead to the login page', async () => {
      const c = browser(p);
      for (const path of ['/account', '/account/email', '/account/password']) {
        const page = await c.get(path);
        assert.equal(page.status, 303, path);
        assert.equal(page.location, `/login?m=loginRequired&next=${encodeURIComponent(path)}`, path);
      }
      const login = await c.open('/account');
      assert.ok(login.text.includes(ja['account.loginRequired']));
    });

    test('A1: the details, and recent logins and security events with their address', async () => {
      await p.createUser({
        username: 'me-view',
        email: 'me-view@example.jp',
        displayName: '閲覧 太郎',
        institutionCode: '3410712362',
        institutionName: '閲覧医院',
        phone: '03-1111-2222',
      });
      const failing = browser(p);
      await logIn(failing, 'me-view', 'WrongPass2026');
      const c = browser(p);
      await logIn(c, 'me-view', GOOD_PASSWORD);
      const page = await c.open('/account');
      assert.equal(page.status, 200);
      assert.match(String(page.headers['cache-control']), /no-store/);
      for (const [label, value] of [
        [ja['account.username'], 'me-view'],
        [ja['account.type'], ja['reg.type.institution']],
        [ja['account.institutionCode'], '3410712362'],
        [ja['account.institutionName'], '閲覧医院'],
        [ja['account.contactName'], '閲覧 太郎'],
        [ja['account.email'], 'me-view@example.jp'],
        [ja['account.phone'], '03-1111-2222'],
      ])
        assert.ok(page.text.includes(`${label} ${value}`), `${label}: ${value}`);
      assert.ok(!page.text.includes(ja['account.userId']), 'no ユーザーID row for an institution user');
      assert.ok(page.text.includes(`${ja['event.login.ok']} ${c.ip}`), 'the login, with its address');
      assert.ok(
        page.text.includes(`${ja['event.login.failed']} ${failing.ip}`),
        'the failed attempt, with its address',
      );
    });

    test('issue3-5 T3 C3 A1: change of e-mail — link to the new address, notice to the old, open reset links end', async () => {
      const user = await p.createUser({ username: 'me-mail', email: 'me-old@example.jp' });
      const c = browser(p);
      await logIn(c, 'me-mail', GOOD_PASSWORD);
      await requestReset(browser(p), 'me-mail', 'me-old@example.jp');
      const resetLink = linkOf(await mailTo(p, 'me-old@example.jp', SUBJECTS.reset));

      const form = await c.open('/account/email');
      assert.ok(form.text.includes(ja['account.email.current'].replace('{email}', 'me-old@example.jp')));
      assert.deepEqual(fieldErrors(await c.submit({ email: '', current: GOOD_PASSWORD }), 'email'), [
        ja['reg.required'].replace('{label}', ja['account.email.new']),
      ]);
      assert.deepEqual(fieldErrors(await c.submit({ email: 'ME-OLD@example.jp', current: GOOD_PASSWORD }), 'email'), [
        ja['account.email.same'],
      ]);
      assert.deepEqual(fieldErrors(await c.submit({ email: 'me new@example', current: GOOD_PASSWORD }), 'email'), [
        ja['reset.emailInvalid'],
      ]);
      const sent = await c.submit({ email: 'me-new@example.jp', current: GOOD_PASSWORD });
      assert.equal(sent.status, 200);
      assert.ok(
        sent.text.includes(
          ja['account.email.sent']
            .replace('{email}', 'me-new@example.jp')
            .replace('{confirm}', ja['account.email.confirmSubmit']),
        ),
      );
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
      for (let i = 0; i < 3; i++)
        assert.equal((await c.submit({ email: 'me-many-new@example.jp', current: GOOD_PASSWORD })).status, 200);
      const refused = await c.submit({ email: 'me-many-new@example.jp', current: GOOD_PASSWORD });
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

      const noCsrf = await c.post(
        '/account/password',
        { current: GOOD_PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD },
        { csrf: false },
      );
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
      assert.ok(
        await p
          .audit('password.changed')
          .then((rows) => rows.some((a) => a.user_id === user.id && a.outcome === 'wrong_current')),
      );
      assert.equal((await logIn(browser(p), 'me-pass', GOOD_PASSWORD)).status, 200, 'refused attempts change nothing');

      const ok = await c.post('/account/password', {
        current: GOOD_PASSWORD,
        password: NEW_PASSWORD,
        confirm: NEW_PASSWORD,
      });
      assert.equal(ok.status, 303);
      assert.equal(ok.location, '/account?m=password');
      const account = await c.open(ok.location!);
      assert.ok(account.text.includes(ja['account.password.done']), 'this session stays');
      assert.ok(account.text.includes(ja['event.password.changed']));
      assert.ok(account.text.includes(ja['event.password.changeFailed']));
      const ended = await other.get('/account');
      assert.equal(ended.location, '/login?m=loginRequired&next=%2Faccount', 'the other session has ended');

      const mail = await mailTo(p, 'me-pass@example.jp', SUBJECTS.passwordChanged);
      assert.ok(mail.text.includes('アカウント「me-pass」のパスワードが変更されました'));
      assert.ok(!mail.text.includes(NEW_PASSWORD));
      assert.equal((await logIn(browser(p), 'me-pass', GOOD_PASSWORD)).status, 401);
      assert.equal((await logIn(browser(p), 'me-pass', NEW_PASSWORD)).status, 200);
      const row = (await p.audit('password.changed')).find((a) => a.user_id === user.id && a.outcome === 'ok');
      assert.ok(row && JSON.parse(row.detail!).otherSessionsEnded >= 1);
      assert.ok(!JSON.stringify(await p.audit()).includes(NEW_PASSWORD), 'no password in the audit');
    });

    test('V3 P3 A1: the change of e-mail asks for the current password; a wrong one is a 400 under the field, changes nothing, is audited', async () => {
      const user = await p.createUser({ username: 'me-reauth', email: 'me-reauth@example.jp' });
      const c = browser(p);
      await logIn(c, 'me-reauth', GOOD_PASSWORD);
      const form = await c.open('/account/email');
      assert.match(
        form.body,
        /id="current-password" name="current" type="password"[^>]*autocomplete="current-password"/,
      );
      assert.ok(form.text.includes(ja['account.email.currentHelp']), 'help before typing (W1)');
      const missing = await c.submit({ email: 'me-reauth-new@example.jp', current: '' });
      assert.equal(missing.status, 400);
      assert.deepEqual(fieldErrors(missing, 'current-password'), [ja['field.passwordRequired']]);
      const wrong = await c.submit({ email: 'me-reauth-new@example.jp', current: 'NotMine2026Pass' });
      assert.equal(wrong.status, 400);
      assert.deepEqual(fieldErrors(wrong, 'current-password'), [ja['account.password.currentWrong']]);
      assert.deepEqual(fieldErrors(wrong, 'email'), [], 'the address itself was fine');
      assert.match(wrong.body, /name="email" type="email" value="me-reauth-new@example.jp"/, 'what was typed is kept');
      assert.deepEqual(await outboxTo(p, 'me-reauth-new@example.jp'), [], 'no link goes out');
      assert.equal(
        await p.database.db
          .selectFrom('email_verifications')
          .select('id')
          .where('user_id', '=', user.id)
          .executeTakeFirst(),
        undefined,
      );
      const refused = (await p.audit('email.change_requested')).filter((a) => a.user_id === user.id);
      assert.deepEqual(
        refused.map((a) => a.outcome),
        ['wrong_current'],
      );
      assert.equal(refused[0]!.ip, c.ip);
      assert.ok(!JSON.stringify(await p.audit()).includes('NotMine2026Pass'), 'no password in the audit');
      const account = await c.open('/account');
      assert.ok(account.text.includes(ja['event.email.changeFailed']), 'the user sees the refused attempt');
      await c.open('/account/email');
      const ok = await c.submit({ email: 'me-reauth-new@example.jp', current: GOOD_PASSWORD });
      assert.equal(ok.status, 200);
      await mailTo(p, 'me-reauth-new@example.jp', SUBJECTS.emailVerify);
    });

    test('V3: wrong current passwords are counted per account; over the limit the forms refuse (429) even the right one', async () => {
      await p.createUser({ username: 'me-guess', email: 'me-guess@example.jp' });
      const c = browser(p);
      await logIn(c, 'me-guess', GOOD_PASSWORD);
      await c.open('/account/email');
      for (let i = 0; i < p.config.lockoutThreshold; i++)
        assert.equal((await c.submit({ email: 'me-guess-new@example.jp', current: `Guess${i}2026Pass` })).status, 400);
      const blocked = await c.submit({ email: 'me-guess-new@example.jp', current: GOOD_PASSWORD });
      assert.equal(blocked.status, 429);
      assert.deepEqual(fieldErrors(blocked, 'current-password'), [ja['account.reauth.throttled']]);
      await c.open('/account/password');
      const pw = await c.submit({ current: GOOD_PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      assert.equal(pw.status, 429, 'the password form shares the count');
      assert.deepEqual(await outboxTo(p, 'me-guess-new@example.jp'), []);
      p.clock.advance(p.config.lockoutMinutes * 60_000 + 1000);
      const relogged = browser(p);
      await logIn(relogged, 'me-guess', GOOD_PASSWORD);
      await relogged.open('/account/email');
      assert.equal(
        (await relogged.submit({ email: 'me-guess-new@example.jp', current: GOOD_PASSWORD })).status,
        200,
        'after the window it works again',
      );
    });

    test('V4 L3 C3: a password change gives this session a new id — the old cookie is logged out, the new one works, other sessions end', async () => {
      await p.createUser({ username: 'me-rotate', email: 'me-rotate@example.jp', displayName: '更新 太郎' });
      const c = browser(p);
      const other = browser(p);
      await logIn(c, 'me-rotate', GOOD_PASSWORD);
      await logIn(other, 'me-rotate', GOOD_PASSWORD);
      const oldSid = c.cookies.get('__Host-sid')!;
      assert.ok(oldSid);
      await c.open('/account/password');
      const ok = await c.post('/account/password', {
        current: GOOD_PASSWORD,
        password: NEW_PASSWORD,
        confirm: NEW_PASSWORD,
      });
      assert.equal(ok.status, 303);
      const set = [ok.headers['set-cookie']].flat().find((h) => String(h).startsWith('__Host-sid='));
      assert.ok(set, 'a new session cookie is set');
      assert.match(String(set), /HttpOnly/i);
      assert.match(String(set), /Secure/i);
      assert.match(String(set), /SameSite=Lax/i);
      const newSid = c.cookies.get('__Host-sid')!;
      assert.notEqual(newSid, oldSid);
      assert.ok(newSid.length >= 22, '≥128 bits');
      const page = await c.open('/account?m=password');
      assert.ok(page.text.includes(ja['account.password.done']), 'the new cookie works');
      const stale = p.client();
      stale.cookies.set('__Host-sid', oldSid);
      assert.equal(
        (await stale.get('/account')).location,
        '/login?m=loginRequired&next=%2Faccount',
        'the old cookie no longer works',
      );
      assert.equal(
        (await other.get('/account')).location,
        '/login?m=loginRequired&next=%2Faccount',
        'the other session has ended',
      );
    });

    test('V4 L3: confirming a new address in the logged-in browser renews its session id (a provisional session becomes a full one)', async () => {
      await p.createUser({ username: 'me-prov-rotate', email: 'me-prov-rotate@30', displayName: '仮 次郎' });
      const c = browser(p);
      await logIn(c, 'me-prov-rotate', GOOD_PASSWORD);
      const oldSid = c.cookies.get('__Host-sid')!;
      await c.open('/account/email');
      await c.submit({ email: 'me-prov-rotate@example.jp', current: GOOD_PASSWORD });
      const link = emailLinkOf(await mailTo(p, 'me-prov-rotate@example.jp', SUBJECTS.emailVerify));
      await c.open(pathOf(link));
      const done = await c.submit({});
      assert.ok(done.text.includes(ja['account.email.done']));
      const newSid = c.cookies.get('__Host-sid')!;
      assert.notEqual(newSid, oldSid, 'a new session id');
      const top = await c.get('/csm');
      assert.equal(top.status, 200);
      assert.ok(
        top.text.includes(ja['nav.user'].replace('{name}', '仮 次郎')),
        'the new cookie is logged in, no longer restricted',
      );
      const stale = p.client();
      stale.cookies.set('__Host-sid', oldSid);
      assert.equal(
        (await stale.get('/account')).location,
        '/login?m=loginRequired&next=%2Faccount',
        'the old cookie no longer works',
      );
    });
  });
}
