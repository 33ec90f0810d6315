/** The limits each figure is measured against, each in its own process, and the SMTP sink. */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { THREADPOOL_SIZE } from '../../src/threadpool.ts';
import { childEnv, freePort, peakRssMiB, ROOT, sleep, spawnTs } from './processes.ts';

export interface Argon2Limit {
  rate: number;
  verifications: number;
  seconds: number;
  concurrency: number;
  peakRss: number;
}

/** (a) Verifications per second of a bare argon2id loop (the portal's parameters), same cores, same duration. */
export async function measureArgon2Limit(seconds: number, concurrency: number): Promise<Argon2Limit> {
  // The same thread pool as the portal's (src/threadpool.ts: one thread per core unless UV_THREADPOOL_SIZE is set).
  const child = spawnTs('bench/lib/argon2-loop.ts', childEnv({ UV_THREADPOOL_SIZE: THREADPOOL_SIZE }), {
    args: [String(seconds), String(concurrency)],
  });
  const code = await new Promise<number | null>((resolve) => child.proc.once('exit', (c) => resolve(c)));
  const line = child.output().trim().split('\n').pop() ?? '';
  if (code !== 0) throw new Error(`the argon2id loop failed (${code}):\n${child.output()}`);
  return JSON.parse(line) as Argon2Limit;
}

export interface BareServer {
  url: string;
  peakRss(): number;
  stop(): Promise<void>;
}

/** (b) Bare Fastify serving the given response (status 200, these headers, this body) at GET /csm. */
export async function startBareFastify(headers: Record<string, string | string[]>, body: string): Promise<BareServer> {
  const dir = mkdtempSync(join(tmpdir(), 'iryo-bench-bare-'));
  const file = join(dir, 'csm.json');
  writeFileSync(file, JSON.stringify({ headers, body }));
  const port = await freePort();
  const child = spawnTs('bench/lib/bare-fastify.ts', childEnv({}), { args: [String(port), file] });
  const until = Date.now() + 30_000;
  while (!child.output().includes('ready')) {
    if (child.proc.exitCode !== null || Date.now() > until)
      throw new Error(`bare Fastify did not start:\n${child.output()}`);
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    peakRss: () => peakRssMiB(child.pid),
    async stop() {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SinkStats {
  count: number;
  /** Arrival time of the first and the last mail since the last reset (ms since the epoch, sub-ms). */
  first: number;
  last: number;
  firstSubject: string;
}

export interface Sink {
  url: string;
  reset(): void;
  stats(): Promise<SinkStats>;
  /** Resolves when `count` mails have arrived since the last reset; throws after `ms`. */
  waitFor(count: number, ms: number): Promise<SinkStats>;
  stop(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const proc = fork(join(ROOT, 'bench/lib/smtp-sink-process.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: childEnv({}) as NodeJS.ProcessEnv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('message', (m: { type: string; port: number }) => resolve(m.port));
    proc.once('exit', (c) => reject(new Error(`the SMTP sink exited (${c})`)));
  });
  const stats = () =>
    new Promise<SinkStats>((resolve) => {
      const on = (m: { type: string } & SinkStats) => {
        if (m.type !== 'stats') return;
        proc.off('message', on);
        resolve(m);
      };
      proc.on('message', on);
      proc.send('stats');
    });
  return {
    url: `smtp://127.0.0.1:${port}`,
    reset: () => proc.send('reset'),
    stats,
    async waitFor(count, ms) {
      const until = Date.now() + ms;
      for (;;) {
        const s = await stats();
        if (s.count >= count) return s;
        if (Date.now() > until)
          throw new Error(`the SMTP sink received ${s.count} of ${count} mails within ${ms / 1000} s`);
        await sleep(100);
      }
    },
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.disconnect();
      await exited;
    },
  };
}

/** The reference beside (a): bare Fastify with only a POST /login that verifies the password (bare-login.ts). */
export async function startBareLogin(): Promise<BareServer> {
  const port = await freePort();
  const child = spawnTs('bench/lib/bare-login.ts', childEnv({ UV_THREADPOOL_SIZE: THREADPOOL_SIZE }), {
    args: [String(port)],
  });
  const until = Date.now() + 30_000;
  while (!child.output().includes('ready')) {
    if (child.proc.exitCode !== null || Date.now() > until)
      throw new Error(`bare login did not start:\n${child.output()}`);
    await sleep(50);
  }
  return { url: `http://127.0.0.1:${port}`, peakRss: () => peakRssMiB(child.pid), stop: () => child.stop() };
}
