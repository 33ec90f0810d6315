/**
 * The anonymous top page /csm served from a per-language in-memory cache (issue 4 §5, PAGE_CACHE_SECONDS, default 5),
 * on every database target: the shared page sets no cookie and is the same for every first-time visitor of a
 * language; a logged-in user never gets it (nor leaves their name in it); a console edit on this instance, and a
 * publish or end time reached on the clock, show at once; an edit made through another instance shows within
 * PAGE_CACHE_SECONDS; with PAGE_CACHE_SECONDS=0 there is no cache at all.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { openDatabase, type OpenedDatabase } from '../../src/db/database.ts';
import { createSmtpTransport } from '../../src/mail/transports.ts';
import { ja } from '../../src/web/i18n/ja.ts';
import { en } from '../../src/web/i18n/en.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { Client, GOOD_PASSWORD, startTestPortal, type Page, type TestPortal } from '../helpers/test-app.ts';
import { consoleAs, createOperator, operatorLogin, type TestOperator } from '../helpers/operators.ts';

const JST = 9 * 3600_000;
/** The console's date-time field (JST, minutes): YYYY-MM-DDTHH:MM. */
const local = (at: number) => new Date(at + JST).toISOString().slice(0, 16);
/** The titles of the お知らせ listed on a page, in order. */
const newsTitles = (page: Page) =>
  [...page.body.matchAll(/<a href="\/csm\/news\/[^"]+">([^<]*)<\/a>/g)].map((m) => m[1]!);
const setCookieOf = (page: Page) => page.headers['set-cookie'];

let ipSeq = 0;
/** A first-time visitor: a fresh browser (no cookies) at an address of its own. */
function visitor(p: TestPortal | FastifyInstance): Client {
  const c = 'app' in p ? p.client() : new Client(p);
  ipSeq++;
  c.ip = `10.7.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}`;
  return c;
}

/** Publishes (or saves) an お知らせ through the console of whichever instance `ed` talks to. */
async function postNews(
  p: TestPortal,
  ed: Client,
  id: string,
  f: Partial<Record<string, string>> & { title_ja: string },
): Promise<Page> {
  await ed.get(`/admin/news/${id}`);
  const r = await ed.post(`/admin/news/${id}`, {
    title_en: `${f.title_ja} (en)`,
    body_ja: '本文です。',
    body_en: 'Body.',
    category: 'general',
    importance: 'normal',
    publish_at: local(p.clock.now() - 60_000),
    end_at: '',
    action: 'publish',
    ...f,
  } as Record<string, string>);
  assert.equal(r.status, 303, `the console saved the お知らせ: ${r.text.slice(0, 300)}`);
  return r;
}

async function newsRow(p: TestPortal, title: string) {
  return p.database.db
    .selectFrom('news')
    .select(['id', 'publish_at', 'end_at'])
    .where('title_ja', '=', title)
    .executeTakeFirstOrThrow();
}

const targets = await dbTargets();
for (const target of targets) {
  describe(`top page cache [${target}]`, () => {
    let p: TestPortal;
    let editor: TestOperator;
    before(async () => {
      p = await startTestPortal(target);
      editor = await createOperator(p, 'editor', 'ed-cache', '編集キャッシュ');
    });
    after(async () => {
      await p?.close();
    });

    test('issue4-5 L3: two anonymous GET /csm give the same page and set no cookie; the English page is kept apart and is English', async () => {
      const first = await visitor(p).get('/csm');
      const second = await visitor(p).get('/csm');
      for (const page of [first, second]) {
        assert.equal(page.status, 200);
        assert.match(String(page.headers['content-type']), /^text\/html/);
        assert.equal(setCookieOf(page), undefined, 'the shared top page sets no cookie');
        assert.ok(page.text.includes(ja['top.latestNews']));
        assert.ok(page.text.includes(ja['top.login']));
      }
      assert.equal(second.body, first.body, 'every first-time visitor gets the same page');

      // English through the language switch (/lang?to=en sets the cookie and goes back to /csm) …
      const viaSwitch = visitor(p);
      const english = await viaSwitch.open('/lang?to=en');
      assert.equal(viaSwitch.cookies.get('lang'), 'en');
      // … and English by the cookie alone.
      const byCookie = visitor(p);
      byCookie.cookies.set('lang', 'en');
      const english2 = await byCookie.get('/csm');
      for (const page of [english, english2]) {
        assert.equal(page.status, 200);
        assert.equal(setCookieOf(page), undefined);
        assert.match(page.body, /<html lang="en"/);
        assert.ok(
          page.text.includes(en['top.latestNews']) && page.text.includes(en['top.login']),
          'the page is in English',
        );
        assert.ok(!page.text.includes(ja['top.login']), 'no Japanese page served to an English visitor');
      }
      assert.equal(english2.body, english.body);
      assert.notEqual(english.body, first.body);

      const japaneseAgain = await visitor(p).get('/csm');
      assert.equal(japaneseAgain.body, first.body, 'the Japanese page was not replaced by the English one');
      assert.match(japaneseAgain.body, /<html lang="ja"/);
    });

    test("issue4-5 L3: a logged-in user's /csm shows their name and ログアウト with cache-control no-store; the next anonymous visitor does not see the name", async () => {
      await p.createUser({ username: 'cache-user', displayName: 'キャッシュ確認医院' });
      const anonBefore = await visitor(p).get('/csm'); // the shared page is in the cache now
      const user = visitor(p);
      await user.open('/login');
      const login = await user.post('/login', { username: 'cache-user', password: GOOD_PASSWORD });
      assert.equal(login.status, 303);

      const mine = await user.get('/csm');
      assert.equal(mine.status, 200);
      assert.ok(mine.text.includes('キャッシュ確認医院 さん'), 'the user sees their name');
      assert.ok(mine.text.includes(ja['nav.logout']));
      assert.match(String(mine.headers['cache-control']), /no-store/);
      assert.notEqual(mine.body, anonBefore.body, 'not the shared page');

      // Also with the cache empty (its lifetime has passed): the user's page is not what the next visitor gets.
      p.clock.advance(6_000);
      const mineAgain = await user.get('/csm');
      assert.ok(mineAgain.text.includes('キャッシュ確認医院 さん'));
      assert.match(String(mineAgain.headers['cache-control']), /no-store/);
      for (let i = 0; i < 2; i++) {
        const anon = await visitor(p).get('/csm');
        assert.equal(anon.status, 200);
        assert.ok(!anon.text.includes('キャッシュ確認医院'), 'the next anonymous visitor does not see the name');
        assert.ok(!anon.text.includes(ja['nav.logout']));
        assert.ok(!anon.body.includes('name="_csrf"'), 'no CSRF token in the shared page');
        assert.equal(setCookieOf(anon), undefined);
      }
    });

    test('issue4-5 A1: an お知らせ published through the console shows on the next anonymous GET /csm at once', async () => {
      const ed = await consoleAs(p, editor);
      const cached = await visitor(p).get('/csm');
      assert.equal((await visitor(p).get('/csm')).body, cached.body, 'the page is served from the cache');
      await postNews(p, ed, 'new', { title_ja: '即時反映のお知らせ' });
      const top = await visitor(p).get('/csm');
      assert.ok(newsTitles(top).includes('即時反映のお知らせ'), `listed at once: ${newsTitles(top).join(' / ')}`);
      const english = visitor(p);
      english.cookies.set('lang', 'en');
      assert.ok(newsTitles(await english.get('/csm')).includes('即時反映のお知らせ (en)'), 'the English page too');

      // A draft edit of the same お知らせ takes it down at once as well.
      const { id } = await newsRow(p, '即時反映のお知らせ');
      await postNews(p, ed, id, { title_ja: '即時反映のお知らせ', action: 'draft' });
      assert.ok(!newsTitles(await visitor(p).get('/csm')).includes('即時反映のお知らせ'), 'taken down at once');
    });

    test('issue4-5: a future publish time — not on /csm; once the clock passes it, on /csm at once although /csm was cached just before', async () => {
      const ed = await consoleAs(p, editor);
      await postNews(p, ed, 'new', { title_ja: '予約公開キャッシュ', publish_at: local(p.clock.now() + 10 * 60_000) });
      const { publish_at: publishAt } = await newsRow(p, '予約公開キャッシュ');
      const at = Number(publishAt);
      assert.ok(!newsTitles(await visitor(p).get('/csm')).includes('予約公開キャッシュ'));

      // Two seconds before the publish time the page is served and cached (without the お知らせ) …
      p.clock.advance(at - 2_000 - p.clock.now());
      const cachedPage = await visitor(p).get('/csm');
      assert.ok(!newsTitles(cachedPage).includes('予約公開キャッシュ'));
      assert.equal((await visitor(p).get('/csm')).body, cachedPage.body);
      // … and three seconds later (less than PAGE_CACHE_SECONDS) it is listed.
      p.clock.advance(3_000);
      assert.ok(p.clock.now() > at);
      const afterPublish = await visitor(p).get('/csm');
      assert.ok(
        newsTitles(afterPublish).includes('予約公開キャッシュ'),
        `listed once its publish time has passed: ${newsTitles(afterPublish).join(' / ')}`,
      );
    });

    test('issue4-5: an end time — on /csm until the clock passes it, then gone at once although /csm was cached just before', async () => {
      const ed = await consoleAs(p, editor);
      await postNews(p, ed, 'new', { title_ja: '期間限定キャッシュ', end_at: local(p.clock.now() + 10 * 60_000) });
      const { end_at: endAt } = await newsRow(p, '期間限定キャッシュ');
      const at = Number(endAt);
      assert.ok(newsTitles(await visitor(p).get('/csm')).includes('期間限定キャッシュ'));

      p.clock.advance(at - 2_000 - p.clock.now());
      const cachedPage = await visitor(p).get('/csm');
      assert.ok(newsTitles(cachedPage).includes('期間限定キャッシュ'));
      assert.equal((await visitor(p).get('/csm')).body, cachedPage.body);
      p.clock.advance(3_000);
      assert.ok(p.clock.now() > at);
      const afterEnd = await visitor(p).get('/csm');
      assert.ok(
        !newsTitles(afterEnd).includes('期間限定キャッシュ'),
        `gone once its end time has passed: ${newsTitles(afterEnd).join(' / ')}`,
      );
    });

    describe('an edit through a second instance on the same database', () => {
      let second: FastifyInstance;
      let db2: OpenedDatabase;
      before(async () => {
        db2 = openDatabase(p.database.url, p.database.schema ? { schema: p.database.schema, poolSize: 3 } : {});
        second = await buildApp({
          config: p.config,
          db: db2.db,
          dialect: db2.dialect,
          transport: createSmtpTransport(p.sink.url),
          now: p.clock.now,
          runMailWorker: false,
        });
        await second.ready();
      });
      after(async () => {
        await second?.close();
        await db2?.db.destroy();
      });

      test("issue4-5: published through the other instance's console, it is not required at once but shows within PAGE_CACHE_SECONDS (5 s)", async () => {
        const cached = await visitor(p).get('/csm');
        assert.ok(!newsTitles(cached).includes('別インスタンスのお知らせ'));
        const ed2 = new Client(second);
        ed2.ip = '10.9.0.1';
        assert.equal((await operatorLogin(ed2, editor.username, editor.password)).status, 303);
        await postNews(p, ed2, 'new', { title_ja: '別インスタンスのお知らせ' });
        // The other instance shows it at once (its own cache was cleared) …
        assert.ok(newsTitles(await visitor(second).get('/csm')).includes('別インスタンスのお知らせ'));
        // … this one still serves the page it kept (the cache is real) …
        const stale = await visitor(p).get('/csm');
        assert.equal(stale.body, cached.body, 'right after the change this instance still serves its cached page');
        // … until PAGE_CACHE_SECONDS have passed.
        p.clock.advance(5_000);
        const fresh = await visitor(p).get('/csm');
        assert.ok(
          newsTitles(fresh).includes('別インスタンスのお知らせ'),
          `shown after 5 s: ${newsTitles(fresh).join(' / ')}`,
        );
      });

      test('issue4-5: a row changed straight in the database (as another instance would) shows once PAGE_CACHE_SECONDS have passed', async () => {
        const ed = await consoleAs(p, editor);
        await postNews(p, ed, 'new', { title_ja: '直接変更前の題名' });
        const cached = await visitor(p).get('/csm');
        assert.ok(newsTitles(cached).includes('直接変更前の題名'));
        await p.database.db
          .updateTable('news')
          .set({ title_ja: '直接変更後の題名' })
          .where('title_ja', '=', '直接変更前の題名')
          .execute();
        const stale = await visitor(p).get('/csm');
        assert.equal(stale.body, cached.body, 'right after the change the cached page is still served');
        p.clock.advance(5_000);
        const fresh = newsTitles(await visitor(p).get('/csm'));
        assert.ok(
          fresh.includes('直接変更後の題名') && !fresh.includes('直接変更前の題名'),
          `the new title after 5 s: ${fresh.join(' / ')}`,
        );
      });
    });
  });

  describe(`top page without cache: PAGE_CACHE_SECONDS=0 [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target, { env: { PAGE_CACHE_SECONDS: '0' } });
    });
    after(async () => {
      await p?.close();
    });

    test('issue4-5: with PAGE_CACHE_SECONDS=0 a change made straight in the database shows at once', async () => {
      const editor = await createOperator(p, 'editor', 'ed-nocache', '編集ゼロ');
      const ed = await consoleAs(p, editor);
      await postNews(p, ed, 'new', { title_ja: 'キャッシュなし変更前' });
      const first = await visitor(p).get('/csm');
      assert.ok(newsTitles(first).includes('キャッシュなし変更前'));
      assert.equal(setCookieOf(first), undefined);
      await p.database.db
        .updateTable('news')
        .set({ title_ja: 'キャッシュなし変更後' })
        .where('title_ja', '=', 'キャッシュなし変更前')
        .execute();
      const titles = newsTitles(await visitor(p).get('/csm'));
      assert.ok(
        titles.includes('キャッシュなし変更後') && !titles.includes('キャッシュなし変更前'),
        `at once: ${titles.join(' / ')}`,
      );
      const now = p.clock.now();
      await p.database.db
        .insertInto('news')
        .values({
          id: 'direct-insert-1',
          title_ja: '直接追加のお知らせ',
          title_en: 'Inserted directly',
          body_ja: '本文',
          body_en: 'Body',
          category: 'general',
          importance: 'normal',
          status: 'published',
          publish_at: now - 1_000,
          end_at: null,
          search_text: '直接追加のお知らせ',
          created_at: now,
          updated_at: now,
          updated_by: 'another-instance',
        })
        .execute();
      assert.ok(
        newsTitles(await visitor(p).get('/csm')).includes('直接追加のお知らせ'),
        'an inserted row shows at once',
      );
    });
  });
}
