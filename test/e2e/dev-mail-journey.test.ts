/**
 * D1 D2 W3 in a real browser: a developer who started the portal without SMTP asks for a reset, opens /dev/mail, opens
 * the mail and presses its link, and lands on stage ③ — over a real loopback connection, axe-clean on each screen.
 * BASE_URL is the listening origin (http://localhost:PORT), as with `npm start`, so the mail's link is followed as is.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createFileTransport } from '../../src/mail/transports.ts';
import { createUser } from '../../src/accounts/create-user.ts';
import { POLICIES } from '../../src/accounts/password-policy.ts';
import { ja } from '../../src/web/i18n/ja.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db-targets.ts';
import { CAPTCHA, GOOD_PASSWORD } from '../helpers/test-app.ts';
import { browserPages, field, follow, launchOrSkip, shown, captureScreen } from '../helpers/browser.ts';
import { freePort } from '../helpers/server-process.ts';

const { launched, skip } = await launchOrSkip();

describe('browser: reading mail at /dev/mail in development [sqlite]', { skip }, () => {
  let app: FastifyInstance;
  let database: TestDatabase;
  let dir: string;
  let base: string;
  const pages = browserPages(launched, { bypassCSP: true }); // bypassCSP only to inject axe-core

  before(async () => {
    if (!launched.ok) return;
    const port = await freePort();
    base = `http://localhost:${port}`;
    dir = mkdtempSync(join(tmpdir(), 'iryo-devmail-e2e-'));
    database = await freshDatabase('sqlite');
    // The fixed CAPTCHA answer is accepted only with NODE_ENV=test (S8); /dev/mail only in development: the test
    // reads its settings as a test and then runs the app as development would.
    const config = {
      ...loadConfig(
        {
          NODE_ENV: 'test',
          BASE_URL: base,
          DATA_DIR: dir,
          CAPTCHA_TEST_ANSWER: CAPTCHA,
          SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
        },
        { persistSecret: false },
      ),
      nodeEnv: 'development',
    };
    app = await buildApp({
      config,
      db: database.db,
      dialect: database.dialect,
      transport: createFileTransport(join(dir, 'outbox')),
      mailPollMs: 50,
    });
    await app.listen({ port, host: '127.0.0.1' });
    const r = await createUser(database.db, POLICIES.portal, Date.now(), {
      username: 'devmail01',
      email: 'devmail01@example.jp',
      password: GOOD_PASSWORD,
    });
    assert.ok(r.ok);
  });

  after(async () => {
    await pages.close();
    await app?.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('D2 W3: ① → ② → /dev/mail → the mail → its link opens ③, axe-clean on the mailbox screens', async () => {
    const page = await pages.newPage();
    const a11y: string[] = [];
    const capture = (name: string) => captureScreen(page, name, a11y);

    await page.goto(`${base}/password-reset`);
    await field(page, ja['reset.username']).fill('devmail01');
    await field(page, ja['reset.captcha']).fill(CAPTCHA);
    await follow(page, page.getByRole('button', { name: ja['reset.next'], exact: true }));
    await field(page, ja['reset.email']).fill('devmail01@example.jp');
    await follow(page, page.getByRole('button', { name: ja['reset.next'], exact: true }));
    await shown(page.getByRole('heading', { name: ja['reset.sent.heading'] }));

    // The mailbox: the worker writes the file a moment later.
    const subject = '【医療機関等向け総合ポータルサイト】パスワード変更用URL';
    for (let i = 0; i < 50; i++) {
      await page.goto(`${base}/dev/mail`);
      if (await page.getByRole('link', { name: subject }).count()) break;
      await page.waitForTimeout(100);
    }
    await shown(page.getByRole('heading', { name: ja['devmail.heading'], level: 1 }));
    await shown(page.getByRole('cell', { name: 'devmail01@example.jp' }));
    await capture('dev-mail-01-list');

    await follow(page, page.getByRole('link', { name: subject }));
    await shown(page.getByRole('heading', { name: subject, level: 1 }));
    await shown(page.getByText('※本URLの有効期限は1時間となります。'));
    await capture('dev-mail-02-mail');

    const link = page.getByRole('link', { name: /\/passwordreset\.do\?sysparm_tiny=[A-Za-z0-9]{32}$/ });
    assert.equal(await link.count(), 1, 'the reset link is a link');
    await follow(page, link);
    assert.match(page.url(), /\/passwordreset\.do\?flow=/);
    await shown(page.getByRole('heading', { name: ja['reset.reset.heading'], level: 2 }));
    assert.deepEqual(a11y, []);
  });
});
