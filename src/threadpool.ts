/**
 * libuv's thread pool runs the argon2id hashes. Its default of 4 threads on a 2-core machine runs four memory-hard
 * hashes (19 MiB each) at once, which evict each other from the caches: with one thread per core a login costs about
 * a fifth less CPU (npm run bench on 2 cores: 146 → 176 logins/s). An operator's UV_THREADPOOL_SIZE is kept.
 * It takes effect only in a CommonJS entry: Node 20 starts the pool while it reads an ES module entry file, before any
 * of its code runs (src/server.ts through tsx gets libuv's 4 threads). The build's launcher, dist/server.js, runs this
 * file first (scripts/build.ts); server.ts still imports it first, which keeps the value the same in the bundle.
 */
import { availableParallelism } from 'node:os';

export const THREADPOOL_SIZE = process.env.UV_THREADPOOL_SIZE || String(Math.max(2, availableParallelism()));
process.env.UV_THREADPOOL_SIZE = THREADPOOL_SIZE;
