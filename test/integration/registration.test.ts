/**
 * 新規ユーザー登録 (issue 3 §1, §2) through app.inject() with the real SMTP sink, on every database target:
 * the form and its errors (W1, B1), the verification link (T1–T5 as for the reset link, 24 h), the password
 * under the policy (C1, P1), the completion page and mail with the system-assigned ユーザー名 / ユーザーID, login
 * and reset with them; no enumeration and no duplicates (R1), limits and CAPTCHA (R3, R6), the audit (A1).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { checkDigitOf } from '../../src/accounts/institution-code.ts';
import { assignUnique, draftUserId, draftUsername } from '../../src/accounts/identifiers.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import {
  BASE_URL,
  linkOf,
  pathOf,
  requestReset,
  startTestPortal,
  type Client,
  type TestPortal,
} from '../helpers/test-app.ts';
import {
  fieldErrors,
  logIn,
  mailTo,
  mailsTo,
  namesIn,
  outboxTo,
  register,
  registerFully,
  registrationLinkOf,
  SUBJECTS,
  userRow,
} from '../helpers/accounts.ts';

const PASSWORD = 'Touroku2026Pass';
/** Look-alike-free: letters without i, l, o, g, q; digits 2–8. */
const USERNAME = /^[abcdefhjkmnprstuvwxyz]{4}-[2-8]{4}$/;
const USER_ID = /^t[2-8]{8}$/;

let seq = 0;
/** A fresh valid institution code (Tokyo, 医科). */
function newCode(): string {
  const body = `131${String((++seq * 7919) % 1_000_000).padStart(6, '0')}`;
  return body + checkDigitOf(body);
}
let ipSeq = 0;
function browser(p: TestPortal): Client {
  const c = p.client();
  c.ip = `10.31.${Math.floor(ipSeq / 250)}.${(ipSeq++ % 250) + 1}`;
  return c;
}

