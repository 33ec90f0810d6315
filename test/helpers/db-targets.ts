/**
 * The databases the integration suite runs on: SQLite always; PostgreSQL (and Redis) when they answer.
 * With CI=true they must answer, or the run fails.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { migrateToLatest, migrateUpTo, openDatabase, type OpenedDatabase } from '../../src/db/database.ts';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function pgAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisAnswers(): Promise<boolean> {
  const r = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

export type TargetName = 'sqlite' | 'postgres';

/** Which targets to run; throws under CI when PostgreSQL or Redis does not answer. */
export async function dbTargets(): Promise<TargetName[]> {
  // CI's second Node version runs on SQLite only (TEST_DB_TARGETS=sqlite): the PostgreSQL driver is plain
  // JavaScript and ran with the whole suite on the first version; this keeps CI under its 15 minutes.
  if (process.env.TEST_DB_TARGETS === 'sqlite') return ['sqlite'];
  const ok = await pgAnswers();
  if (!ok && process.env.CI === 'true') throw new Error(`CI=true but PostgreSQL does not answer at ${PG_URL}`);
  return ok ? ['sqlite', 'postgres'] : ['sqlite'];
}

export async function redisAvailable(): Promise<boolean> {
  const ok = await redisAnswers();
  if (!ok && process.env.CI === 'true') throw new Error(`CI=true but Redis does not answer at ${REDIS_URL}`);
  return ok;
}

export interface TestDatabase extends OpenedDatabase {
  /** The URL to give another process or instance for the same database. */
  url: string;
  schema: string | undefined;
  drop(): Promise<void>;
}

/** A fresh, migrated database: a temporary SQLite file, or a new PostgreSQL schema. */
/** `upTo`: only the migrations up to that one (an older schema, to test an upgrade). */
export async function freshDatabase(target: TargetName, upTo?: string): Promise<TestDatabase> {
  if (target === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'iryo-test-'));
    const url = `sqlite:${join(dir, 'portal.db')}`;
    const opened = openDatabase(url);
    await (upTo ? migrateUpTo(opened.db, upTo) : migrateToLatest(opened.db));
    return {
      ...opened,
      url,
      schema: undefined,
      async drop() {
        await opened.db.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const opened = openDatabase(PG_URL, { schema, poolSize: 5 });
  // Kysely's migrator looks at the tables of every schema of the database; another test dropping its schema at
  // that instant makes PostgreSQL answer "schema … does not exist" (3F000) for that other schema. Try again.
  for (let attempt = 1; ; attempt++) {
    try {
      await (upTo ? migrateUpTo(opened.db, upTo) : migrateToLatest(opened.db));
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== '3F000' || attempt === 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
  return {
    ...opened,
    url: PG_URL,
    schema,
    async drop() {
      await opened.db.destroy();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}
