/**
 * A provisional account cannot be taken over by whoever knows its (public) institution code (issue 10 item 5), on
 * every database target: the registrant sees the pages and first mail of any registration (R1); after the link the
 * registration waits as a case (V5); the call center approves after a call-back, with a checklist and a reason, or
 * rejects (V6); approval closes the provisional account and ends its sessions (V1, C3); everything is audited (A1).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyPassword } from '../../src/accounts/passwords.ts';
import { checkDigitOf } from '../../src/accounts/institution-code.ts';
import { ja } from '../../src/web/i18n/ja.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { GOOD_PASSWORD, pathOf, startTestPortal, type Client, type TestPortal } from '../helpers/test-app.ts';
import {
  fieldErrors,
  logIn,
  mailTo,
  mailsTo,
  namesIn,
  outboxTo,
  register,
  registrationLinkOf,
  SUBJECTS,
  userRow,
} from '../helpers/accounts.ts';
import { auditRows, consoleAs, createOperator, detailOf, tableAfter, type TestOperator } from '../helpers/operators.ts';

const PASSWORD = 'Shinsei2026Pass';
let seq = 0;
/** A fresh valid institution code (Osaka, 歯科). */
function newCode(): string {
  const body = `273${String((++seq * 6007) % 1_000_000).padStart(6, '0')}`;
  return body + checkDigitOf(body);
}
let ipSeq = 0;
function browser(p: TestPortal): Client {
  const c = p.client();
  c.ip = `10.37.${Math.floor(ipSeq / 250)}.${(ipSeq++ % 250) + 1}`;
  return c;
}
const withoutToken = (text: string) => text.replace(/token=[A-Za-z0-9]{32}/g, 'token=X');

