/**
 * Every audit event the code writes has a sentence for the call center (issue 11 item 5, A1/A3): the (event, outcome)
 * pairs are collected from src/ itself, so that a new event without a text fails here rather than reaching an
 * operator as a bare code. Sentences are said with times in JST; an unknown event falls back to a neutral sentence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { actorText, auditSentence, mailEventText, sentenceKey } from '../../src/admin/audit-sentences.ts';
import { translator } from '../../src/web/i18n/i18n.ts';
import { ja } from '../../src/web/i18n/ja.ts';
import { en } from '../../src/web/i18n/en.ts';
import type { CaptchaFailure, LinkState, ResetOutcome } from '../../src/flows/recovery/recovery.flow.ts';
import type { RegistrationOutcome } from '../../src/flows/registration/registration.flow.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'migrations' ? [] : sources(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

// Outcomes the code computes rather than writes as a literal. Record<Union, true> makes tsc fail when a union grows.
const linkStates: Record<LinkState, true> = { valid: true, expired: true, used: true, cancelled: true, invalid: true };
const captcha: Record<CaptchaFailure, true> = {
  wrong: true,
  expired: true,
  pow_invalid: true,
  pow_expired: true,
  pow_replayed: true,
  pow_limited: true,
};
const resets: Record<ResetOutcome, true> = {
  mail_queued: true,
  unknown_user: true,
  provisional_address: true,
  email_mismatch: true,
  account_locked: true,
  rate_limited: true,
};
const registrations: Record<RegistrationOutcome, true> = { mail_queued: true, duplicate: true, rate_limited: true };
const COMPUTED: Record<string, string[]> = {
  login: ['ok', 'bad_password', 'unknown_user', 'locked', 'throttled'],
  'admin.login': ['ok', 'bad_password', 'unknown_operator', 'locked'],
  'password_reset.captcha': Object.keys(captcha),
  'password_reset.requested': Object.keys(resets),
  'password_reset.link_opened': Object.keys(linkStates),
  'registration.link_opened': Object.keys(linkStates),
  'email.link_opened': Object.keys(linkStates),
  'registration.requested': Object.keys(registrations),
  'user.imported': ['active', 'provisional'],
  // reauth.ts writes its outcomes under the event of the form it guards.
  'email.change_requested': ['wrong_current', 'throttled'],
  'password.changed': ['wrong_current', 'throttled'],
};

/** [event, outcome | null] for every audit write in src/ (null: the outcome is computed, see COMPUTED). */
function writtenPairs(): Array<[string, string | null]> {
  const pairs: Array<[string, string | null]> = [];
  for (const file of sources('src')) {
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(/\{\s*event:\s*([^,]+?),\s*outcome(?::\s*([^,}]+?))?\s*[,}]/g)) {
      // A conditional event names its choices after the `?` (`a === 'publish' ? 'content.news.published' : …`).
      const eventExpr = m[1]!;
      const choices = eventExpr.includes('?') ? eventExpr.slice(eventExpr.indexOf('?')) : eventExpr;
      // `${purpose === 'register' ? 'registration' : 'email'}.link_opened`
      const events = eventExpr.startsWith('`')
        ? [...choices.matchAll(/'([a-z_]+)'/g)].map((x) => `${x[1]}${/}([a-z_.]+)`/.exec(eventExpr)![1]}`)
        : [...choices.matchAll(/'([a-z_.]+)'/g)].map((x) => x[1]!);
      const literal = m[2] ? [...m[2].matchAll(/'([a-z_]+)'/g)].map((x) => x[1]!) : [];
      for (const event of events) {
        if (literal.length) for (const o of literal) pairs.push([event, o]);
        else pairs.push([event, null]);
      }
    }
    // The users CLI's helper: audit('user.created', id, {...}) always writes outcome 'ok'.
    if (file.endsWith('users.command.ts'))
      for (const m of code.matchAll(/\baudit\('([a-z_.]+)'/g)) pairs.push([m[1]!, 'ok']);
  }
  return pairs;
}

test('Q1 A1: every (event, outcome) the code writes has a sentence in ja and en', () => {
  const pairs = writtenPairs();
  assert.ok(pairs.length > 60, `the collector finds the audit writes (${pairs.length})`);
  const missing: string[] = [];
  for (const [event, outcome] of pairs) {
    const outcomes = outcome ?? COMPUTED[event];
    if (!outcomes) {
      missing.push(`${event}: computed outcome — list its values in COMPUTED`);
      continue;
    }
    for (const o of Array.isArray(outcomes) ? outcomes : [outcomes]) {
      const key = sentenceKey(event, o);
      if (!key) missing.push(`${event} / ${o}`);
      else assert.ok(en[key].trim() && ja[key].trim(), key);
    }
  }
  assert.deepEqual([...new Set(missing)], []);
});

test('Q1 A1: the collector sees the events this issue names', () => {
  const events = new Set(writtenPairs().map(([e]) => e));
  for (const e of [
    'login',
    'account.locked',
    'password_reset.captcha',
    'password_reset.identified',
    'password_reset.requested',
    'password_reset.link_opened',
    'password_reset.completed',
    'support.unlocked',
    'user.locked',
    'registration_case.opened',
    'mail.retry',
  ]) {
    assert.ok(events.has(e), e);
  }
});

test('Q1: sentences name the reason, the limit, the lock and its end in JST; codes and JSON stay out', () => {
  const t = translator('ja');
  const at = Date.parse('2026-12-01T10:05:00Z');
  assert.equal(
    auditSentence(t, { event: 'password_reset.requested', outcome: 'email_mismatch', detail: null }),
    '入力されたメールアドレスが登録と一致しないため、メールは送っていません。',
  );
  assert.equal(
    auditSentence(t, { event: 'password_reset.requested', outcome: 'rate_limited', detail: '{"limit":"account_ip"}' }),
    ja['audit.password_reset.requested.rate_limited.account_ip'],
  );
  assert.equal(
    auditSentence(t, { event: 'password_reset.captcha', outcome: 'wrong', detail: null }),
    '画像認証の答えが違いました。',
  );
  assert.equal(
    auditSentence(t, {
      event: 'account.locked',
      outcome: 'temporary',
      detail: JSON.stringify({ until: new Date(at).toISOString(), failures: 5 }),
    }),
    'ログインの失敗が続いたため、2026-12-01 19:05 (JST) までアカウントをロックしました。',
  );
  assert.equal(
    auditSentence(t, {
      event: 'account.locked',
      outcome: 'source',
      detail: JSON.stringify({ source: 'ip', ip: '203.0.113.9', until: new Date(at).toISOString() }),
    }),
    '接続元 203.0.113.9 からのログインの失敗が続いたため、2026-12-01 19:05 (JST) までこの接続元をロックしました。',
  );
  assert.equal(
    auditSentence(t, {
      event: 'support.unlocked',
      outcome: 'ok',
      detail: '{"reason":"電話で本人確認済み","wasStatus":"locked"}',
    }),
    'ロックを解除しました。 理由：電話で本人確認済み',
  );
  assert.equal(
    auditSentence(translator('en'), { event: 'login', outcome: 'locked', detail: '{"held":"operator"}' }),
    en['audit.login.locked.operator'],
  );
  assert.equal(
    auditSentence(t, {
      event: 'mail.retry',
      outcome: 'retry',
      detail: '{"kind":"password_reset","error":"ECONNREFUSED"}',
    }),
    '「パスワード変更用URL」のメールを送れなかったため、再送を予定しました（ECONNREFUSED）。',
  );
  assert.equal(mailEventText(t, { at, event: 'sent', detail: null }), '2026-12-01 19:05 (JST) 送信しました');
});

test('Q1: an event without a sentence is said neutrally with its code; a broken detail changes nothing', () => {
  const t = translator('ja');
  assert.equal(
    auditSentence(t, { event: 'future.thing', outcome: 'odd', detail: '{not json' }),
    '記録「future.thing」（結果：odd）',
  );
  assert.equal(auditSentence(t, { event: 'login', outcome: 'ok', detail: '[1,2]' }), 'ログインしました。');
});

test('Q1: who did it, in words', () => {
  const t = translator('ja');
  assert.equal(actorText(t, { event: 'support.unlocked', actor: 'operator:cc-sato' }), 'オペレーター cc-sato');
  assert.equal(actorText(t, { event: 'user.locked', actor: 'cli:root' }), 'コマンドライン（root）');
  assert.equal(actorText(t, { event: 'mail.sent', actor: null }), ja['audit.actor.system']);
  assert.equal(actorText(t, { event: 'login', actor: null }), ja['audit.actor.visitor']);
});
