/** The CAPTCHA of stage ① (R6, W2): forgiving normalisation, an answer kept only as a flow-bound HMAC. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretBox } from '../../src/security/secret-box.ts';
import {
  CAPTCHA_CHARS, CAPTCHA_LENGTH, captchaSeed, checkCaptchaAnswer, drawCaptcha, drawCaptchaPicture, hashCaptchaAnswer, normalizeCaptchaAnswer, spellCaptcha,
} from '../../src/security/captcha.ts';

const SECRET = 's'.repeat(40);
const FLOW = 'F'.repeat(32);

test('R6: full-width characters, case and spaces do not matter', () => {
  assert.equal(normalizeCaptchaAnswer('ｗ７ＲＢＨ'), 'w7rbh');
  assert.equal(normalizeCaptchaAnswer('W7RBH'), 'w7rbh');
  assert.equal(normalizeCaptchaAnswer(' w7 r b h\t'), 'w7rbh');
  assert.equal(normalizeCaptchaAnswer('ｗ　７ｒｂｈ'), 'w7rbh', 'ideographic space');
});

test('R6: the answer is checked against its hash, in any of those forms', () => {
  const stored = hashCaptchaAnswer(SECRET, FLOW, 'w7rbh');
  for (const typed of ['w7rbh', 'W7RBH', 'ｗ７ｒｂｈ', ' w7rbh ']) assert.ok(checkCaptchaAnswer(SECRET, FLOW, typed, stored), typed);
  for (const typed of ['w7rbn', 'w7rb', 'w7rbhh', '']) assert.ok(!checkCaptchaAnswer(SECRET, FLOW, typed, stored), `refuses "${typed}"`);
});

test('R6: the stored hash is a 64-hex HMAC bound to the flow and the server secret, never the answer', () => {
  const stored = hashCaptchaAnswer(SECRET, FLOW, 'w7rbh');
  assert.match(stored, /^[0-9a-f]{64}$/);
  assert.ok(!stored.includes('w7rbh'));
  assert.ok(!checkCaptchaAnswer(SECRET, 'G'.repeat(32), 'w7rbh', stored), 'another flow');
  assert.ok(!checkCaptchaAnswer('t'.repeat(40), FLOW, 'w7rbh', stored), 'another secret');
  assert.ok(!checkCaptchaAnswer(SECRET, FLOW, 'w7rbh', 'not-hex'), 'a damaged hash');
});

test('R6: a drawn CAPTCHA has 5 unambiguous characters and a picture without its text', () => {
  const answers = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const { answer, svg } = drawCaptcha();
    assert.equal(answer.length, CAPTCHA_LENGTH);
    for (const ch of answer) assert.ok(CAPTCHA_CHARS.includes(ch), ch);
    assert.match(svg, /^<svg[\s\S]*<\/svg>$/);
    assert.doesNotMatch(svg, /<text/);
    assert.ok(!svg.includes(answer));
    answers.add(answer);
  }
  assert.ok(answers.size > 1, 'answers are random');
  for (const ch of '01ilogq9') assert.ok(!CAPTCHA_CHARS.includes(ch), `no look-alike ${ch}`);
});

test('R6: with a test answer the text is fixed but every picture differs', () => {
  const a = drawCaptcha('w7rbh');
  const b = drawCaptcha('w7rbh');
  assert.equal(a.answer, 'w7rbh');
  assert.notEqual(a.svg, b.svg);
});

test('R6: a challenge is the same picture on every fetch (nothing to average); a new challenge is another picture, even with the same answer', () => {
  const box = createSecretBox(SECRET);
  const seed = captchaSeed(SECRET, FLOW, box.seal('w7rbh'));
  assert.equal(drawCaptchaPicture('w7rbh', seed), drawCaptchaPicture('w7rbh', seed));
  const next = captchaSeed(SECRET, FLOW, box.seal('w7rbh'));
  assert.notEqual(drawCaptchaPicture('w7rbh', next), drawCaptchaPicture('w7rbh', seed));
  assert.doesNotMatch(drawCaptchaPicture('w7rbh', seed), /w7rbh|<text/);
});

test('W2: the non-visual alternative spells the answer character by character', () => {
  assert.equal(spellCaptcha('w7rbh', 'ja'), 'ダブリュー、なな、アール、ビー、エイチ');
  assert.equal(spellCaptcha('W7RBH', 'en'), 'whiskey, seven, romeo, bravo, hotel');
});
