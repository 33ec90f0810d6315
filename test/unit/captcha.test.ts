/** The CAPTCHA of stage ① (R6, K1): forgiving normalisation, an answer kept only as a flow-bound HMAC, a PNG picture. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretBox } from '../../src/security/secret-box.ts';
import {
  CAPTCHA_CHARS,
  CAPTCHA_LENGTH,
  captchaSeed,
  checkCaptchaAnswer,
  hashCaptchaAnswer,
  newCaptchaAnswer,
  normalizeCaptchaAnswer,
} from '../../src/security/captcha.ts';
import { drawCaptchaPng, drawCaptchaSvg, PICTURE_HEIGHT, PICTURE_WIDTH } from '../../src/security/captcha-picture.ts';

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
  for (const typed of ['w7rbh', 'W7RBH', 'ｗ７ｒｂｈ', ' w7rbh '])
    assert.ok(checkCaptchaAnswer(SECRET, FLOW, typed, stored), typed);
  for (const typed of ['w7rbn', 'w7rb', 'w7rbhh', ''])
    assert.ok(!checkCaptchaAnswer(SECRET, FLOW, typed, stored), `refuses "${typed}"`);
});

test('R6: the stored hash is a 64-hex HMAC bound to the flow and the server secret, never the answer', () => {
  const stored = hashCaptchaAnswer(SECRET, FLOW, 'w7rbh');
  assert.match(stored, /^[0-9a-f]{64}$/);
  assert.ok(!stored.includes('w7rbh'));
  assert.ok(!checkCaptchaAnswer(SECRET, 'G'.repeat(32), 'w7rbh', stored), 'another flow');
  assert.ok(!checkCaptchaAnswer('t'.repeat(40), FLOW, 'w7rbh', stored), 'another secret');
  assert.ok(!checkCaptchaAnswer(SECRET, FLOW, 'w7rbh', 'not-hex'), 'a damaged hash');
});

test('R6: a new answer has 5 unambiguous characters', () => {
  const answers = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const answer = newCaptchaAnswer();
    assert.equal(answer.length, CAPTCHA_LENGTH);
    for (const ch of answer) assert.ok(CAPTCHA_CHARS.includes(ch), ch);
    answers.add(answer);
  }
  assert.ok(answers.size > 1, 'answers are random');
  for (const ch of '01ilogq9') assert.ok(!CAPTCHA_CHARS.includes(ch), `no look-alike ${ch}`);
  assert.equal(newCaptchaAnswer('w7rbh'), 'w7rbh', 'a test answer is the text');
});

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

test('K1: the picture is a PNG of 480×160 pixels, twice its size on the page (240×80), with no markup and no text of the answer', async () => {
  const seed = 'a1'.repeat(16);
  const png = await drawCaptchaPng('w7rbh', seed);
  assert.ok(png.subarray(0, 8).equals(PNG_MAGIC), 'PNG magic bytes');
  assert.deepEqual(pngSize(png), { width: PICTURE_WIDTH * 2, height: PICTURE_HEIGHT * 2 });
  assert.deepEqual(pngSize(png), { width: 480, height: 160 }, 'shown at 240×80, large enough to read');
  const latin = png.toString('latin1');
  for (const marker of ['<svg', '<path', '<text', 'w7rbh', 'W7RBH'])
    assert.ok(!latin.includes(marker), `no ${marker} in the bytes`);
  assert.ok(png.length > 2000 && png.length < 200_000, `a picture of reasonable size (${png.length} bytes)`);
});

test('R6 K1: the same seed draws identical bytes (nothing to average); another seed, or the same seed for another answer, draws another picture', async () => {
  const box = createSecretBox(SECRET);
  const sealed = box.seal('w7rbh');
  const seed = captchaSeed(SECRET, FLOW, sealed);
  const first = await drawCaptchaPng('w7rbh', seed);
  assert.ok(first.equals(await drawCaptchaPng('w7rbh', seed)), 'same seed, same bytes');
  const next = captchaSeed(SECRET, FLOW, box.seal('w7rbh'));
  assert.notEqual(next, seed, 'a new challenge with the same answer has a new seed');
  assert.ok(!first.equals(await drawCaptchaPng('w7rbh', next)), 'another seed, another picture');
  assert.ok(!first.equals(await drawCaptchaPng('w7rbx', seed)), 'another answer, another picture');
});

test('K1: every character of the alphabet can be drawn; a character outside it is refused', async () => {
  for (let i = 0; i < CAPTCHA_CHARS.length; i += 5)
    await drawCaptchaPng(CAPTCHA_CHARS.slice(i, i + 5).padEnd(5, 'a'), 'b2'.repeat(16));
  await assert.rejects(drawCaptchaPng('w7rb0', 'c3'.repeat(16)), /outside CAPTCHA_CHARS/);
});

test('K1 W2: lines over the glyphs are thin (at most 1.3 px on the page) so that they never cut a glyph into a look-alike; the glyphs share one fill, so no colour is one character', () => {
  for (let i = 0; i < 20; i++) {
    const svg = drawCaptchaSvg('w7rbh', i.toString(16).padStart(2, '0').repeat(16));
    const widths = [...svg.matchAll(/stroke-width="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.ok(widths.length > 0 && Math.max(...widths) <= 1.3, `thin lines only (${widths.join(', ')})`);
    const glyphFills = new Set([...svg.matchAll(/<path d="[^"]*Z" fill="([^"]+)"/g)].map((m) => m[1]));
    assert.equal(glyphFills.size, 1, `one fill for all glyphs (${[...glyphFills].join(', ')})`);
  }
});
