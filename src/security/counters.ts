/**
 * Fixed-window counters for rate limits (R3, L2, T6): in process by default,
 * in Redis when REDIS_URL is set so that every instance shares them.
 */
import type { Redis } from 'ioredis';

export interface CounterStore {
  /** Adds one to `key` in a window of `windowMs` and returns the count so far. */
  hit(key: string, windowMs: number): Promise<number>;
  /** The count so far without adding. */
  peek(key: string): Promise<number>;
  reset(key: string): Promise<void>;
}

export function createMemoryCounters(now: () => number): CounterStore {
  const map = new Map<string, { count: number; until: number }>();
  const sweep = () => {
    const t = now();
    for (const [k, v] of map) if (v.until <= t) map.delete(k);
  };
  return {
    async hit(key, windowMs) {
      const t = now();
      if (map.size > 100_000) sweep();
      const cur = map.get(key);
      if (!cur || cur.until <= t) {
        map.set(key, { count: 1, until: t + windowMs });
        return 1;
      }
      cur.count += 1;
      return cur.count;
    },
    async peek(key) {
      const cur = map.get(key);
      return cur && cur.until > now() ? cur.count : 0;
    },
    async reset(key) {
      map.delete(key);
    },
  };
}

/**
 * Refuses a Redis older than 7.0: the counters set their window with `PEXPIRE … NX` (7.0), which an older server
 * rejects, so every rate-limited request would fail. Throws an Error naming the version found.
 */
export async function checkRedisVersion(redis: Pick<Redis, 'info'>): Promise<void> {
  const version = /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1];
  if (!version || !(Number(version.split('.')[0]) >= 7)) {
    throw new Error(
      `REDIS_URL: Redis ${version ?? 'of unknown version'} answers; 7.0 or later is required (PEXPIRE … NX)`,
    );
  }
}

export function createRedisCounters(redis: Redis, prefix = 'iryo:rl:'): CounterStore {
  return {
    async hit(key, windowMs) {
      const k = prefix + key;
      const res = await redis.multi().incr(k).pexpire(k, windowMs, 'NX').exec();
      const count = res?.[0]?.[1];
      return typeof count === 'number' ? count : Number(count);
    },
    async peek(key) {
      const v = await redis.get(prefix + key);
      return v ? Number(v) : 0;
    },
    async reset(key) {
      await redis.del(prefix + key);
    },
  };
}
