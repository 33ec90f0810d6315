/**
 * A notice may be published in Japanese only (issue 11 §6), on every database target: the console accepts it without
 * English, the English pages show the Japanese title and text marked lang="ja" with a note in English, and half an
 * English version (a title without text, or text without a title) is a 400 naming the empty field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { en } from '../../src/web/i18n/en.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { startTestPortal, type Client, type TestPortal } from '../helpers/test-app.ts';
import { fieldErrors } from '../helpers/accounts.ts';
import { consoleAs, createOperator } from '../helpers/operators.ts';

const JST = 9 * 3600_000;
const local = (at: number) => new Date(at + JST).toISOString().slice(0, 16);

const targets = await dbTargets();
for (const target of targets) {
  describe(`news in Japanese only [${target}]`, () => {
    let p: TestPortal;
    let ed: Client;
    before(async () => {
      p = await startTestPortal(target);
      ed = await consoleAs(p, await createOperator(p, 'editor', 'ed-tanaka', '編集田中'));
    });
    after(async () => {
      await p.close();
    });
    const english = () => {
      const c = p.client();
      c.cookies.set('lang', 'en');
      return c;
    };
    async function post(f: Record<string, string>) {
      await ed.get('/admin/news/new');
      return ed.post('/admin/news/new', {
        title_ja: '',
        title_en: '',
        body_ja: '',
        body_en: '',
        category: 'general',
        importance: 'normal',
        publish_at: local(p.clock.now() - 60_000),
        end_at: '',
        action: 'publish',
        ...f,
      });
    }

    test('E6: published without English, the notice is public in Japanese; the English pages show it in Japanese with a note', async () => {
      const form = await ed.get('/admin/news/new');
      assert.ok(form.text.includes(ja['admin.news.englishOptional']), 'the console says English is optional');
      assert.doesNotMatch(form.body, /id="title_en"[^>]*required/);
      const saved = await post({ title_ja: 'システム停止のお知らせ', body_ja: '12月5日に**システムを停止**します。' });
      assert.equal(saved.status, 303, saved.text.slice(0, 300));
      assert.equal(saved.location, '/admin/news?m=published');
      const { id } = await p.database.db
        .selectFrom('news')
        .select('id')
        .where('title_ja', '=', 'システム停止のお知らせ')
        .executeTakeFirstOrThrow();
      assert.ok((await ed.get('/admin/news')).text.includes(`システム停止のお知らせ ${ja['admin.news.japaneseOnly']}`));

      const inJapanese = await p.client().get(`/csm/news/${id}`);
      assert.equal(inJapanese.status, 200);
      assert.ok(inJapanese.body.includes('<strong>システムを停止</strong>'));
      assert.ok(!inJapanese.text.includes(ja['content.news.japaneseOnly']), 'no note on the Japanese page');

      const article = await english().get(`/csm/news/${id}`);
      assert.equal(article.status, 200);
      assert.match(article.body, /<h1 lang="ja">システム停止のお知らせ<\/h1>/);
      assert.ok(article.text.includes(en['content.news.japaneseOnly']), 'the English note');
      assert.match(
        article.body,
        /<div lang="ja"><div class="prose"><p>12月5日に<strong>システムを停止<\/strong>します。<\/p>/,
      );
      for (const path of ['/csm', '/csm/news']) {
        const list = await english().get(path);
        assert.match(list.body, new RegExp(`<a href="/csm/news/${id}" lang="ja">システム停止のお知らせ</a>`), path);
        assert.ok(list.text.includes(`システム停止のお知らせ ${en['content.news.japaneseOnlyMark']}`), path);
      }
    });

    test('E6 B1: half an English version is refused with a 400 naming the empty field; nothing is saved', async () => {
      const count = async () => (await p.database.db.selectFrom('news').select('id').execute()).length;
      const before = await count();
      const noBody = await post({ title_ja: '片方だけ', body_ja: '本文', title_en: 'Only a title' });
      assert.equal(noBody.status, 400);
      assert.deepEqual(fieldErrors(noBody, 'body_en'), [ja['admin.news.englishPair']]);
      const noTitle = await post({ title_ja: '片方だけ', body_ja: '本文', body_en: 'Only a body' });
      assert.equal(noTitle.status, 400);
      assert.deepEqual(fieldErrors(noTitle, 'title_en'), [ja['admin.news.englishPair']]);
      assert.equal(await count(), before);
    });
  });
}
