/** Opens what a running portal needs from its configuration: database (migrated), Redis, mail transport. */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { migrateToLatest, openDatabase, type OpenedDatabase } from './db/database.ts';
import { createFileTransport, createSmtpTransport, type MailTransport } from './mail/transports.ts';
import { checkRedisVersion } from './security/counters.ts';

export interface Runtime extends OpenedDatabase {
  redis: Redis | undefined;
  transport: MailTransport;
  close(): Promise<void>;
}

export async function openRuntime(config: Config): Promise<Runtime> {
  const opened = openDatabase(config.databaseUrl, { sqliteSynchronous: config.sqliteSynchronous });
  await migrateToLatest(opened.db);
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true })
    : undefined;
  if (redis) {
    await redis.connect();
    await checkRedisVersion(redis).catch(async (err: unknown) => {
      await redis.quit().catch(() => undefined);
      await opened.db.destroy();
      throw err;
    });
  }
  const transport = config.smtpUrl
    ? createSmtpTransport(config.smtpUrl)
    : createFileTransport(join(config.dataDir, 'outbox'));
  return {
    ...opened,
    redis,
    transport,
    async close() {
      transport.close();
      if (redis) await redis.quit().catch(() => undefined);
      await opened.db.destroy();
    },
  };
}
