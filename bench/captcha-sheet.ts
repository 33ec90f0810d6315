/**
 * A reading check of the CAPTCHA pictures (K1, W2): 20 pictures with random answers on one contact sheet at their
 * size on the page (ZOOM 1), the answers in a separate file, so that a person can read the sheet first and compare.
 *   npx tsx bench/captcha-sheet.ts [TAG] [ZOOM] [DIR]   → DIR/sheet-TAG.png, DIR/answers-TAG.txt
 */
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Resvg } from '@resvg/resvg-js';
import { drawCaptchaSvg, PICTURE_WIDTH as W, PICTURE_HEIGHT as H } from '../src/security/captcha-picture.ts';
import { newCaptchaAnswer } from '../src/security/captcha.ts';
const tag = process.argv[2] ?? 'x';
const zoom = Number(process.argv[3] ?? 1);
const dir = process.argv[4] ?? '.';
const answers: string[] = [];
const cols = 2,
  gap = 24;
let body = '';
for (let i = 0; i < 20; i++) {
  const a = newCaptchaAnswer();
  answers.push(a);
  // Each picture's gradient gets its own id on the sheet (one SVG document).
  const svg = drawCaptchaSvg(a, randomBytes(16).toString('hex'))
    .replaceAll('id="g"', `id="g${i}"`)
    .replaceAll('url(#g)', `url(#g${i})`);
  const x = (i % cols) * (W + gap + 20) + 20,
    y = Math.floor(i / cols) * (H + 10) + 5;
  body += `<text x="${x - 18}" y="${y + H / 2}" font-size="10">${i + 1}</text>`;
  body += svg.replace('<svg ', `<svg x="${x}" y="${y}" `);
}
const SW = cols * (W + gap + 20) + 10,
  SH = Math.ceil(20 / cols) * (H + 10) + 10;
const sheet = `<svg xmlns="http://www.w3.org/2000/svg" width="${SW}" height="${SH}"><rect width="100%" height="100%" fill="#fff"/>${body}</svg>`;
const png = new Resvg(sheet, { fitTo: { mode: 'zoom', value: zoom }, font: { loadSystemFonts: true } })
  .render()
  .asPng();
writeFileSync(`${dir}/sheet-${tag}.png`, png);
writeFileSync(`${dir}/answers-${tag}.txt`, answers.map((a, i) => `${i + 1} ${a}`).join('\n') + '\n');
