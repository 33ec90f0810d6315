/**
 * The portal's content (issue 4 §5), on every database target: editors write お知らせ (draft, publish, publish and
 * end dates, importance), よくある質問 and the pages with a preview that saves nothing; publishing is audited (A1);
 * the public pages show only what is published and current; the safe Markdown subset never lets HTML or a
 * javascript: link through; the FAQ search folds Japanese (「ぱすわーど」 finds 「パスワードを忘れた」).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { FAQ, NEWS } from '../../src/content/demo-content.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { startTestPortal, type Client, type Page, type TestPortal } from '../helpers/test-app.ts';
import { fieldErrors } from '../helpers/accounts.ts';
import { auditRows, consoleAs, createOperator, detailOf, type TestOperator } from '../helpers/operators.ts';

const JST = 9 * 3600_000;
/** The console's date-time field (JST, minutes): YYYY-MM-DDTHH:MM. */
const local = (at: number) => new Date(at + JST).toISOString().slice(0, 16);

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The titles of the お知らせ listed on a page, in order. */
const newsTitles = (page: Page) =>
  [...page.body.matchAll(/<a href="\/csm\/news\/[^"]+">([^<]*)<\/a>/g)].map((m) => m[1]!);
/** The questions listed by /csm/faq, in order. */
const questions = (page: Page) => [...page.body.matchAll(/<dt>Q\. ([^<]*)<\/dt>/g)].map((m) => m[1]!);

const targets = await dbTargets();
for (const target of targets) {
  describe(`content [${target}]`, () => {
    let p: TestPortal;
    let editor: TestOperator;
    let ed: Client;
    before(async () => {
      p = await startTestPortal(target);
      editor = await createOperator(p, 'editor', 'ed-suzuki', '編集鈴木');
    });
    after(async () => {
      await p.close();
    });
    const login = async () => {
      ed = await consoleAs(p, editor);
    };
    const pub = () => p.client();

    async function postNews(id: string, f: Partial<Record<string, string>> & { title_ja: string }): Promise<Page> {
      await ed.get(`/admin/news/${id}`);
      return ed.post(`/admin/news/${id}`, {
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
    }
    const newsId = async (title: string) =>
      (await p.database.db.selectFrom('news').select('id').where('title_ja', '=', title).executeTakeFirstOrThrow()).id;

    test('issue4-5: the top page lists the latest お知らせ and the 事業別トップメニュー lists the three services, each with its page', async () => {
      const top = await pub().get('/csm');
      assert.ok(top.text.includes(ja['top.latestNews']));
      for (const n of NEWS) assert.ok(newsTitles(top).includes(n.title.ja), n.title.ja);
      const menu = /<details class="menu">([\s\S]*?)<\/details>/.exec(top.body)![1]!;
      assert.ok(menu.includes(ja['nav.services']));
      for (const [slug, key] of [
        ['online-qualification', 'service.oqs'],
        ['e-prescription', 'service.eps'],
        ['ehr-sharing', 'service.ehr'],
      ] as const) {
        assert.match(menu, new RegExp(`<a href="/csm/services/${slug}">${esc(ja[key])}</a>`));
        const page = await pub().get(`/csm/services/${slug}`);
        assert.equal(page.status, 200);
        assert.ok(page.text.includes(ja[key]));
      }
    });

    test('issue4-5 A1: a draft is not public; published, it shows on /csm, /csm/news and its own page; both steps audited', async () => {
      await login();
      const saved = await postNews('new', {
        title_ja: '下書きのお知らせ',
        body_ja: '**システム停止**のご案内です。',
        category: 'e-prescription',
        action: 'draft',
      });
      assert.equal(saved.status, 303);
      assert.equal(saved.location, '/admin/news?m=saved');
      const list = await ed.get(saved.location);
      assert.ok(list.text.includes(ja['admin.content.saved']));
      assert.match(list.text, /下書きのお知らせ 下書き/);
      const id = await newsId('下書きのお知らせ');
      assert.ok(!newsTitles(await pub().get('/csm')).includes('下書きのお知らせ'));
      assert.ok(!newsTitles(await pub().get('/csm/news')).includes('下書きのお知らせ'));
      assert.equal((await pub().get(`/csm/news/${id}`)).status, 404);

      const published = await postNews(id, {
        title_ja: '下書きのお知らせ',
        body_ja: '**システム停止**のご案内です。',
        category: 'e-prescription',
      });
      assert.equal(published.location, '/admin/news?m=published');
      assert.equal(newsTitles(await pub().get('/csm'))[0], '下書きのお知らせ', 'the newest first on the top page');
      assert.ok(newsTitles(await pub().get('/csm/news')).includes('下書きのお知らせ'));
      const article = await pub().get(`/csm/news/${id}`);
      assert.equal(article.status, 200);
      assert.ok(article.body.includes('<strong>システム停止</strong>のご案内です。'));
      assert.ok(article.text.includes(ja['content.news.category.e-prescription']));
      const english = pub();
      english.cookies.set('lang', 'en');
      assert.ok(newsTitles(await english.get('/csm')).includes('下書きのお知らせ (en)'));
      const audit = (await auditRows(p)).filter((r) => r.event.startsWith('content.news.') && detailOf(r).id === id);
      assert.deepEqual(
        audit.map((r) => [r.event, r.actor]),
        [
          ['content.news.saved', `operator:${editor.username}`],
          ['content.news.published', `operator:${editor.username}`],
        ],
      );
    });

    test('issue4-5: a future publish date waits; an end date takes the お知らせ down from every public page', async () => {
      await login();
      const now = p.clock.now();
      await postNews('new', { title_ja: '予約公開のお知らせ', publish_at: local(now + 30 * 60_000) });
      await postNews('new', { title_ja: '期間限定のお知らせ', end_at: local(now + 10 * 60_000) });
      const later = await newsId('予約公開のお知らせ');
      const ending = await newsId('期間限定のお知らせ');
      let top = newsTitles(await pub().get('/csm'));
      assert.ok(!top.includes('予約公開のお知らせ') && top.includes('期間限定のお知らせ'));
      assert.equal((await pub().get(`/csm/news/${later}`)).status, 404);
      p.clock.advance(31 * 60_000);
      top = newsTitles(await pub().get('/csm'));
      assert.ok(top.includes('予約公開のお知らせ') && !top.includes('期間限定のお知らせ'));
      assert.ok(!newsTitles(await pub().get('/csm/news')).includes('期間限定のお知らせ'));
      assert.equal((await pub().get(`/csm/news/${ending}`)).status, 404);
      assert.equal((await pub().get(`/csm/news/${later}`)).status, 200);
    });

    test('issue4-5: an important お知らせ carries 「重要」 and comes before newer normal ones', async () => {
      await login();
      const now = p.clock.now();
      await postNews('new', {
        title_ja: '重要なお知らせ',
        importance: 'important',
        publish_at: local(now - 2 * 86_400_000),
      });
      await postNews('new', { title_ja: '普通のお知らせ', publish_at: local(now - 60_000) });
      const top = await pub().get('/csm');
      assert.equal(newsTitles(top)[0], '重要なお知らせ', `listed first although older: ${newsTitles(top).join(' / ')}`);
      assert.ok(newsTitles(top).includes('普通のお知らせ'));
      assert.match(
        top.body,
        new RegExp(`${esc(ja['content.news.important'])}</span>\\s*<a href="/csm/news/[^"]+">重要なお知らせ</a>`),
      );
      assert.doesNotMatch(
        top.body,
        new RegExp(`${esc(ja['content.news.important'])}</span>\\s*<a href="/csm/news/[^"]+">普通のお知らせ</a>`),
      );
    });

    test('issue4-5 B1: Markdown is a safe subset — HTML is shown as text, javascript: and protocol-relative links are not links', async () => {
      await login();
      const body = [
        '<script>alert(1)</script> <img src=x onerror=alert(2)>',
        '[罠](javascript:alert(3)) [外部](//evil.example/x) [案内](https://www.mhlw.go.jp/) [FAQ](/csm/faq)',
      ].join('\n\n');
      await postNews('new', { title_ja: '<b>タグ入り</b>タイトル', body_ja: body });
      const id = await newsId('<b>タグ入り</b>タイトル');
      const article = await pub().get(`/csm/news/${id}`);
      assert.equal(article.status, 200);
      assert.ok(!/<script>alert|<img src=x|<b>タグ/.test(article.body), 'no markup from the editor');
      assert.ok(article.text.includes('<script>alert(1)</script> <img src=x onerror=alert(2)>'), 'shown as text');
      assert.ok(article.text.includes('<b>タグ入り</b>タイトル'));
      assert.ok(!/href="(javascript:|\/\/evil)/i.test(article.body), 'no javascript: or protocol-relative link');
      assert.ok(article.text.includes('[罠](javascript:alert(3))'), 'shown as the text it is');
      assert.match(article.body, /<a href="https:\/\/www\.mhlw\.go\.jp\/" rel="noopener noreferrer">案内<\/a>/);
      assert.match(article.body, /<a href="\/csm\/faq">FAQ<\/a>/);
    });

    test('issue4-5 B1: preview shows the rendered text and saves nothing; missing fields, bad dates and end-before-start are 400s naming the field', async () => {
      await login();
      const count = async () => (await p.database.db.selectFrom('news').select('id').execute()).length;
      const before = [await count(), (await auditRows(p)).length];
      const preview = await postNews('new', {
        title_ja: 'プレビューだけ',
        body_ja: '- 項目一\n- 項目二',
        action: 'preview',
      });
      assert.equal(preview.status, 200);
      assert.ok(preview.text.includes(ja['admin.content.previewHeading']));
      assert.ok(preview.body.includes('<ul><li>項目一</li><li>項目二</li></ul>'));
      assert.match(preview.body, /id="title_ja"[^>]*value="プレビューだけ"/);
      assert.deepEqual([await count(), (await auditRows(p)).length], before, 'nothing saved, nothing audited');
      assert.ok(!newsTitles(await pub().get('/csm/news')).includes('プレビューだけ'));

      const missing = await postNews('new', { title_ja: '', body_ja: '' });
      assert.equal(missing.status, 400);
      assert.deepEqual(fieldErrors(missing, 'title_ja'), [
        ja['admin.content.required'].replace('{label}', ja['admin.news.titleJa']),
      ]);
      assert.deepEqual(fieldErrors(missing, 'body_ja'), [
        ja['admin.content.required'].replace('{label}', ja['admin.news.bodyJa']),
      ]);
      const badDate = await postNews('new', { title_ja: '日付違い', publish_at: '2026/01/01 09:00' });
      assert.equal(badDate.status, 400);
      assert.deepEqual(fieldErrors(badDate, 'publish_at'), [ja['admin.content.badDate']]);
      const ends = await postNews('new', {
        title_ja: '終了が先',
        publish_at: '2026-02-01T09:00',
        end_at: '2026-01-31T09:00',
      });
      assert.equal(ends.status, 400);
      assert.deepEqual(fieldErrors(ends, 'end_at'), [ja['admin.content.endBeforeStart']]);
      assert.equal((await postNews('new', { title_ja: '謎の操作', action: 'delete-all' })).status, 400);
      assert.deepEqual([await count(), (await auditRows(p)).length], before);
    });

    test('issue4-5: the four FAQ topics of the seed manual are there (reset mail not arriving, provisional accounts, CAPTCHA, expired link)', async () => {
      const all = questions(await pub().get('/csm/faq'));
      for (const f of FAQ) assert.ok(all.includes(f.q.ja), f.q.ja);
      for (const [q, expected] of [
        ['メールが届きません', FAQ[1]],
        ['仮アカウント', FAQ[1]],
        ['CAPTCHA', FAQ[2]],
        ['無効', FAQ[3]],
      ] as const) {
        const found = questions(await pub().get(`/csm/faq?q=${encodeURIComponent(q)}`));
        assert.ok(found.includes(expected!.q.ja), `「${q}」 finds 「${expected!.q.ja}」`);
      }
      const provisional = await pub().get(`/csm/faq?q=${encodeURIComponent('@01')}`);
      assert.ok(provisional.text.includes('「@01」～「@48」'));
    });

    test('issue4-5: FAQ search — 「パスワード」 finds 「パスワードを忘れた…」; hiragana, half-width and case are folded; every term must match; % is literal', async () => {
      const forgot = FAQ[0]!.q.ja;
      const base = questions(await pub().get(`/csm/faq?q=${encodeURIComponent('パスワード')}`));
      assert.ok(base.includes(forgot));
      for (const q of ['ぱすわーど', 'ﾊﾟｽﾜｰﾄﾞ', 'ＰＡＳＳＷＯＲＤ', 'password']) {
        assert.ok(questions(await pub().get(`/csm/faq?q=${encodeURIComponent(q)}`)).includes(forgot), q);
      }
      const page = await pub().get(`/csm/faq?q=${encodeURIComponent('ぱすわーど')}`);
      assert.ok(
        page.text.includes(ja['content.faq.results'].replace('{q}', 'ぱすわーど').replace('{n}', String(base.length))),
      );
      const both = questions(await pub().get(`/csm/faq?q=${encodeURIComponent('パスワード　1時間')}`));
      // Issue 11 §8 added a second entry on the 1-hour link; the rule still holds: every term must appear.
      assert.equal(both[0], FAQ[3]!.q.ja, 'a full-width space splits terms');
      assert.ok(!both.includes(FAQ[0]!.q.ja), 'every term must appear: 「パスワードを忘れた…」 has no 1時間');
      for (const q of ['%', '_', 'ありえない語句']) {
        const none = await pub().get(`/csm/faq?q=${encodeURIComponent(q)}`);
        assert.deepEqual(questions(none), [], q);
        assert.ok(none.text.includes(ja['content.faq.noResults'].replace('{q}', q)), q);
      }
    });

    test('issue4-5 A1: FAQ editing — a draft is hidden, published it is listed by its order and searchable; an edit re-indexes; audited', async () => {
      await login();
      const fields = {
        category: 'password',
        sort_order: '5',
        question_ja: 'フクロウ便で届きますか。',
        answer_ja: 'いいえ、**メール**で届きます。',
        question_en: 'By owl?',
        answer_en: 'No, by mail.',
      };
      await ed.get('/admin/faq/new');
      const bad = await ed.post('/admin/faq/new', { ...fields, sort_order: '-1', action: 'publish' });
      assert.equal(bad.status, 400);
      assert.deepEqual(fieldErrors(bad, 'sort_order'), [ja['admin.faq.orderInvalid']]);
      const draft = await ed.post('/admin/faq/new', { ...fields, action: 'draft' });
      assert.equal(draft.location, '/admin/faq?m=saved');
      assert.ok(!questions(await pub().get('/csm/faq')).includes(fields.question_ja));
      const { id } = await p.database.db
        .selectFrom('faq')
        .select('id')
        .where('question_ja', '=', fields.question_ja)
        .executeTakeFirstOrThrow();
      await ed.get(`/admin/faq/${id}`);
      assert.equal(
        (await ed.post(`/admin/faq/${id}`, { ...fields, action: 'publish' })).location,
        '/admin/faq?m=published',
      );
      assert.equal(
        questions(await pub().get('/csm/faq'))[0],
        fields.question_ja,
        'sort order 5 comes before the seed entries (10, 20, …)',
      );
      assert.deepEqual(questions(await pub().get(`/csm/faq?q=${encodeURIComponent('ふくろう')}`)), [
        fields.question_ja,
      ]);

      await ed.get('/admin/faq/seed-faq-3');
      await ed.post('/admin/faq/seed-faq-3', {
        ...fields,
        sort_order: '30',
        question_ja: '画像認証の文字が読めません。',
        question_en: 'Hard to read',
        action: 'publish',
      });
      assert.deepEqual(questions(await pub().get(`/csm/faq?q=${encodeURIComponent('画像認証')}`)), [
        '画像認証の文字が読めません。',
      ]);
      assert.ok(
        !questions(await pub().get(`/csm/faq?q=CAPTCHA`)).includes(FAQ[2]!.q.ja),
        'the old text is gone from the index',
      );
      const audit = (await auditRows(p))
        .filter((r) => r.event.startsWith('content.faq.'))
        .map((r) => [r.event, r.actor, detailOf(r).id]);
      assert.deepEqual(audit, [
        ['content.faq.saved', `operator:${editor.username}`, id],
        ['content.faq.published', `operator:${editor.username}`, id],
        ['content.faq.published', `operator:${editor.username}`, 'seed-faq-3'],
      ]);
    });

    test('issue4-5 A1: お問い合わせ先, each service page and 新設・廃止・コード変更 are editable; preview changes nothing; publishing is audited', async () => {
      await login();
      const pages: Array<[string, string]> = [
        ['contact', '/csm/contact'],
        ['institution-changes', '/csm/institution-changes'],
        ['service-online-qualification', '/csm/services/online-qualification'],
        ['service-e-prescription', '/csm/services/e-prescription'],
        ['service-ehr-sharing', '/csm/services/ehr-sharing'],
      ];
      for (const [slug, path] of pages) {
        const form = await ed.get(`/admin/pages/${slug}`);
        assert.equal(form.status, 200, slug);
        const fields = {
          title_ja: `改訂 ${slug}`,
          title_en: `Revised ${slug}`,
          body_ja: `## 新しい見出し\n\n${slug} の**新しい**本文。`,
          body_en: 'New body.',
        };
        const preview = await ed.post(`/admin/pages/${slug}`, { ...fields, action: 'preview' });
        assert.ok(preview.body.includes('<strong>新しい</strong>'), slug);
        assert.ok(!(await pub().get(path)).text.includes(`改訂 ${slug}`), `${slug}: the preview is not public`);
        const done = await ed.post(`/admin/pages/${slug}`, { ...fields, action: 'publish' });
        assert.equal(done.location, '/admin/pages?m=published', slug);
        const shown = await pub().get(path);
        assert.match(shown.body, new RegExp(`<h1>改訂 ${slug}</h1>`));
        assert.ok(
          shown.body.includes('<h2>新しい見出し</h2>') && shown.body.includes('<strong>新しい</strong>本文'),
          slug,
        );
      }
      const audit = (await auditRows(p, 'content.page.published')).map((r) => [r.actor, detailOf(r).slug]);
      assert.deepEqual(
        audit,
        pages.map(([slug]) => [`operator:${editor.username}`, slug]),
      );
      assert.equal((await ed.get('/admin/pages/no-such-page')).status, 404);
      await ed.get('/admin/pages/contact');
      const empty = await ed.post('/admin/pages/contact', {
        title_ja: '',
        title_en: 'x',
        body_ja: 'x',
        body_en: 'x',
        action: 'publish',
      });
      assert.equal(empty.status, 400);
      assert.ok((await pub().get('/csm/contact')).text.includes('改訂 contact'), 'a refused save loses nothing');
    });
  });
}
