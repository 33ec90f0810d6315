/**
 * Guidance where the portal used to leave people stuck (issue 11 items 2, 3 and 7), on every database target:
 * F1–F3 the login page states the lockout rule from the third failure in a row, identically for known and unknown
 * names (L1); F4 stage ② accepts a provisional account's placeholder address (R1); F5–F6 a protected page returns
 * there after the login, and only to a local path; F7 完了 after a reset fills in the username (W4); F8 a used
 * registration link says the registration is complete.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { checkDigitOf } from '../../src/accounts/institution-code.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import {
  GOOD_PASSWORD,
  linkOf,
  pathOf,
  requestReset,
  startTestPortal,
  type Client,
  type Page,
  type TestPortal,
} from '../helpers/test-app.ts';
import { mailTo, outboxTo, register, registerFully, registrationLinkOf, SUBJECTS } from '../helpers/accounts.ts';

const NEW_PASSWORD = 'Sakura2026Hana';
const REG_PASSWORD = 'Touroku2026Pass';
const RULE = ja['login.lockRule'].replace('{threshold}', '5').replace('{minutes}', '15');
/** The sentence on how to lift the lock, its 「パスワードの再設定」 a link to the reset. */
const UNLOCK_HTML = ja['login.lockRule.unlock'].replace(
  '{link}',
  `<a href="/password-reset">${ja['login.forgot']}</a>`,
);

let ipSeq = 0;
/** A browser at its own address, so that per-address counters of one test do not reach another. */
function browser(p: TestPortal): Client {
  const c = p.client();
  ipSeq++;
  c.ip = `10.77.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}`;
  return c;
}

let seq = 0;
function newCode(): string {
  const body = `131${String((++seq * 7919) % 1_000_000).padStart(6, '0')}`;
  return body + checkDigitOf(body);
}

async function logIn(c: Client, username: string, password: string): Promise<Page> {
  await c.open('/login');
  return c.post('/login', { username, password });
}

/** The login page without what differs per request or per typed name: the CSRF token and the username echoed back. */
const comparable = (body: string) =>
  body
    .replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value="X"')
    .replace(/(name="username"[^>]*value=")[^"]*"/g, '$1X"');

/** The hidden `next` field of the login form, or undefined. */
const nextField = (page: Page) =>
  /<input type="hidden" name="next" value="([^"]*)"/.exec(page.body)?.[1]?.replace(/&amp;/g, '&');

const inputValue = (page: Page, id: string) =>
  new RegExp(`<input[^>]*id="${id}"[^>]*value="([^"]*)"`).exec(page.body)?.[1];

