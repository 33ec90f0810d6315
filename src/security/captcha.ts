/**
 * The 5-character image CAPTCHA of stage ① and of /register (R6, W2). The answer is kept only as an HMAC bound to
 * its flow, and sealed so that its picture (captcha-picture.ts, a PNG) can be drawn when fetched. The non-visual
 * alternative is a proof of work (proof-of-work.ts), never the answer in another form (K2).
 */
import { randomInt } from 'node:crypto';
import { hmac, sameDigest } from './tokens.ts';

/**
 * No look-alikes (0/o, 1/l/i, 9/g/q), so the characters can be told apart; in the picture's font (DejaVu Sans Bold)
 * h/k, v/y and s/8/j stay distinct too, which a reading check of 40 pictures confirmed (K5).
 */
export const CAPTCHA_CHARS = 'abcdefhjkmnprstuvwxyz2345678';
export const CAPTCHA_LENGTH = 5;
export const CAPTCHA_TTL_MS = 10 * 60 * 1000;

/** A new answer; with a test answer (never in production) that is the text. */
export function newCaptchaAnswer(testAnswer?: string): string {
  let answer = testAnswer ?? '';
  if (!testAnswer) for (let i = 0; i < CAPTCHA_LENGTH; i++) answer += CAPTCHA_CHARS[randomInt(CAPTCHA_CHARS.length)];
  return answer;
}

/**
 * The picture's seed for a flow's current challenge: from its sealed answer, which is new at every challenge
 * (a fresh nonce even when the answer repeats), so a new challenge is a new picture.
 */
export function captchaSeed(secret: string, flowId: string, sealedAnswer: string): string {
  return hmac(secret, `captcha-picture:${flowId}:${sealedAnswer}`);
}

/** Full-width characters, case and spaces do not matter to the person typing. */
export function normalizeCaptchaAnswer(input: string): string {
  return input.normalize('NFKC').replace(/\s+/g, '').toLowerCase();
}

export function hashCaptchaAnswer(secret: string, flowId: string, answer: string): string {
  return hmac(secret, `captcha:${flowId}:${normalizeCaptchaAnswer(answer)}`);
}

export function checkCaptchaAnswer(secret: string, flowId: string, typed: string, storedHash: string): boolean {
  return sameDigest(hashCaptchaAnswer(secret, flowId, typed), storedHash);
}

/**
 * The flow columns of a new challenge. Only the answer's HMAC can check an answer; the answer itself (from which
 * the picture is drawn when fetched) is sealed with the server key, so the database holds no answer in clear (R6).
 * `captcha_svg` and `captcha_spoken` are no longer written (K1, K2): a flow of an older version gets a new
 * challenge the next time one is drawn.
 */
export function drawCaptchaColumns(o: {
  secret: string;
  seal: (v: string) => string;
  flowId: string;
  testAnswer?: string | undefined;
  now: number;
}) {
  const answer = newCaptchaAnswer(o.testAnswer);
  return {
    captcha_hash: hashCaptchaAnswer(o.secret, o.flowId, answer),
    captcha_answer: o.seal(answer),
    captcha_svg: null,
    captcha_spoken: null,
    captcha_mode: 'image' as const,
    captcha_expires_at: o.now + CAPTCHA_TTL_MS,
  };
}
