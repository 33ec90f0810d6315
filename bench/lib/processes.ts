/** Child processes of the benchmark: the portal, bare Fastify, the argon2id loop, the SMTP sink. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The project's root (bench/lib/../..). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A free TCP port on 127.0.0.1 (listen on 0, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** The last lines written to stdout and stderr (for error messages). */
  output(): string;
  stop(): Promise<void>;
}

interface SpawnOptions {
  ipc?: boolean;
  args?: string[];
  nodeArgs?: string[];
}

/** Runs a TypeScript file with `node --import tsx`, from the project root (the references, and the source). */
export function spawnTs(file: string, env: Record<string, string | undefined>, options: SpawnOptions = {}): Child {
  return spawnNode(file, env, { ...options, nodeArgs: [...(options.nodeArgs ?? []), '--import', 'tsx'] });
}

/** Runs a JavaScript file with plain `node` (no loader unless `nodeArgs` names one), from the project root. */
export function spawnNode(file: string, env: Record<string, string | undefined>, options: SpawnOptions = {}): Child {
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), file, ...(options.args ?? [])], {
    cwd: ROOT,
    env: env as NodeJS.ProcessEnv,
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-4000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    pid: proc.pid!,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Peak resident set size of a process so far, in MiB (VmHWM of /proc/PID/status). */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
  if (!m) throw new Error(`no VmHWM for process ${pid}`);
  return Number(m[1]) / 1024;
}

/**
 * Resets the peak RSS of a process to its current RSS (Linux: `5` to /proc/PID/clear_refs), so that each
 * benchmark reports its own peak. Returns false when the kernel refuses; the peak is then since the start.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Environment for a child: this process's, without settings that would point the portal elsewhere. */
export function childEnv(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(DATABASE_URL|REDIS_URL|SMTP_URL|BASE_URL|METRICS_TOKEN|TRUST_PROXY|PASSWORD_POLICY)$/.test(k)) delete env[k];
  }
  return { ...env, ...extra };
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}
