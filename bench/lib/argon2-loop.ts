/**
 * Limit (a): a bare loop of argon2id verifications with the portal's parameters, in its own process, with
 * `concurrency` verifications in flight (they run on libuv's thread pool, as in the portal).
 * Usage: node --import tsx bench/lib/argon2-loop.ts SECONDS CONCURRENCY → one JSON line on stdout.
 */
import { hash, verify } from '@node-rs/argon2';
import { ARGON2_PARAMS } from '../../src/accounts/passwords.ts';
import { BENCH_PASSWORD } from './database.ts';
import { peakRssMiB } from './processes.ts';

const seconds = Number(process.argv[2] ?? 10);
const concurrency = Number(process.argv[3] ?? 16);
const stored = await hash(BENCH_PASSWORD, ARGON2_PARAMS);

async function loop(ms: number): Promise<{ count: number; seconds: number }> {
  let count = 0;
  const start = process.hrtime.bigint();
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        if (!(await verify(stored, BENCH_PASSWORD))) throw new Error('verification failed');
        count++;
      }
    }),
  );
  return { count, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

await loop(1000);
const r = await loop(seconds * 1000);
console.log(
  JSON.stringify({
    verifications: r.count,
    seconds: r.seconds,
    rate: r.count / r.seconds,
    concurrency,
    peakRss: peakRssMiB(process.pid),
  }),
);
