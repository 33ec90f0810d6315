/**
 * The call center's account page reads like a conversation (issue 11 item 5), on every database target: the lock
 * (by failed logins until when, by which operator since when, an ended lock as ended), the failed-login counts as
 * the per-source throttle keeps them, the institution's phone number, stage-① attempts and CAPTCHA failures typed
 * with the account's names; accounts by username / user ID in the audit search and its CSV (times in JST with the
 * offset); the console's forms with the error summary whose messages link to their fields (W1).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { en } from '../../src/web/i18n/en.ts';
import { japanDateTime } from '../../src/web/japan-time.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import {
  CAPTCHA,
  GOOD_PASSWORD,
  requestReset,
  startTestPortal,
  type Page,
  type TestPortal,
} from '../helpers/test-app.ts';
import { logIn } from '../helpers/accounts.ts';
import {
  auditRows,
  consoleAs,
  createOperator,
  parseCsv,
  tableAfter,
  visible,
  type TestOperator,
} from '../helpers/operators.ts';
import { browsersAt } from '../helpers/login.ts';

const browser = browsersAt('10.47');

const jst = (at: number) => `${japanDateTime(at)} (JST)`;
const fill = (text: string, params: Record<string, string | number>) =>
  Object.entries(params).reduce((s, [k, v]) => s.replaceAll(`{${k}}`, String(v)), text);

/** The value shown for a label of the account page's summary (<dt>label</dt><dd>value</dd>), as visible text. */
function summaryValue(page: Page, label: string): string | undefined {
  const m = new RegExp(`<dt>${label.replace(/[()（）]/g, '\\$&')}</dt><dd>([\\s\\S]*?)</dd>`).exec(page.body);
  return m ? visible(m[1]!) : undefined;
}

