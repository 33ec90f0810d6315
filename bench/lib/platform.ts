/**
 * What the machine charges for the steps every request is made of, measured in the same run as the benchmarks:
 * a system call, a round trip between two processes over loopback TCP, and (when pgbench is installed) the
 * one-row write transactions PostgreSQL commits per second for a C client with nothing else running.
 * The database and HTTP paths are chains of these steps, so these figures bound what any portal gets here,
 * and they tell runs on machines of different speed apart.
 */
import { execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { randomAlnum } from '../../src/security/tokens.ts';
import { PG_URL } from '../../test/helpers/db-targets.ts';
import { spawnTs } from './processes.ts';

const run = promisify(execFile);

export interface PlatformProbe {
  /** µs per write(2) of 64 bytes to /dev/null: a system call with almost no work behind it. */
  syscallMicros: number;
  /** µs per 64-byte request and answer between two Node processes over loopback TCP, one at a time. */
  roundTripMicros: number;
  /** One-row INSERT transactions per second that PostgreSQL commits for pgbench (16 connections), if measured. */
  pgCommitsPerSecond: number | undefined;
}

function syscallMicros(): number {
  const fd = openSync('/dev/null', 'w');
  const b = Buffer.alloc(64);
  try {
    for (let i = 0; i < 20_000; i++) writeSync(fd, b); // warm-up
    const n = 200_000;
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) writeSync(fd, b);
    return Number(process.hrtime.bigint() - t) / n / 1000;
  } finally {
    closeSync(fd);
  }
}

async function roundTripMicros(): Promise<number> {
  const echo = spawnTs('bench/lib/echo-server.ts', { ...process.env });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      echo.proc.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      echo.proc.once('exit', (code) => reject(new Error(`the echo server exited (${code}): ${echo.output()}`)));
    });
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const msg = Buffer.alloc(64, 0x61);
    const trips = async (n: number) => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        const answered = new Promise<void>((resolve) => {
          let got = 0;
          const onData = (d: Buffer) => {
            got += d.length;
            if (got >= msg.length) {
              socket.off('data', onData);
              resolve();
            }
          };
          socket.on('data', onData);
        });
        socket.write(msg);
        await answered;
      }
      return Number(process.hrtime.bigint() - t) / n / 1000;
    };
    await trips(500);
    const us = await trips(5_000);
    socket.destroy();
    return us;
  } finally {
    await echo.stop();
  }
}

function findPgbench(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':');
  try {
    for (const v of readdirSync('/usr/lib/postgresql').sort().reverse()) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // no Debian PostgreSQL packages
  }
  return dirs.map((d) => `${d}/pgbench`).find((p) => existsSync(p));
}

/** pgbench against a schema of its own (dropped afterwards): each transaction inserts one row. */
async function pgCommitsPerSecond(): Promise<number | undefined> {
  const pgbench = findPgbench();
  if (!pgbench) return undefined;
  const schema = `bench_probe_${randomAlnum(8).toLowerCase()}`;
  const url = new URL(PG_URL);
  const env = {
    ...process.env,
    PGHOST: url.hostname,
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username) || 'postgres',
    PGPASSWORD: decodeURIComponent(url.password),
    PGDATABASE: url.pathname.slice(1) || 'postgres',
  };
  const psql = (command: string) =>
    run(pgbench.replace(/pgbench$/, 'psql'), ['-v', 'ON_ERROR_STOP=1', '-qAtc', command], { env });
  const script = join(tmpdir(), `${schema}.sql`);
  writeFileSync(script, 'insert into probe (at) values (1);\n');
  try {
    await psql(`create schema ${schema}; create table ${schema}.probe (id bigserial primary key, at bigint not null)`);
    const { stdout } = await run(pgbench, ['-n', '-M', 'prepared', '-c', '16', '-j', '2', '-T', '4', '-f', script], {
      env: { ...env, PGOPTIONS: `-c search_path=${schema}` },
    });
    const tps = /tps = ([\d.]+)/.exec(stdout)?.[1];
    return tps ? Number(tps) : undefined;
  } catch {
    return undefined;
  } finally {
    rmSync(script, { force: true });
    await psql(`drop schema if exists ${schema} cascade`).catch(() => undefined);
  }
}

export async function probePlatform(withPostgres: boolean): Promise<PlatformProbe> {
  return {
    syscallMicros: syscallMicros(),
    roundTripMicros: await roundTripMicros(),
    pgCommitsPerSecond: withPostgres ? await pgCommitsPerSecond() : undefined,
  };
}
