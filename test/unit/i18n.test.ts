/** The two catalogs (ja first, en second) say the same things: same keys, no empty text, same placeholders. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { en } from '../../src/web/i18n/en.ts';
import { translator } from '../../src/web/i18n/i18n.ts';

const placeholders = (s: string) => new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!));

test('i18n: ja and en have exactly the same keys', () => {
  const jaKeys = Object.keys(ja).sort();
  const enKeys = Object.keys(en).sort();
  assert.deepEqual(
    enKeys.filter((k) => !(k in ja)),
    [],
    'keys only in en',
  );
  assert.deepEqual(
    jaKeys.filter((k) => !(k in en)),
    [],
    'keys only in ja',
  );
});

test('i18n: no text is empty in either language', () => {
  for (const [lang, cat] of [
    ['ja', ja],
    ['en', en],
  ] as const) {
    const empty = Object.entries(cat)
      .filter(([, v]) => typeof v !== 'string' || v.trim() === '')
      .map(([k]) => k);
    assert.deepEqual(empty, [], `empty texts in ${lang}`);
  }
});

test('i18n: every placeholder {x} of a ja text exists in its en text', () => {
  const missing: string[] = [];
  for (const [key, text] of Object.entries(ja)) {
    const enText = en[key as keyof typeof ja];
    for (const p of placeholders(text)) if (!placeholders(enText).has(p)) missing.push(`${key}: {${p}}`);
  }
  assert.deepEqual(missing, []);
});

test('i18n: en texts use no placeholder that ja lacks (nothing is left unreplaced)', () => {
  const extra: string[] = [];
  for (const [key, text] of Object.entries(en)) {
    for (const p of placeholders(text))
      if (!placeholders(ja[key as keyof typeof ja]).has(p)) extra.push(`${key}: {${p}}`);
  }
  assert.deepEqual(extra, []);
});

test('i18n: the translator fills placeholders in both languages', () => {
  const tJa = translator('ja');
  const tEn = translator('en');
  assert.equal(tJa('field.tooLong', { max: 100 }), '100文字以内で入力してください。');
  assert.match(tEn('field.tooLong', { max: 100 }), /100/);
  assert.doesNotMatch(tEn('login.failed', { threshold: 5, minutes: 15 }), /\{\w+\}/);
  assert.doesNotMatch(tJa('login.failed', { threshold: 5, minutes: 15 }), /\{\w+\}/);
});

test('i18n: the seed texts of the login page are kept word for word in ja', () => {
  assert.equal(ja['login.forgot'], 'パスワードの再設定');
  assert.equal(ja['login.noAccount'] + ' ' + ja['login.register'], 'アカウントがありませんか？ 新規登録はこちら');
  assert.equal(ja['nav.services'], '事業別トップメニュー▼');
  assert.equal(ja['reset.done.heading'], 'Password Resetに成功');
});
