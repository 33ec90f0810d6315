/**
 * The picture of a CAPTCHA answer, as a PNG (R6, K1). The review's script solved the old SVG by reading it: each
 * character was one `<path>` whose commands named the glyph and whose x position gave the order. Here nothing of the
 * drawing leaves the server but pixels: the outlines (taken with opentype.js from DejaVu Sans Bold in ./fonts) are
 * rotated (±15°), scaled and bent by a mild wave that runs across the whole picture (not an affine map, so no glyph
 * keeps its outline), neighbours touch or overlap a little, and all glyphs share one gradient fill across the
 * picture, so that no colour is one character; a thin curve in that gradient joins them into one blob.
 *
 * Legible first (issue 10's acceptance test: a person read 4 of 8 of the old pictures): solid glyphs, dark on a light
 * ground, 240×80 on the page; the noise lines are far thinner than the strokes and in lighter tints of the same hues,
 * so they never cut a glyph into a look-alike. `bench/captcha-sheet.ts` draws 20 pictures for a reading check.
 * resvg turns the SVG into the PNG; the SVG is never sent. */
import { readFileSync } from 'node:fs';
import opentype, { type PathCommand } from 'opentype.js';
import { renderAsync } from '@resvg/resvg-js';
import { CAPTCHA_CHARS } from './captcha.ts';

/** The size on the page (CSS pixels); the PNG has twice as many pixels each way, for sharp high-density screens. */
export const PICTURE_WIDTH = 240;
export const PICTURE_HEIGHT = 80;
const SCALE = 2;
const FONT_SIZE = 50;
/** At most ±15° per glyph: enough that no two pictures of a character match, not so much that h/k or u/n turn. */
const ROTATION = (15 * Math.PI) / 180;

type Point = [number, number];
/** A glyph outline as closed polygons (curves flattened), in font units scaled to FONT_SIZE, origin at its centre. */
interface Outline {
  width: number;
  contours: Point[][];
}

const font = opentype.parse(toArrayBuffer(readFileSync(new URL('./fonts/DejaVuSans-Bold.ttf', import.meta.url))));
const outlines = new Map<string, Outline>();
for (const ch of CAPTCHA_CHARS) outlines.set(ch, outlineOf(ch));

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/**
 * Flattens a glyph into polygons with a point every pixel or so: the wave below then bends straight strokes too
 * (moving only the path's own points would leave each segment straight, and its shape recognisable).
 */
