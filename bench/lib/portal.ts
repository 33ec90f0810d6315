/**
 * The portal under test, in its own process, started as production starts it: the build of `npm run build` under
 * plain node (node dist/server.js, the systemd unit's command), built once per benchmark process from the current
 * source. `source: true` starts src/server.ts through tsx instead (the start-up benchmark's reference).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPortal } from '../../scripts/build.ts';
import { childEnv, freePort, peakRssMiB, resetPeakRss, sleep, spawnNode, spawnTs, type Child } from './processes.ts';

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

let built: Promise<unknown> | undefined;

/** Builds dist/ once per benchmark process, so that every portal it starts runs the build of the current source. */
export function ensureBuilt(): Promise<unknown> {
  return (built ??= buildPortal());
}

export interface PortalOptions {
  databaseUrl: string;
  smtpUrl: string;
  /** Given to node before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** src/server.ts through tsx instead of the build. */
  source?: boolean;
}

/** The portal's process (built unless `source`), on `port` with the benchmark's settings; not waited for. */
export async function spawnPortal(o: PortalOptions, port: number, dataDir: string): Promise<Child> {
  if (!o.source) await ensureBuilt();
  const env = childEnv({
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
  });
  const nodeArgs = o.nodeArgs ?? [];
  return o.source ? spawnTs('src/server.ts', env, { nodeArgs }) : spawnNode('dist/server.js', env, { nodeArgs });
}

export async function startPortal(o: PortalOptions): Promise<Portal> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'iryo-bench-data-'));
  const child = await spawnPortal(o, port, dataDir);
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
        if (Date.now() > end)
          throw new Error(`the outbox still holds ${ready.mail?.queued} mails after ${ms / 1000} s`);
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
