/** The portal under test, in its own process, started as `npm start` starts it (node --import tsx src/server.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, freePort, peakRssMiB, resetPeakRss, sleep, spawnTs, type Child } from './processes.ts';

export const SESSION_SECRET = 'bench-secret-bench-secret-bench-secret-0123';
export const CAPTCHA_ANSWER = 'w7rbh';

/**
 * Limits lifted for the benchmark: every request comes from 127.0.0.1, so the per-address guards
 * (meant for one person or one attacker) would otherwise answer 429 or change the path taken after a
 * few requests. The lifted values are printed with the results.
 */
export const LIFTED_LIMITS: Record<string, string> = {
  FLOOD_LIMIT_PER_MINUTE: '10000000',
  RESET_REQUESTS_PER_IP_PER_HOUR: '100000',
  RESET_MAILS_PER_ACCOUNT_PER_HOUR: '1000',
  RESET_MAILS_PER_ACCOUNT_PER_IP_PER_HOUR: '1000',
  LOGIN_FAILURES_PER_IP_PER_15MIN: '100000',
  LOCKOUT_THRESHOLD: '100',
};

export interface Portal {
  url: string;
  /** Resolves once the outbox holds no mail waiting to be sent (what a previous run left is delivered first). */
  outboxDrained(ms: number): Promise<void>;
  pid: number;
  /** Peak RSS (MiB) since the start or the last resetPeak(). */
  peakRss(): number;
  resetPeak(): boolean;
  stop(): Promise<void>;
}

/** `nodeArgs` (e.g. --cpu-prof) are given to node before the script. */
export async function startPortal(o: { databaseUrl: string; smtpUrl: string; nodeArgs?: string[] }): Promise<Portal> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'iryo-bench-data-'));
  const child: Child = spawnTs('src/server.ts', childEnv({
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: o.databaseUrl,
    SMTP_URL: o.smtpUrl,
    SESSION_SECRET,
    CAPTCHA_TEST_ANSWER: CAPTCHA_ANSWER,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    ...LIFTED_LIMITS,
  }), { nodeArgs: o.nodeArgs ?? [] });
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`the portal exited (${child.proc.exitCode}):\n${child.output()}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      await child.stop();
      throw new Error(`the portal did not become ready within 60 s:\n${child.output()}`);
    }
    await sleep(100);
  }
  return {
    url,
    async outboxDrained(ms) {
      const end = Date.now() + ms;
      for (;;) {
        const ready = (await (await fetch(`${url}/readyz`)).json()) as { mail: { queued: number } | null };
        if (ready.mail?.queued === 0) return;
        if (Date.now() > end) throw new Error(`the outbox still holds ${ready.mail?.queued} mails after ${ms / 1000} s`);
        await sleep(200);
      }
    },
    pid: child.pid,
    peakRss: () => peakRssMiB(child.pid),
    resetPeak: () => resetPeakRss(child.pid),
    async stop() {
      await child.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