const targets = await dbTargets();
for (const target of targets) {
  describe(`registration [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target);
    });
    after(async () => {
      await p.close();
    });

    test('W1 B1: the form names every failure next to its field (each rule of the code separately) and keeps what was typed', async () => {
      const c = browser(p);
      const form = await c.open('/register');
      assert.equal(form.status, 200);
      for (const label of [
        ja['reg.accountType'],
        ja['reg.type.institution'],
        ja['reg.type.coordinator'],
        ja['reg.code'],
        ja['reg.name'],
        ja['reg.contact'],
        ja['reg.email'],
        ja['reg.phone'],
        ja['reg.codes'],
      ]) {
        assert.ok(form.text.includes(label), `the form shows ${label}`);
      }
      const page = await c.submit({
        action: 'next',
        accountType: 'institution',
        code: '5420712360',
        name: '',
        contact: '',
        email: 'not-an-address',
        phone: 'abc',
        codes: '',
        captcha: 'wrong',
      });
      assert.equal(page.status, 400);
      assert.deepEqual(fieldErrors(page, 'code'), [
        ja['reg.code.prefecture'],
        ja['reg.code.table'],
        ja['reg.code.checkDigit'],
      ]);
      assert.deepEqual(fieldErrors(page, 'name'), [ja['reg.required'].replace('{label}', ja['reg.name'])]);
      assert.deepEqual(fieldErrors(page, 'contact'), [ja['reg.required'].replace('{label}', ja['reg.contact'])]);
      assert.deepEqual(fieldErrors(page, 'email'), [ja['reset.emailInvalid']]);
      assert.deepEqual(fieldErrors(page, 'phone'), [ja['reg.phoneInvalid']]);
      assert.deepEqual(fieldErrors(page, 'captcha'), [ja['reset.captchaWrong']]);
      assert.match(page.body, /id="code"[^>]*aria-invalid="true"[^>]*aria-describedby="code-help code-error"/);
      assert.match(page.body, /name="code" type="text" value="5420712360"/);
      assert.match(page.body, /name="email" type="email" value="not-an-address"/);

      const short = await c.submit({
        action: 'next',
        accountType: 'institution',
        code: '12345',
        name: 'A',
        contact: 'B',
        email: 'a@example.jp',
        phone: '03-1234-5678',
        codes: '',
        captcha: 'wrong',
      });
      assert.deepEqual(fieldErrors(short, 'code'), [ja['reg.code.format']]);
      const bad = await c.submit({
        action: 'next',
        accountType: 'coordinator',
        code: '',
        name: '法人',
        contact: 'B',
        email: 'a@example.jp',
        phone: '03-1234-5678',
        codes: '3410712362\n3410712363\n',
        captcha: 'wrong',
      });
      assert.deepEqual(fieldErrors(bad, 'codes'), [
        ja['reg.codesLine']
          .replace('{line}', '2')
          .replace('{code}', '3410712363')
          .replace('{message}', ja['reg.code.checkDigit']),
      ]);
      assert.deepEqual(fieldErrors(bad, 'code'), [], 'a coordinator needs no code of its own');
      const none = await c.submit({
        action: 'next',
        accountType: 'coordinator',
        code: '',
        name: '法人',
        contact: 'B',
        email: 'a@example.jp',
        phone: '03-1234-5678',
        codes: '',
        captcha: 'wrong',
      });
      assert.deepEqual(fieldErrors(none, 'codes'), [ja['reg.codesRequired']]);
      assert.equal((await outboxTo(p, 'a@example.jp')).length, 0, 'a refused form sends nothing');
    });

    test('T1 T3 T4 T5 C1 P1 A1: institution user — mail, link, password under the policy, completion page and mail with the ユーザー名', async () => {
      const c = browser(p);
      const email = 'reg-inst@example.jp';
      const code = newCode();
      const sent = await register(c, { code, name: 'さくら内科', contact: '厚生 太郎', email });
      assert.equal(sent.status, 200);
      assert.ok(sent.text.includes(ja['reg.sent.heading']));
      const mail = await mailTo(p, email, SUBJECTS.verify);
      assert.equal(mail.from, 'from@mail.iryohokenjyohoportalsite.jp');
      assert.ok(mail.text.includes('※本URLの有効期限は24時間となります。'));
      const link = registrationLinkOf(mail);
      assert.ok(link.startsWith(`${BASE_URL}/register/verify?token=`), 'built from BASE_URL (T4)');

      // T5: the token leaves the address bar; T3: opening twice uses nothing up.
      const first = await c.get(pathOf(link));
      assert.equal(first.status, 303);
      assert.match(first.location ?? '', /^\/register\/verify\?flow=[A-Za-z0-9]+$/);
      assert.equal(first.headers['referrer-policy'], 'no-referrer');
      assert.match(String(first.headers['cache-control']), /no-store/);
      const again = await c.open(pathOf(link));
      assert.equal(again.status, 200);
      assert.ok(again.text.includes(ja['reg.verify.heading']));
      for (const shown of ['さくら内科', '厚生 太郎', email, code])
        assert.ok(again.text.includes(shown), `the summary shows ${shown}`);

      // C1: the policy's rules are named next to the field; a mismatch next to the confirmation.
      const weak = await c.submit({ password: 'short', confirm: 'short' });
      assert.equal(weak.status, 400);
      assert.ok(fieldErrors(weak, 'new-password').includes(ja['policy.tooShort'].replace('{min}', '8')));
      assert.ok(fieldErrors(weak, 'new-password').includes(ja['policy.needUpper']));
      const mismatch = await c.submit({ password: PASSWORD, confirm: `${PASSWORD}x` });
      assert.deepEqual(fieldErrors(mismatch, 'confirm-password'), [ja['reset.mismatch']]);
      assert.equal(await userRow(p, email), undefined);

      const done = await c.submit({ password: PASSWORD, confirm: PASSWORD });
      assert.equal(done.status, 200);
      assert.ok(done.text.includes(ja['reg.done.heading']));
      const shown = namesIn(done.text);
      assert.match(shown.username ?? '', USERNAME);
      assert.equal(shown.userId, undefined, 'an institution user has no ユーザーID');

      const complete = await mailTo(p, email, SUBJECTS.complete);
      assert.deepEqual(namesIn(complete.text), shown, 'the mail gives the same ユーザー名 as the page');
      assert.ok(!complete.text.includes(PASSWORD), 'no secret in the mail');
      assert.ok(complete.text.includes(`${BASE_URL}/login`));

      const row = (await userRow(p, shown.username!))!;
      assert.equal(row.status, 'active');
      assert.equal(row.institution_code, code);
      assert.equal(row.institution_name, 'さくら内科');
      assert.match(row.password_hash, /^\$argon2id\$/);
      // The link is used up: opening it again says the registration is complete and offers the login (issue 11 item 7).
      const reused = await c.get(pathOf(link));
      assert.equal(reused.status, 410);
      assert.ok(reused.text.includes(ja['reg.link.done']));
      const events = (await p.audit()).filter((a) => a.event.startsWith('registration.'));
      assert.ok(
        events.some(
          (a) =>
            a.event === 'registration.requested' &&
            a.outcome === 'mail_queued' &&
            a.identifier === email &&
            a.ip === c.ip,
        ),
      );
      assert.ok(events.some((a) => a.event === 'registration.completed' && a.user_id === row.id));
      assert.ok(!JSON.stringify(await p.audit()).includes(PASSWORD));

      // The ユーザー名 logs in, and the reset page accepts it.
      const other = browser(p);
      const home = await logIn(other, shown.username!, PASSWORD);
      assert.equal(home.status, 200);
      assert.ok(home.text.includes(ja['nav.user'].replace('{name}', '厚生 太郎')));
      const reset = browser(p);
      await requestReset(reset, shown.username!, email);
      const resetMail = await mailTo(p, email, SUBJECTS.reset);
      assert.match(linkOf(resetMail), /sysparm_tiny=/);
    });

    test('issue3-1 P1: coordinator — ユーザーID in page and mail, codes kept, login and reset with the ユーザーID', async () => {
      const c = browser(p);
      const email = 'reg-coord@example.jp';
      const codes = [newCode(), newCode()];
      const { page, mail, username, userId } = await registerFully(
        p,
        c,
        {
          accountType: 'coordinator',
          name: '医療法人 桜会',
          contact: '労働 花子',
          email,
          codes: `${codes[0]}\n${codes[1]}\n${codes[0]}`,
        },
        PASSWORD,
      );
      assert.ok(page.text.includes(ja['reg.done.coordinatorNote']));
      assert.match(username, USERNAME);
      assert.match(userId ?? '', USER_ID);
      assert.deepEqual(namesIn(page.text), { username, userId });
      assert.ok(
        mail.text.includes('※取りまとめ者の方は、ログインとパスワードの再設定の際にユーザーIDを入力してください。'),
      );
      const row = (await userRow(p, userId!))!;
      assert.equal(row.account_type, 'coordinator');
      const kept = await p.database.db
        .selectFrom('coordinator_institutions')
        .select('institution_code')
        .where('user_id', '=', row.id)
        .orderBy('institution_code')
        .execute();
      assert.deepEqual(
        kept.map((k) => k.institution_code),
        [...codes].sort(),
        'each code once',
      );

      const other = browser(p);
      const home = await logIn(other, userId!, PASSWORD);
      assert.ok(home.text.includes(ja['nav.user'].replace('{name}', '労働 花子')));
      const account = await other.open('/account');
      assert.ok(account.text.includes(`${codes.sort().join(', ')}`));
      await requestReset(browser(p), userId!, email);
      await mailTo(p, email, SUBJECTS.reset);
    });

    test('R1: a code or address that already has an account gets the same page; the owner is told, nothing is created', async () => {
      const owner = 'reg-owner@example.jp';
      const code = newCode();
      const { username } = await registerFully(p, browser(p), { code, email: owner }, PASSWORD);

      const fresh = await register(browser(p), { code: newCode(), email: 'reg-fresh@example.jp' });
      const byCode = await register(browser(p), { code, email: 'reg-intruder@example.jp' });
      const byEmail = await register(browser(p), { code: newCode(), email: owner.toUpperCase() });
      for (const page of [byCode, byEmail]) {
        assert.equal(page.status, fresh.status);
        assert.equal(page.text, fresh.text, 'the visible text does not tell');
      }
      const notices = await mailTo(p, owner, SUBJECTS.duplicate);
      await p.sink.waitFor(() => mailsTo(p, owner).filter((m) => m.subject === SUBJECTS.duplicate).length === 2);
      assert.ok(notices.text.includes(`（${username}）`), 'the owner is reminded of the ユーザー名');
      assert.ok(notices.text.includes('パスワードの再設定'));
      await mailTo(p, 'reg-fresh@example.jp', SUBJECTS.verify);
      assert.deepEqual(await outboxTo(p, 'reg-intruder@example.jp'), [], 'no link to the intruder');
      assert.equal(
        mailsTo(p, owner).filter((m) => m.subject === SUBJECTS.verify).length,
        1,
        'no new link to the owner',
      );
      const accounts = await p.database.db
        .selectFrom('users')
        .select('id')
        .where('institution_code', '=', code)
        .execute();
      assert.equal(accounts.length, 1);
      const dup = (await p.audit('registration.requested')).filter((a) => a.outcome === 'duplicate');
      assert.ok(
        dup.some((a) => a.identifier === 'reg-intruder@example.jp' && JSON.parse(a.detail!).by === 'institution_code'),
      );
      assert.ok(dup.some((a) => a.identifier === owner && JSON.parse(a.detail!).by === 'email'));
    });

    test('R3: the mails about duplicate registrations are limited per address too (at most 3 an hour to the owner)', async () => {
      const owner = 'reg-bombed@example.jp';
      const code = newCode();
      await registerFully(p, browser(p), { code, email: owner }, PASSWORD);
      const pages = [];
      for (let i = 0; i < 5; i++) pages.push(await register(browser(p), { code, email: `reg-bomber${i}@example.jp` }));
      for (const page of pages) assert.equal(page.text, pages[0]!.text);
      const notices = (await outboxTo(p, owner)).filter((m) => m.subject === SUBJECTS.duplicate);
      assert.equal(
        notices.length,
        3,
        `the owner gets ${notices.length} notices from 5 requests by other addresses and IPs`,
      );
      const ownerId = (
        await p.database.db.selectFrom('users').select('id').where('email', '=', owner).executeTakeFirstOrThrow()
      ).id;
      const limited = (await p.audit('registration.requested')).filter(
        (a) => a.outcome === 'rate_limited' && a.user_id === ownerId,
      );
      assert.equal(limited.length, 2, 'the two notices not sent are in the audit, with the account');
    });

    test('R1: when two links race for one code, the second completion is refused and no second account appears', async () => {
      const code = newCode();
      const a = browser(p);
      const b = browser(p);
      await register(a, { code, email: 'race-a@example.jp' });
      await register(b, { code, email: 'race-b@example.jp' });
      const linkA = registrationLinkOf(await mailTo(p, 'race-a@example.jp', SUBJECTS.verify));
      const linkB = registrationLinkOf(await mailTo(p, 'race-b@example.jp', SUBJECTS.verify));
      await a.open(pathOf(linkA));
      await b.open(pathOf(linkB));
      assert.equal((await a.submit({ password: PASSWORD, confirm: PASSWORD })).status, 200);
      const second = await b.submit({ password: PASSWORD, confirm: PASSWORD });
      assert.equal(second.status, 410);
      assert.ok(second.text.includes(ja['reg.link.used']));
      const accounts = await p.database.db
        .selectFrom('users')
        .select('id')
        .where('institution_code', '=', code)
        .execute();
      assert.equal(accounts.length, 1);
    });

    test('T2: the link is valid 24 hours; a newer one for the same address cancels the older; a made-up token is refused', async () => {
      const c = browser(p);
      const email = 'reg-ttl@example.jp';
      await register(c, { code: newCode(), email });
      const older = registrationLinkOf(await mailTo(p, email, SUBJECTS.verify));
      await register(browser(p), { code: newCode(), email });
      await p.sink.waitFor((m) => m.to.includes(email) && registrationLinkOf(m) !== older);
      const newer = registrationLinkOf(mailsTo(p, email).at(-1)!);
      const cancelled = await c.get(pathOf(older));
      assert.equal(cancelled.status, 410);
      assert.ok(cancelled.text.includes(ja['reg.link.used']));

      p.clock.advance(24 * 3600_000 - 60_000);
      assert.equal((await browser(p).get(pathOf(newer))).status, 303, 'still valid just before 24 hours');
      p.clock.advance(2 * 60_000);
      const expired = await browser(p).get(pathOf(newer));
      assert.equal(expired.status, 410);
      assert.ok(expired.text.includes(ja['reg.link.expired']));

      const invented = await browser(p).get('/register/verify?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      assert.equal(invented.status, 400);
      assert.ok(invented.text.includes(ja['reg.link.invalid']));
    });

    test('R3 R6: a wrong CAPTCHA sends nothing and draws a new one; over 3 mails per address per hour, the same page and no mail', async () => {
      const c = browser(p);
      await c.open('/register');
      const before = await c.get(`/register/captcha?${c.formAction().split('?')[1]}`);
      const wrong = await c.submit({
        action: 'next',
        accountType: 'institution',
        code: newCode(),
        name: 'A',
        contact: 'B',
        email: 'reg-captcha@example.jp',
        phone: '03-1234-5678',
        codes: '',
        captcha: 'zzzzz',
      });
      assert.equal(wrong.status, 400);
      assert.deepEqual(fieldErrors(wrong, 'captcha'), [ja['reset.captchaWrong']]);
      const redrawn = await c.get(`/register/captcha?${c.formAction().split('?')[1]}`);
      for (const picture of [before, redrawn]) {
        assert.equal(picture.status, 200);
        assert.match(String(picture.headers['content-type']), /^image\/png/);
      }
      assert.ok(!redrawn.raw.equals(before.raw), 'a new picture after a wrong answer');
      assert.deepEqual(await outboxTo(p, 'reg-captcha@example.jp'), []);

      const email = 'reg-limit@example.jp';
      const pages = [];
      for (let i = 0; i < 4; i++) pages.push(await register(browser(p), { code: newCode(), email }));
      for (const page of pages) assert.equal(page.text, pages[0]!.text);
      assert.equal((await outboxTo(p, email)).length, 3, 'the fourth request within the hour sends nothing');
      assert.ok(
        (await p.audit('registration.requested')).some((a) => a.outcome === 'rate_limited' && a.identifier === email),
      );
    });

    test('issue3-1: assigned names are easy to read aloud (no 0/o, 1/l/i, 9/g/q) and never one already used, closed accounts included', async () => {
      for (let i = 0; i < 2000; i++) {
        assert.match(draftUsername(), USERNAME);
        assert.match(draftUserId(), USER_ID);
      }
      const taken = await p.createUser({ username: 'abcd-2345', email: 'taken-name@example.jp' });
      await p.database.db.updateTable('users').set({ status: 'closed' }).where('id', '=', taken.id).execute();
      const drafts = ['abcd-2345', 'abcd-2345', 'efhj-3456'];
      assert.equal(await assignUnique(p.database.db, () => drafts.shift()!), 'efhj-3456');
      await assert.rejects(
        assignUnique(p.database.db, () => 'abcd-2345'),
        /could not assign a unique name/,
      );
    });

    test('W2 K2: the form offers the non-visual alternative (a proof of work) instead of spelling the characters out', async () => {
      const c = browser(p);
      const page = await c.open('/register');
      assert.equal(page.status, 200);
      assert.ok(page.text.includes(ja['captcha.pow.lead']));
      assert.ok(
        /<button type="button" [^>]*data-pow-start[^>]*>画像の文字を入力せずに確認する<\/button>/.test(page.body),
        'the button is a plain button',
      );
      assert.ok(/role="status" aria-live="polite"/.test(page.body), 'progress is announced');
      assert.ok(/<input type="hidden" name="pow" value\/>/.test(page.body), 'a hidden field for the solution');
      assert.ok(
        page.text.includes(ja['reset.captchaPhoneHelp'].replace('{phone}', '0800-080-4583')),
        'without JavaScript: the call center',
      );
      // The old text mode is gone: the action is refused, and the page says so in its language (B1).
      const old = await c.submit({
        action: 'textmode',
        accountType: 'institution',
        code: '',
        name: '',
        contact: '',
        email: 'w2@example.jp',
        phone: '',
        codes: '',
        captcha: '',
      });
      assert.equal(old.status, 400);
    });

    test('R3: over 10 registrations per IP per hour, the same page and no mail', async () => {
      const c = browser(p);
      let last;
      for (let i = 1; i <= 11; i++) last = await register(c, { code: newCode(), email: `reg-ip${i}@example.jp` });
      assert.equal(last!.status, 200);
      assert.ok(last!.text.includes(ja['reg.sent.heading']));
      assert.equal((await outboxTo(p, 'reg-ip10@example.jp')).length, 1);
      assert.deepEqual(await outboxTo(p, 'reg-ip11@example.jp'), []);
      assert.ok((await p.audit('registration.requested')).some((a) => a.outcome === 'rate_limited' && a.ip === c.ip));
    });
  });
}
