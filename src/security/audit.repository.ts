/**
 * The audit trail (A1, A2): append-only, each entry chained to the previous one by an HMAC-SHA-256 with the audit
 * key, which is not in the database (H10; entries chained before the key keep their SHA-256 links).
 * Never given a password, token or CAPTCHA answer: callers pass only outcomes and ids.
 */
import { sql } from 'kysely';
import type { Db, Dialect } from '../db/database.ts';
import type { AuditEntry } from '../db/schema.ts';
import { keyedLink, linkScheme, type AuditKey, type SignedHead } from './audit-key.ts';
import { randomId } from './tokens.ts';
import {
  AUDIT_CHAIN_GRACE_MS,
  chainable,
  describeRefused,
  freshSince,
  highestChainedSeq,
  unchainedAudit,
  type ChainWindow,
} from './audit-pending.repository.ts';

export interface AuditInput {
  event: string;
  outcome: string;
  userId?: string | null;
  identifier?: string | null;
  actor?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  detail?: Record<string, unknown> | null;
}

export const GENESIS = '0'.repeat(64);

type Chained = Omit<AuditEntry, 'hash' | 'prev_hash' | 'seq'>;

/** What a link covers: the entry at its place in the chain (entries from before the background chain: chain = their seq). */
export function canonicalEntry(e: Chained): string {
  return JSON.stringify([
    e.chain,
    e.id,
    e.at,
    e.event,
    e.outcome,
    e.user_id,
    e.identifier,
    e.actor,
    e.ip,
    e.user_agent,
    e.detail,
  ]);
}

/** How an entry's link was made (keyed with this key, plain SHA-256 from before the key, or neither). */
export function schemeOf(key: AuditKey, e: AuditEntry): 'keyed' | 'plain' | 'bad' {
  return linkScheme(key, e.prev_hash ?? '', canonicalEntry(e), e.hash);
}

/** The chainer's key does not link the newest entries: another AUDIT_KEY, or those entries were all altered. */
export class AuditKeyError extends Error {}

/** Unchained entries too old to be chained: reported by the chainer, never chained (possible tampering). */
export class AuditUnchainedError extends Error {}

/** How many of the newest entries the chainer checks before linking onto them. */
const KEY_CHECK_ENTRIES = 8;

/**
 * Refuses to chain with a key that did not chain the trail (a CLI started with another DATA_DIR would otherwise
 * link entries that no longer verify). The key is right when one of the newest entries is keyed with it, or when
 * every one of them predates the key; one altered entry among them does not stop the chain.
 */
function checkChainKey(key: AuditKey, newest: AuditEntry[]): void {
  const schemes = newest.map((e) => schemeOf(key, e));
  if (schemes.includes('keyed') || schemes.every((x) => x === 'plain')) return;
  throw new AuditKeyError(
    `the newest audit entries (chain ${Number(newest.at(-1)!.chain)}–${Number(newest[0]!.chain)}) are not linked with this audit key: AUDIT_KEY or DATA_DIR/audit-key is not the key the trail was chained with, or these entries were altered (run audit verify); nothing is chained until this is resolved`,
  );
}

const AUDIT_LOCK_KEY = 781_245_001;

/**
 * Appends one entry, in the caller's transaction when given one: a single INSERT that takes no lock, so that
 * audited requests never queue behind each other. The entry is chained within a moment by chainAudit.
 */
export async function appendAudit(db: Db, at: number, input: AuditInput): Promise<void> {
  await appendAudits(db, at, [input]);
}

/** Appends several entries with one INSERT (in this order). */
export async function appendAudits(db: Db, at: number, inputs: AuditInput[]): Promise<void> {
  if (inputs.length === 0) return;
  await db
    .insertInto('audit_log')
    .values(
      inputs.map((input) => ({
        id: randomId(),
        at,
        event: input.event,
        outcome: input.outcome,
        user_id: input.userId ?? null,
        identifier: input.identifier ? input.identifier.slice(0, 200) : null,
        actor: input.actor ?? null,
        ip: input.ip ?? null,
        user_agent: input.userAgent ? input.userAgent.slice(0, 300) : null,
        detail: input.detail ? JSON.stringify(input.detail) : null,
        chain: null,
        prev_hash: null,
        hash: null,
      })),
    )
    .execute();
}