const targets = await dbTargets();
for (const target of targets) {
  describe(`guidance on login, reset and registration [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target);
    });
    after(async () => {
      await p?.close();
    });

    test('F1 L1 L2: from the 3rd failure in a row the page states the lock rule and links the reset; known and unknown names get the same status and page at the 1st, 3rd and 6th failure, the right password of the locked account included', async () => {
      await p.createUser({ username: 'f1-known' });
      const known = browser(p);
      const ghost = browser(p);
      const pages: Array<[Page, Page]> = [];
      for (let n = 1; n <= 6; n++) {
        // The 6th attempt of the known name is its right password: the account is locked by then.
        const k = await logIn(known, 'f1-known', n === 6 ? GOOD_PASSWORD : `Wrong${n}Pass2026`);
        const g = await logIn(ghost, 'f1-ghost', `Wrong${n}Pass2026`);
        pages.push([k, g]);
      }
      assert.ok(
        (await p.audit('account.locked')).some((a) => a.outcome === 'temporary'),
        'the known account was locked at the 5th failure',
      );
      for (const n of [1, 3, 6]) {
        const [k, g] = pages[n - 1]!;
        assert.equal(k.status, 401, `known, failure ${n}`);
        assert.equal(g.status, 401, `unknown, failure ${n}`);
        assert.equal(
          comparable(k.body),
          comparable(g.body),
          `failure ${n}: the same page for a known and an unknown name`,
        );
        assert.ok(k.text.includes(ja['login.failed']));
      }
      for (const n of [1, 2]) assert.ok(!pages[n - 1]![0].text.includes(RULE), `no rule at failure ${n}`);
      for (const n of [3, 4, 5, 6]) {
        const [k] = pages[n - 1]!;
        assert.ok(k.text.includes(RULE), `the rule in words at failure ${n}`);
        assert.ok(k.body.includes(`<p>${UNLOCK_HTML}</p>`), `how to lift it at failure ${n}, the reset a link`);
      }
      assert.ok(
        UNLOCK_HTML.startsWith('ログインの失敗によるロックは'),
        "it promises to lift only a lock from failed logins, not an operator's",
      );
    });

    test('F2 L2: what the rule promises holds — a reset lifts the lock from failed logins at once', async () => {
      await p.createUser({ username: 'f2-reset', email: 'f2-reset@example.jp' });
      const c = browser(p);
      let last: Page | undefined;
      for (let i = 0; i < 5; i++) last = await logIn(c, 'f2-reset', `Wrong${i}Pass2026`);
      assert.ok(last!.text.includes(RULE));
      assert.equal((await logIn(browser(p), 'f2-reset', GOOD_PASSWORD)).status, 401, 'locked');
      await requestReset(c, 'f2-reset', 'f2-reset@example.jp');
      const mail = await p.sink.waitFor((m) => m.to.includes('f2-reset@example.jp') && m.subject === SUBJECTS.reset);
      await c.open(pathOf(linkOf(mail)));
      assert.equal((await c.submit({ password: NEW_PASSWORD, confirm: NEW_PASSWORD })).status, 200);
      const ok = await logIn(browser(p), 'f2-reset', NEW_PASSWORD);
      assert.equal(ok.status, 303, 'the lock is lifted at once');
    });

    test('F3 L1: a successful login ends the streak; the streak is per typed name and address', async () => {
      await p.createUser({ username: 'f3-user' });
      const c = browser(p);
      await logIn(c, 'f3-user', 'Wrong1Pass2026');
      await logIn(c, 'f3-user', 'Wrong2Pass2026');
      assert.equal((await logIn(c, 'f3-user', GOOD_PASSWORD)).status, 303);
      await c.post('/logout', {});
      const again = await logIn(c, 'f3-user', 'Wrong3Pass2026');
      assert.ok(!again.text.includes(RULE), 'after a success the count starts again');
      const other = await logIn(c, 'f3-other', 'Wrong4Pass2026');
      assert.ok(!other.text.includes(RULE), 'another name from the same address has its own count');
      // Typed differently (full width, upper case), the same name: its 3rd failure.
      const third = await logIn(c, 'Ｆ３－ＵＳＥＲ', 'Wrong5Pass2026');
      assert.ok(!third.text.includes(RULE), 'second failure after the success');
      assert.ok(
        (await logIn(c, ' F3-User ', 'Wrong6Pass2026')).text.includes(RULE),
        'third failure of the same normalised name',
      );
    });

    test("F4 R1: at ② a provisional account's placeholder (@01–@48) is accepted: the sent page of any request, no mail, audit provisional_address; the notice about provisional accounts stands out", async () => {
      await p.createUser({ username: 'f4-prov', email: 'f4-prov@07' });
      await p.createUser({ username: 'f4-fine', email: 'f4-fine@example.jp' });
      const prov = await requestReset(browser(p), 'f4-prov', 'f4-prov@07');
      const ghost = await requestReset(browser(p), 'f4-nobody', 'f4-nobody@48');
      const fine = await requestReset(browser(p), 'f4-fine', 'f4-fine@example.jp');
      const normal = (b: string) =>
        b
          .replace(/flow(=|%3D)[A-Za-z0-9]{32}/g, 'flow$1X')
          .replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value="X"');
      for (const page of [prov, ghost, fine]) {
        assert.equal(page.status, 200);
        assert.equal(normal(page.body), normal(fine.body), 'the same page as for a mail that goes out');
      }
      assert.ok(prov.text.includes(ja['reset.sent.heading']));
      const box =
        /<section class="notice-box notice-box--important" aria-labelledby="sent-no-mail">([\s\S]*?)<\/section>/.exec(
          prov.body,
        );
      assert.ok(box, 'a highlighted notice box, named by its heading');
      for (const key of [
        'reset.sent.noMailHeading',
        'login.notice.lead',
        'login.notice.item1',
        'login.notice.item2',
        'login.notice.p1',
      ] as const) {
        assert.ok(box[1]!.includes(ja[key]), `the box says ${key} in the seed's words`);
      }
      assert.match(box[1]!, /<h3 id="sent-no-mail">/);
      await p.sink.waitFor((m) => m.to.includes('f4-fine@example.jp'));
      await p.app.mailWorker.runOnce();
      assert.equal((await outboxTo(p, 'f4-prov@07')).length, 0, 'nothing queued for the placeholder');
      assert.equal(p.sink.mails.filter((m) => m.to.includes('f4-prov')).length, 0);
      const outcomes = (await p.audit('password_reset.requested'))
        .filter((a) => a.identifier?.startsWith('f4-'))
        .map((a) => [a.identifier, a.outcome]);
      assert.deepEqual(outcomes, [
        ['f4-prov', 'provisional_address'],
        ['f4-nobody', 'unknown_user'],
        ['f4-fine', 'mail_queued'],
      ]);
      // B1: what is neither an address nor a placeholder is still refused, in the page's language.
      for (const email of ['f4-x@00', 'f4-x@49', 'f4-x@7', '@07', 'f4 x@07', 'not-an-address']) {
        const c = browser(p);
        await c.open('/password-reset');
        await c.submit({ stage: 'identify', action: 'next', username: 'f4-x', captcha: 'w7rbh' });
        const page = await c.submit({ stage: 'verify', action: 'next', email });
        assert.equal(page.status, 400, email);
        assert.ok(page.text.includes(ja['reset.emailInvalid']), email);
      }
    });

    test('F5: a protected page sends to the login with its path; the form carries it; the login returns there', async () => {
      await p.createUser({ username: 'f5-user', displayName: '戻り医院' });
      const c = browser(p);
      const asked = await c.get('/account/email');
      assert.equal(asked.status, 303);
      assert.equal(asked.location, '/login?m=loginRequired&next=%2Faccount%2Femail');
      const login = await c.open(asked.location!);
      assert.ok(login.text.includes(ja['account.loginRequired']));
      assert.equal(nextField(login), '/account/email');
      // A wrong password keeps the way back.
      const wrong = await c.post('/login', { username: 'f5-user', password: 'Wrong1Pass2026', next: '/account/email' });
      assert.equal(wrong.status, 401);
      assert.equal(nextField(wrong), '/account/email');
      const ok = await c.post('/login', { username: 'f5-user', password: GOOD_PASSWORD, next: nextField(wrong)! });
      assert.equal(ok.status, 303);
      assert.equal(ok.location, '/account/email');
      assert.equal((await c.get('/account/email')).status, 200);
      // Already logged in, the login page goes on to `next` at once; without one, to the top page.
      assert.equal((await c.get('/login?next=%2Faccount%3Fm%3Dpassword')).location, '/account?m=password');
      assert.equal((await c.get('/login')).location, '/csm');
      // The query of a GET comes along; a POST returns to its page.
      const d = browser(p);
      assert.equal((await d.get('/account?m=email')).location, '/login?m=loginRequired&next=%2Faccount%3Fm%3Demail');
      await d.open('/login');
      assert.equal(
        (await d.post('/account/password', { current: 'x', password: 'y', confirm: 'y' })).location,
        '/login?m=loginRequired&next=%2Faccount%2Fpassword',
      );
      // A login without `next` still lands on the top page.
      assert.equal((await logIn(browser(p), 'f5-user', GOOD_PASSWORD)).location, '/csm');
    });

    test('F6: no open redirect — another site, a scheme, backslashes, control characters, encoded forms and over-long paths are dropped', async () => {
      await p.createUser({ username: 'f6-user' });
      const bad = [
        '//evil.example',
        '//evil.example/account',
        '/\\evil.example',
        '\\\\evil.example',
        '/\\/evil.example',
        'https://evil.example',
        'http:/evil.example',
        'javascript:alert(1)',
        'evil.example',
        '/\t/evil.example',
        '/\n/evil.example',
        '/account\r\nSet-Cookie: x=1',
        '%2F%2Fevil.example',
        '/%5Cevil.example\\',
        '/',
        `/${'a'.repeat(200)}`,
        '/アカウント',
        `/passwordreset.do?sysparm_tiny=${'A'.repeat(32)}`,
        `/register/verify?token=${'A'.repeat(32)}`,
      ];
      for (const next of bad) {
        const c = browser(p);
        const page = await c.get(`/login?next=${encodeURIComponent(next)}`);
        assert.equal(page.status, 200, JSON.stringify(next));
        assert.equal(nextField(page), undefined, `not carried: ${JSON.stringify(next)}`);
        const r = await c.post('/login', { username: 'f6-user', password: GOOD_PASSWORD, next });
        assert.equal(r.status, 303, JSON.stringify(next));
        assert.equal(r.location, '/csm', `not followed: ${JSON.stringify(next)}`);
      }
      // Encoded once more, a value is only text that does not start with "/": dropped too.
      const c = browser(p);
      assert.equal(nextField(await c.get('/login?next=%252F%252Fevil.example')), undefined);
      // Sent twice, the query is a bad request (B1), never a 500.
      assert.equal((await c.get('/login?next=/account&next=//evil.example')).status, 400);
      // A local path with an encoded slash stays on this site.
      await c.get('/login');
      const local = await c.post('/login', { username: 'f6-user', password: GOOD_PASSWORD, next: '/%2F/evil.example' });
      assert.equal(local.location, '/%2F/evil.example');
    });

    test('F7 W4 C2: 完了 after a reset leads to the login page with the username filled in, bound to this browser, never in the URL', async () => {
      await p.createUser({ username: 'f7-coord', coordinator: true, userId: 'f7kanri', email: 'f7@example.jp' });
      const c = browser(p);
      await requestReset(c, 'f7kanri', 'f7@example.jp');
      const mail = await p.sink.waitFor((m) => m.to.includes('f7@example.jp') && m.subject === SUBJECTS.reset);
      await c.open(pathOf(linkOf(mail)));
      const done = await c.submit({ password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      const href = /href="(\/login\?m=afterReset&amp;flow=[A-Za-z0-9]{32})">完了</
        .exec(done.body)?.[1]
        ?.replace(/&amp;/g, '&');
      assert.ok(href, 'the 完了 link');
      assert.ok(!href.includes('f7kanri') && !href.includes('f7-coord'), 'no username in the URL');
      const login = await c.open(href);
      assert.equal(login.status, 200);
      assert.ok(login.text.includes(ja['login.afterReset']));
      assert.equal(inputValue(login, 'username'), 'f7kanri', "the coordinator's user ID, as typed at ①");
      assert.match(login.body, /<input[^>]*id="password"[^>]*autofocus/, 'the cursor waits in the password field');
      assert.equal(c.cookies.has('__Host-sid'), false, 'not logged in (C2)');
      // The same URL in another browser (history, a shared link) fills in nothing.
      const elsewhere = await browser(p).open(href);
      assert.equal(inputValue(elsewhere, 'username') ?? '', '');
      // A flow that is not done (a reset still at ③) fills in nothing either.
      assert.equal(
        inputValue(await c.open('/login?m=afterReset&flow=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 'username') ?? '',
        '',
      );
      const ok = await c.post('/login', { username: inputValue(login, 'username')!, password: NEW_PASSWORD });
      assert.equal(ok.location, '/csm');
    });

    test('F8 T3: a used registration link says the registration is complete and offers the login; a pending case says it waits for the call; expired and unknown links keep their text', async () => {
      const c = browser(p);
      const email = 'f8-done@example.jp';
      await registerFully(p, c, { code: newCode(), email }, REG_PASSWORD);
      const link = registrationLinkOf(await mailTo(p, email, SUBJECTS.verify));
      for (const who of [c, browser(p)]) {
        const used = await who.open(pathOf(link));
        assert.equal(used.status, 410);
        assert.ok(used.text.includes(ja['reg.link.doneHeading']));
        assert.ok(used.text.includes(ja['reg.link.done']));
        assert.match(
          used.body,
          new RegExp(`<a class="button button--primary" href="/login">${ja['reg.done.toLogin']}</a>`),
        );
        assert.ok(!used.text.includes(ja['reg.restart']), 'not 「ユーザー登録をやり直す」');
        assert.ok(!used.text.includes(ja['reg.link.used']));
      }

      const code = newCode();
      await p.createUser({ username: 'f8-holder', email: 'f8-holder@21', institutionCode: code });
      const a = browser(p);
      await register(a, { code, email: 'f8-case@example.jp' });
      const caseLink = registrationLinkOf(await mailTo(p, 'f8-case@example.jp', SUBJECTS.verify));
      await a.open(pathOf(caseLink));
      await a.submit({ password: REG_PASSWORD, confirm: REG_PASSWORD });
      const pending = await browser(p).open(pathOf(caseLink));
      assert.equal(pending.status, 410);
      assert.ok(pending.text.includes(ja['reg.case.heading']), 'the call-back is still to come');
      assert.ok(!pending.text.includes(ja['reg.restart']));

      const b = browser(p);
      await register(b, { code: newCode(), email: 'f8-late@example.jp' });
      const late = registrationLinkOf(await mailTo(p, 'f8-late@example.jp', SUBJECTS.verify));
      p.clock.advance(25 * 3600_000);
      const expired = await b.open(pathOf(late));
      assert.equal(expired.status, 410);
      assert.ok(expired.text.includes(ja['reg.link.expired']));
      assert.ok(expired.text.includes(ja['reg.restart']));
      const unknown = await b.open('/register/verify?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      assert.equal(unknown.status, 400);
      assert.ok(unknown.text.includes(ja['reg.link.invalid']));
      assert.ok(unknown.text.includes(ja['reg.restart']));
    });
  });
}