const targets = await dbTargets();
for (const target of targets) {
  describe(`registration cases [${target}]`, () => {
    let p: TestPortal;
    let op: TestOperator;
    before(async () => {
      p = await startTestPortal(target);
      op = await createOperator(p, 'support', 'cc-case', 'コールセンター田中');
    });
    after(async () => {
      await p.close();
    });

    /** A provisional account holding a fresh code, and a registrant who has followed the link and set a password. */
    async function pendingCase(tag: string) {
      const code = newCode();
      const holder = await p.createUser({
        username: `holder-${tag}`,
        email: `holder-${tag}@13`,
        institutionCode: code,
        institutionName: '旧 みなと歯科',
        displayName: '旧 担当',
        phone: '06-1111-2222',
      });
      const email = `applicant-${tag}@example.jp`;
      const c = browser(p);
      await register(c, { code, name: 'みなと歯科医院', contact: '申込 太郎', email, phone: '090-9999-8888' });
      await c.open(pathOf(registrationLinkOf(await mailTo(p, email, SUBJECTS.verify))));
      const page = await c.submit({ password: PASSWORD, confirm: PASSWORD });
      const row = await p.database.db
        .selectFrom('registration_cases')
        .selectAll()
        .where('email', '=', email)
        .executeTakeFirstOrThrow();
      return { code, holder, email, c, page, caseId: row.id };
    }

    test('V5 R1: for a code held by a provisional account, the same 「確認メールを送信しました」 page, status and first mail as any registration', async () => {
      const held = newCode();
      await p.createUser({ username: 'holder-r1', email: 'holder-r1@05', institutionCode: held });
      const fresh = await register(browser(p), { code: newCode(), email: 'r1-fresh@example.jp' });
      const onHeld = await register(browser(p), { code: held, email: 'r1-held@example.jp' });
      assert.equal(onHeld.status, fresh.status);
      assert.equal(onHeld.text, fresh.text, 'the page does not tell');
      assert.ok(onHeld.text.includes(ja['reg.sent.heading']));
      const a = await mailTo(p, 'r1-fresh@example.jp', SUBJECTS.verify);
      const b = await mailTo(p, 'r1-held@example.jp', SUBJECTS.verify);
      assert.equal(withoutToken(b.text), withoutToken(a.text), 'the first mail does not tell either');
      const requested = (await p.audit('registration.requested')).filter((r) => r.identifier === 'r1-held@example.jp');
      assert.deepEqual(
        requested.map((r) => r.outcome),
        ['mail_queued'],
      );
    });

    test('V5 A1: after the link nothing opens — the registrant is told of the call-back (page and mail); the provisional account stays and works', async () => {
      const code = newCode();
      const holder = await p.createUser({ username: 'holder-wait', email: 'holder-wait@13', institutionCode: code });
      const email = 'applicant-wait@example.jp';
      const c = browser(p);
      await register(c, { code, email });
      const link = registrationLinkOf(await mailTo(p, email, SUBJECTS.verify));
      const setPage = await c.open(pathOf(link));
      assert.equal(setPage.status, 200);
      assert.ok(setPage.text.includes(ja['reg.case.verifyNote']), 'told before choosing the password');
      const flowUrl = c.formAction();
      const done = await c.submit({ password: PASSWORD, confirm: PASSWORD });
      assert.equal(done.status, 200);
      assert.ok(done.text.includes(ja['reg.case.heading']));
      assert.ok(done.text.includes(ja['reg.case.p1'].replace('{code}', code)));
      assert.ok(done.text.includes(ja['reg.case.p3'].replace('{email}', email)));
      assert.ok(
        !done.text.includes(ja['reg.done.heading']) && namesIn(done.text).username === undefined,
        'no ユーザー名 is given',
      );
      const mail = await mailTo(p, email, SUBJECTS.casePending);
      assert.ok(mail.text.includes(`医療機関コード ${code} には、旧ポータルから移行した仮アカウントがあります。`));
      assert.ok(mail.text.includes('コールセンターから医療機関のご登録の電話番号へ確認のお電話'));
      assert.ok(mail.text.includes('オンライン資格確認等コールセンター'), 'with the contact block');
      assert.ok(!mail.text.includes(PASSWORD));
      assert.equal(mailsTo(p, email).filter((m) => m.subject === SUBJECTS.complete).length, 0, 'no completion mail');

      assert.equal((await userRow(p, 'holder-wait'))!.status, 'provisional', 'the provisional account is not closed');
      assert.equal(
        await p.database.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst(),
        undefined,
        'no account for the registrant',
      );
      assert.ok(
        (await logIn(browser(p), 'holder-wait', GOOD_PASSWORD)).text.includes(ja['account.provisional.heading']),
        'the provisional account still logs in',
      );
      const row = await p.database.db
        .selectFrom('registration_cases')
        .selectAll()
        .where('email', '=', email)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'pending');
      assert.equal(row.holder_id, holder.id);
      assert.match(row.password_hash ?? '', /^\$argon2id\$/);
      assert.equal(await verifyPassword(row.password_hash!, PASSWORD), true);
      assert.ok(!JSON.stringify(row).includes(PASSWORD), 'the password only as a hash');
      const opened = (await p.audit('registration_case.opened')).find((a) => a.user_id === holder.id)!;
      assert.equal(opened.outcome, 'pending');
      assert.equal(detailOf(opened).caseId, row.id);
      assert.equal((await p.audit('account.superseded')).filter((a) => a.user_id === holder.id).length, 0);
      assert.ok(!JSON.stringify(await p.audit()).includes(PASSWORD));
      // The page stays what it was when opened again; the link is used up.
      const reopened = await c.open(flowUrl);
      assert.equal(reopened.status, 200);
      assert.ok(reopened.text.includes(ja['reg.case.heading']));
      assert.equal((await browser(p).get(pathOf(link))).status, 410);
    });

    test("V6 A1 V1 C3: the console lists the case (count in the menu); approval needs the checklist and a reason, closes the provisional account, ends its session, opens the registrant's", async () => {
      const holderBrowser = browser(p);
      const { code, holder, email, caseId } = await pendingCase('ok');
      await logIn(holderBrowser, 'holder-ok', GOOD_PASSWORD);
      assert.equal((await holderBrowser.get('/account/email')).status, 200, 'the provisional account is logged in');
      const c = await consoleAs(p, op);
      const home = await c.get('/admin');
      assert.match(home.text, new RegExp(`${ja['admin.nav.cases']}（\\d+件）`), 'the menu shows the count');
      const list = await c.get('/admin/registration-cases');
      assert.equal(list.status, 200);
      assert.ok(list.body.includes(`href="/admin/registration-cases/${caseId}"`));
      const pendingHeading = /<h2>(確認待ち（\d+件）)<\/h2>/.exec(list.body)![1]!;
      assert.ok(
        tableAfter(list, pendingHeading).some(
          (r) => r[1] === code && r[2] === 'みなと歯科医院' && r[3] === '申込 太郎',
        ),
        'listed with its details',
      );

      const page = await c.get(`/admin/registration-cases/${caseId}`);
      assert.equal(page.status, 200);
      for (const shown of [
        'みなと歯科医院',
        '申込 太郎',
        '090-9999-8888',
        email,
        '旧 みなと歯科',
        '旧 担当',
        'holder-ok@13',
      ])
        assert.ok(page.text.includes(shown), `shows ${shown}`);
      assert.ok(
        page.text.includes(ja['admin.cases.callBack'].replace('{phone}', '06-1111-2222')),
        'the number to call back is the registered one',
      );
      for (const k of ['calledRegisteredPhone', 'institutionConfirmed', 'contactConfirmed'])
        assert.ok(page.body.includes(`name="${k}"`));
      assert.equal((await auditRows(p, 'support.case_viewed')).at(-1)!.actor, `operator:${op.username}`);

      const noChecks = await c.post(`/admin/registration-cases/${caseId}/approve`, { reason: '折り返し確認済み' });
      assert.equal(noChecks.status, 400);
      assert.deepEqual(fieldErrors(noChecks, 'checks'), [ja['admin.cases.checksRequired']]);
      const checks = { calledRegisteredPhone: '1', institutionConfirmed: '1', contactConfirmed: '1' };
      const noReason = await c.post(`/admin/registration-cases/${caseId}/approve`, { ...checks, reason: ' ' });
      assert.equal(noReason.status, 400);
      assert.deepEqual(fieldErrors(noReason, 'reason-approve'), [ja['admin.reasonRequired']]);
      assert.equal((await userRow(p, 'holder-ok'))!.status, 'provisional', 'refused attempts change nothing');

      const ok = await c.post(`/admin/registration-cases/${caseId}/approve`, {
        ...checks,
        reason: '06-1111-2222 へ折り返し、院長が申込を確認',
      });
      assert.equal(ok.status, 303);
      const after = await c.open(ok.location!);
      assert.ok(after.text.includes(ja['admin.cases.approved']));
      assert.ok(after.text.includes(ja['admin.cases.status.approved']));

      assert.equal((await userRow(p, 'holder-ok'))!.status, 'closed');
      assert.equal(
        (await holderBrowser.get('/account/email')).location,
        '/login?m=loginRequired&next=%2Faccount%2Femail',
        "the provisional account's session has ended",
      );
      const mail = await mailTo(p, email, SUBJECTS.complete);
      const { username } = namesIn(mail.text);
      const account = (await userRow(p, username!))!;
      assert.equal(account.status, 'active');
      assert.equal(account.institution_code, code);
      assert.equal(account.email, email);
      const fresh = await logIn(browser(p), username!, PASSWORD);
      assert.ok(
        fresh.text.includes(ja['nav.user'].replace('{name}', '申込 太郎')),
        'the registrant logs in with the password chosen at registration',
      );
      assert.equal((await logIn(browser(p), 'holder-ok', GOOD_PASSWORD)).status, 401);

      const superseded = (await auditRows(p, 'account.superseded')).find((r) => r.user_id === holder.id)!;
      assert.equal(superseded.outcome, 'closed');
      assert.equal(superseded.actor, `operator:${op.username}`);
      assert.equal(detailOf(superseded).institutionCode, code);
      assert.equal(detailOf(superseded).sessionsEnded, 1);
      const approved = (await auditRows(p, 'registration_case.approved')).find((r) => r.user_id === account.id)!;
      assert.equal(approved.actor, `operator:${op.username}`);
      assert.equal(detailOf(approved).reason, '06-1111-2222 へ折り返し、院長が申込を確認');
      assert.deepEqual(detailOf(approved).checks, [
        'calledRegisteredPhone',
        'institutionConfirmed',
        'contactConfirmed',
      ]);
      const row = await p.database.db
        .selectFrom('registration_cases')
        .selectAll()
        .where('id', '=', caseId)
        .executeTakeFirstOrThrow();
      assert.equal(row.password_hash, null, 'the hash leaves the case once decided');
      assert.equal(row.new_user_id, account.id);

      const again = await c.post(`/admin/registration-cases/${caseId}/reject`, { reason: '二重操作' });
      assert.equal(again.status, 409);
      assert.ok(again.text.includes(ja['admin.cases.notPending']));
    });

    test('V6 A1: rejection needs a reason, mails the registrant, keeps the provisional account and its session', async () => {
      const { holder, email, caseId } = await pendingCase('no');
      const holderBrowser = browser(p);
      await logIn(holderBrowser, 'holder-no', GOOD_PASSWORD);
      const c = await consoleAs(p, op);
      await c.get(`/admin/registration-cases/${caseId}`);
      const noReason = await c.post(`/admin/registration-cases/${caseId}/reject`, { reason: '' });
      assert.equal(noReason.status, 400);
      assert.deepEqual(fieldErrors(noReason, 'reason-reject'), [ja['admin.reasonRequired']]);
      const ok = await c.post(`/admin/registration-cases/${caseId}/reject`, { reason: '登録電話番号で申込を否認' });
      assert.equal(ok.status, 303);
      assert.ok((await c.open(ok.location!)).text.includes(ja['admin.cases.rejected']));
      const mail = await mailTo(p, email, SUBJECTS.caseRejected);
      assert.ok(mail.text.includes('アカウントを開設できませんでした'));
      assert.ok(!mail.text.includes('登録電話番号で申込を否認'), "the operator's note stays internal");
      assert.equal((await userRow(p, 'holder-no'))!.status, 'provisional');
      assert.equal(
        (await holderBrowser.get('/account/email')).status,
        200,
        'the provisional account keeps its session',
      );
      assert.equal(
        await p.database.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst(),
        undefined,
      );
      const rejected = (await auditRows(p, 'registration_case.rejected')).find((r) => r.user_id === holder.id)!;
      assert.equal(rejected.actor, `operator:${op.username}`);
      assert.equal(detailOf(rejected).reason, '登録電話番号で申込を否認');
      const checks = { calledRegisteredPhone: '1', institutionConfirmed: '1', contactConfirmed: '1' };
      const late = await c.post(`/admin/registration-cases/${caseId}/approve`, { ...checks, reason: '遅れて承認' });
      assert.equal(late.status, 409);
      assert.equal((await userRow(p, 'holder-no'))!.status, 'provisional');
    });

    test('V6 L5 B1: editors are refused (403), CSRF is required, an unknown case is 404; a holder that registered a real address meanwhile is 409', async () => {
      const { caseId } = await pendingCase('guard');
      const editor = await consoleAs(p, await createOperator(p, 'editor'));
      assert.equal((await editor.get('/admin/registration-cases')).status, 403);
      assert.equal((await editor.get(`/admin/registration-cases/${caseId}`)).status, 403);
      assert.ok(!(await editor.get('/admin')).body.includes('/admin/registration-cases'), 'no menu entry for editors');
      const c = await consoleAs(p, op);
      await c.get(`/admin/registration-cases/${caseId}`);
      assert.equal(
        (await c.post(`/admin/registration-cases/${caseId}/reject`, { reason: 'x' }, { csrf: false })).status,
        403,
      );
      assert.equal((await c.get('/admin/registration-cases/nope-nope')).status, 404);
      assert.equal((await c.get('/admin/registration-cases/..%2F..')).status, 404);
      assert.equal((await c.post(`/admin/registration-cases/${caseId}/delete`, { reason: 'x' })).status, 404);

      await p.database.db
        .updateTable('users')
        .set({ email: 'holder-guard@example.jp', status: 'active' })
        .where('username', '=', 'holder-guard')
        .execute();
      const checks = { calledRegisteredPhone: '1', institutionConfirmed: '1', contactConfirmed: '1' };
      const refused = await c.post(`/admin/registration-cases/${caseId}/approve`, { ...checks, reason: '確認済み' });
      assert.equal(refused.status, 409);
      assert.ok(refused.text.includes(ja['admin.cases.holderChanged']));
      assert.equal((await userRow(p, 'holder-guard'))!.status, 'active', 'nothing changed');
      const row = await p.database.db
        .selectFrom('registration_cases')
        .select('status')
        .where('id', '=', caseId)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'pending');
      assert.deepEqual(
        (await outboxTo(p, 'applicant-guard@example.jp')).map((m) => m.kind),
        ['registration_verify', 'registration_pending'],
      );
    });
  });
}
