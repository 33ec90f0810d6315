/**
 * The outside review's attacks on the CAPTCHA, run again (issue 10 item 1), on every database target, with a real
 * random answer (no CAPTCHA_TEST_ANSWER): the picture parsed as markup (K1), the pages of stage ① and /register
 * read for any form of the answer in both languages (K2), and the proof-of-work alternative that replaced the
 * spelled-out answer: refused when missing, wrong, expired, replayed or of another flow; passing stage ① and
 * /register without the characters when right; one pass per flow and POW_PASSES_PER_IP_PER_HOUR per address (K3).
 * And Enter in a field presses 「次へ」, never the redraw (K4).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { checkDigitOf } from '../../src/accounts/institution-code.ts';
import { ja } from '../../src/web/i18n/ja.ts';
import { en } from '../../src/web/i18n/en.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { startTestPortal, type Client, type Page, type TestPortal } from '../helpers/test-app.ts';

/** The names the old "read aloud" mode spelled the characters with (what the review's script decoded). */
const SPOKEN: Record<'ja' | 'en', Record<string, string>> = {
  ja: {
    a: 'エー',
    b: 'ビー',
    c: 'シー',
    d: 'ディー',
    e: 'イー',
    f: 'エフ',
    h: 'エイチ',
    j: 'ジェー',
    k: 'ケー',
    m: 'エム',
    n: 'エヌ',
    p: 'ピー',
    r: 'アール',
    s: 'エス',
    t: 'ティー',
    u: 'ユー',
    v: 'ブイ',
    w: 'ダブリュー',
    x: 'エックス',
    y: 'ワイ',
    z: 'ゼット',
    '2': 'に',
    '3': 'さん',
    '4': 'よん',
    '5': 'ご',
    '6': 'ろく',
    '7': 'なな',
    '8': 'はち',
  },
  en: {
    a: 'alpha',
    b: 'bravo',
    c: 'charlie',
    d: 'delta',
    e: 'echo',
    f: 'foxtrot',
    h: 'hotel',
    j: 'juliett',
    k: 'kilo',
    m: 'mike',
    n: 'november',
    p: 'papa',
    r: 'romeo',
    s: 'sierra',
    t: 'tango',
    u: 'uniform',
    v: 'victor',
    w: 'whiskey',
    x: 'x-ray',
    y: 'yankee',
    z: 'zulu',
    '2': 'two',
    '3': 'three',
    '4': 'four',
    '5': 'five',
    '6': 'six',
    '7': 'seven',
    '8': 'eight',
  },
};

/** Every form of an answer a script could read off a page: the letters, spaced or not, spelled, encoded. */
function formsOf(answer: string): string[] {
  const chars = [...answer];
  const forms = [answer, answer.toUpperCase(), chars.join(' '), chars.join(', '), chars.join('、'), chars.join('-')];
  for (const lang of ['ja', 'en'] as const) {
    const names = chars.map((c) => SPOKEN[lang][c]!);
    forms.push(names.join('、'), names.join(', '), names.join(' '), names.join(''));
  }
  for (const v of [answer, answer.toUpperCase()]) {
    forms.push(
      Buffer.from(v).toString('base64').replace(/=+$/, ''),
      Buffer.from(v).toString('base64url'),
      Buffer.from(v).toString('hex'),
    );
  }
  return forms;
}

function assertNoAnswer(what: string, content: string, answer: string): void {
  const lower = content.toLowerCase();
  for (const form of formsOf(answer))
    assert.ok(!lower.includes(form.toLowerCase()), `${what}: no "${form}" (a form of the answer)`);
}

let ipSeq = 0;
function browser(p: TestPortal): Client {
  const c = p.client();
  ipSeq++;
  c.ip = `10.7.${Math.floor(ipSeq / 250)}.${(ipSeq % 250) + 1}`;
  return c;
}

function flowIdOf(c: Client): string {
  const m = /flow=([A-Za-z0-9]{32})/.exec(c.formAction());
  assert.ok(m, 'the form posts to a flow');
  return m[1]!;
}

