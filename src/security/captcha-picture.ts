/**
 * The picture of a CAPTCHA answer, as a PNG (R6, K1). The review's script solved the old SVG by reading it: each
 * character was one `<path>` whose commands named the glyph and whose x position gave the order. Here nothing of the
 * drawing leaves the server but pixels: the outlines (taken with opentype.js from the font in ./fonts) are rotated,
 * scaled and bent by a wave that runs across the whole picture (not an affine map, so no glyph keeps its outline),
 * neighbours overlap, and curves in the glyphs' own colours run through them, so that no colour and no connected
 * blob of pixels is one character. resvg turns the SVG into the PNG; the SVG is never sent.
 */
import { readFileSync } from 'node:fs';
import opentype, { type PathCommand } from 'opentype.js';
import { renderAsync } from '@resvg/resvg-js';
import { CAPTCHA_CHARS } from './captcha.ts';

/** The size on the page (CSS pixels); the PNG has twice as many pixels each way, for sharp high-density screens. */
export const PICTURE_WIDTH = 180;
export const PICTURE_HEIGHT = 60;
const SCALE = 2;
const FONT_SIZE = 58;

type Point = [number, number];
/** A glyph outline as closed polygons (curves flattened), in font units scaled to FONT_SIZE, origin at its centre. */
interface Outline { width: number; contours: Point[][] }

const font = opentype.parse(toArrayBuffer(readFileSync(new URL('./fonts/Comismsh.ttf', import.meta.url))));
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
        const t = i / n, u = 1 - t;
        cur.push([u * u * at[0] + 2 * u * t * p1[0] + t * t * to[0], u * u * at[1] + 2 * u * t * p1[1] + t * t * to[1]]);
      }
      at = to;
    } else if (c.type === 'C') {
      const p1: Point = [c.x1!, c.y1!];
      const p2: Point = [c.x2!, c.y2!];
      const to: Point = [c.x!, c.y!];
      const n = steps(at, p1) + steps(p1, p2) + steps(p2, to);
      for (let i = 1; i <= n; i++) {
        const t = i / n, u = 1 - t;
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

const hsl = (h: number, s: number, l: number) => `hsl(${Math.round(h)},${Math.round(s)}%,${Math.round(l)}%)`;
const num = (v: number) => (Math.round(v * 10) / 10).toString();

/**
 * The picture of `answer` as PNG bytes. All randomness comes from `seedHex`: the same challenge is the same picture
 * on every fetch and on every instance (nothing to average by fetching it again), and only the sealed answer needs
 * to be kept. resvg rasterises on libuv's thread pool, so the ~10 ms of a picture do not hold the event loop.
 */
export async function drawCaptchaPng(answer: string, seedHex: string): Promise<Buffer> {
  const svg = drawCaptchaSvg(answer, seedHex);
  const image = await renderAsync(svg, { fitTo: { mode: 'zoom', value: SCALE }, font: { loadSystemFonts: false } });
  return Buffer.from(image.asPng());
}

/** The intermediate SVG (exported for the benchmark only; never sent to a browser). */
export function drawCaptchaSvg(answer: string, seedHex: string): string {
  const random = seededRandom(seedHex);
  const between = (min: number, max: number) => min + random() * (max - min);
  const W = PICTURE_WIDTH, H = PICTURE_HEIGHT;
  // One hue family per picture: glyphs and noise differ a little in hue and lightness, never enough to tell apart.
  const hue = between(0, 360);
  const ink = () => hsl(hue + between(-25, 25), between(45, 75), between(22, 40));
  // A wave across the whole picture: every point moves by an amount that depends on where it is.
  const wave = {
    ax: between(1.6, 2.6), fx: between(0.09, 0.16), px: between(0, 6.3),
    ay: between(2.0, 3.4), fy: between(0.04, 0.08), py: between(0, 6.3),
    az: between(0.8, 1.4), fz: between(0.18, 0.26),
  };
  const bend = ([x, y]: Point): Point => [
    x + wave.ax * Math.sin(y * wave.fx + wave.px) + wave.az * Math.sin((x + y) * wave.fz),
    y + wave.ay * Math.sin(x * wave.fy + wave.py) + wave.az * Math.cos((x - y) * wave.fz),
  ];

  const parts: string[] = [`<rect width="${W}" height="${H}" fill="${hsl(hue + 180, 25, 96)}"/>`];
  // Speckles under the glyphs, in their colours.
  for (let i = 0; i < 70; i++) parts.push(`<circle cx="${num(between(0, W))}" cy="${num(between(0, H))}" r="${num(between(0.4, 1.3))}" fill="${ink()}" opacity="${num(between(0.35, 0.8))}"/>`);

  const chars = [...answer.toLowerCase()];
  // Narrower steps than the glyphs are wide: neighbours touch or overlap.
  const step = (W - 24) / chars.length;
  let x = 12 + step / 2 + between(-3, 3);
  const centres: Point[] = [];
  for (const ch of chars) {
    const outline = outlines.get(ch);
    if (!outline) throw new Error('a CAPTCHA character outside CAPTCHA_CHARS');
    const angle = between(-0.3, 0.3);
    const size = between(0.9, 1.12);
    const sx = size * between(0.9, 1.1);
    const cx = x, cy = H / 2 + between(-4, 4);
    centres.push([cx, cy]);
    const cos = Math.cos(angle), sin = Math.sin(angle);
    let d = '';
    for (const contour of outline.contours) {
      contour.forEach(([px, py], i) => {
        const [bx, by] = bend([cx + (px * sx * cos - py * size * sin), cy + (px * sx * sin + py * size * cos)]);
        d += `${i === 0 ? 'M' : 'L'}${num(bx)} ${num(by)}`;
      });
      d += 'Z';
    }
    // The font draws hollow letters; a stroke of the fill's colour makes them solid and bold enough to read.
    const colour = ink();
    parts.push(`<path d="${d}" fill="${colour}" stroke="${colour}" stroke-width="${num(between(1.8, 2.4))}" stroke-linejoin="round"/>`);
    x += step + between(-3, 2);
  }

  // Curves through the glyphs in their colours and about their stroke width: they join the glyphs into one blob.
  for (let i = 0; i < 2; i++) {
    const pts = centres.map(([cx, cy]): Point => [cx + between(-8, 8), cy + between(-12, 12)]);
    let d = `M${num(between(0, 8))} ${num(between(10, H - 10))}`;
    for (const [px, py] of pts) d += `S${num(px - 10)} ${num(py + between(-6, 6))} ${num(px)} ${num(py)}`;
    d += `S${num(W - 10)} ${num(between(10, H - 10))} ${num(W)} ${num(between(10, H - 10))}`;
    parts.push(`<path d="${d}" stroke="${ink()}" stroke-width="${num(i === 0 ? between(1.6, 2.2) : between(0.9, 1.3))}" fill="none" stroke-linecap="round"/>`);
  }
  // Thin scratches and speckles over everything.
  for (let i = 0; i < 4; i++) {
    parts.push(`<path d="M${num(between(0, W))} ${num(between(0, H))}Q${num(between(0, W))} ${num(between(0, H))} ${num(between(0, W))} ${num(between(0, H))}" stroke="${ink()}" stroke-width="${num(between(0.6, 1.1))}" fill="none"/>`);
  }
  for (let i = 0; i < 60; i++) parts.push(`<circle cx="${num(between(0, W))}" cy="${num(between(0, H))}" r="${num(between(0.3, 0.9))}" fill="${i % 3 ? ink() : '#fff'}"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`;
}
