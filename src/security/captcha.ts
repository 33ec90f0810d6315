/**
 * The 5-character image CAPTCHA of stage ① (R6, W2). The answer is kept only as an HMAC bound
 * to its flow; the picture (paths, no text) and a spelled-out form for the non-visual
 * alternative are kept beside it until it is used or expires.
 */
import { randomInt } from 'node:crypto';
import svgCaptcha from 'svg-captcha';
import { hmac, sameDigest } from './tokens.ts';

/** No look-alikes (0/o, 1/l/i, 9/g/q), so the characters can be told apart and read aloud. */
export const CAPTCHA_CHARS = 'abcdefhjkmnprstuvwxyz2345678';
export const CAPTCHA_LENGTH = 5;
export const CAPTCHA_TTL_MS = 10 * 60 * 1000;

const JA_NAMES: Record<string, string> = {
  a: 'エー', b: 'ビー', c: 'シー', d: 'ディー', e: 'イー', f: 'エフ', h: 'エイチ', j: 'ジェー', k: 'ケー', m: 'エム',
  n: 'エヌ', p: 'ピー', r: 'アール', s: 'エス', t: 'ティー', u: 'ユー', v: 'ブイ', w: 'ダブリュー', x: 'エックス',
  y: 'ワイ', z: 'ゼット', '2': 'に', '3': 'さん', '4': 'よん', '5': 'ご', '6': 'ろく', '7': 'なな', '8': 'はち',
};
const EN_NAMES: Record<string, string> = {
  a: 'alpha', b: 'bravo', c: 'charlie', d: 'delta', e: 'echo', f: 'foxtrot', h: 'hotel', j: 'juliett', k: 'kilo',
  m: 'mike', n: 'november', p: 'papa', r: 'romeo', s: 'sierra', t: 'tango', u: 'uniform', v: 'victor',
  w: 'whiskey', x: 'x-ray', y: 'yankee', z: 'zulu', '2': 'two', '3': 'three', '4': 'four', '5': 'five',
  '6': 'six', '7': 'seven', '8': 'eight',
};

export interface DrawnCaptcha {
  answer: string;
  svg: string;
}

/** Draws a new challenge; with a test answer (never in production) that is the text drawn. */
export function drawCaptcha(testAnswer?: string): DrawnCaptcha {
  let answer = testAnswer ?? '';
  if (!testAnswer) for (let i = 0; i < CAPTCHA_LENGTH; i++) answer += CAPTCHA_CHARS[randomInt(CAPTCHA_CHARS.length)];
  const svg = (svgCaptcha as unknown as (text: string, options: object) => string)(answer, { noise: 2, color: false, background: '#ffffff', width: 180, height: 60, fontSize: 56 });
  return { answer, svg };
}

/** The answer spelled out character by character, for people who cannot see the picture. */
export function spellCaptcha(answer: string, lang: string): string {
  const names = lang === 'en' ? EN_NAMES : JA_NAMES;
  const sep = lang === 'en' ? ', ' : '、';
  return [...answer.toLowerCase()].map((c) => names[c] ?? c).join(sep);
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
 * The flow columns of a newly drawn challenge. Only the answer's HMAC can check an answer; the picture and the
 * spelled-out form (which show the answer) are sealed with the server key, so the database holds no answer in clear (R6).
 */
export function drawCaptchaColumns(o: { secret: string; seal: (v: string) => string; flowId: string; lang: string; mode: 'image' | 'text'; testAnswer?: string | undefined; now: number }) {
  const drawn = drawCaptcha(o.testAnswer);
  return {
    captcha_hash: hashCaptchaAnswer(o.secret, o.flowId, drawn.answer),
    captcha_svg: o.seal(drawn.svg),
    captcha_spoken: o.mode === 'text' ? o.seal(spellCaptcha(drawn.answer, o.lang)) : null,
    captcha_mode: o.mode,
    captcha_expires_at: o.now + CAPTCHA_TTL_MS,
  };
}
