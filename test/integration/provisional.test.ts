/**
 * Provisional accounts (仮アカウント, issue 3 §3), on every database target: after logging in, nothing but the
 * replacement of the placeholder address (@01 … @48) is reachable; the new address is verified by link; until
 * then password reset sends nothing and the audit says why (R1, A1). Registering the code of a provisional
 * account waits for the call center's call-back before it supersedes it (issue 10 item 5; registration-cases.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
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
import {
  emailLinkOf,
  fieldErrors,
  logIn,
  mailTo,
  outboxTo,
  register,
  registrationLinkOf,
  SUBJECTS,
  userRow,
} from '../helpers/accounts.ts';

let ipSeq = 0;
function browser(p: TestPortal): Client {
  const c = p.client();
  c.ip = `10.32.${Math.floor(ipSeq / 250)}.${(ipSeq++ % 250) + 1}`;
  return c;
}

const targets = await dbTargets();
for (const target of targets) {
  describe(`provisional accounts [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target);
    });
    after(async () => {
      await p.close();
    });

    test('R1 A1: password reset of a provisional account shows the usual page, sends nothing, and the audit says why', async () => {
      const user = await p.createUser({ username: 'prov-reset', email: 'prov-reset@13' });
      assert.equal(user.status, 'provisional');
      const normal = await p.createUser({ username: 'prov-normal', email: 'prov-normal@example.jp' });
      const c = browser(p);
      const provPage = await requestReset(c, 'prov-reset', 'prov-reset@example.jp');
      const normalPage = await requestReset(browser(p), 'prov-normal', 'prov-normal@example.jp');
      assert.equal(provPage.status, normalPage.status);
      assert.equal(provPage.text.replaceAll('prov-reset', 'X'), normalPage.text.replaceAll('prov-normal', 'X'));
      await mailTo(p, 'prov-normal@example.jp', SUBJECTS.reset); // the worker has run past the provisional request
      assert.deepEqual(await outboxTo(p, 'prov-reset@13'), []);
      const row = (await p.audit('password_reset.requested')).find((a) => a.user_id === user.id);
      assert.equal(row?.outcome, 'provisional_address');
      assert.equal(row?.ip, c.ip);
      assert.ok(
        (await p.audit('password_reset.requested')).some((a) => a.user_id === normal.id && a.outcome === 'mail_queued'),
      );
    });

    test('issue3-3 L5: after login every page leads to the address form until the placeholder is replaced', async () => {
      await p.createUser({ username: 'prov-gate', email: 'prov-gate@07', displayName: '仮薬局' });
      const c = browser(p);
      const landed = await logIn(c, 'prov-gate', GOOD_PASSWORD);
      assert.equal(landed.status, 200);
      assert.ok(landed.text.includes(ja['account.provisional.heading']), 'the login lands on the address form');
      assert.ok(landed.text.includes(ja['account.provisional.p1'].replace('{email}', 'prov-gate@07')));
      for (const path of ['/csm', '/account', '/account/password', '/csm/news', '/register']) {
        const page = await c.get(path);
        assert.equal(page.status, 303, path);
        assert.equal(page.location, '/account/email', path);
      }
      // A POST elsewhere (here: change of password) is turned away too, and changes nothing.
      await c.open('/account/email');
      const post = await c.post('/account/password', {
        current: GOOD_PASSWORD,
        password: 'Another2026Pass',
        confirm: 'Another2026Pass',
      });
      assert.equal(post.status, 303);
      assert.equal(post.location, '/account/email');
      assert.equal((await userRow(p, 'prov-gate'))!.password_changed_at, (await userRow(p, 'prov-gate'))!.created_at);
      // Logging out still works.
      await c.open('/account/email');
      const out = await c.post('/logout', {});
      assert.equal(out.location, '/login?m=loggedOut');
    });

    test('issue3-3 T3 T5: the new address is verified by link; then the account is active, reset mails arrive, no notice to the placeholder', async () => {
      const user = await p.createUser({ username: 'prov-fix', email: 'prov-fix@48', displayName: '仮医院' });
      const c = browser(p);
      await logIn(c, 'prov-fix', GOOD_PASSWORD);
      await c.open('/account/email');
      const placeholder = await c.submit({ email: 'someone@12', current: GOOD_PASSWORD });
      assert.equal(placeholder.status, 400);
      assert.deepEqual(
        fieldErrors(placeholder, 'email'),
        [ja['reset.emailInvalid']],
        'a placeholder is not an address',
      );
      const sentPage = await c.submit({ email: 'prov-fix@example.jp', current: GOOD_PASSWORD });
      assert.equal(sentPage.status, 200);
      assert.ok(
        sentPage.text.includes(
          ja['account.email.sent']
            .replace('{email}', 'prov-fix@example.jp')
            .replace('{confirm}', ja['account.email.confirmSubmit']),
        ),
      );
      assert.equal((await userRow(p, 'prov-fix'))!.email, 'prov-fix@48', 'nothing changes before the link is followed');

      const mail = await mailTo(p, 'prov-fix@example.jp', SUBJECTS.emailVerify);
      const link = emailLinkOf(mail);
      assert.ok(link.startsWith(`${BASE_URL}/account/email/verify?token=`));
      assert.ok(mail.text.includes('※本URLの有効期限は24時間となります。'));
      const opened = await c.get(pathOf(link));
      assert.equal(opened.status, 303);
      assert.match(opened.location ?? '', /^\/account\/email\/verify\?flow=[A-Za-z0-9]+$/);
      const confirm = await c.open(opened.location!);
      assert.ok(confirm.text.includes(ja['account.email.confirmLead'].replace('{email}', 'prov-fix@example.jp')));
      assert.equal((await userRow(p, 'prov-fix'))!.status, 'provisional', 'opening the link (a GET) changes nothing');
      const done = await c.submit({});
      assert.equal(done.status, 200);
      assert.ok(done.text.includes(ja['account.email.done']));

      const row = (await userRow(p, 'prov-fix'))!;
      assert.equal(row.email, 'prov-fix@example.jp');
      assert.equal(row.status, 'active');
      assert.ok(row.email_verified_at !== null);
      assert.deepEqual(await outboxTo(p, 'prov-fix@48'), [], 'no mail is addressed to the placeholder');
      const changed = (await p.audit('email.changed')).find((a) => a.user_id === user.id);
      assert.equal(JSON.parse(changed!.detail!).wasProvisional, true);

      // Now the portal opens, and the reset sends its mail.
      const top = await c.get('/csm');
      assert.equal(top.status, 200);
      assert.ok(top.text.includes(ja['nav.user'].replace('{name}', '仮医院')));
      await requestReset(browser(p), 'prov-fix', 'prov-fix@example.jp');
      assert.match(linkOf(await mailTo(p, 'prov-fix@example.jp', SUBJECTS.reset)), /sysparm_tiny=/);
      assert.ok(
        (await p.audit('password_reset.requested')).some((a) => a.user_id === user.id && a.outcome === 'mail_queued'),
      );
    });

    test('V5 issue3-2 A1: registering the code of a provisional account no longer supersedes it by itself: it waits for the call-back', async () => {
      const code = '2714001233';
      const prov = await p.createUser({
        username: 'prov-super',
        email: 'naniwa@13',
        institutionCode: code,
        displayName: '旧 花子',
      });
      const c = browser(p);
      const sent = await register(c, {
        code,
        name: 'なにわ歯科医院',
        contact: '労働 花子',
        email: 'naniwa@example.jp',
      });
      assert.ok(sent.text.includes(ja['reg.sent.heading']));
      await c.open(pathOf(registrationLinkOf(await mailTo(p, 'naniwa@example.jp', SUBJECTS.verify))));
      const done = await c.submit({ password: 'Kaigan2026Shika', confirm: 'Kaigan2026Shika' });
      assert.ok(done.text.includes(ja['reg.case.heading']));
      await mailTo(p, 'naniwa@example.jp', SUBJECTS.casePending);
      assert.equal((await userRow(p, 'prov-super'))!.status, 'provisional', 'not closed');
      assert.equal((await p.audit('account.superseded')).filter((a) => a.user_id === prov.id).length, 0);
      const still = await logIn(browser(p), 'prov-super', GOOD_PASSWORD);
      assert.ok(still.text.includes(ja['account.provisional.heading']), 'the old login still works (restricted)');
      const open = await p.database.db
        .selectFrom('users')
        .select('username')
        .where('institution_code', '=', code)
        .where('status', '!=', 'closed')
        .execute();
      assert.deepEqual(
        open.map((u) => u.username),
        ['prov-super'],
        'one open account per code, still the provisional one',
      );
    });
  });
}