for (const target of await dbTargets()) {
  describe(`the account page in words [${target}]`, () => {
    let p: TestPortal;
    let support: TestOperator;
    let admin: TestOperator;
    before(async () => {
      p = await startTestPortal(target);
      support = await createOperator(p, 'support', 'qa-sato', 'コールセンター佐藤');
      admin = await createOperator(p, 'admin', 'qa-admin', '管理者');
    });
    after(async () => {
      await p.close();
    });

    test('Q2 L2 A1: a lock by failed logins says until when and since when (JST); once it ends, it says so and names no one', async () => {
      const user = await p.createUser({ username: 'qa-fail', email: 'qa-fail@example.jp' });
      for (let i = 0; i < p.config.lockoutThreshold; i++) await logIn(browser(p), 'qa-fail', 'Wrong2026Pass');
      const row = (await p.database.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirst())!;
      const lockedAt = (await auditRows(p, 'account.locked')).find(
        (r) => r.user_id === user.id && r.outcome === 'temporary',
      )!.at;
      const c = await consoleAs(p, support);
      let page = await c.get(`/admin/users/${user.id}`);
      assert.equal(
        summaryValue(page, ja['admin.user.lockState']),
        fill(ja['admin.user.lockState.failures'], {
          n: p.config.lockoutThreshold,
          until: jst(row.locked_until!),
          at: jst(lockedAt),
        }),
      );
      assert.equal(summaryValue(page, ja['admin.user.lockedBy']), ja['admin.lockOrigin.failures']);

      p.clock.advance(p.config.lockoutMinutes * 60_000 + 1000);
      page = await (await consoleAs(p, support)).get(`/admin/users/${user.id}`);
      assert.equal(
        summaryValue(page, ja['admin.user.lockState']),
        fill(ja['admin.user.lockState.ended'], { until: jst(row.locked_until!) }),
      );
      assert.equal(summaryValue(page, ja['admin.user.lockedBy']), undefined, 'an ended lock has no one holding it');
      assert.equal(summaryValue(page, ja['admin.col.status']), ja['admin.status.active']);
    });

    test('Q2 S12 A1: a lock by an operator names the role and the operator, and since when (JST)', async () => {
      const user = await p.createUser({ username: 'qa-held', email: 'qa-held@example.jp' });
      const c = await consoleAs(p, admin);
      await c.get(`/admin/users/${user.id}`);
      assert.equal((await c.post(`/admin/users/${user.id}/lock`, { reason: '不正利用の疑い' })).status, 200);
      const at = (await auditRows(p, 'support.locked')).find((r) => r.user_id === user.id)!.at;
      const page = await (await consoleAs(p, support)).get(`/admin/users/${user.id}`);
      assert.equal(
        summaryValue(page, ja['admin.user.lockedBy']),
        fill(ja['admin.user.lockedByName'], { role: ja['admin.lockOrigin.admin'], name: admin.username }),
      );
      assert.equal(
        summaryValue(page, ja['admin.user.lockState']),
        fill(ja['admin.user.lockState.operator'], { at: jst(at) }),
      );
      assert.equal(summaryValue(page, ja['admin.col.status']), ja['admin.status.lockedIndefinite']);
      assert.equal(
        summaryValue(page, ja['admin.user.lockedSources']),
        ja['admin.user.noneListed'],
        "no source of its own: the operator's lock holds them all",
      );
    });

    /** The throttle row of one source of an account ('ip:…' or 'dev:…'). */
    const throttle = (userId: string, source: (s: string) => boolean) =>
      p.database.db
        .selectFrom('login_throttle')
        .selectAll()
        .where('subject', '=', `u:${userId}`)
        .execute()
        .then((rows) => rows.find((r) => source(r.source))!);

    test("Q2 Q3 L2: five failures from one new address — the login status names the account-wide lock with its 5 failures and its end, the address's lock with its own, and 状態 in JST minutes", async () => {
      const user = await p.createUser({
        username: 'qa-coord5',
        coordinator: true,
        userId: 'c0000001',
        email: 'qa-coord5@example.jp',
      });
      const from = browser(p);
      for (let i = 0; i < p.config.lockoutThreshold; i++) await logIn(from, 'c0000001', `Wrong${i}Pass2026`);
      const row = (await p.database.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirst())!;
      assert.equal(row.failed_logins, 0, 'the account-wide counter starts again at the lock (as before)');
      const lockedAt = (await auditRows(p, 'account.locked')).find(
        (r) => r.user_id === user.id && r.outcome === 'temporary',
      )!.at;
      const source = await throttle(user.id, (s) => s === `ip:${from.ip}`);
      const page = await (await consoleAs(p, support)).get(`/admin/users/${user.id}`);
      assert.ok(page.text.includes(ja['admin.user.loginStatus']));
      const n = p.config.lockoutThreshold;
      assert.equal(
        summaryValue(page, ja['admin.user.lockState']),
        fill(ja['admin.user.lockState.failures'], { n, until: jst(row.locked_until!), at: jst(lockedAt) }),
      );
      assert.equal(
        summaryValue(page, ja['admin.user.lockedSources']),
        fill(ja['admin.user.sourceFailureLocked'], { source: from.ip, until: jst(source.locked_until!), n }),
      );
      assert.equal(
        summaryValue(page, ja['admin.user.failedLogins']),
        fill(ja['admin.user.failedCountLocked'], { n: 0 }),
        'not "0 failures" beside a lock caused by 5',
      );
      assert.equal(summaryValue(page, ja['admin.user.sourceFailures']), ja['admin.user.noneListed']);
      assert.equal(
        summaryValue(page, ja['admin.col.status']),
        fill(ja['admin.status.lockedUntil'], { until: jst(row.locked_until!) }),
      );
      assert.doesNotMatch(summaryValue(page, ja['admin.col.status'])!, /\d{2}:\d{2}:\d{2}/, 'no seconds');
    });

    test('Q2 L2: five failures from a network it logged in from, and from its own browser — each source\'s lock is named, never a bare "not locked"', async () => {
      const user = await p.createUser({ username: 'qa-known', email: 'qa-known@example.jp' });
      const owner = browser(p);
      assert.ok(
        (await logIn(owner, 'qa-known', GOOD_PASSWORD)).text.includes(ja['nav.logout']),
        'logged in: a known network and browser',
      );
      const sameNetwork = p.client();
      sameNetwork.ip = owner.ip;
      for (let i = 0; i < p.config.lockoutThreshold; i++) await logIn(sameNetwork, 'qa-known', `Wrong${i}Pass2026`);
      assert.equal((await logIn(sameNetwork, 'qa-known', GOOD_PASSWORD)).status, 401, 'that network cannot log in');
      const net = await throttle(user.id, (s) => s === `ip:${owner.ip}`);
      const c = await consoleAs(p, support);
      let page = await c.get(`/admin/users/${user.id}`);
      const netUntil = fill(ja['admin.user.sourceUntil'], { source: owner.ip, until: jst(net.locked_until!) });
      assert.equal(
        summaryValue(page, ja['admin.user.lockState']),
        ja['admin.user.lockState.accountNone'] + fill(ja['admin.user.lockState.sourcesLocked'], { sources: netUntil }),
      );
      assert.notEqual(summaryValue(page, ja['admin.user.lockState']), ja['admin.user.lockState.none']);
      assert.equal(summaryValue(page, ja['admin.col.status']), fill(ja['admin.status.activeSourcesLocked'], { n: 1 }));
      assert.equal(
        summaryValue(page, ja['admin.user.lockedSources']),
        fill(ja['admin.user.sourceFailureLocked'], {
          source: owner.ip,
          until: jst(net.locked_until!),
          n: p.config.lockoutThreshold,
        }),
      );
      assert.equal(
        summaryValue(page, ja['admin.user.failedLogins']),
        fill(ja['admin.user.failedCount'], { n: 0, threshold: p.config.lockoutThreshold }),
        'a known network does not count account-wide',
      );

      // The owner's browser (its device cookie) from elsewhere: the browser is named, not its cookie.
      const device = browser(p);
      device.cookies.set('__Host-dev', owner.cookies.get('__Host-dev')!);
      for (let i = 0; i < p.config.lockoutThreshold; i++) await logIn(device, 'qa-known', `Again${i}Pass2026`);
      page = await c.get(`/admin/users/${user.id}`);
      const lockState = summaryValue(page, ja['admin.user.lockState'])!;
      assert.ok(lockState.startsWith(ja['admin.user.lockState.accountNone']), lockState);
      assert.ok(lockState.includes(netUntil) && lockState.includes(ja['admin.user.deviceSource']), lockState);
      assert.equal(summaryValue(page, ja['admin.col.status']), fill(ja['admin.status.activeSourcesLocked'], { n: 2 }));
      assert.ok(!page.text.includes(owner.cookies.get('__Host-dev')!.split('.')[0]!), 'no cookie value on the page');
    });

    test("Q3 L2: the failed-login count is the account-wide count and each address's own, as the throttle counts them", async () => {
      const user = await p.createUser({ username: 'qa-count', email: 'qa-count@example.jp' });
      const a = browser(p);
      const b = browser(p);
      for (let i = 0; i < 2; i++) await logIn(a, 'qa-count', 'Wrong2026Pass');
      await logIn(b, 'qa-count', 'Wrong2026Pass');
      const page = await (await consoleAs(p, support)).get(`/admin/users/${user.id}`);
      assert.equal(
        summaryValue(page, ja['admin.user.failedLogins']),
        fill(ja['admin.user.failedCount'], { n: 3, threshold: p.config.lockoutThreshold }),
      );
      const perSource = summaryValue(page, ja['admin.user.sourceFailures'])!;
      assert.ok(
        perSource.includes(
          fill(ja['admin.user.sourceFailure'], { source: a.ip, n: 2, threshold: p.config.lockoutThreshold }),
        ),
        perSource,
      );
      assert.ok(
        perSource.includes(
          fill(ja['admin.user.sourceFailure'], { source: b.ip, n: 1, threshold: p.config.lockoutThreshold }),
        ),
        perSource,
      );
    });

    test("Q4: the institution's phone number is on the account page", async () => {
      const user = await p.createUser({ username: 'qa-phone', email: 'qa-phone@example.jp', phone: '03-1234-5678' });
      const page = await (await consoleAs(p, support)).get(`/admin/users/${user.id}`);
      assert.equal(summaryValue(page, ja['admin.user.phone']), '03-1234-5678');
    });

    test("Q5 R6 A1: stage-① attempts and CAPTCHA failures typed with the account's username or user ID (any case, full width) are on its page", async () => {
      const user = await p.createUser({
        username: 'qa-coord',
        coordinator: true,
        userId: 't55501234',
        email: 'qa-coord@example.jp',
      });
      const other = await p.createUser({ username: 'qa-other', email: 'qa-other@example.jp' });
      const who = browser(p);
      await who.open('/password-reset');
      assert.equal(
        (await who.submit({ stage: 'identify', action: 'next', username: 'Ｔ５５５０１２３４', captcha: 'zzzzz' }))
          .status,
        400,
      );
      await who.submit({ stage: 'identify', action: 'next', username: 'QA-COORD', captcha: CAPTCHA });
      await requestReset(browser(p), 'qa-other', 'qa-other@example.jp', 'yyyyy');
      const page = await (await consoleAs(p, support)).get(`/admin/users/${user.id}`);
      const rows = tableAfter(page, ja['admin.user.stageOne']);
      assert.deepEqual(
        rows.map((r) => [r[1], r[2], r[3]]),
        [
          [ja['audit.password_reset.identified.ok.picture'], 'qa-coord', who.ip],
          [ja['audit.password_reset.captcha.wrong'], 't55501234', who.ip],
        ],
      );
      const otherRows = tableAfter(
        await (await consoleAs(p, support)).get(`/admin/users/${other.id}`),
        ja['admin.user.stageOne'],
      );
      assert.deepEqual(
        otherRows.map((r) => r[1]),
        [ja['audit.password_reset.captcha.wrong']],
        'only what was typed with its own name',
      );

      // In the operator's language: the same rows in English.
      const enOp = await consoleAs(p, support);
      await enOp.get('/lang?to=en&next=/admin');
      const enRows = tableAfter(await enOp.get(`/admin/users/${user.id}`), en['admin.user.stageOne']);
      assert.deepEqual(
        enRows.map((r) => r[1]),
        [en['audit.password_reset.identified.ok.picture'], en['audit.password_reset.captcha.wrong']],
      );
    });

    test('Q6 W1: a console form that fails shows the error summary, focusable, each message a link to its field, the field tied to its error', async () => {
      const user = await p.createUser({ username: 'qa-form', email: 'qa-form@example.jp' });
      const c = await consoleAs(p, support);
      await c.get(`/admin/users/${user.id}`);
      const r = await c.post(`/admin/users/${user.id}/send-reset`, { reason: '' });
      assert.equal(r.status, 400);
      const summary =
        /<div class="alert alert--error" role="alert" id="error-summary" tabindex="-1">([\s\S]*?)<\/div>/.exec(r.body);
      assert.ok(summary, 'the summary, focusable (portal.js moves focus to it)');
      assert.match(summary[1]!, new RegExp(`<a href="#reason-send-reset">${ja['admin.reasonRequired']}</a>`));
      assert.match(
        r.body,
        /id="reason-send-reset"[^>]*aria-describedby="reason-send-reset-help reason-send-reset-error"[^>]*aria-invalid="true"/,
      );
      assert.ok(r.body.includes('<script src="/static/portal.js" defer></script>'), 'the static script, no inline one');
      assert.ok(!/<script>/.test(r.body));

      const audit = await c.get('/admin/audit?account=nobody-here&from=2026-1-1&to=2026-12-01');
      assert.equal(audit.status, 400);
      const links = [...audit.body.matchAll(/<li><a href="#([a-z]+)">([^<]*)<\/a><\/li>/g)].map((m) => [m[1], m[2]]);
      assert.deepEqual(links, [
        ['account', ja['admin.audit.noAccount']],
        ['from', ja['admin.audit.badDate']],
      ]);
      assert.match(audit.body, /id="from"[^>]*aria-invalid="true"[^>]*aria-describedby="from-help from-error"/);
      assert.match(audit.body, /id="account"[^>]*aria-invalid="true"[^>]*aria-describedby="account-error"/);
    });
  });

  describe(`the console's login form [${target}]`, () => {
    test('Q6 W1 B1: empty fields on the console login are named under each field with the error summary (400), and are not a login attempt', async () => {
      const p = await startTestPortal(target);
      try {
        const c = p.client();
        await c.get('/admin/login');
        const r = await c.post('/admin/login', { username: '  ', password: '' });
        assert.equal(r.status, 400);
        const need = (label: string) => fill(ja['admin.content.required'], { label });
        const links = [...r.body.matchAll(/<li><a href="#([a-z]+)">([^<]*)<\/a><\/li>/g)].map((m) => [m[1], m[2]]);
        assert.deepEqual(links, [
          ['username', need(ja['admin.login.username'])],
          ['password', need(ja['admin.login.password'])],
        ]);
        assert.match(r.body, /id="error-summary" tabindex="-1"/);
        assert.match(r.body, /id="password"[^>]*aria-invalid="true"[^>]*aria-describedby="password-error"/);
        assert.deepEqual(await auditRows(p, 'admin.login'), [], 'nothing audited: no attempt was made');
      } finally {
        await p.close();
      }
    });

    test("Q6 W1: the content editor's form names its missing fields in the error summary, each a link to the field", async () => {
      const p = await startTestPortal(target);
      try {
        const ed = await consoleAs(p, await createOperator(p, 'editor'));
        await ed.get('/admin/news/new');
        const r = await ed.post('/admin/news/new', {
          title_ja: '',
          body_ja: '',
          title_en: 'Title',
          body_en: 'Body.',
          category: 'general',
          importance: 'normal',
          publish_at: '2026-12-01T09:00',
          end_at: '',
          action: 'publish',
        });
        assert.equal(r.status, 400);
        const need = (label: string) => fill(ja['admin.content.required'], { label });
        const links = [...r.body.matchAll(/<li><a href="#([a-z_]+)">([^<]*)<\/a><\/li>/g)].map((m) => [m[1], m[2]]);
        assert.deepEqual(links, [
          ['title_ja', need(ja['admin.news.titleJa'])],
          ['body_ja', need(ja['admin.news.bodyJa'])],
        ]);
        assert.match(r.body, /id="error-summary" tabindex="-1"/);
        assert.match(
          r.body,
          /<textarea id="body_ja"[^>]*aria-describedby="body_ja-help body_ja-error"[^>]*aria-invalid="true"/,
        );
      } finally {
        await p.close();
      }
    });
  });

  describe(`audit search and CSV by account name [${target}]`, () => {
    let p: TestPortal;
    let op: TestOperator;
    before(async () => {
      p = await startTestPortal(target);
      op = await createOperator(p, 'support', 'qa-audit', '監査担当');
    });
    after(async () => {
      await p.close();
    });

    test('Q7 A3: the audit search says what happened and names the account by username / user ID, never by internal id', async () => {
      const user = await p.createUser({
        username: 'qa-coord2',
        coordinator: true,
        userId: 't55509999',
        email: 'qa-coord2@example.jp',
      });
      await requestReset(browser(p), 't55509999', 'wrong@example.jp');
      await requestReset(browser(p), 'no-such-name', 'x@example.jp');
      const c = await consoleAs(p, op);
      const rows = tableAfter(await c.get('/admin/audit?event=password_reset.requested'));
      assert.deepEqual(
        rows.map((r) => [r[2], r[3], r[6]]),
        [
          [
            ja['audit.password_reset.requested.unknown_user'],
            fill(ja['admin.audit.typed'], { identifier: 'no-such-name' }),
            'password_reset.requested',
          ],
          [ja['audit.password_reset.requested.email_mismatch'], 'qa-coord2 / t55509999', 'password_reset.requested'],
        ],
      );
      const page = await c.get('/admin/audit?account=t55509999');
      assert.ok(!page.text.includes(user.id), 'the internal id is not shown');
      assert.ok(page.body.includes(`href="/admin/users/${user.id}"`), 'the account links to its page');
    });

    test("Q5 Q7 A3: the audit search by account also finds the stage-① rows typed with its username or user ID (any case), as its page does, and no one else's", async () => {
      const user = await p.createUser({
        username: 'qa-demo',
        coordinator: true,
        userId: 't55507777',
        email: 'qa-demo@example.jp',
      });
      await p.createUser({ username: 'qa-demo2', email: 'qa-demo2@example.jp' });
      const who = browser(p);
      await who.open('/password-reset');
      assert.equal(
        (await who.submit({ stage: 'identify', action: 'next', username: 'QA-DEMO', captcha: 'zzzzz' })).status,
        400,
      );
      await requestReset(browser(p), 'qa-demo2', 'qa-demo2@example.jp', 'yyyyy');
      await requestReset(browser(p), 'T55507777', 'wrong@example.jp');
      const c = await consoleAs(p, op);
      for (const account of ['QA-DEMO', 't55507777']) {
        const rows = tableAfter(await c.get(`/admin/audit?account=${account}&event=password_reset`));
        const typed = rows.filter((r) => r[2] === ja['audit.password_reset.captcha.wrong']);
        assert.deepEqual(
          typed.map((r) => r[3]),
          [fill(ja['admin.audit.typed'], { identifier: 'qa-demo' })],
          `${account}: the CAPTCHA failure typed as QA-DEMO, not qa-demo2's`,
        );
        assert.ok(
          rows.some(
            (r) =>
              r[2] === ja['audit.password_reset.identified.ok.picture'] &&
              r[3] === fill(ja['admin.audit.typed'], { identifier: 't55507777' }),
          ),
          'stage ① passed, typed with the user ID',
        );
        assert.ok(
          rows.some(
            (r) => r[2] === ja['audit.password_reset.requested.email_mismatch'] && r[3] === 'qa-demo / t55507777',
          ),
          'and its own rows',
        );
      }
      const csv = parseCsv(
        (await c.get('/admin/audit.csv?account=qa-demo&event=password_reset.captcha')).body.slice(1),
      );
      assert.deepEqual(
        csv.slice(1).map((x) => x[7]),
        ['qa-demo'],
        'the CSV finds the same rows',
      );
      assert.ok(!(await c.get('/admin/audit?account=qa-demo')).text.includes(user.id));
    });

    test("Q7 A3: the CSV's detail column gives its times in JST with the offset, never in UTC", async () => {
      const user = await p.createUser({ username: 'qa-csv-lock', email: 'qa-csv-lock@example.jp' });
      const from = browser(p);
      for (let i = 0; i < p.config.lockoutThreshold; i++) await logIn(from, 'qa-csv-lock', `Wrong${i}Pass2026`);
      const stored = (await auditRows(p, 'account.locked')).filter((r) => r.user_id === user.id);
      assert.equal(stored.length, 2, 'the address and the account');
      const c = await consoleAs(p, op);
      const [header, ...rows] = parseCsv(
        (await c.get('/admin/audit.csv?account=qa-csv-lock&event=account.locked')).body.slice(1),
      );
      const at = header!.indexOf('detail');
      assert.equal(rows.length, 2);
      for (const x of rows) {
        const detail = JSON.parse(x[at]!) as { until: string; failures: number };
        assert.match(detail.until, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00$/);
        const raw = JSON.parse(stored.find((s) => s.seq === Number(x[0]))!.detail!) as {
          until: string;
          failures: number;
        };
        assert.equal(
          Math.floor(Date.parse(detail.until) / 1000),
          Math.floor(Date.parse(raw.until) / 1000),
          'the same instant',
        );
        assert.equal(detail.failures, raw.failures, 'the rest of the detail as stored');
        assert.ok(!x[at]!.includes('Z"'), 'no UTC time left');
      }
    });

    test('Q7 A3: the CSV has times in JST with the offset, the account by username and user ID, the sentence, and keeps the formula guard', async () => {
      const user = await p.createUser({ username: 'qa-csv', email: 'qa-csv@example.jp' });
      await requestReset(browser(p), 'qa-csv', 'qa-csv@example.jp');
      await requestReset(browser(p), '=cmd|calc', 'x@example.jp');
      const c = await consoleAs(p, op);
      const r = await c.get('/admin/audit.csv?event=password_reset.requested');
      assert.equal(r.status, 200);
      const [header, ...rows] = parseCsv(r.body.slice(1));
      assert.deepEqual(header, [
        'seq',
        'at_jst',
        'event',
        'outcome',
        'description',
        'account_username',
        'account_user_id',
        'identifier',
        'actor',
        'ip',
        'user_agent',
        'detail',
        'hash',
      ]);
      const stored = (await auditRows(p, 'password_reset.requested')).reverse();
      assert.deepEqual(
        rows.map((x) => Number(x[0])),
        stored.map((x) => x.seq),
      );
      for (const [i, x] of rows.entries()) {
        assert.match(x[1]!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00$/);
        assert.equal(Math.floor(Date.parse(x[1]!) / 1000), Math.floor(stored[i]!.at / 1000), 'the same instant');
      }
      const mine = rows.find((x) => x[7] === 'qa-csv')!;
      assert.deepEqual([mine[4], mine[5], mine[6]], [ja['audit.password_reset.requested.mail_queued'], 'qa-csv', '']);
      assert.ok(!r.body.includes(user.id), 'no internal account id');
      const typed = rows.find((x) => x[7]!.includes('cmd|calc'))!;
      assert.equal(typed[7], "'=cmd|calc", 'a leading = is still neutralised');
    });
  });
}
