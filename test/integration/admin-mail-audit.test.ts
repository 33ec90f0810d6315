/**
 * The mail dashboard (issue 4 §3) and the audit trail (§4, A1–A3), on every database target: a mail that cannot be
 * delivered shows its retries with the SMTP error on the account page and the dashboard, turns 'failed', and
 * 'retry now' delivers it; the audit search filters by account, operator, event and time; the CSV export (with a
 * formula-injection guard) is itself audited; an altered or removed entry is named by verifyAudit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { jstTime } from '../../src/admin/admin-layout.tsx';
import { verifyAudit } from '../../src/security/audit-verify.repository.ts';
import { chainAllAudit } from '../../src/security/audit.repository.ts';
import { auditKeyFrom } from '../../src/security/audit-key.ts';
import { STAGE_ONE_EVENTS } from '../../src/security/audit.repository.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import {
  GOOD_PASSWORD,
  linkOf,
  requestReset,
  sleep,
  startTestPortal,
  type Client,
  type Page,
  type TestPortal,
} from '../helpers/test-app.ts';
import { logIn, mailTo, SUBJECTS } from '../helpers/accounts.ts';
import {
  auditRows,
  consoleAs,
  createOperator,
  detailOf,
  parseCsv,
  tableAfter,
  type TestOperator,
} from '../helpers/operators.ts';
import { browsersAt } from '../helpers/login.ts';

const browser = browsersAt('10.46');

/** The figure of one tile of the dashboard (「送信待ち」 → "1"). */
function stat(page: Page, label: string): string | undefined {
  const m = new RegExp(`<li>${label}<strong>([^<]*)</strong></li>`).exec(page.body);
  return m?.[1];
}

async function outboxOf(p: TestPortal, to: string) {
  return p.database.db.selectFrom('outbox').selectAll().where('to_addr', '=', to).orderBy('created_at').execute();
}

/** Waits until the worker has recorded `event` for the mail to `to` (the worker runs in the background). */
async function eventFor(p: TestPortal, to: string, event: string) {
  for (let i = 0; i < 400; i++) {
    const [mail] = await outboxOf(p, to);
    if (mail) {
      const events = await p.database.db
        .selectFrom('mail_events')
        .select('event')
        .where('outbox_id', '=', mail.id)
        .execute();
      // Read the row again: the one read above may predate the transaction that wrote the event (and last_error).
      if (events.some((e) => e.event === event)) return (await outboxOf(p, to)).find((m) => m.id === mail.id)!;
    }
    await sleep(25);
  }
  throw new Error(`no ${event} for the mail to ${to}`);
}

