/**
 * Opens the database named by DATABASE_URL: SQLite (better-sqlite3) by default,
 * PostgreSQL (pg) for postgres:// addresses. Both get the same Kysely<Database>.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  Kysely,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
  sql,
  type Migration,
  type MigrationProvider,
} from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { Database } from './schema.ts';
import * as m0001 from './migrations/2026-11-24T0900_initial.ts';
import * as m0002 from './migrations/2026-11-24T1200_registration.ts';
import * as m0003 from './migrations/2026-11-24T1500_operators_content.ts';
import * as m0004 from './migrations/2026-11-24T1800_audit_chain_async.ts';
import * as m0005 from './migrations/2026-11-24T1900_reset_requests.ts';
import * as m0006 from './migrations/2026-12-01T1000_login_throttle.ts';
import * as mOperatorLifecycle from './migrations/2026-12-01T1100_operator_lifecycle.ts';
import * as mRegistrationCases from './migrations/2026-12-01T1200_registration_cases.ts';
import * as mAuditIdentifierIndex from './migrations/2026-12-01T1300_audit_identifier_index.ts';
import * as mResetRequestSources from './migrations/2026-12-01T1410_reset_request_sources.ts';

// BIGINT columns hold epoch milliseconds: read them as numbers, as SQLite does.
pg.types.setTypeParser(20, Number);

export type Db = Kysely<Database>;
export type Dialect = 'sqlite' | 'postgres';

export interface OpenedDatabase {
  db: Db;
  dialect: Dialect;
}

/** Opens (and for SQLite creates) the database. `schema` selects a PostgreSQL schema (tests). */
/**
 * Kysely prepares every query anew; the portal runs a few dozen distinct statements, so each is prepared once and
 * reused (better-sqlite3 statements are re-prepared by SQLite itself after a schema change). Kysely runs one
 * statement at a time on its single connection and never iterates, so a statement is never in use twice.
 */
function cacheStatements(sqlite: SQLite.Database): void {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((source: string) => {
    let statement = cache.get(source);
    if (!statement) {
      statement = prepare(source);
      if (cache.size >= 500) cache.clear(); // built SQL with a variable number of values (IN lists)
      cache.set(source, statement);
    }
    return statement;
  }) as typeof sqlite.prepare;
}

export function openDatabase(
  url: string,
  options: { schema?: string; poolSize?: number; sqliteSynchronous?: 'normal' | 'full' } = {},
): OpenedDatabase {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' };
  }
  const path = url.replace(/^sqlite:/, '');
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL (the default, as in Rails 8): a commit is written to the WAL without waiting for the disk; a crash of
  // the process loses nothing, a power cut may undo the last commits but never corrupts. FULL waits for the disk
  // at every commit (about 140 µs each on the benchmark machine).
  sqlite.pragma(`synchronous = ${options.sqliteSynchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  cacheStatements(sqlite);
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }), dialect: 'sqlite' };
}

const migrations: Record<string, Migration> = {
  '2026-11-24T0900_initial': m0001,
  '2026-11-24T1200_registration': m0002,
  '2026-11-24T1500_operators_content': m0003,
  '2026-11-24T1800_audit_chain_async': m0004,
  '2026-11-24T1900_reset_requests': m0005,
  '2026-12-01T1000_login_throttle': m0006,
  '2026-12-01T1100_operator_lifecycle': mOperatorLifecycle,
  '2026-12-01T1200_registration_cases': mRegistrationCases,
  '2026-12-01T1300_audit_identifier_index': mAuditIdentifierIndex,
  '2026-12-01T1410_reset_request_sources': mResetRequestSources,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/** Applies every pending migration; returns the names applied. Throws on failure. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  return migrate(db);
}

/** Applies the migrations up to and including `name` (tests of an upgrade from an older schema). */
export async function migrateUpTo(db: Db, name: string): Promise<string[]> {
  return migrate(db, name);
}

async function migrate(db: Db, upTo?: string): Promise<string[]> {
  // On PostgreSQL the migration tables are those of the current schema: without this, Kysely takes the
  // tables of any other schema of the database (another app, or a parallel test) for ours.
  const schema =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s
      : undefined;
  const migrator = new Migrator({
    db,
    provider: new StaticProvider(),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = upTo ? await migrator.migrateTo(upTo) : await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** The dialect behind a Kysely instance (for code given only the instance). */
export function dialectOf(db: Db): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** True when the database answers a trivial query. */
export async function pingDatabase(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
