/**
 * The 5-character image CAPTCHA of stage ① (R6, W2). The answer is kept only as an HMAC bound
 * to its flow; the picture (paths, no text) and a spelled-out form for the non-visual
 * alternative are kept beside it until it is used or expires.
 */
import { randomBytes, randomInt } from 'node:crypto';
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

const WIDTH = 180;
const HEIGHT = 60;
const FONT_SIZE = 56;
/** Coordinates are written in tenths of a pixel (viewBox 10× the size), so that every number is an integer. */
const UNIT = 10;

interface PathCommand { type: string; x?: number; y?: number; x1?: number; y1?: number; x2?: number; y2?: number }
interface Glyph { width: number; commands: PathCommand[] }

const font = (svgCaptcha as unknown as { options: { font: { unitsPerEm: number; ascender: number; descender: number; charToGlyph(c: string): { advanceWidth?: number; getPath(x: number, y: number, size: number): { commands: PathCommand[] } } } } }).options.font;
const fontScale = FONT_SIZE / font.unitsPerEm;
const textHeight = (font.ascender + font.descender) * fontScale;
/** Each character's outline at the drawing size, made once (opentype.js takes most of a drawing's time otherwise). */
const glyphs = new Map<string, Glyph>();
for (const ch of CAPTCHA_CHARS) {
  const g = font.charToGlyph(ch);
  glyphs.set(ch, { width: (g.advanceWidth ?? 0) * fontScale, commands: g.getPath(0, 0, FONT_SIZE).commands });
}