const targets = await dbTargets();
for (const target of targets) {
  describe(`mail dashboard [${target}]`, () => {
    let p: TestPortal;
    let op: TestOperator;
    // The first retry waits an hour, the second attempt is the last: nothing moves unless the test moves it.
    before(async () => {
      p = await startTestPortal(target, { env: { MAIL_RETRY_BASE_MS: '3600000', MAIL_MAX_ATTEMPTS: '2' } });
      op = await createOperator(p, 'support', 'md-kato', 'メール担当加藤');
    });
    after(async () => {
      await p.close();
    });

    test('issue4-2 issue4-3 R2 A1: SMTP down → retry with the SMTP error (account page and dashboard) → failed → 「再送」 and 「今すぐ再送」 deliver, audited', async () => {
      const a = await p.createUser({ username: 'md-a', email: 'md-a@example.jp' });
      await p.createUser({ username: 'md-b', email: 'md-b@example.jp' });
      await p.sink.stop();
      try {
        await requestReset(browser(p), 'md-a', 'md-a@example.jp');
        const mailA = await eventFor(p, 'md-a@example.jp', 'retry');
        assert.match(mailA.last_error ?? '', /ECONNREFUSED/);
        let c = await consoleAs(p, op);
        let account = await c.get(`/admin/users/${a.id}`);
        let [row] = tableAfter(account, ja['admin.user.mails']);
        assert.deepEqual(row!.slice(1, 5), [
          ja['admin.mailKind.password_reset'],
          'md-a@example.jp',
          ja['admin.mailStatus.queued'],
          '1',
        ]);
        assert.ok(
          row![5]!.includes(`${ja['audit.mailEvent.retry']}: ${mailA.last_error}`),
          `the retry with the SMTP error: ${row![5]}`,
        );
        let dash = await c.get('/admin/mail');
        assert.equal(stat(dash, ja['admin.mail.depth']), '1');
        assert.equal(stat(dash, ja['admin.mail.failed']), '0');
        assert.equal(stat(dash, ja['admin.mail.oldest']), jstTime(mailA.created_at));
        [row] = tableAfter(dash, ja['admin.mail.list']);
        assert.deepEqual(row!.slice(1, 6), [
          ja['admin.mailKind.password_reset'],
          'md-a@example.jp',
          ja['admin.mailStatus.queued'],
          '1',
          mailA.last_error,
        ]);

        // An hour later the second (last) attempt fails too: the mail is given up on.
        p.clock.advance(3600_000 + 1000);
        await p.app.mailWorker.runOnce();
        await eventFor(p, 'md-a@example.jp', 'failed');
        await requestReset(browser(p), 'md-b', 'md-b@example.jp');
        const mailB = await eventFor(p, 'md-b@example.jp', 'retry');
        c = await consoleAs(p, op); // the clock moved past the idle timeout
        dash = await c.get('/admin/mail');
        assert.equal(stat(dash, ja['admin.mail.depth']), '1');
        assert.equal(stat(dash, ja['admin.mail.failed']), '1');
        assert.equal(
          stat(dash, ja['admin.mail.oldest']),
          jstTime(mailB.created_at),
          'the failed one is not waiting any more',
        );
        assert.deepEqual(
          tableAfter(dash, ja['admin.mail.list']).map((r) => [r[2], r[3]]),
          [
            ['md-a@example.jp', ja['admin.mailStatus.failed']],
            ['md-b@example.jp', ja['admin.mailStatus.queued']],
          ],
        );
        account = await c.get(`/admin/users/${a.id}`);
        [row] = tableAfter(account, ja['admin.user.mails']);
        assert.equal(row![3], ja['admin.mailStatus.failed']);
        assert.match(
          row![5]!,
          new RegExp(
            `${ja['audit.mailEvent.queued']} .*${ja['audit.mailEvent.retry']}: .*ECONNREFUSED.*${ja['audit.mailEvent.failed']}: .*ECONNREFUSED`,
          ),
        );
      } finally {
        await p.sink.start();
      }
      // 「再送」 on md-a's mail only; then 「今すぐ再送」 for the rest.
      const c = await consoleAs(p, op);
      const [mailA] = await outboxOf(p, 'md-a@example.jp');
      await c.get('/admin/mail');
      const one = await c.post(`/admin/mail/${mailA!.id}/retry`, {});
      assert.equal(one.status, 303);
      assert.equal(one.location, '/admin/mail?retried=1');
      assert.ok((await c.get(one.location)).text.includes(ja['admin.mail.retried'].replace('{n}', '1')));
      const delivered = await mailTo(p, 'md-a@example.jp', SUBJECTS.reset);
      assert.ok(linkOf(delivered));
      await p.app.mailWorker.runOnce();
      assert.equal(
        p.sink.mails.filter((m) => m.to.includes('md-b@example.jp')).length,
        0,
        'md-b still waits for its retry time',
      );
      const all = await c.post('/admin/mail/retry', {});
      assert.equal(all.location, '/admin/mail?retried=1');
      await mailTo(p, 'md-b@example.jp', SUBJECTS.reset);
      await p.app.mailWorker.runOnce();
      const dash = await c.get('/admin/mail');
      assert.equal(stat(dash, ja['admin.mail.depth']), '0');
      assert.equal(stat(dash, ja['admin.mail.failed']), '0');
      assert.equal(stat(dash, ja['admin.mail.oldest']), ja['admin.mail.oldestNone']);
      assert.ok(dash.text.includes(ja['admin.mail.empty']));
      const [row] = tableAfter(await c.get(`/admin/users/${a.id}`), ja['admin.user.mails']);
      assert.equal(row![3], ja['admin.mailStatus.sent']);
      assert.match(row![5]!, new RegExp(`${ja['audit.mailEvent.failed']}: .* ${ja['audit.mailEvent.sent']}$`));
      const retries = (await auditRows(p, 'support.mail_retry')).map((r) => [
        r.actor,
        detailOf(r).mailId,
        detailOf(r).count,
      ]);
      assert.deepEqual(retries, [
        [`operator:${op.username}`, mailA!.id, 1],
        [`operator:${op.username}`, 'all', 1],
      ]);
    });
  });

  describe(`audit search and export [${target}]`, () => {
    let p: TestPortal;
    let op: TestOperator;
    let c: Client;
    let user: { id: string };
    before(async () => {
      p = await startTestPortal(target);
      op = await createOperator(p, 'support', 'au_sato', '監査佐藤');
      await createOperator(p, 'support', 'ausato', '別の人');
      user = await p.createUser({ username: 'au-user', email: 'au-user@example.jp' });
      await logIn(browser(p), 'au-user', GOOD_PASSWORD);
      await logIn(browser(p), 'au-user', 'Wrong2026Pass'); // one failure: something for the unlock below to clear
      await requestReset(browser(p), 'au-user', 'au-user@example.jp');
      await requestReset(browser(p), '=HYPERLINK("http://evil.example","x")', 'x@example.jp');
      await requestReset(browser(p), '@SUM(1+1)', 'x@example.jp');
      c = await consoleAs(p, op);
      await c.get(`/admin/users/${user.id}`);
      await c.post(`/admin/users/${user.id}/unlock`, { reason: '監査テスト' });
    });
    after(async () => {
      await p.close();
    });

    /** The rows of the audit page: [#, when, what happened, account, actor, ip, event code]. */
    const rowsOf = (page: Page) => tableAfter(page);

    test('A3: search by account, by operator (an _ matches itself), by event prefix, and by day (JST)', async () => {
      const byAccount = rowsOf(await c.get('/admin/audit?account=AU-USER'));
      // Stage ① records only the name typed: those typed with the account's username count as its entries (Q5).
      const typedAsUser = (r: { user_id: string | null; identifier: string | null; event: string }) =>
        r.user_id === null && r.identifier === 'au-user' && STAGE_ONE_EVENTS.includes(r.event);
      const all = await auditRows(p);
      assert.ok(all.some(typedAsUser), 'the reset typed as au-user wrote stage-① entries');
      const ofUser = all.filter((r) => r.user_id === user.id || typedAsUser(r));
      assert.deepEqual(
        byAccount.map((r) => Number(r[0])),
        ofUser.map((r) => r.seq).reverse(),
        'every entry of the account and every stage-① entry typed with its name, newest first',
      );
      assert.ok(byAccount.some((r) => r[6] === 'login') && byAccount.some((r) => r[6] === 'support.unlocked'));

      const byOperator = rowsOf(await c.get('/admin/audit?operator=au_sato'));
      assert.ok(byOperator.length >= 3);
      assert.ok(
        byOperator.every((r) => r[4] === ja['audit.actor.operator'].replace('{name}', 'au_sato')),
        'not operator:ausato',
      );

      const byEvent = rowsOf(await c.get('/admin/audit?event=password_reset.req'));
      assert.deepEqual(
        byEvent.map((r) => r[6]),
        ['password_reset.requested', 'password_reset.requested', 'password_reset.requested'],
      );
      const typed = (v: string) => ja['admin.audit.typed'].replace('{identifier}', v);
      assert.deepEqual(
        byEvent.map((r) => r[3]),
        [typed('@sum(1+1)'), typed('=hyperlink("http://evil.example","x")'), 'au-user'],
        'unknown identifiers as typed, the account by its name',
      );
      const both = rowsOf(await c.get('/admin/audit?event=support.&operator=au_sato&account=au-user'));
      assert.deepEqual(
        both.map((r) => r[6]),
        ['support.unlocked', 'support.viewed'],
      );

      const unlocked = (await auditRows(p, 'support.unlocked'))[0]!;
      const day = jstTime(unlocked.at).slice(0, 10);
      const dayBefore = jstTime(unlocked.at - 86_400_000).slice(0, 10);
      const dayAfter = jstTime(unlocked.at + 86_400_000).slice(0, 10);
      assert.ok(
        rowsOf(await c.get(`/admin/audit?event=support.unlocked&from=${day}&to=${day}`)).some(
          (r) => Number(r[0]) === unlocked.seq,
        ),
      );
      const none = await c.get(`/admin/audit?event=support.unlocked&to=${dayBefore}`);
      assert.equal(rowsOf(none).length, 0);
      assert.ok(none.text.includes(ja['admin.audit.count'].replace('{n}', '0')));
      assert.equal(rowsOf(await c.get(`/admin/audit?event=support.unlocked&from=${dayAfter}`)).length, 0);
    });

    test('B1 A3: a malformed date or an unknown account is a 400 with a message, not a list of everything', async () => {
      const bad = await c.get('/admin/audit?from=2026-13-45x');
      assert.equal(bad.status, 400);
      assert.ok(bad.text.includes(ja['admin.audit.badDate']));
      assert.equal(rowsOf(bad).length, 0);
      const unknown = await c.get('/admin/audit?account=nobody-at-all');
      assert.equal(unknown.status, 400);
      assert.ok(unknown.text.includes(ja['admin.audit.noAccount']));
      assert.equal(rowsOf(unknown).length, 0);
    });

    test('A3 A1: CSV export — header, the same rows as the search, formula cells neutralised, no secret, and the export itself audited', async () => {
      const shown = rowsOf(await c.get('/admin/audit?event=password_reset'));
      const r = await c.get('/admin/audit.csv?event=password_reset');
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^text\/csv; charset=utf-8/);
      assert.match(String(r.headers['content-disposition']), /^attachment; filename="audit-\d{4}-\d{2}-\d{2}\.csv"$/);
      assert.ok(r.body.startsWith('\uFEFF'), 'a BOM, so that Excel reads UTF-8');
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
      assert.deepEqual(
        rows.map((x) => Number(x[0])),
        shown.map((x) => Number(x[0])),
      );
      assert.ok(rows.every((x) => x.length === 13 && x[2]!.startsWith('password_reset')));
      const formulas = [...new Set(rows.map((x) => x[7]!).filter((v) => /^'?[=@]/.test(v)))];
      assert.deepEqual(
        formulas.sort(),
        ['\'=hyperlink("http://evil.example","x")', "'@sum(1+1)"].sort(),
        'a leading = or @ is prefixed with an apostrophe',
      );
      assert.ok(
        rows.every((x) => x.every((v) => !/^[=+\-@]/.test(v))),
        'no cell starts a formula',
      );
      const first = rows.at(-1)!;
      assert.match(first[1]!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00$/, 'Japan time with its offset');
      const mail = await mailTo(p, 'au-user@example.jp', SUBJECTS.reset);
      const token = linkOf(mail).slice(-32);
      const everything = await c.get('/admin/audit.csv');
      assert.ok(!everything.body.includes(token), 'no reset token');
      assert.ok(!everything.body.includes(GOOD_PASSWORD), 'no password');
      const exported = (await auditRows(p, 'audit.exported')).map((x) => [x.actor, detailOf(x).rows]);
      assert.deepEqual(exported[0], [`operator:${op.username}`, rows.length]);
      assert.equal(exported.length, 2);
    });
  });

  describe(`tamper evidence [${target}]`, () => {
    test('A2: verifyAudit names an altered operator entry and the entry after a removed one', async () => {
      const p = await startTestPortal(target);
      try {
        const op = await createOperator(p, 'support', 'tp-ito');
        const user = await p.createUser({ username: 'tp-user' });
        const c = await consoleAs(p, op);
        await c.get(`/admin/users/${user.id}`);
        for (const reason of ['一回目', '二回目', '三回目']) {
          await logIn(browser(p), 'tp-user', 'Wrong2026Pass'); // a failure for the unlock to clear
          await c.post(`/admin/users/${user.id}/unlock`, { reason });
        }
        // What the portal's chainer links within a moment (audit verify chains nothing itself, H12).
        await chainAllAudit(p.database.db, p.database.dialect, auditKeyFrom(p.config.auditKey));
        assert.deepEqual((await verifyAudit(p.database.db, auditKeyFrom(p.config.auditKey))).problems, []);
        const [first, second] = (await auditRows(p, 'support.unlocked')).map((r) => r.seq);
        const db = p.database.db;
        await db
          .updateTable('audit_log')
          .set({ detail: JSON.stringify({ reason: '改ざん', wasStatus: 'active' }) })
          .where('seq', '=', first!)
          .execute();
        await db.deleteFrom('audit_log').where('seq', '=', second!).execute();
        const { count, problems } = await verifyAudit(db, auditKeyFrom(p.config.auditKey));
        assert.deepEqual(problems, [
          { seq: first!, problem: 'altered' },
          { seq: second! + 1, problem: 'removed-before' },
        ]);
        assert.equal(count, (await auditRows(p)).length);
      } finally {
        await p.close();
      }
    });
  });
}
