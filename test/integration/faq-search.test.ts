/**
 * The FAQ search finds everyday wording (issue 11 §8), on every database target: every word of the query must match
 * (AND), inflection does not matter (届かない / 届きません, できない / できません), entries whose question holds the
 * words come first, and the seeded FAQ covers the seed's rules with at least 20 entries in both languages.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { FAQ } from '../../src/content/demo-content.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { startTestPortal, type Page, type TestPortal } from '../helpers/test-app.ts';

const decode = (s: string) =>
  s
    .replace(/&amp;/g, '&')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
/** The questions listed by /csm/faq, in order. */
const questions = (page: Page) => [...page.body.matchAll(/<dt>Q\. ([^<]*)<\/dt>/g)].map((m) => decode(m[1]!));
/** The answers listed by /csm/faq, in order (tags removed). */
const answers = (page: Page) =>
  [...page.body.matchAll(/<dd>([\s\S]*?)<\/dd>/g)].map((m) => decode(m[1]!.replace(/<[^>]+>/g, '')));
const q = (ja: string) => FAQ.find((f) => f.q.ja === ja)?.q.ja ?? assert.fail(`no seeded FAQ 「${ja}」`);

const MAIL_NOT_ARRIVING = q('パスワード再設定のメールが届きません。');
const MOBILE = q('携帯電話のメールアドレスにメールが届きません。');
const UPDATED = q('メールアドレスを更新したのに、パスワード再設定のメールが届きません。');
const CANNOT_LOG_IN = q('ログインできません。');
const LOCKED = q('アカウントがロックされてログインできません。');

const targets = await dbTargets();
for (const target of targets) {
  describe(`FAQ search [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target);
    });
    after(async () => {
      await p.close();
    });
    const search = (query: string, lang: 'ja' | 'en' = 'ja') => {
      const c = p.client();
      if (lang === 'en') c.cookies.set('lang', 'en');
      return c.get(`/csm/faq?q=${encodeURIComponent(query)}`);
    };

    test('E8 W3: 「メール 届かない」 finds the entries about mail that does not arrive (届きません), the reset-mail entry first, every one holding both words', async () => {
      const page = await search('メール 届かない');
      assert.equal(page.status, 200);
      const found = questions(page);
      assert.equal(found[0], MAIL_NOT_ARRIVING, found.join(' / '));
      for (const expected of [MOBILE, UPDATED]) assert.ok(found.includes(expected), expected);
      // Title hits first: every question that holds both words comes before any that does not.
      const inTitle = found.map((x) => x.includes('メール') && x.includes('届'));
      assert.ok(
        inTitle.indexOf(false) === -1 || inTitle.slice(inTitle.indexOf(false)).every((v) => !v),
        `title hits first: ${found.join(' / ')}`,
      );
      const all = answers(page);
      found.forEach((x, i) =>
        assert.ok(/メール/.test(x + all[i]) && /届/.test(x + all[i]), `AND: 「${x}」 holds both words`),
      );
      assert.ok(
        page.text.includes(
          ja['content.faq.results'].replace('{q}', 'メール 届かない').replace('{n}', String(found.length)),
        ),
      );
      // Inflection does not matter: the polite form with a particle finds the same entries, the same one first.
      const polite = questions(await search('メールが届きません'));
      assert.equal(polite[0], MAIL_NOT_ARRIVING);
      assert.deepEqual([...polite].sort(), [...found].sort());
    });

    test('E8: 「ロック」 finds the lockout entry first, then the entries that only mention a lock in their answer', async () => {
      const found = questions(await search('ロック'));
      assert.equal(found[0], LOCKED, found.join(' / '));
      assert.ok(
        found.includes(CANNOT_LOG_IN),
        `「${CANNOT_LOG_IN}」 mentions the lockout in its answer: ${found.join(' / ')}`,
      );
      assert.ok(found.indexOf(CANNOT_LOG_IN) > 0);
      assert.deepEqual(questions(await search('ﾛｯｸ')), found, 'half-width katakana folds');
      assert.deepEqual(questions(await search('ろっく')), found, 'hiragana folds');
    });

    test('E8: 「ログインできない」 finds 「ログインできません。」 and the lockout entry first, before entries that only mention logging in', async () => {
      const found = questions(await search('ログインできない'));
      assert.deepEqual(found.slice(0, 2), [CANNOT_LOG_IN, LOCKED], found.join(' / '));
      assert.deepEqual(questions(await search('ログインができない')), found, 'a particle does not matter');
      assert.deepEqual(questions(await search('ログイン できません')), found, 'nor a space or the polite form');
    });

    test('E8: every word must match (AND) — 「携帯 メール」 finds only the carrier entry; an unknown word empties the result', async () => {
      assert.deepEqual(questions(await search('携帯 メール')), [MOBILE]);
      const none = await search('ロック ふくろう');
      assert.deepEqual(questions(none), []);
      assert.ok(none.text.includes(ja['content.faq.noResults'].replace('{q}', 'ロック ふくろう')));
      const sender = questions(await search('from@mail.iryohokenjyohoportalsite.jp'));
      assert.ok(
        sender.includes(q('パスワード変更用URLメールはどのアドレスから送信されますか。')) && sender.includes(MOBILE),
        sender.join(' / '),
      );
    });

    test('E8: English wording finds the English entries with their inflection (locked, arriving)', async () => {
      const locked = questions(await search('account locked', 'en'));
      assert.equal(locked[0], 'My account is locked and I cannot log in.', locked.join(' / '));
      const arriving = questions(await search('mail not arriving', 'en'));
      assert.equal(arriving[0], 'The password reset mail does not arrive.', arriving.join(' / '));
    });

    test("E8: the seeded FAQ has at least 20 entries, each in Japanese and English, covering the seed's rules; all are listed without a query", async () => {
      assert.ok(FAQ.length >= 20, `${FAQ.length} entries`);
      for (const f of FAQ) assert.ok(f.q.ja && f.a.ja && f.q.en && f.a.en, f.q.ja);
      const listed = questions(await p.client().get('/csm/faq'));
      for (const f of FAQ) assert.ok(listed.includes(f.q.ja), f.q.ja);
      const english = questions(await search('', 'en'));
      for (const f of FAQ) assert.ok(english.includes(f.q.en), f.q.en);
      // The seed's rules, each findable by the words a caller would use.
      const topics: Array<[string, string]> = [
        ['有効期限', 'パスワード変更用URLの有効期限はどのくらいですか。'],
        ['仮アカウント', '仮アカウントとは何ですか。'],
        ['旧ポータル 間違い', '旧ポータルで登録したメールアドレスが間違っていたようです。'],
        ['取りまとめ者', '取りまとめ者は、ログインやパスワードの再設定で何を入力しますか。'],
        ['登録 エラー', '新規ユーザー登録でエラーになります。'],
        ['受付時間', 'コールセンターの電話番号と受付時間を教えてください。'],
        ['迷惑メール', 'メールが迷惑メールフォルダに入ってしまいます。'],
        ['パスワード 条件', 'パスワードにはどのような条件がありますか。'],
      ];
      for (const [query, expected] of topics) assert.equal(questions(await search(query))[0], q(expected), query);
    });
  });
}
