/**
 * libuv's thread pool runs the argon2id hashes. Its default of 4 threads on a 2-core machine runs four memory-hard
 * hashes (19 MiB each) at once, which evict each other from the caches: with one thread per core a login costs about
 * a fifth less CPU (npm run bench on 2 cores: 146 → 176 logins/s). Imported first by server.ts, before anything uses
 * the pool; an operator's UV_THREADPOOL_SIZE is kept.
 */
import { availableParallelism } from 'node:os';

export const THREADPOOL_SIZE = process.env.UV_THREADPOOL_SIZE || String(Math.max(2, availableParallelism()));
process.env.UV_THREADPOOL_SIZE = THREADPOOL_SIZE;
