/** Redis 7.0 or later is required (the rate-limit counters use PEXPIRE … NX): an older one stops the start. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRedisVersion } from '../../src/security/counters.ts';
import { REDIS_URL, redisAvailable } from '../helpers/db-targets.ts';

const server = (version: string) => ({
  info: async () => `# Server\r\nredis_version:${version}\r\nredis_mode:standalone\r\n`,
});

test('R3 Redis 7.0 and later are accepted', async () => {
  for (const v of ['7.0.0', '7.0.15', '7.2.4', '8.0.2']) await checkRedisVersion(server(v));
});

test('R3 Redis 6 (no PEXPIRE … NX) stops the start with the version found', async () => {
  for (const v of ['6.2.14', '5.0.7']) {
    await assert.rejects(
      checkRedisVersion(server(v)),
      new RegExp(`^Error: REDIS_URL: Redis ${v.replaceAll('.', '\\.')} answers; 7\\.0 or later`),
    );
  }
  await assert.rejects(checkRedisVersion({ info: async () => '# Server\r\n' }), /Redis of unknown version/);
});

test('R3 the Redis of the test machine is accepted, and PEXPIRE … NX works on it', async (t) => {
  if (!(await redisAvailable())) return t.skip('no Redis');
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL);
  try {
    await checkRedisVersion(redis);
    const key = `iryo:test:nx:${process.pid}`;
    await redis.set(key, '1');
    assert.equal(await redis.pexpire(key, 60_000, 'NX'), 1);
    assert.equal(await redis.pexpire(key, 1_000, 'NX'), 0, 'NX keeps the first window');
    await redis.del(key);
  } finally {
    redis.disconnect();
  }
});
