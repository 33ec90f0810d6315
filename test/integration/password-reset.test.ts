/**
 * The password reset of the seed manual, stages ① 特定 → ② 検証 → sent → ③ リセット → done, through app.inject()
 * with the real SMTP sink, on every database target: the journey, then R1 (same answer whatever the account),
 * R3 (limits), R4 (a request changes nothing), R5 (order and expiry of the flow) and R6 (the CAPTCHA).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import {
  BASE_URL,
  CAPTCHA,
  GOOD_PASSWORD,
  linkOf,
  pathOf,
  requestReset,
  startTestPortal,
  type Client,
  type Page,
  type TestPortal,
} from '../helpers/test-app.ts';
import type { ReceivedMail } from '../helpers/smtp-sink.ts';

const NEW_PASSWORD = 'Sakura2026Hana';
const RESET_SUBJECT = '【医療機関等向け総合ポータルサイト】パスワード変更用URL';

let ipSeq = 0;
/** A browser of its own address, so that per-IP limits of one test do not reach another. */
function browser(p: TestPortal): Client {
  const c = p.client();
  ipSeq++;
  c.ip = `10.1.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}`;
  return c;
}

function flowIdOf(c: Client): string {
  const m = /flow=([A-Za-z0-9]{32})/.exec(c.formAction());
  assert.ok(m, 'the form posts to a flow');
  return m[1]!;
}

/** The text of the step marked aria-current="step" in the indicator ① 特定 ② 検証 ③ リセット. */
function currentStep(page: Page): string {
  const ol = /<ol class="steps"[\s\S]*?<\/ol>/.exec(page.body);
  assert.ok(ol, 'the step indicator is on the page');
  const text = ol[0].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
  for (const step of ['① 特定', '② 検証', '③ リセット']) assert.ok(text.includes(step), `step indicator shows ${step}`);
  const cur = /<li[^>]*aria-current="step"[^>]*>([\s\S]*?)<\/li>/.exec(ol[0]);
  return cur
    ? cur[1]!
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
    : '';
}

/** The errors shown under a field (the element its aria-describedby points to). */
function fieldError(page: Page, id: string): string {
  const input = new RegExp(`<input[^>]*id="${id}"[^>]*>`).exec(page.body)?.[0] ?? '';
  assert.match(input, /aria-invalid="true"/, `${id} is marked invalid`);
  assert.match(input, new RegExp(`aria-describedby="[^"]*${id}-error`), `${id} points to its error`);
  const m = new RegExp(`<div id="${id}-error" class="field__error">([\\s\\S]*?)</div>`).exec(page.body);
  return m
    ? m[1]!
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
    : '';
}

function inputValue(page: Page, id: string): string | undefined {
  return new RegExp(`<input[^>]*id="${id}"[^>]*value="([^"]*)"`).exec(page.body)?.[1];
}

/** The sent page with what differs between two flows (flow id, CSRF token) taken out. */
const normalised = (body: string) =>
  body
    .replace(/flow(=|%3D)[A-Za-z0-9]{32}/g, 'flow$1X')
    .replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value="X"');

async function mailsTo(p: TestPortal, addr: string, n: number): Promise<ReceivedMail[]> {
  await p.sink.waitFor(() => p.sink.mails.filter((m) => m.to.includes(addr)).length >= n);
  return p.sink.mails.filter((m) => m.to.includes(addr));
}

async function outboxTo(p: TestPortal, addr: string): Promise<number> {
  return (await p.database.db.selectFrom('outbox').select('id').where('to_addr', '=', addr).execute()).length;
}

async function login(c: Client, username: string, password: string): Promise<Page> {
  await c.open('/login');
  return c.post('/login', { username, password });
}

