/** The measured scenarios: simple pages, logins, the reset stages ①+②, and the timing samples of R2. */
import type autocannon from 'autocannon';
import { randomAlnum } from '../../src/security/tokens.ts';
import type { BenchUser } from './database.ts';
import { BENCH_PASSWORD } from './database.ts';
import { cookieFrom, formBody, headerOf, send, type Csrf } from './http.ts';
import { runLoad, type LoadResult } from './load.ts';
import { CAPTCHA_ANSWER } from './portal.ts';
import { mannWhitneyU, median, quantile, shuffle } from './stats.ts';

const FORM = 'application/x-www-form-urlencoded';

export interface Durations {
  seconds: number;
  warmup: number;
}

/** GET of one page by first-time visitors (no cookie). */
export function benchGet(base: string, path: string, connections: number, d: Durations): Promise<LoadResult> {
  return runLoad({ url: `${base}${path}`, connections, duration: d.seconds }, d.warmup);
}

/** POST /login with the right password, the accounts taken in turn; every answer must be 303 → /csm. */
export function benchLogin(
  base: string,
  csrf: Csrf,
  users: BenchUser[],
  connections: number,
  d: Durations,
): Promise<LoadResult> {
  let next = 0;
  const request: autocannon.Request = {
    method: 'POST',
    path: '/login',
    headers: { cookie: csrf.cookie, 'content-type': FORM },
    setupRequest: (req) => {
      const u = users[next++ % users.length]!;
      return { ...req, body: formBody({ username: u.username, password: BENCH_PASSWORD, _csrf: csrf.token }) };
    },
  };
  return runLoad({ url: base, connections, duration: d.seconds, requests: [request] }, d.warmup);
}

export interface ResetResult {
  connections: number;
  seconds: number;
  /** Complete ①+② submissions per second (each also started its flow with GET /password-reset). */
  resetsPerSecond: number;
  resets: number;
  /** Latency of the pair: stage ① response time + stage ② response time, same connection, same flow. */
  p50: number;
  p99: number;
  /** HTTP requests per second, all three kinds. */
  httpRps: number;
  statuses: { start: Record<string, number>; identify: Record<string, number>; verify: Record<string, number> };
  errors: number;
}

/**
 * Each connection is a new browser per reset: GET /password-reset (303 with the flow id and the browser key),
 * POST stage ① (username, CAPTCHA), POST stage ② (the account's address). The accounts are taken in turn so
 * that every request takes the "mail queued" path (checked afterwards in the audit trail).
 */
export async function benchReset(
  base: string,
  csrf: Csrf,
  users: BenchUser[],
  connections: number,
  d: Durations,
): Promise<ResetResult> {
  let next = 0;
  const statuses: ResetResult['statuses'] = { start: {}, identify: {}, verify: {} };
  const count = (m: Record<string, number>, s: number) => {
    m[s] = (m[s] ?? 0) + 1;
  };
  const requests: autocannon.Request[] = [
    {
      method: 'GET',
      path: '/password-reset',
      onResponse: (_status, _body, ctx, headers) => {
        ctx.flow = /[?&]flow=([A-Za-z0-9]{32})/.exec(headerOf(headers, 'location') ?? '')?.[1];
        ctx.bk = cookieFrom(headers, 'bk');
      },
    },
    {
      method: 'POST',
      headers: { 'content-type': FORM },
      setupRequest: (req, ctx) => {
        if (typeof ctx.flow !== 'string' || typeof ctx.bk !== 'string') return null;
        const u = users[next++ % users.length]!;
        ctx.email = u.email;
        return {
          ...req,
          path: `/password-reset?flow=${ctx.flow}`,
          headers: { ...req.headers, cookie: `${csrf.cookie}; ${ctx.bk}` },
          body: formBody({
            stage: 'identify',
            action: 'next',
            username: u.username,
            captcha: CAPTCHA_ANSWER,
            _csrf: csrf.token,
          }),
        };
      },
    },
    {
      method: 'POST',
      headers: { 'content-type': FORM },
      setupRequest: (req, ctx) => ({
        ...req,
        path: `/password-reset?flow=${String(ctx.flow)}`,
        headers: { ...req.headers, cookie: `${csrf.cookie}; ${String(ctx.bk)}` },
        body: formBody({ stage: 'verify', action: 'next', email: String(ctx.email), _csrf: csrf.token }),
      }),
    },
  ];
  const pending = new WeakMap<object, number>();
  const pairs: number[] = [];
  const load = await runLoad(
    {
      url: base,
      connections,
      duration: d.seconds,
      requests,
      onEachResponse: (client, status, ms) => {
        const step = client.requestIterator.currentRequestIndex;
        if (step === 0) count(statuses.start, status);
        else if (step === 1) {
          count(statuses.identify, status);
          if (status === 303) pending.set(client, ms);
        } else {
          count(statuses.verify, status);
          const first = pending.get(client);
          pending.delete(client);
          if (status === 303 && first !== undefined) pairs.push(first + ms);
        }
      },
    },
    d.warmup,
  );
  return {
    connections,
    seconds: load.seconds,
    resetsPerSecond: pairs.length / load.seconds,
    resets: pairs.length,
    p50: quantile(pairs, 0.5),
    p99: quantile(pairs, 0.99),
    httpRps: load.rps,
    statuses,
    errors: load.errors + load.timeouts,
  };
}