/**
 * Chains up to `limit` waiting entries, in the order they were inserted, after the chain's head; returns how many.
 * Only entries within the grace window (by `at`, from `now`) and, on SQLite, after the highest chained seq are
 * chained: an older one was unchained afterwards, and chaining it would vouch for a rewrite (audit-pending).
 * One chainer at a time keeps the chain linear across instances: on PostgreSQL an advisory lock (with
 * `wait: false` another instance's chainer is left to it), on SQLite the write lock.
 */
export async function chainAudit(
  db: Db,
  dialect: Dialect,
  key: AuditKey,
  o: { limit?: number; wait?: boolean } & ChainWindow = {},
): Promise<number> {
  const since = freshSince(o);
  // Nothing waiting (the usual case between bursts): a read, no lock taken.
  if (
    !(await db
      .selectFrom('audit_log')
      .select('seq')
      .where('chain', 'is', null)
      .where('at', '>=', since)
      .limit(1)
      .executeTakeFirst())
  )
    return 0;
  return db.transaction().execute(async (trx) => {
    if (dialect === 'postgres') {
      if (o.wait) await sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`.execute(trx);
      else {
        const got = await sql<{ got: boolean }>`select pg_try_advisory_xact_lock(${AUDIT_LOCK_KEY}) as got`.execute(
          trx,
        );
        if (!got.rows[0]?.got) return 0;
      }
    } else {
      // Take the write lock before reading the head: a read-then-write transaction fails at once with SQLITE_BUSY
      // when another process (the CLI beside the server) writes in between; a write waits.
      await sql`update audit_log set chain = chain where seq = -1`.execute(trx);
    }
    const headSeq = await highestChainedSeq(trx);
    const pending = await trx
      .selectFrom('audit_log')
      .selectAll()
      .where(chainable(dialect, since, headSeq))
      .orderBy('seq')
      .limit(o.limit ?? 500)
      .execute();
    if (pending.length === 0) return 0;
    const newest = await trx
      .selectFrom('audit_log')
      .selectAll()
      .where('chain', 'is not', null)
      .orderBy('chain', 'desc')
      .limit(KEY_CHECK_ENTRIES)
      .execute();
    if (newest.length) checkChainKey(key, newest);
    const head = newest[0];
    let chain = Number(head?.chain ?? 0);
    let prev = head?.hash ?? GENESIS;
    const rows = pending.map((e) => {
      chain++;
      const hash = keyedLink(key, prev, canonicalEntry({ ...e, chain }));
      const row = { seq: e.seq, chain, prev_hash: prev, hash };
      prev = hash;
      return row;
    });
    // One statement per 200 entries (UPDATE … FROM a VALUES list works on both databases).
    for (let i = 0; i < rows.length; i += 200) {
      const part = rows.slice(i, i + 200);
      const values = sql.join(
        part.map((r) => sql`(cast(${r.seq} as bigint), cast(${r.chain} as bigint), ${r.prev_hash}, ${r.hash})`),
      );
      await sql`with v(seq, chain, prev_hash, hash) as (values ${values})
        update audit_log set chain = v.chain, prev_hash = v.prev_hash, hash = v.hash from v where audit_log.seq = v.seq`.execute(
        trx,
      );
    }
    return pending.length;
  });
}

/** Chains every entry that may still be chained (when a CLI command ends, before `audit head`, at shutdown). */
export async function chainAllAudit(db: Db, dialect: Dialect, key: AuditKey, w: ChainWindow = {}): Promise<void> {
  while ((await chainAudit(db, dialect, key, { ...w, wait: true })) > 0);
}

/** How often the chainer repeats an unchanged report of entries it refuses to chain. */
const REFUSED_REPEAT_MS = 3600_000;

export interface AuditChainer {
  start(): void;
  stop(): Promise<void>;
}

/**
 * Chains waiting entries every `everyMs` (each instance runs one; they take turns through the lock). After a round
 * that chained anything, `onHead` is told the new head, signed: written to the log, it is an anchor outside the
 * database that `audit verify --heads` checks (deleting the newest entries leaves no trace in the chain itself).
 * Before chaining, the chainer checks that the head it reported last is still there with the same hash: entries
 * whose chain columns were cleared to have them chained anew are reported through `onError`. Unchained entries too
 * old to be chained (audit-pending) are reported through `onError` when they appear or change, and once an hour.
 */
export function createAuditChainer(
  db: Db,
  dialect: Dialect,
  key: AuditKey,
  everyMs: number,
  onError: (err: unknown) => void,
  onHead?: (head: SignedHead) => void,
): AuditChainer {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let last: AuditHead | undefined;
  let keyedFrom = 0;
  let lastError: string | undefined;
  let lastErrorAt = 0;
  let refusedSeen = '';
  let refusedAt = 0;
  const reportRefused = async () => {
    const r = await unchainedAudit(db, dialect, { graceMs: AUDIT_CHAIN_GRACE_MS });
    if (r.refused === 0) {
      refusedSeen = '';
      return;
    }
    const seen = `${r.firstRefused!.seq}:${r.refused}`;
    if (seen === refusedSeen && Date.now() - refusedAt < REFUSED_REPEAT_MS) return;
    refusedSeen = seen;
    refusedAt = Date.now();
    onError(new AuditUnchainedError(describeRefused(r)));
  };
  // Batches of 100, letting requests run in between: a long batch would hold the event loop (and on SQLite the
  // database) and show in the requests' tail latency.
  const round = async () => {
    try {
      if (
        last &&
        (await db.selectFrom('audit_log').select('seq').where('chain', 'is', null).limit(1).executeTakeFirst())
      ) {
        const still = await checkAuditHead(db, last);
        if (!still.ok) {
          onError(
            new AuditKeyError(
              `the audit trail was rewound: the head chained here (chain ${last.chain}) is ${still.problem === 'missing' ? 'gone' : 'changed'}; entries after it were removed or rewritten`,
            ),
          );
          last = undefined;
        }
      }
      let chained = 0;
      for (;;) {
        const n = await chainAudit(db, dialect, key, { limit: 100 });
        chained += n;
        if (n < 100) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await reportRefused();
      if (chained > 0) {
        last = await auditHead(db);
        if (last && onHead) {
          if (keyedFrom === 0) keyedFrom = await auditKeyedFrom(db, key);
          onHead({ ...last, at: Date.now(), keyedFrom });
        }
      }
    } catch (err) {
      // The same refusal every 250 ms (a wrong key) is reported once a minute, not four times a second.
      const message = err instanceof Error ? err.message : String(err);
      if (message !== lastError || Date.now() - lastErrorAt > 60_000) onError(err);
      lastError = message;
      lastErrorAt = Date.now();
      return;
    }
    lastError = undefined;
  };
  return {
    start() {
      timer = setInterval(() => {
        if (!running)
          running = round().finally(() => {
            running = undefined;
          });
      }, everyMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      if (running) await running;
      try {
        await chainAllAudit(db, dialect, key);
      } catch (err) {
        onError(err);
      }
    },
  };
}

export interface AuditHead {
  chain: number;
  hash: string;
}

/** The newest chained entry: its place in the chain and its hash ("CHAIN:HASH" is what operators keep elsewhere). */
export async function auditHead(db: Db): Promise<AuditHead | undefined> {
  const r = await db
    .selectFrom('audit_log')
    .select(['chain', 'hash'])
    .where('chain', 'is not', null)
    .orderBy('chain', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r && r.hash ? { chain: Number(r.chain), hash: r.hash } : undefined;
}

export type HeadCheck =
  | { ok: true }
  | { ok: false; problem: 'missing'; last: number }
  | { ok: false; problem: 'different'; seq: number };

/**
 * Checks a head recorded earlier (from the log, `audit head` or the heads file): the chain must still reach it, and
 * the entry at that place must have that hash. Entries still waiting are not part of it yet.
 */
export async function checkAuditHead(db: Db, head: AuditHead): Promise<HeadCheck> {
  if (head.chain === 0) return { ok: true };
  const at = await db
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .where('chain', '=', head.chain)
    .executeTakeFirst();
  if (!at) return { ok: false, problem: 'missing', last: (await auditHead(db))?.chain ?? 0 };
  return at.hash === head.hash ? { ok: true } : { ok: false, problem: 'different', seq: at.seq };
}

/**
 * Where the keyed part of the trail begins (0: no entry is keyed yet). Keyed entries follow the plain ones, so a
 * binary search over the chain finds the first in a few reads; `audit verify` checks that nothing plain follows.
 */
export async function auditKeyedFrom(db: Db, key: AuditKey): Promise<number> {
  const at = (chain: number) =>
    db.selectFrom('audit_log').selectAll().where('chain', '>=', chain).orderBy('chain').limit(1).executeTakeFirst();
  const head = await auditHead(db);
  if (!head) return 0;
  let lo = 1;
  let hi = head.chain;
  let found = 0;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const e = await at(mid);
    if (e && schemeOf(key, e) === 'keyed') {
      found = Number(e.chain);
      hi = mid - 1;
    } else lo = mid + 1;
  }
  return found;
}

/** The head as exported: signed with the key, with the time and where the keyed entries begin. */
export async function signedAuditHead(db: Db, key: AuditKey, now: number): Promise<SignedHead> {
  const head = (await auditHead(db)) ?? { chain: 0, hash: GENESIS };
  return { ...head, at: now, keyedFrom: await auditKeyedFrom(db, key) };
}

/** Entries of one account, newest first. */
export async function listAuditForUser(db: Db, userId: string, limit = 100): Promise<AuditEntry[]> {
  return db
    .selectFrom('audit_log')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
}

export interface AuditFilter {
  userId?: string | undefined;
  /** With userId: also entries of these events typed with these (normalized) names and no account, as stage ① writes them. */
  typed?: { identifiers: string[]; events: string[] } | undefined;
  actor?: string | undefined;
  eventPrefix?: string | undefined;
  identifier?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  limit: number;
}

function escapeLike(v: string): string {
  return v.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Audit entries matching every given filter, newest first (A3). */
export async function searchAudit(db: Db, f: AuditFilter): Promise<AuditEntry[]> {
  let q = db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(f.limit);
  const typed = f.typed && f.typed.identifiers.length > 0 && f.typed.events.length > 0 ? f.typed : undefined;
  if (f.userId && typed) {
    const userId = f.userId;
    q = q.where((eb) =>
      eb.or([
        eb('user_id', '=', userId),
        eb.and([eb('user_id', 'is', null), eb('identifier', 'in', typed.identifiers), eb('event', 'in', typed.events)]),
      ]),
    );
  } else if (f.userId) q = q.where('user_id', '=', f.userId);
  // A typed % or _ matches itself (ESCAPE on SQLite too), so that 'password_reset' finds password_reset.* events.
  if (f.actor) q = q.where(sql<boolean>`actor like ${`%${escapeLike(f.actor)}%`} escape '\\'`);
  if (f.eventPrefix) q = q.where(sql<boolean>`event like ${`${escapeLike(f.eventPrefix)}%`} escape '\\'`);
  if (f.identifier) q = q.where('identifier', '=', f.identifier);
  if (f.from !== undefined) q = q.where('at', '>=', f.from);
  if (f.to !== undefined) q = q.where('at', '<', f.to);
  return q.execute();
}

/** Stage ① writes these with what was typed and no account: the console finds them by the account's names. */
export const STAGE_ONE_EVENTS = ['password_reset.captcha', 'password_reset.identified'];

/**
 * Entries of the given events whose typed identifier is one of `identifiers`, newest first: stage ① writes what was
 * typed (normalized) and no account, so that the call center finds an account's CAPTCHA failures by its names.
 */
export async function listAuditByIdentifiers(
  db: Db,
  identifiers: string[],
  events: string[],
  limit: number,
): Promise<AuditEntry[]> {
  if (identifiers.length === 0 || events.length === 0) return [];
  return db
    .selectFrom('audit_log')
    .selectAll()
    .where('identifier', 'in', identifiers)
    .where('event', 'in', events)
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
}
