/**
 * Verifying the audit trail (A2, H10): every link, with the audit key; then, against the signed heads exported
 * outside the database, that every anchored head is still in the trail unchanged (so nothing anchored was removed
 * or rewritten and chained anew).
 */
import { dialectOf, type Db } from '../db/database.ts';
import { parseSignedHead, type AuditKey, type SignedHead } from './audit-key.ts';
import { checkAuditHead, GENESIS, schemeOf } from './audit.repository.ts';
import { unchainedAudit, type UnchainedReport } from './audit-pending.repository.ts';

export interface AuditProblem {
  seq: number;
  /** unkeyed: a plain SHA-256 link after keyed entries: the entry was re-chained without the key. */
  problem: 'altered' | 'removed-before' | 'broken-link' | 'unkeyed';
}

export interface AuditVerification {
  count: number;
  /** Where the keyed entries begin (0: none is keyed; every entry predates the key). */
  keyedFrom: number;
  /** The newest chain position. */
  last: number;
  problems: AuditProblem[];
  /** The entries not chained: waiting within the grace window, or refused (possible tampering). */
  unchained: UnchainedReport;
}

/**
 * Walks the whole chain and names, by seq, every entry that was altered, that follows a removed one, or that is
 * not keyed although keyed entries come before it (A2, H10); then counts the unchained entries. It writes nothing:
 * chaining here would vouch for entries whose chain columns were cleared (the review's attack, H12).
 */
export async function verifyAudit(db: Db, key: AuditKey, now = Date.now()): Promise<AuditVerification> {
  const problems: AuditProblem[] = [];
  let prevHash = GENESIS;
  let prevChain = 0;
  let count = 0;
  let keyedFrom = 0;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('chain', '>', prevChain)
      .orderBy('chain')
      .limit(1000)
      .execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      count++;
      const chain = Number(r.chain);
      if (chain !== prevChain + 1) problems.push({ seq: r.seq, problem: 'removed-before' });
      else if (r.prev_hash !== prevHash) problems.push({ seq: r.seq, problem: 'broken-link' });
      const scheme = schemeOf(key, r);
      if (scheme === 'bad') problems.push({ seq: r.seq, problem: 'altered' });
      else if (scheme === 'keyed' && keyedFrom === 0) keyedFrom = chain;
      else if (scheme === 'plain' && keyedFrom !== 0) problems.push({ seq: r.seq, problem: 'unkeyed' });
      prevHash = r.hash ?? '';
      prevChain = chain;
    }
  }
  return { count, keyedFrom, last: prevChain, problems, unchained: await unchainedAudit(db, dialectOf(db), { now }) };
}

export type HeadProblem =
  | { line: number; kind: 'unsigned' | 'forged' | 'malformed' }
  | { line: number; kind: 'missing'; head: SignedHead; last: number }
  | { line: number; kind: 'different'; head: SignedHead; seq: number }
  | { line: number; kind: 'keyed-from'; head: SignedHead; keyedFrom: number }
  | { line: number; kind: 'went-back'; head: SignedHead; before: SignedHead };

export interface HeadsCheck {
  /** Signed heads read. */
  heads: number;
  /** Lines without a head (other syslog lines, comments). */
  ignored: number;
  problems: HeadProblem[];
  /** The newest anchored head (the highest chain position). */
  newest: SignedHead | undefined;
}

/**
 * Checks a file of exported heads (one signed head a line, as `audit head` writes them) against the trail, after
 * verifyAudit: each head must be signed with the key, still be in the trail with its hash, agree on where the
 * keyed entries begin, and never go back from the head exported before it.
 */
export async function checkSignedHeads(
  db: Db,
  key: AuditKey,
  text: string,
  trail: Pick<AuditVerification, 'keyedFrom'>,
): Promise<HeadsCheck> {
  const problems: HeadProblem[] = [];
  let heads = 0;
  let ignored = 0;
  let newest: SignedHead | undefined;
  let previous: SignedHead | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const parsed = parseSignedHead(key, raw);
    if (parsed.kind === 'none') {
      ignored++;
      continue;
    }
    if (parsed.kind !== 'head') {
      problems.push({ line: lineNo, kind: parsed.kind });
      continue;
    }
    const head = parsed.head;
    heads++;
    const check = await checkAuditHead(db, head);
    if (!check.ok && check.problem === 'missing')
      problems.push({ line: lineNo, kind: 'missing', head, last: check.last });
    else if (!check.ok) problems.push({ line: lineNo, kind: 'different', head, seq: check.seq });
    else if (head.keyedFrom !== 0 && head.keyedFrom !== trail.keyedFrom)
      problems.push({ line: lineNo, kind: 'keyed-from', head, keyedFrom: trail.keyedFrom });
    if (previous && head.at >= previous.at && head.chain < previous.chain)
      problems.push({ line: lineNo, kind: 'went-back', head, before: previous });
    previous = head;
    if (!newest || head.chain >= newest.chain) newest = head;
  }
  return { heads, ignored, problems, newest };
}
