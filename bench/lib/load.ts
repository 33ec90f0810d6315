/** Load runs with autocannon: throughput and latency percentiles from every response, not autocannon's 1 ms buckets. */
import autocannon from 'autocannon';
import { quantile } from './stats.ts';

export interface LoadResult {
  connections: number;
  seconds: number;
  responses: number;
  /** Responses per second over the measured run. */
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Every response's latency (ms); dropped before the results are written. */
  latencies?: number[];
}

function loadResult(
  connections: number,
  seconds: number,
  latencies: number[],
  statuses: Record<string, number>,
  errors: number,
  timeouts: number,
): LoadResult {
  return {
    connections,
    seconds,
    responses: latencies.length,
    rps: latencies.length / seconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    statuses,
    errors,
    timeouts,
    latencies,
  };
}

/** Several runs as one: responses over the summed time, percentiles over every response of every run. */
export function combineLoads(runs: LoadResult[]): LoadResult {
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return loadResult(
    runs[0]!.connections,
    runs.reduce((a, r) => a + r.seconds, 0),
    runs.flatMap((r) => r.latencies ?? []),
    statuses,
    runs.reduce((a, r) => a + r.errors, 0),
    runs.reduce((a, r) => a + r.timeouts, 0),
  );
}

export interface LoadOptions extends autocannon.Options {
  /** Called for every response with autocannon's connection (to follow multi-request flows). */
  onEachResponse?: (client: autocannon.Client, status: number, ms: number) => void;
}

async function once(o: LoadOptions, record: boolean): Promise<LoadResult> {
  const { onEachResponse, ...options } = o;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const instance = autocannon({ timeout: 30, ...options });
  let started = process.hrtime.bigint();
  instance.once('start', () => {
    started = process.hrtime.bigint();
  });
  instance.on('response', (client: autocannon.Client, status: number, _bytes: number, ms: number) => {
    if (!record) return;
    latencies.push(ms);
    statuses[status] = (statuses[status] ?? 0) + 1;
    onEachResponse?.(client, status, ms);
  });
  const result = await instance;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return loadResult(options.connections ?? 10, seconds, latencies, statuses, result.errors, result.timeouts);
}

/** A warm-up run (JIT, connection pools, SQLite page cache), then the measured run. */
export async function runLoad(o: LoadOptions, warmupSeconds: number): Promise<LoadResult> {
  if (warmupSeconds > 0) await once({ ...o, duration: warmupSeconds }, false);
  return once(o, true);
}