/** The answer of a flow's current challenge, as the server keeps it (sealed). */
async function answerOf(p: TestPortal, flowId: string): Promise<string> {
  const row = await p.database.db
    .selectFrom('flows')
    .select('captcha_answer')
    .where('id', '=', flowId)
    .executeTakeFirstOrThrow();
  assert.ok(row.captcha_answer, 'the flow has a challenge');
  return p.app.services.box.open(row.captcha_answer);
}

function fieldError(page: Page, id: string): string {
  const m = new RegExp(`<div id="${id}-error" class="field__error">([\\s\\S]*?)</div>`).exec(page.body);
  return m
    ? m[1]!
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
    : '';
}

const heading2 = (page: Page) => /<h2>([^<]*)<\/h2>/.exec(page.body)?.[1] ?? '';

/** What captcha-pow.js does in the browser: fetch a challenge for the flow, solve it, encode it for the form. */
async function solvePow(c: Client, base: string, flowId: string): Promise<{ value: string; challenge: Challenge }> {
  const res = await c.get(`${base}/pow?flow=${flowId}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers['cache-control'], 'no-store');
  const body = JSON.parse(res.body) as { challenge?: Challenge; limited?: boolean };
  assert.ok(body.challenge, `a challenge (got ${res.body.slice(0, 80)})`);
  const solution = await solveChallenge({ challenge: body.challenge, deriveKey });
  assert.ok(solution);
  return {
    value: encode(body.challenge, { counter: solution.counter, derivedKey: solution.derivedKey }),
    challenge: body.challenge,
  };
}

const encode = (challenge: Challenge, solution: { counter: number; derivedKey: string }) =>
  Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');

const PHONE = '0800-080-4583';
const REGISTER_FIELDS = {
  accountType: 'institution',
  code: '',
  name: 'テスト法人',
  contact: '厚生 太郎',
  phone: '03-1234-5678',
  codes: '',
};

const targets = await dbTargets();
for (const target of targets) {
  describe(`CAPTCHA attacks [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target, {
        env: { CAPTCHA_TEST_ANSWER: '', POW_PASSES_PER_IP_PER_HOUR: '2', RESET_REQUESTS_PER_IP_PER_HOUR: '100' },
      });
    });
    after(async () => {
      await p?.close();
    });

    test('K1 R6: the picture is a PNG (magic bytes, no-store) with no markup to parse: no <svg, no <path, no text of the answer', async () => {
      for (const base of ['/password-reset', '/register']) {
        const c = browser(p);
        await c.open(base);
        const id = flowIdOf(c);
        const answer = await answerOf(p, id);
        const pic = await c.get(`${base}/captcha?flow=${id}`);
        assert.equal(pic.status, 200);
        assert.match(String(pic.headers['content-type']), /^image\/png/);
        assert.equal(pic.headers['cache-control'], 'no-store');
        assert.ok(
          pic.raw.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
          `${base}: PNG magic bytes`,
        );
        const bytes = pic.raw.toString('latin1');
        // The review's script: read each glyph's path commands and order them by x.
        assert.equal([...bytes.matchAll(/<path[^>]*\bd="([^"]+)"/g)].length, 0, 'no path to read');
        for (const marker of ['<svg', '<path', '<text', 'xmlns'])
          assert.ok(!bytes.includes(marker), `${base}: no ${marker}`);
        assertNoAnswer(`${base} picture bytes`, bytes, answer);
        // The same challenge is the same picture on every fetch: nothing to average.
        assert.ok((await c.get(`${base}/captcha?flow=${id}`)).raw.equals(pic.raw));
      }
    });

    test('K2 W2: no page of stage ① or /register, in Japanese or English, fresh, redrawn, after a wrong answer or in the old text mode, holds any form of the answer', async () => {
      const pages: Array<{ what: string; page: Page; answer: string }> = [];
      for (const lang of ['ja', 'en'] as const) {
        for (const base of ['/password-reset', '/register']) {
          const c = browser(p);
          if (lang === 'en') await c.get(`/lang?to=en&next=${base}`);
          const fresh = await c.open(base);
          assert.match(fresh.body, new RegExp(`<html lang="${lang}">`));
          const id = flowIdOf(c);
          pages.push({ what: `${lang} ${base} fresh`, page: fresh, answer: await answerOf(p, id) });
          const fields: Record<string, string> =
            base === '/register'
              ? { ...REGISTER_FIELDS, email: 'k2@example.jp' }
              : { stage: 'identify', username: 'k2-user' };
          const redrawn = await c.submit({ ...fields, action: 'refresh', captcha: '' });
          assert.equal(redrawn.status, 200);
          pages.push({ what: `${lang} ${base} redrawn`, page: redrawn, answer: await answerOf(p, id) });
          const wrong = await c.submit({ ...fields, action: 'next', captcha: 'zzzzz' });
          assert.equal(wrong.status, 400);
          pages.push({ what: `${lang} ${base} wrong`, page: wrong, answer: await answerOf(p, id) });
          // The old "read aloud" switch is gone: refused with a page in the page's language, no answer on it.
          const textMode = await c.submit({ ...fields, action: 'textmode', captcha: '' });
          assert.equal(textMode.status, 400);
          assert.match(textMode.body, new RegExp(`<html lang="${lang}">`));
          pages.push({ what: `${lang} ${base} textmode`, page: textMode, answer: await answerOf(p, id) });
          // The proof-of-work challenge the script fetches carries no answer either.
          const pow = await c.get(`${base}/pow?flow=${id}`);
          pages.push({ what: `${lang} ${base} pow challenge`, page: pow, answer: await answerOf(p, id) });
          const t = lang === 'ja' ? ja : en;
          assert.ok(
            fresh.text.includes(t['captcha.pow.lead']) && fresh.text.includes(t['captcha.pow.button']),
            `${lang} ${base}: the non-visual alternative is offered`,
          );
          assert.ok(
            fresh.text.includes(t['reset.captchaPhoneHelp'].replace('{phone}', PHONE)),
            `${lang} ${base}: and the call center`,
          );
        }
      }
      for (const { what, page, answer } of pages) {
        assertNoAnswer(`${what} (HTML)`, page.body, answer);
        assertNoAnswer(`${what} (text)`, page.text, answer);
      }
    });

    test('K4: in both forms the first submit button, which Enter in a field presses, is 「次へ」; the redraw comes after it and the proof-of-work button is not a submit button', async () => {
      for (const base of ['/password-reset', '/register']) {
        const page = await browser(p).open(base);
        const form =
          /<form method="post" action="\/(?:password-reset|register)\?flow=[^"]+"[\s\S]*?<\/form>/.exec(
            page.body,
          )?.[0] ?? '';
        const submits = [...form.matchAll(/<button(?![^>]*type="button")[^>]*>/g)].map(
          (m) => /value="([^"]*)"/.exec(m[0])?.[1],
        );
        assert.equal(submits[0], 'next', `${base}: 「次へ」 is the default button (got ${submits.join(', ')})`);
        assert.ok(submits.includes('refresh'), `${base}: the redraw is still there`);
        assert.ok(
          /<button type="button"[^>]*data-pow-start/.test(form),
          `${base}: the proof-of-work button is type=button`,
        );
      }
    });

    test("K2 K3 R6: stage ① refuses a missing, malformed, wrong, expired or other flow's proof of work with the page's message; a right one passes without the characters; replayed, it is refused", async () => {
      await p.createUser({ username: 'k3-user', email: 'k3-user@example.jp' });
      const c = browser(p);
      await c.open('/password-reset');
      const id = flowIdOf(c);
      const missing = await c.submit({ stage: 'identify', action: 'next', username: 'k3-user', captcha: '', pow: '' });
      assert.equal(missing.status, 400);
      assert.equal(fieldError(missing, 'captcha'), ja['reset.captchaRequired']);
      const garbage = await c.submit({
        stage: 'identify',
        action: 'next',
        username: 'k3-user',
        captcha: '',
        pow: 'bm90IGpzb24=',
      });
      assert.equal(garbage.status, 400);
      assert.equal(fieldError(garbage, 'captcha'), ja['captcha.pow.invalid']);

      const { value, challenge } = await solvePow(c, '/password-reset', id);
      const parsed = JSON.parse(Buffer.from(value, 'base64').toString()) as {
        solution: { counter: number; derivedKey: string };
      };
      const wrongKey = encode(challenge, {
        counter: parsed.solution.counter + 1,
        derivedKey: parsed.solution.derivedKey.replace(/^./, (ch) => (ch === '0' ? '1' : '0')),
      });
      const wrong = await c.submit({
        stage: 'identify',
        action: 'next',
        username: 'k3-user',
        captcha: '',
        pow: wrongKey,
      });
      assert.equal(wrong.status, 400);
      assert.equal(fieldError(wrong, 'captcha'), ja['captcha.pow.invalid']);
      assert.equal(heading2(wrong), ja['reset.identify.heading'], 'still at ①');

      // A solution of another flow (the challenge is signed for its flow) is refused.
      const other = browser(p);
      await other.open('/password-reset');
      const foreign = await solvePow(other, '/password-reset', flowIdOf(other));
      const stolen = await c.submit({
        stage: 'identify',
        action: 'next',
        username: 'k3-user',
        captcha: '',
        pow: foreign.value,
      });
      assert.equal(stolen.status, 400);
      assert.equal(fieldError(stolen, 'captcha'), ja['captcha.pow.invalid']);

      // The right solution passes ① with no characters typed.
      const passed = await c.submit({
        stage: 'identify',
        action: 'next',
        username: 'k3-user',
        captcha: '',
        pow: value,
      });
      assert.equal(passed.status, 200);
      assert.equal(heading2(passed), ja['reset.verify.heading']);
      const identified = (await p.audit('password_reset.identified')).filter((a) => a.identifier === 'k3-user');
      assert.deepEqual(
        identified.map((a) => JSON.parse(a.detail ?? '{}').captcha),
        ['proof_of_work'],
      );
      const refused = (await p.audit('password_reset.captcha'))
        .filter((a) => a.identifier === 'k3-user')
        .map((a) => a.outcome);
      assert.deepEqual(
        refused,
        ['pow_invalid', 'pow_invalid', 'pow_invalid'],
        'the refusals are audited (the missing answer is not a check)',
      );

      // Back to ①: the same solved challenge again is refused.
      await c.submit({ stage: 'verify', action: 'back', email: '' });
      const replay = await c.submit({
        stage: 'identify',
        action: 'next',
        username: 'k3-user',
        captcha: '',
        pow: value,
      });
      assert.equal(replay.status, 400);
      assert.equal(fieldError(replay, 'captcha'), ja['captcha.pow.invalid']);
      assert.equal(heading2(replay), ja['reset.identify.heading']);

      // An expired challenge (5 minutes) is refused with its own message.
      const late = browser(p);
      await late.open('/password-reset');
      const old = await solvePow(late, '/password-reset', flowIdOf(late));
      p.clock.advance(6 * 60_000);
      const expired = await late.submit({
        stage: 'identify',
        action: 'next',
        username: 'k3-user',
        captcha: '',
        pow: old.value,
      });
      assert.equal(expired.status, 400);
      assert.equal(fieldError(expired, 'captcha'), ja['captcha.pow.expired']);
    });

    test('K3: one proof-of-work pass per flow, POW_PASSES_PER_IP_PER_HOUR (2) per address; over either the page says to type the characters or call; the image still works; the hour ends', async () => {
      await p.createUser({ username: 'k3-limit', email: 'k3-limit@example.jp' });
      const ip = '10.9.9.9';
      const at = (c: Client) => {
        c.ip = ip;
        return c;
      };
      const limitedText = ja['captcha.pow.limited'].replace('{phone}', PHONE);

      // Per flow: after one pass (and back to ①) the flow gets no new challenge, and a solution is refused.
      const one = at(p.client());
      await one.open('/password-reset');
      const id = flowIdOf(one);
      const first = await solvePow(one, '/password-reset', id);
      const fresh = await solvePow(one, '/password-reset', id);
      assert.equal(
        heading2(
          await one.submit({ stage: 'identify', action: 'next', username: 'k3-limit', captcha: '', pow: first.value }),
        ),
        ja['reset.verify.heading'],
      );
      await one.submit({ stage: 'verify', action: 'back', email: '' });
      assert.deepEqual(JSON.parse((await one.get(`/password-reset/pow?flow=${id}`)).body), { limited: true });
      const again = await one.submit({
        stage: 'identify',
        action: 'next',
        username: 'k3-limit',
        captcha: '',
        pow: fresh.value,
      });
      assert.equal(again.status, 429);
      assert.equal(fieldError(again, 'captcha'), limitedText);
      // The picture is still there for the same flow.
      const typed = await one.submit({
        stage: 'identify',
        action: 'next',
        username: 'k3-limit',
        captcha: await answerOf(p, id),
      });
      assert.equal(heading2(typed), ja['reset.verify.heading']);

      // Per address: the second flow passes (2 of 2), the third is refused, in stage ① and in /register alike.
      const two = at(p.client());
      await two.open('/password-reset');
      const twoPow = await solvePow(two, '/password-reset', flowIdOf(two));
      assert.equal(
        heading2(
          await two.submit({ stage: 'identify', action: 'next', username: 'k3-limit', captcha: '', pow: twoPow.value }),
        ),
        ja['reset.verify.heading'],
      );
      const three = at(p.client());
      await three.open('/password-reset');
      assert.deepEqual(JSON.parse((await three.get(`/password-reset/pow?flow=${flowIdOf(three)}`)).body), {
        limited: true,
      });
      const reg = at(p.client());
      await reg.open('/register');
      assert.deepEqual(JSON.parse((await reg.get(`/register/pow?flow=${flowIdOf(reg)}`)).body), { limited: true });
      assert.ok(
        (await three.open(`/password-reset?flow=${flowIdOf(three)}`)).text.includes(ja['captcha.pow.lead']),
        'the page still offers it (the script then says the limit is reached)',
      );

      // An hour later the address may pass again.
      p.clock.advance(61 * 60_000);
      const later = at(p.client());
      await later.open('/password-reset');
      const laterPow = await solvePow(later, '/password-reset', flowIdOf(later));
      assert.equal(
        heading2(
          await later.submit({
            stage: 'identify',
            action: 'next',
            username: 'k3-limit',
            captcha: '',
            pow: laterPow.value,
          }),
        ),
        ja['reset.verify.heading'],
      );
    });

    test("K2 K3: /register passes with a proof of work instead of the characters; with another field's error the solution comes back unused", async () => {
      const c = browser(p);
      await c.open('/register');
      const { value } = await solvePow(c, '/register', flowIdOf(c));
      const missingEmail = await c.submit({ ...REGISTER_FIELDS, email: '', action: 'next', captcha: '', pow: value });
      assert.equal(missingEmail.status, 400);
      assert.equal(fieldError(missingEmail, 'captcha'), '', 'no CAPTCHA error: the solution was not checked');
      assert.ok(missingEmail.body.includes(`name="pow" value="${value}"`), 'the solution is in the form again');
      assert.ok(missingEmail.text.includes(ja['captcha.pow.done']));
      const code = `131${String(424242)}`;
      const sent = await c.submit({
        ...REGISTER_FIELDS,
        code: code + checkDigitOf(code),
        email: 'k3-register@example.jp',
        action: 'next',
        captcha: '',
        pow: value,
      });
      assert.equal(sent.status, 200);
      assert.ok(sent.text.includes(ja['reg.sent.heading']));
      // Replayed in a new registration flow of the same browser: refused (signed for the first flow).
      const c2 = browser(p);
      await c2.open('/register');
      const code2 = `131${String(535353)}`;
      const replay = await c2.submit({
        ...REGISTER_FIELDS,
        code: code2 + checkDigitOf(code2),
        email: 'k3-register2@example.jp',
        action: 'next',
        captcha: '',
        pow: value,
      });
      assert.equal(replay.status, 400);
      assert.equal(fieldError(replay, 'captcha'), ja['captcha.pow.invalid']);
    });
  });
}