export interface TimingComparison {
  samples: number;
  existingMedian: number;
  unknownMedian: number;
  /** existing − unknown, ms. */
  difference: number;
  p: number;
  existingP99: number;
  unknownP99: number;
  statuses: { existing: Record<string, number>; unknown: Record<string, number> };
}

function compare(existing: number[], unknown: number[], statuses: TimingComparison['statuses']): TimingComparison {
  const existingMedian = median(existing);
  const unknownMedian = median(unknown);
  return {
    samples: existing.length,
    existingMedian,
    unknownMedian,
    difference: existingMedian - unknownMedian,
    p: mannWhitneyU(existing, unknown).p,
    existingP99: quantile(existing, 0.99),
    unknownP99: quantile(unknown, 0.99),
    statuses,
  };
}

function kinds(n: number): Array<'existing' | 'unknown'> {
  return shuffle([...Array<'existing'>(n).fill('existing'), ...Array<'unknown'>(n).fill('unknown')]);
}

/**
 * R2 on stage ②: `n` requests for existing accounts (right address: a mail is queued) and `n` for unknown
 * usernames, one at a time in random order; only the stage-② POST is timed.
 */
export async function sampleResetTiming(
  base: string,
  csrf: Csrf,
  users: BenchUser[],
  n: number,
): Promise<TimingComparison> {
  const first = await send(base, 'GET', '/password-reset', { cookie: csrf.cookie });
  const bk = cookieFrom(first.headers as Record<string, unknown>, 'bk');
  if (!bk) throw new Error('GET /password-reset set no browser key');
  const cookie = `${csrf.cookie}; ${bk}`;
  const times = { existing: [] as number[], unknown: [] as number[] };
  const statuses: TimingComparison['statuses'] = { existing: {}, unknown: {} };
  let i = 0;
  for (const kind of kinds(n)) {
    const u =
      kind === 'existing'
        ? users[i++ % users.length]!
        : { username: `nobody-${randomAlnum(8).toLowerCase()}`, email: '' };
    const email = kind === 'existing' ? u.email : `${u.username}@example.jp`;
    const start = await send(base, 'GET', '/password-reset', { cookie });
    const flow = /[?&]flow=([A-Za-z0-9]{32})/.exec(String(start.headers.location ?? ''))?.[1];
    if (!flow) throw new Error(`GET /password-reset: ${start.status} without a flow`);
    const path = `/password-reset?flow=${flow}`;
    const identify = await send(base, 'POST', path, {
      cookie,
      form: { stage: 'identify', action: 'next', username: u.username, captcha: CAPTCHA_ANSWER, _csrf: csrf.token },
    });
    if (identify.status !== 303) throw new Error(`stage ①: ${identify.status}`);
    const verify = await send(base, 'POST', path, {
      cookie,
      form: { stage: 'verify', action: 'next', email, _csrf: csrf.token },
    });
    statuses[kind][verify.status] = (statuses[kind][verify.status] ?? 0) + 1;
    times[kind].push(verify.ms);
  }
  return compare(times.existing, times.unknown, statuses);
}

/** R2/L1 on POST /login: a wrong password for existing accounts against unknown usernames, random order. */
export async function sampleLoginTiming(
  base: string,
  csrf: Csrf,
  users: BenchUser[],
  n: number,
): Promise<TimingComparison> {
  const times = { existing: [] as number[], unknown: [] as number[] };
  const statuses: TimingComparison['statuses'] = { existing: {}, unknown: {} };
  let i = 0;
  for (const kind of kinds(n)) {
    const username =
      kind === 'existing' ? users[i++ % users.length]!.username : `nobody-${randomAlnum(8).toLowerCase()}`;
    const res = await send(base, 'POST', '/login', {
      cookie: csrf.cookie,
      form: { username, password: 'Wrong-Pass-2026', _csrf: csrf.token },
    });
    statuses[kind][res.status] = (statuses[kind][res.status] ?? 0) + 1;
    times[kind].push(res.ms);
  }
  return compare(times.existing, times.unknown, statuses);
}