/** sfc32, seeded from 128 bits of a hex string: the same seed draws the same picture. */
function seededRandom(seedHex: string): () => number {
  let a = parseInt(seedHex.slice(0, 8), 16) | 0;
  let b = parseInt(seedHex.slice(8, 16), 16) | 0;
  let c = parseInt(seedHex.slice(16, 24), 16) | 0;
  let d = parseInt(seedHex.slice(24, 32), 16) | 0;
  const next = () => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

let random: () => number = Math.random;
const rnd = (min: number, max: number) => Math.round(min + random() * (max - min));

function hue2rgb(p: number, q: number, t: number): number {
  if (t < 0) t += 1;
  if (t > 1) t -= 1;
  if (t < 1 / 6) return p + (q - p) * 6 * t;
  if (t < 1 / 2) return q;
  if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6;
  return p;
}

/** A random colour readable on white (as svg-captcha picks them: 24 hues, saturation 60–80%, lightness 55–75%). */
function color(): string {
  const hue = rnd(0, 24) / 24;
  const saturation = rnd(60, 80) / 100;
  const lightness = rnd(55, 75) / 100;
  const q = lightness < 0.5 ? lightness * (lightness + saturation) : lightness + saturation - lightness * saturation;
  const p = 2 * lightness - q;
  const c = (v: number) => Math.floor(v * 255);
  return `#${((1 << 24) | (c(hue2rgb(p, q, hue + 1 / 3)) << 16) | (c(hue2rgb(p, q, hue)) << 8) | c(hue2rgb(p, q, hue - 1 / 3))).toString(16).slice(1)}`;
}

/** One character at (x, y), each point moved a little at random (as svg-captcha does), as path data. */
function charPath(ch: string, x: number, y: number): string {
  const g = glyphs.get(ch)!;
  const left = x - g.width / 2;
  const top = y + textHeight / 2;
  const X = (v: number, r: number) => Math.round((v + left + r) * UNIT);
  const Y = (v: number, r: number) => Math.round((v + top + r) * UNIT);
  let d = '';
  for (const c of g.commands) {
    const r = random() * 0.2 - 0.1;
    if (c.type === 'M' || c.type === 'L') d += `${c.type}${X(c.x!, r)} ${Y(c.y!, r)}`;
    else if (c.type === 'Q') d += `Q${X(c.x1!, r)} ${Y(c.y1!, r)} ${X(c.x!, r)} ${Y(c.y!, r)}`;
    else if (c.type === 'C') d += `C${X(c.x1!, r)} ${Y(c.y1!, r)} ${X(c.x2!, 0)} ${Y(c.y2!, 0)} ${X(c.x!, r)} ${Y(c.y!, r)}`;
    else d += 'Z';
  }
  return d;
}

/** A new answer; with a test answer (never in production) that is the text. */
export function newCaptchaAnswer(testAnswer?: string): string {
  let answer = testAnswer ?? '';
  if (!testAnswer) for (let i = 0; i < CAPTCHA_LENGTH; i++) answer += CAPTCHA_CHARS[randomInt(CAPTCHA_CHARS.length)];
  return answer;
}

/**
 * The picture of an answer: svg-captcha's (its font, coloured characters among two noise curves on white, in
 * random order), made from outlines prepared once (a fifth of svg-captcha's time). Its randomness comes from
 * `seedHex`: the same challenge is the same picture on every fetch and on every instance, so fetching it again
 * gives nothing to average, and only the answer (sealed) needs to be kept.
 */
export function drawCaptchaPicture(answer: string, seedHex: string): string {
  random = seededRandom(seedHex);
  try {
    const parts: string[] = [];
    for (let i = 0; i < 2; i++) {
      const p = (x: number, y: number) => `${x * UNIT} ${y * UNIT}`;
      parts.push(`<path d="M${p(rnd(1, 21), rnd(1, HEIGHT - 1))} C${p(rnd(WIDTH / 2 - 21, WIDTH / 2 + 21), rnd(1, HEIGHT - 1))},${p(rnd(WIDTH / 2 - 21, WIDTH / 2 + 21), rnd(1, HEIGHT - 1))},${p(rnd(WIDTH - 21, WIDTH - 1), rnd(1, HEIGHT - 1))}" stroke="${color()}" stroke-width="${UNIT}" fill="none"/>`);
    }
    const spacing = (WIDTH - 2) / (answer.length + 1);
    for (let i = 0; i < answer.length; i++) {
      const ch = answer[i]!.toLowerCase();
      if (!glyphs.has(ch)) throw new Error('a CAPTCHA character outside CAPTCHA_CHARS');
      parts.push(`<path fill="${color()}" d="${charPath(ch, spacing * (i + 1), HEIGHT / 2)}"/>`);
    }
    for (let i = parts.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [parts[i], parts[j]] = [parts[j]!, parts[i]!];
    }
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0,0,${WIDTH * UNIT},${HEIGHT * UNIT}"><rect width="100%" height="100%" fill="#ffffff"/>${parts.join('')}</svg>`;
  } finally {
    random = Math.random;
  }
}

/** A new challenge with a random picture (tests and tools). */
export function drawCaptcha(testAnswer?: string): DrawnCaptcha {
  const answer = newCaptchaAnswer(testAnswer);
  return { answer, svg: drawCaptchaPicture(answer, randomBytes(16).toString('hex')) };
}

/**
 * The picture's seed for a flow's current challenge: from its sealed answer, which is new at every challenge
 * (a fresh nonce even when the answer repeats), so a new challenge is a new picture.
 */
export function captchaSeed(secret: string, flowId: string, sealedAnswer: string): string {
  return hmac(secret, `captcha-picture:${flowId}:${sealedAnswer}`);
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
 * The flow columns of a new challenge. Only the answer's HMAC can check an answer; the answer itself (from which
 * the picture is drawn when fetched) and the spelled-out form are sealed with the server key, so the database
 * holds no answer in clear (R6).
 */
export function drawCaptchaColumns(o: { secret: string; seal: (v: string) => string; flowId: string; lang: string; mode: 'image' | 'text'; testAnswer?: string | undefined; now: number }) {
  const answer = newCaptchaAnswer(o.testAnswer);
  return {
    captcha_hash: hashCaptchaAnswer(o.secret, o.flowId, answer),
    captcha_answer: o.seal(answer),
    captcha_svg: null,
    captcha_spoken: o.mode === 'text' ? o.seal(spellCaptcha(answer, o.lang)) : null,
    captcha_mode: o.mode,
    captcha_expires_at: o.now + CAPTCHA_TTL_MS,
  };
}