function outlineOf(ch: string): Outline {
  const g = font.charToGlyph(ch);
  const scale = FONT_SIZE / font.unitsPerEm;
  const width = (g.advanceWidth ?? 0) * scale;
  const middle = ((font.ascender + font.descender) * scale) / 2;
  const commands: PathCommand[] = g.getPath(-width / 2, middle, FONT_SIZE).commands;
  const contours: Point[][] = [];
  let cur: Point[] = [];
  let at: Point = [0, 0];
  const steps = (a: Point, b: Point) => Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1])));
  for (const c of commands) {
    if (c.type === 'M') {
      if (cur.length > 2) contours.push(cur);
      at = [c.x!, c.y!];
      cur = [at];
    } else if (c.type === 'L') {
      const to: Point = [c.x!, c.y!];
      const n = steps(at, to);
      for (let i = 1; i <= n; i++) cur.push([at[0] + ((to[0] - at[0]) * i) / n, at[1] + ((to[1] - at[1]) * i) / n]);
      at = to;
    } else if (c.type === 'Q') {
      const p1: Point = [c.x1!, c.y1!];
      const to: Point = [c.x!, c.y!];
      const n = steps(at, p1) + steps(p1, to);
      for (let i = 1; i <= n; i++) {
        const t = i / n,
          u = 1 - t;
        cur.push([
          u * u * at[0] + 2 * u * t * p1[0] + t * t * to[0],
          u * u * at[1] + 2 * u * t * p1[1] + t * t * to[1],
        ]);
      }
      at = to;
    } else if (c.type === 'C') {
      const p1: Point = [c.x1!, c.y1!];
      const p2: Point = [c.x2!, c.y2!];
      const to: Point = [c.x!, c.y!];
      const n = steps(at, p1) + steps(p1, p2) + steps(p2, to);
      for (let i = 1; i <= n; i++) {
        const t = i / n,
          u = 1 - t;
        cur.push([
          u * u * u * at[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t * t * t * to[0],
          u * u * u * at[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t * t * t * to[1],
        ]);
      }
      at = to;
    }
  }
  if (cur.length > 2) contours.push(cur);
  return { width, contours };
}

/** sfc32, seeded from 128 bits of a hex string: the same seed draws the same picture. */
function seededRandom(seedHex: string): () => number {
  let a = parseInt(seedHex.slice(0, 8), 16) | 0;
  let b = parseInt(seedHex.slice(8, 16), 16) | 0;
  let c = parseInt(seedHex.slice(16, 24), 16) | 0;
  let d = parseInt(seedHex.slice(24, 32), 16) | 0;
  const next = () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
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

const hsl = (h: number, s: number, l: number) => `hsl(${Math.round(h)},${Math.round(s)}%,${Math.round(l)}%)`;
const num = (v: number) => (Math.round(v * 10) / 10).toString();

/**
 * The picture of `answer` as PNG bytes. All randomness comes from `seedHex`: the same challenge is the same picture
 * on every fetch and on every instance (nothing to average by fetching it again), and only the sealed answer needs
 * to be kept. resvg rasterises on libuv's thread pool, so the few milliseconds of a picture do not hold the event loop.
 */
export async function drawCaptchaPng(answer: string, seedHex: string): Promise<Buffer> {
  const svg = drawCaptchaSvg(answer, seedHex);
  const image = await renderAsync(svg, { fitTo: { mode: 'zoom', value: SCALE }, font: { loadSystemFonts: false } });
  return Buffer.from(image.asPng());
}

/** The intermediate SVG (exported for the benchmark and the legibility sheet only; never sent to a browser). */
export function drawCaptchaSvg(answer: string, seedHex: string): string {
  const random = seededRandom(seedHex);
  const between = (min: number, max: number) => min + random() * (max - min);
  const W = PICTURE_WIDTH,
    H = PICTURE_HEIGHT;
  // One hue family per picture. The glyphs are dark (high contrast on the light ground); the noise is in lighter
  // tints of the same hues, so it never reads as a stroke of a glyph.
  const hue = between(0, 360);
  const dark = () => hsl(hue + between(-30, 30), between(45, 80), between(16, 30));
  const tint = () => hsl(hue + between(-30, 30), between(35, 60), between(58, 74));
  // A mild wave across the whole picture: every point moves by an amount that depends on where it is.
  const wave = {
    ax: between(1.2, 1.8),
    fx: between(0.06, 0.1),
    px: between(0, 6.3),
    ay: between(1.6, 2.4),
    fy: between(0.03, 0.05),
    py: between(0, 6.3),
    az: between(0.4, 0.7),
    fz: between(0.12, 0.18),
  };
  const bend = ([x, y]: Point): Point => [
    x + wave.ax * Math.sin(y * wave.fx + wave.px) + wave.az * Math.sin((x + y) * wave.fz),
    y + wave.ay * Math.sin(x * wave.fy + wave.py) + wave.az * Math.cos((x - y) * wave.fz),
  ];

  // The glyphs' fill is one gradient across the whole picture, not a colour per glyph: the colour of a pixel
  // depends on where it is, so no colour separates one character from its neighbours (K1).
  const stops = Array.from(
    { length: 4 },
    (_, i) => `<stop offset="${num((i / 3) * 100)}%" stop-color="${dark()}"/>`,
  ).join('');
  const parts: string[] = [
    `<defs><linearGradient id="g" gradientUnits="userSpaceOnUse" x1="0" y1="${num(between(0, H))}" x2="${W}" y2="${num(between(0, H))}">${stops}</linearGradient></defs>`,
    `<rect width="${W}" height="${H}" fill="${hsl(hue + 180, 25, 97)}"/>`,
  ];
  // Speckles and thin curves under the glyphs, in the light tints.
  for (let i = 0; i < 60; i++)
    parts.push(
      `<circle cx="${num(between(0, W))}" cy="${num(between(0, H))}" r="${num(between(0.4, 1.1))}" fill="${tint()}"/>`,
    );
  for (let i = 0; i < 3; i++) {
    parts.push(
      `<path d="M${num(between(0, 20))} ${num(between(8, H - 8))}C${num(between(40, 100))} ${num(between(0, H))} ${num(between(140, 200))} ${num(between(0, H))} ${num(between(W - 20, W))} ${num(between(8, H - 8))}" stroke="${tint()}" stroke-width="${num(between(0.8, 1.3))}" fill="none"/>`,
    );
  }

  const chars = [...answer.toLowerCase()];
  const placed = chars.map((ch) => {
    const outline = outlines.get(ch);
    if (!outline) throw new Error('a CAPTCHA character outside CAPTCHA_CHARS');
    return { outline, size: between(0.92, 1.08), angle: between(-ROTATION, ROTATION) };
  });
  // Neighbours are set a little closer than their widths, so that they touch or overlap by a pixel or two; the
  // row is centred, with a little jitter.
  const widths = placed.map((g) => g.outline.width * g.size * 0.86);
  const total = widths.reduce((a, b) => a + b, 0);
  let x = (W - total) / 2 + between(-4, 4);
  const centres: Point[] = [];
  placed.forEach(({ outline, size, angle }, i) => {
    const cx = x + widths[i]! / 2,
      cy = H / 2 + between(-4, 4);
    centres.push([cx, cy]);
    const cos = Math.cos(angle),
      sin = Math.sin(angle);
    let d = '';
    for (const contour of outline.contours) {
      contour.forEach(([px, py], j) => {
        const [bx, by] = bend([cx + (px * size * cos - py * size * sin), cy + (px * size * sin + py * size * cos)]);
        d += `${j === 0 ? 'M' : 'L'}${num(bx)} ${num(by)}`;
      });
      d += 'Z';
    }
    parts.push(`<path d="${d}" fill="url(#g)" fill-rule="nonzero"/>`);
    x += widths[i]! + between(-1.5, 1);
  });

  // One thin curve through the glyphs in the same gradient, far thinner than their strokes: it joins them into
  // one connected blob without cutting a glyph into another character.
  const pts = centres.map(([cx, cy]): Point => [cx + between(-6, 6), cy + between(-10, 10)]);
  let d = `M${num(between(0, 10))} ${num(between(15, H - 15))}`;
  for (const [px, py] of pts) d += `S${num(px - 12)} ${num(py + between(-5, 5))} ${num(px)} ${num(py)}`;
  d += `S${num(W - 12)} ${num(between(15, H - 15))} ${num(W)} ${num(between(15, H - 15))}`;
  parts.push(
    `<path d="${d}" stroke="url(#g)" stroke-width="${num(between(0.9, 1.2))}" fill="none" stroke-linecap="round"/>`,
  );
  // Light scratches and speckles over everything.
  for (let i = 0; i < 3; i++) {
    parts.push(
      `<path d="M${num(between(0, W))} ${num(between(0, H))}Q${num(between(0, W))} ${num(between(0, H))} ${num(between(0, W))} ${num(between(0, H))}" stroke="${tint()}" stroke-width="${num(between(0.6, 1))}" fill="none"/>`,
    );
  }
  for (let i = 0; i < 50; i++)
    parts.push(
      `<circle cx="${num(between(0, W))}" cy="${num(between(0, H))}" r="${num(between(0.3, 0.8))}" fill="${i % 3 ? tint() : '#fff'}"/>`,
    );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`;
}
