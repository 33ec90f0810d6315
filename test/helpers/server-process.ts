/**
 * The real server as an operator starts it (`node --import tsx src/server.ts`), run as a child process by the tests
 * that need a real listening socket, real signals or a real heap limit (shutdown, config, mail-burst).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

/** The repository root, the child's working directory. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A port that was free a moment ago on 127.0.0.1 (the child binds it itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * The child's environment: only PATH and HOME of ours, then the test's settings, so that no setting of the machine
 * running the tests leaks into the server.
 */
export function serverEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env };
}

/** A running server: the child, everything it printed so far (stdout and stderr together) and its exit code. */
export interface ServerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts src/server.ts with the given settings; `nodeArgs` go before `--import tsx` (e.g. a heap limit). */
export function startServer(env: Record<string, string>, nodeArgs: string[] = []): ServerProcess {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: serverEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Waits until `${base}/healthz` answers 200; throws with the server's output if it exits or takes longer than `ms`. */
export async function ready(base: string, p: ServerProcess, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`the server exited: ${p.output()}`);
    if (
      await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    if (Date.now() > end) throw new Error(`the server did not start: ${p.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What a process printed on each stream, and its exit code (null when killed). */
export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `argv` in the repository root with exactly `env` to its end; `input` is piped to stdin, and after `killAfterMs`
 * a process still running is killed (only a hung one: slow machines take long).
 */
export function runToEnd(
  argv: string[],
  env: Record<string, string>,
  options: { input?: string; killAfterMs?: number } = {},
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: ROOT,
      env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer =
      options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
