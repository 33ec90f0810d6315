/**
 * Folding for the public FAQ search in Japanese (issue 4 §5): 「パスワード」 finds 「パスワードを忘れた」, and hiragana,
 * half-width katakana, full-width letters and case do not matter; terms and LIKE patterns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldForSearch, likePattern } from '../../src/content/search-text.ts';
import { queryWords } from '../../src/content/faq-search.ts';

const finds = (query: string, text: string) =>
  queryWords(query).every((w) => w.keys.every((k) => foldForSearch(text).includes(k)));

test('issue4-5: katakana folds to hiragana, half-width to full-width kana, full-width latin and digits to ASCII, lower case', () => {
  assert.equal(foldForSearch('パスワード'), 'ぱすわーど');
  assert.equal(foldForSearch('ﾊﾟｽﾜｰﾄﾞ'), 'ぱすわーど');
  assert.equal(foldForSearch('ＣＡＰＴＣＨＡ　１２３'), 'captcha 123');
  assert.equal(foldForSearch('ヴァイオリン ヵ月 ヶ所'), 'ゔぁいおりん ゕ月 ゖ所');
  assert.equal(foldForSearch('  メール\n\tアドレス  '), 'めーる あどれす', 'spaces collapsed and trimmed');
  assert.equal(
    foldForSearch('仮アカウント（@01）'),
    '仮あかうんと(@01)',
    'kanji unchanged, full-width brackets to ASCII',
  );
});

test('issue4-5: 「パスワード」 finds 「パスワードを忘れた」 in any script or width, and not in an unrelated text', () => {
  const question = 'パスワードを忘れた場合はどうすればよいですか。';
  for (const q of ['パスワード', 'ぱすわーど', 'ﾊﾟｽﾜｰﾄﾞ', 'パスワード　忘れた', '忘れた パスワード'])
    assert.ok(finds(q, question), q);
  assert.ok(!finds('パスワード メール', question), 'every term must appear');
  assert.ok(!finds('パスポート', question));
  assert.ok(finds('password', 'I forgot my PASSWORD'));
});

test('issue4-5: a query splits on half- and full-width spaces, at most 5 words of at most 50 characters; an empty query has none', () => {
  assert.deepEqual(
    queryWords('パスワード　メール  届かない').map((w) => w.word),
    ['ぱすわーど', 'めーる', '届かない'],
  );
  assert.deepEqual(queryWords(' 　 '), []);
  assert.deepEqual(
    queryWords('a b c d e f g').map((w) => w.word),
    ['a', 'b', 'c', 'd', 'e'],
  );
  assert.equal(queryWords('あ'.repeat(60))[0]!.word, 'あ'.repeat(50));
});

test('B1: likePattern makes % _ and \\ match themselves', () => {
  assert.equal(likePattern('ぱすわーど'), '%ぱすわーど%');
  assert.equal(likePattern('100%'), '%100\\%%');
  assert.equal(likePattern('a_b'), '%a\\_b%');
  assert.equal(likePattern('c:\\x'), '%c:\\\\x%');
});
