/**
 * The pieces a FAQ query word must match (issue 11 §8): script changes split a word, okurigana and inflectional
 * endings fall away, light verbs after a noun are dropped, addresses and English words survive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Faq } from '../../src/db/schema.ts';
import { queryWords, rankFaq, wordKeys } from '../../src/content/faq-search.ts';
import { foldForSearch } from '../../src/content/search-text.ts';

test('E8: inflected forms of a word give the same pieces (届かない / 届きません, できない / できません)', () => {
  assert.deepEqual(wordKeys('届かない'), ['届']);
  assert.deepEqual(wordKeys('届きません'), ['届']);
  assert.deepEqual(wordKeys('ログインできない'), ['ろぐいん', 'でき']);
  assert.deepEqual(wordKeys('ログインができません'), ['ろぐいん', 'でき']);
  assert.deepEqual(wordKeys('ロックされた'), ['ろっく']);
  assert.deepEqual(wordKeys('パスワード再設定'), ['ぱすわーど', '再設定']);
  assert.deepEqual(wordKeys('1時間'), ['1時間'], 'a number stays with its counter');
  assert.deepEqual(wordKeys('from@mail.iryohokenjyohoportalsite.jp。'), ['from@mail.iryohokenjyohoportalsite.jp']);
  assert.deepEqual(wordKeys('arriving'), ['arriv']);
  assert.deepEqual(wordKeys('の'), ['の'], 'a word with no piece left is matched as typed');
});

test('E8: queryWords splits on half- and full-width spaces, at most 5 words', () => {
  assert.deepEqual(
    queryWords('メール　届かない').map((w) => w.keys),
    [['めーる'], ['届']],
  );
  assert.equal(queryWords('a b c d e f g').length, 5);
  assert.deepEqual(queryWords(' 　 '), []);
});

const faq = (id: string, question_ja: string, answer_ja: string): Faq => ({
  id,
  category: 'password',
  question_ja,
  answer_ja,
  question_en: '',
  answer_en: '',
  sort_order: 0,
  status: 'published',
  search_text: foldForSearch(`${question_ja} ${answer_ja}`),
  created_at: 0,
  updated_at: 0,
  updated_by: 'test',
});

test("E8: rankFaq keeps only entries holding every word and puts question hits first, ties in the editors' order", () => {
  const entries = [
    faq('body', 'パスワードを忘れた場合', 'メールが届きます。'),
    faq('none', 'CAPTCHAが読めない', '別の文字を表示します。'),
    faq('half', 'メールの送信元', '迷惑メールに届く場合があります。'),
    faq('title', 'メールが届きません', '迷惑メールフォルダをご確認ください。'),
  ];
  assert.deepEqual(
    rankFaq(entries, queryWords('メール 届かない')).map((f) => f.id),
    ['title', 'half', 'body'],
  );
  assert.deepEqual(
    rankFaq(entries, []).map((f) => f.id),
    ['body', 'none', 'half', 'title'],
  );
});
