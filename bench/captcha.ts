/**
 * What the CAPTCHA costs (K1–K3): the server's time per PNG picture, per proof-of-work challenge and per check, and
 * the time to solve one challenge with Node's PBKDF2 (about what a browser's WebCrypto takes on the same CPU; the
 * browser's script runs 4 lanes at once).
 *   npx tsx bench/captcha.ts [PICTURES]
 */
import { randomBytes } from 'node:crypto';
import { solveChallenge, verifySolution } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { drawCaptchaPng } from '../src/security/captcha-picture.ts';
import { newCaptchaAnswer } from '../src/security/captcha.ts';
import { POW_ALGORITHM, POW_COST, POW_COUNTER_MAX, POW_COUNTER_MIN } from '../src/security/proof-of-work.ts';
import { createChallenge, randomInt } from 'altcha-lib';

const pictures = Number(process.argv[2] ?? 200);
const ms = (t0: number, n = 1) => ((performance.now() - t0) / n).toFixed(2);

for (let i = 0; i < 10; i++) await drawCaptchaPng(newCaptchaAnswer(), randomBytes(16).toString('hex'));
let bytes = 0;
let t0 = performance.now();
for (let i = 0; i < pictures; i++)
  bytes += (await drawCaptchaPng(newCaptchaAnswer(), randomBytes(16).toString('hex'))).length;
console.log(
  `picture: ${ms(t0, pictures)} ms per PNG, one after another (${pictures} pictures, ${Math.round(bytes / pictures)} bytes each)`,
);
t0 = performance.now();
await Promise.all(
  Array.from({ length: pictures }, () => drawCaptchaPng(newCaptchaAnswer(), randomBytes(16).toString('hex'))),
);
console.log(`picture: ${ms(t0, pictures)} ms per PNG, ${pictures} at once (libuv's thread pool)`);

const keys = { hmacSignatureSecret: 'a'.repeat(64), hmacKeySignatureSecret: 'b'.repeat(64) };
const make = () =>
  createChallenge({
    algorithm: POW_ALGORITHM,
    cost: POW_COST,
    counter: randomInt(POW_COUNTER_MAX, POW_COUNTER_MIN),
    deriveKey,
    ...keys,
  });
t0 = performance.now();
for (let i = 0; i < 50; i++) await make();
console.log(`challenge: ${ms(t0, 50)} ms to create (one PBKDF2 of ${POW_COST} iterations)`);

const solves: number[] = [];
for (let i = 0; i < 5; i++) {
  const challenge = await make();
  t0 = performance.now();
  const solution = await solveChallenge({ challenge, deriveKey });
  solves.push(performance.now() - t0);
  const t1 = performance.now();
  const result = await verifySolution({ challenge, solution: solution!, deriveKey, ...keys });
  if (!result.verified) throw new Error('a solution did not verify');
  if (i === 0) console.log(`check: ${ms(t1)} ms (an HMAC of the derived key)`);
}
solves.sort((a, b) => a - b);
console.log(
  `solve (one lane, Node PBKDF2): median ${solves[2]!.toFixed(0)} ms, max ${solves[4]!.toFixed(0)} ms over 5 challenges`,
);