const targets = await dbTargets();
for (const target of targets) {
  describe(`password reset [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      // The per-account ceiling is set to the per-(account, IP) limit (3): each request below comes from its own address.
      p = await startTestPortal(target, {
        env: { RESET_REQUESTS_PER_IP_PER_HOUR: '3', RESET_MAILS_PER_ACCOUNT_PER_HOUR: '3' },
      });
    });
    after(async () => {
      await p?.close();
    });

    test('journey: ① username + CAPTCHA → ② メール → sent → mail of the seed → ③ new password → 「Password Resetに成功」 → login with the new password only', async () => {
      await p.createUser({ username: 'clinic01', email: 'clinic01@example.jp', displayName: 'テスト医院' });
      const c = browser(p);
      const start = await c.get('/password-reset');
      assert.equal(start.status, 303);
      assert.match(start.location!, /^\/password-reset\?flow=[A-Za-z0-9]{32}$/);
      const one = await c.open(start.location!);
      assert.equal(one.status, 200);
      assert.match(currentStep(one), /① 特定/);
      assert.ok(one.text.includes(`${ja['reset.username']} *`) && one.text.includes(`${ja['reset.captcha']} *`));
      assert.match(one.body, /<img class="captcha__image" src="\/password-reset\/captcha\?flow=/);

      const two = await c.submit({ stage: 'identify', action: 'next', username: 'clinic01', captcha: CAPTCHA });
      assert.equal(two.status, 200);
      assert.match(currentStep(two), /② 検証/);
      assert.ok(two.text.includes('パーソナルデータ検証 - メールアドレス'));
      assert.ok(two.text.includes('メール *'));
      assert.ok(
        two.text.includes(ja['reset.verify.forUser'].replace('{username}', 'clinic01')),
        'W4: the username carries forward',
      );

      const sent = await c.submit({ stage: 'verify', action: 'next', email: 'clinic01@example.jp' });
      assert.equal(sent.status, 200);
      assert.ok(sent.text.includes('パスワード変更用URLメール送信完了'));
      assert.ok(sent.text.includes('from@mail.iryohokenjyohoportalsite.jp'));

      const mail = await p.sink.waitFor((m) => m.to.includes('clinic01@example.jp'));
      assert.equal(mail.from, 'from@mail.iryohokenjyohoportalsite.jp');
      assert.match(mail.raw, /^From: .*from@mail\.iryohokenjyohoportalsite\.jp/m);
      assert.equal(mail.subject, RESET_SUBJECT);
      const lines = mail.text
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const linkRe = new RegExp(
        `^${BASE_URL.replace(/[.]/g, '\\.')}/passwordreset\\.do\\?sysparm_tiny=[A-Za-z0-9]{32}$`,
      );
      const expected: Array<string | RegExp> = [
        '医療機関等向け総合ポータルサイトにおけるパスワード変更用のURLリンクを通知いたします。',
        '以下URLに遷移すること、パスワードを変更できます。',
        '=====',
        'パスワード変更用は以下からお願いいたします。',
        linkRe,
        '=====',
        '※本URLの有効期限は1時間となります。',
        '■医療機関等向け総合ポータルサイト',
        `${BASE_URL}/csm`,
        '※本メールは送信専用です。本メールへの返信にはご回答できません。',
        '※本メールにお心当たりのない場合やご不明な点がある場合は以下よりお問い合わせください。',
        '社会保険診療報酬支払基金（情報化企画部・情報化支援部）',
        '国民健康保険中央会（番号制度対策本部）',
        'オンライン資格確認・医療情報化支援基金関係',
        'オンライン資格確認に関するお問い合わせ先',
        'オンライン資格確認等コールセンター：0800-080-4583（通話無料）',
        '月曜日～金曜日8：00～18：00 土曜日8：00～16：00（いずれも祝日を除く）',
      ];
      assert.equal(lines.length, expected.length, `mail lines:\n${lines.join('\n')}`);
      expected.forEach((e, i) => (typeof e === 'string' ? assert.equal(lines[i], e) : assert.match(lines[i]!, e)));

      const three = await c.open(pathOf(linkOf(mail)));
      assert.equal(three.status, 200);
      assert.match(currentStep(three), /③ リセット/);
      assert.ok(three.text.includes('新しいパスワード *') && three.text.includes('新しいパスワードの確認 *'));
      assert.ok(
        three.text.includes('※大文字/小文字/数字をそれぞれ1文字以上、かつ8文字以上100文字以内で入力してください。'),
      );

      const done = await c.submit({ password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      assert.equal(done.status, 200);
      assert.ok(done.text.includes('Password Resetに成功'));
      const finish =
        /<a class="button button--primary" href="(\/login\?m=afterReset&amp;flow=[A-Za-z0-9]{32})">完了<\/a>/.exec(
          done.body,
        );
      assert.ok(finish, '完了 leads to the login page');
      const loginPage = await c.open(finish[1]!.replace(/&amp;/g, '&'));
      assert.ok(loginPage.text.includes(ja['login.afterReset']));

      const old = await c.post('/login', { username: 'clinic01', password: GOOD_PASSWORD });
      assert.equal(old.status, 401);
      assert.ok(old.text.includes(ja['login.failed'].slice(0, 20)));
      const ok = await c.post('/login', { username: 'clinic01', password: NEW_PASSWORD });
      assert.equal(ok.status, 303);
      assert.equal(ok.location, '/csm');
      assert.ok((await c.open('/csm')).text.includes('テスト医院 さん'));
    });

    test('journey: a coordinator (取りまとめ者) resets with the user ID and logs in with it', async () => {
      await p.createUser({ username: 'coord01', coordinator: true, userId: 'kanri01', email: 'kanri01@example.jp' });
      const c = browser(p);
      const sent = await requestReset(c, 'kanri01', 'kanri01@example.jp');
      assert.ok(sent.text.includes(ja['reset.sent.heading']));
      const mail = await p.sink.waitFor((m) => m.to.includes('kanri01@example.jp'));
      const three = await c.open(pathOf(linkOf(mail)));
      assert.ok(three.text.includes(ja['reset.reset.forUser'].replace('{username}', 'kanri01')));
      await c.submit({ password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      assert.equal((await login(browser(p), 'kanri01', NEW_PASSWORD)).status, 303);
    });

    test('R1: unknown, provisional, e-mail mismatch, locked and fine accounts get the same status and page; mail only where it may go; outcome audited', async () => {
      await p.createUser({ username: 'r1-prov', email: 'r1-prov@07' });
      await p.createUser({ username: 'r1-mism', email: 'r1-mism@example.jp' });
      await p.createUser({ username: 'r1-lock', email: 'r1-lock@example.jp' });
      await p.createUser({ username: 'r1-oplock', email: 'r1-oplock@example.jp' });
      await p.createUser({ username: 'r1-fine', email: 'r1-fine@example.jp' });
      // Locked by five wrong passwords (temporary), and by an operator (no end).
      const attacker = browser(p);
      for (let i = 0; i < 5; i++) assert.equal((await login(attacker, 'r1-lock', 'Wrong-pass-1')).status, 401);
      await p.database.db
        .updateTable('users')
        .set({ status: 'locked', locked_until: null })
        .where('username', '=', 'r1-oplock')
        .execute();

      const cases = [
        ['r1-nobody', 'r1-nobody@example.jp', 'unknown_user'],
        ['r1-prov', 'r1-prov@example.jp', 'provisional_address'],
        ['r1-mism', 'someone-else@example.jp', 'email_mismatch'],
        ['r1-oplock', 'r1-oplock@example.jp', 'account_locked'],
        ['r1-lock', 'r1-lock@example.jp', 'mail_queued'],
        ['r1-fine', 'r1-fine@example.jp', 'mail_queued'],
      ] as const;
      const pages: Page[] = [];
      for (const [username, email] of cases) pages.push(await requestReset(browser(p), username, email));
      for (const [i, page] of pages.entries()) {
        assert.equal(page.status, 200, cases[i]![0]);
        assert.equal(
          normalised(page.body),
          normalised(pages.at(-1)!.body),
          `the page for ${cases[i]![0]} is the fine account's page`,
        );
      }
      assert.ok(pages[0]!.text.includes(ja['reset.sent.heading']));

      await mailsTo(p, 'r1-fine@example.jp', 1);
      await mailsTo(p, 'r1-lock@example.jp', 1); // a temporary lockout is what a reset lifts
      await p.app.mailWorker.runOnce();
      for (const addr of [
        'r1-nobody@example.jp',
        'r1-prov@example.jp',
        'r1-prov@07',
        'someone-else@example.jp',
        'r1-mism@example.jp',
        'r1-oplock@example.jp',
      ]) {
        assert.equal(p.sink.mails.filter((m) => m.to.includes(addr)).length, 0, `no mail to ${addr}`);
        assert.equal(await outboxTo(p, addr), 0, `nothing queued for ${addr}`);
      }
      const requested = await p.audit('password_reset.requested');
      for (const [username, , outcome] of cases) {
        const rows = requested.filter((r) => r.identifier === username);
        assert.deepEqual(
          rows.map((r) => r.outcome),
          [outcome],
          `audit outcome of ${username}`,
        );
      }
    });

    test('R3: over RESET_MAILS_PER_ACCOUNT_PER_HOUR (the ceiling, set to 3 here) from four addresses the same page, no 4th mail, audit rate_limited (account)', async () => {
      await p.createUser({ username: 'r3-acct', email: 'r3-acct@example.jp' });
      const pages: Page[] = [];
      for (let i = 0; i < 4; i++) pages.push(await requestReset(browser(p), 'r3-acct', 'r3-acct@example.jp'));
      assert.equal(pages[3]!.status, 200);
      assert.equal(normalised(pages[3]!.body), normalised(pages[0]!.body));
      await mailsTo(p, 'r3-acct@example.jp', 3);
      await p.app.mailWorker.runOnce();
      assert.equal(p.sink.mails.filter((m) => m.to.includes('r3-acct@example.jp')).length, 3);
      assert.equal(await outboxTo(p, 'r3-acct@example.jp'), 3);
      const rows = (await p.audit('password_reset.requested')).filter((r) => r.identifier === 'r3-acct');
      assert.deepEqual(
        rows.map((r) => r.outcome),
        ['mail_queued', 'mail_queued', 'mail_queued', 'rate_limited'],
      );
      assert.deepEqual(JSON.parse(rows[3]!.detail!), { limit: 'account' });
    });

    test('R3: over RESET_REQUESTS_PER_IP_PER_HOUR (set to 3) from one address the same page, no mail, audit rate_limited (ip); the window ends after an hour', async () => {
      const c = browser(p);
      for (const n of [1, 2, 3, 4, 5]) await p.createUser({ username: `r3-ip${n}`, email: `r3-ip${n}@example.jp` });
      const pages: Page[] = [];
      for (const n of [1, 2, 3, 4]) pages.push(await requestReset(c, `r3-ip${n}`, `r3-ip${n}@example.jp`));
      assert.equal(pages[3]!.status, 200);
      assert.equal(normalised(pages[3]!.body), normalised(pages[0]!.body));
      await mailsTo(p, 'r3-ip3@example.jp', 1);
      await p.app.mailWorker.runOnce();
      assert.equal(await outboxTo(p, 'r3-ip4@example.jp'), 0);
      assert.equal(p.sink.mails.filter((m) => m.to.includes('r3-ip4@example.jp')).length, 0);
      const row = (await p.audit('password_reset.requested')).find((r) => r.identifier === 'r3-ip4');
      assert.equal(row?.outcome, 'rate_limited');
      assert.equal(row?.ip, c.ip);
      assert.deepEqual(JSON.parse(row!.detail!), { limit: 'ip' });
      p.clock.advance(61 * 60_000);
      await requestReset(c, 'r3-ip5', 'r3-ip5@example.jp');
      await mailsTo(p, 'r3-ip5@example.jp', 1);
    });

    test('R4: after a request the old password still logs in and the link still works', async () => {
      await p.createUser({ username: 'r4-user', email: 'r4-user@example.jp', displayName: 'R4医院' });
      const c = browser(p);
      await requestReset(c, 'r4-user', 'r4-user@example.jp');
      const mail = await p.sink.waitFor((m) => m.to.includes('r4-user@example.jp'));
      const other = browser(p);
      const r = await login(other, 'r4-user', GOOD_PASSWORD);
      assert.equal(r.status, 303);
      assert.ok((await other.open('/csm')).text.includes('R4医院 さん'));
      assert.equal((await c.open(pathOf(linkOf(mail)))).status, 200);
    });

    test('R5: a stage-② form posted while the flow is in ① is refused with 409 and moves nothing', async () => {
      await p.createUser({ username: 'r5-user', email: 'r5-user@example.jp' });
      const c = browser(p);
      await c.open('/password-reset');
      const id = flowIdOf(c);
      const r = await c.post(`/password-reset?flow=${id}`, {
        stage: 'verify',
        action: 'next',
        email: 'r5-user@example.jp',
      });
      assert.equal(r.status, 409);
      assert.ok(r.text.includes(ja['reset.outOfOrder']));
      assert.match(currentStep(r), /① 特定/);
      const row = await p.database.db
        .selectFrom('flows')
        .select(['state', 'user_id'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(row, { state: 'identify', user_id: null });
      assert.equal((await p.audit('password_reset.requested')).filter((a) => a.identifier === 'r5-user').length, 0);
    });

    test('R5: a flow idle past FLOW_TTL (30 min) starts again at ① with the expiry notice', async () => {
      const c = browser(p);
      await c.open('/password-reset');
      await c.submit({ stage: 'identify', action: 'next', username: 'r5-late', captcha: CAPTCHA });
      const id = flowIdOf(c);
      p.clock.advance(31 * 60_000);
      const r = await c.post(`/password-reset?flow=${id}`, {
        stage: 'verify',
        action: 'next',
        email: 'r5-late@example.jp',
      });
      assert.equal(r.status, 303);
      const page = await c.open(r.location!);
      assert.equal(page.status, 200);
      assert.ok(page.text.includes(ja['reset.flowExpired']));
      assert.match(currentStep(page), /① 特定/);
      assert.notEqual(flowIdOf(c), id);
      assert.equal((await p.audit('password_reset.requested')).filter((a) => a.identifier === 'r5-late').length, 0);
    });

    test('R5: a flow id used from another browser (without its cookie) does not work', async () => {
      await p.createUser({ username: 'r5-other', email: 'r5-other@example.jp' });
      const owner = browser(p);
      await owner.open('/password-reset');
      await owner.submit({ stage: 'identify', action: 'next', username: 'r5-other', captcha: CAPTCHA });
      const id = flowIdOf(owner);
      const stranger = browser(p);
      const seen = await stranger.get(`/password-reset?flow=${id}`);
      assert.equal(seen.status, 303);
      assert.equal(seen.location, '/password-reset?m=expired');
      await stranger.open('/password-reset');
      const r = await stranger.post(`/password-reset?flow=${id}`, {
        stage: 'verify',
        action: 'next',
        email: 'r5-other@example.jp',
      });
      assert.equal(r.status, 303);
      assert.equal(r.location, '/password-reset?m=expired');
      const row = await p.database.db
        .selectFrom('flows')
        .select('state')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.equal(row.state, 'verify');
      assert.equal(await outboxTo(p, 'r5-other@example.jp'), 0);
    });

    test('R6 W4: a wrong CAPTCHA → 400 with the error under the field, username kept, a new picture', async () => {
      const c = browser(p);
      await c.open('/password-reset');
      const id = flowIdOf(c);
      const before = (await c.get(`/password-reset/captcha?flow=${id}`)).raw;
      const r = await c.submit({ stage: 'identify', action: 'next', username: 'r6-user', captcha: 'zzzzz' });
      assert.equal(r.status, 400);
      assert.equal(fieldError(r, 'captcha'), ja['reset.captchaWrong']);
      assert.equal(inputValue(r, 'username'), 'r6-user');
      assert.match(currentStep(r), /① 特定/);
      const afterPic = await c.get(`/password-reset/captcha?flow=${id}`);
      assert.equal(afterPic.status, 200);
      assert.match(String(afterPic.headers['content-type']), /^image\/png/);
      assert.ok(!afterPic.raw.equals(before), 'a new CAPTCHA picture is drawn');
      const audit = (await p.audit('password_reset.captcha')).filter((a) => a.identifier === 'r6-user');
      assert.deepEqual(
        audit.map((a) => a.outcome),
        ['wrong'],
      );
      // The new CAPTCHA is answered and ① is done; the used one cannot be posted again.
      const two = await c.submit({ stage: 'identify', action: 'next', username: 'r6-user', captcha: CAPTCHA });
      assert.match(currentStep(two), /② 検証/);
      const again = await c.post(`/password-reset?flow=${id}`, {
        stage: 'identify',
        action: 'next',
        username: 'r6-user',
        captcha: CAPTCHA,
      });
      assert.equal(again.status, 409);
    });

    test('R6: a CAPTCHA older than 10 minutes is refused and replaced', async () => {
      const c = browser(p);
      await c.open('/password-reset');
      p.clock.advance(11 * 60_000);
      const r = await c.submit({ stage: 'identify', action: 'next', username: 'r6-slow', captcha: CAPTCHA });
      assert.equal(r.status, 400);
      assert.equal(fieldError(r, 'captcha'), ja['reset.captchaExpired']);
      assert.equal(inputValue(r, 'username'), 'r6-slow');
      const ok = await c.submit({ stage: 'identify', action: 'next', username: 'r6-slow', captcha: CAPTCHA });
      assert.equal(ok.status, 200);
      assert.match(currentStep(ok), /② 検証/);
    });

    test('R6: the flows table never holds the CAPTCHA answer in clear (picture, refresh, back from ②)', async () => {
      const c = browser(p);
      await c.open('/password-reset');
      const id = flowIdOf(c);
      const rowText = async () =>
        JSON.stringify(
          await p.database.db.selectFrom('flows').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
        ).toLowerCase();
      const seen: string[] = [await rowText()];
      await c.submit({ stage: 'identify', action: 'refresh', username: 'r6-store', captcha: '' });
      seen.push(await rowText());
      await c.submit({ stage: 'identify', action: 'next', username: 'r6-store', captcha: CAPTCHA });
      await c.submit({ stage: 'verify', action: 'back', email: '' });
      seen.push(await rowText());
      for (const row of seen) {
        assert.ok(!row.includes(CAPTCHA), 'no CAPTCHA answer in the flow row');
        assert.match(row, /"captcha_hash":"[0-9a-f]{64}"/);
      }
      const audit = JSON.stringify(await p.audit()).toLowerCase();
      assert.ok(!audit.includes(CAPTCHA), 'no CAPTCHA answer in the audit trail (A1)');
    });
  });
}
