/**
 * `npm run cli -- audit …` (A2, H10): print a signed head of the chain (appending it to the heads file, as the
 * scheduled export does), and verify the trail, also against heads kept outside the database.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { Db, Dialect } from '../db/database.ts';
import { formatSignedHead, type AuditKey } from '../security/audit-key.ts';
import { chainAllAudit, checkAuditHead, signedAuditHead, type AuditHead } from '../security/audit.repository.ts';
import {
  checkSignedHeads,
  verifyAudit,
  type AuditProblem,
  type HeadProblem,
} from '../security/audit-verify.repository.ts';
import { describeRefused, unchainedAudit, type UnchainedReport } from '../security/audit-pending.repository.ts';

export const AUDIT_USAGE = `  audit verify [--head CHAIN:HASH] [--heads FILE]
                               check that no audit entry was altered, removed or re-chained without the audit key,
                               and that no entry is left unchained beyond the grace window (writes nothing);
                               --heads: also that every signed head in FILE (the exported anchors) is still in the
                               trail, unchanged; --head: the same for one CHAIN:HASH (from the log)
  audit head [--append FILE]   print a signed head of the chain (one line), and append it to FILE`;

const VERIFY_USAGE =
  'Usage: audit verify [--head CHAIN:HASH] [--heads FILE] (CHAIN:HASH as logged as auditHead; FILE: signed heads, one a line, as audit head writes them)';

/** Problems printed one by one; beyond that, a count (a wrong key would otherwise name every entry). */
const SHOWN = 50;

function describeProblem(p: AuditProblem): string {
  if (p.problem === 'altered') return `Entry ${p.seq} was altered.`;
  if (p.problem === 'removed-before') return `Entries before ${p.seq} were removed.`;
  if (p.problem === 'unkeyed')
    return `Entry ${p.seq} is not keyed with the audit key although keyed entries come before it: it was re-chained without the key.`;
  return `Entry ${p.seq} does not link to the entry before it.`;
}

const when = (at: number) => new Date(at).toISOString();

/** Entries within the grace window: the portal's chainer links them within a moment (not a problem). */
function describeWaiting(u: UnchainedReport, now: number): string {
  const age = Math.max(0, Math.round((now - (u.newestWaitingAt ?? now)) / 1000));
  return `Waiting to be chained (${u.waiting} entr${u.waiting === 1 ? 'y' : 'ies'}, newest ${age}s old): the portal's chainer links them within a moment.`;
}

function describeHeadProblem(p: HeadProblem): string {
  const at = `line ${p.line}`;
  switch (p.kind) {
    case 'unsigned':
      return `Heads file ${at}: the head is not signed (anyone could have written it).`;
    case 'forged':
      return `Heads file ${at}: the signature does not match: the line was forged or altered, or signed with another audit key.`;
    case 'malformed':
      return `Heads file ${at}: an unreadable audit head.`;
    case 'missing':
      return `Heads file ${at}: the head anchored at ${when(p.head.at)} (chain ${p.head.chain}) is gone: the trail ends at ${p.last}, the entries after it were removed.`;
    case 'different':
      return `Heads file ${at}: entry ${p.seq} (chain ${p.head.chain}) differs from the head anchored at ${when(p.head.at)}: the trail was rewritten.`;
    case 'keyed-from':
      return `Heads file ${at}: the head anchored at ${when(p.head.at)} has keyed entries from chain ${p.head.keyedFrom}, the trail now from ${p.keyedFrom || 'none'}: entries were re-chained without the key.`;
    case 'went-back':
      return `Heads file ${at}: the head anchored at ${when(p.head.at)} (chain ${p.head.chain}) is behind the one anchored before it (chain ${p.before.chain}): the trail was cut back between the exports.`;
  }
}

export async function auditCommand(
  db: Db,
  dialect: Dialect,
  key: AuditKey,
  sub: string | undefined,
  args: string[],
): Promise<number> {
  if (sub === 'head') {
    const { values } = parseArgs({ args, options: { append: { type: 'string' } }, strict: true });
    await chainAllAudit(db, dialect, key);
    // The head is exported all the same (an anchor is what shows the rewrite later); the timer's log shows this.
    const u = await unchainedAudit(db, dialect);
    if (u.refused > 0) console.error(`Warning: ${describeRefused(u)}.`);
    const line = formatSignedHead(key, await signedAuditHead(db, key, Date.now()));
    // Appended before it is printed: when the file cannot be written, the export fails (exit 1, the timer shows it).
    if (values.append) {
      mkdirSync(dirname(values.append), { recursive: true });
      appendFileSync(values.append, line + '\n', { mode: 0o640 });
    }
    console.log(line);
    return 0;
  }
  if (sub !== 'verify') {
    console.error(`Unknown audit command.\n\nUsage:\n${AUDIT_USAGE}`);
    return 2;
  }
  const { values } = parseArgs({
    args,
    options: { head: { type: 'string' }, heads: { type: 'string' } },
    strict: true,
  });
  let expected: AuditHead | undefined;
  if (values.head !== undefined) {
    const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(values.head.trim());
    if (!m) {
      console.error(VERIFY_USAGE);
      return 2;
    }
    expected = { chain: Number(m[1]), hash: m[2]! };
  }
  let headsText: string | undefined;
  if (values.heads !== undefined) {
    try {
      headsText = readFileSync(values.heads, 'utf8');
    } catch (err) {
      console.error(`Cannot read ${values.heads}: ${(err as Error).message}`);
      return 1;
    }
  }

  const now = Date.now();
  const trail = await verifyAudit(db, key, now);
  const lines = trail.problems.map(describeProblem);
  if (trail.unchained.refused > 0) lines.push(`${describeRefused(trail.unchained)}.`);
  if (trail.keyedFrom === 0 && trail.problems.some((p) => p.problem === 'altered')) {
    lines.unshift(
      'No entry is linked with this audit key: AUDIT_KEY or DATA_DIR/audit-key is not the key the trail was chained with, or every keyed entry was altered.',
    );
  }
  if (expected) {
    const head = await checkAuditHead(db, expected);
    if (!head.ok) {
      lines.push(
        head.problem === 'missing'
          ? `The chain ends at ${head.last}, before the recorded head ${expected.chain}: the newest entries were removed.`
          : `Entry ${head.seq} (chain ${expected.chain}) does not have the recorded hash: the trail was rewritten.`,
      );
    }
  }
  const anchors = headsText === undefined ? undefined : await checkSignedHeads(db, key, headsText, trail);
  if (anchors) {
    lines.push(...anchors.problems.map(describeHeadProblem));
    if (anchors.heads === 0) lines.push(`Heads file ${values.heads}: no signed head in it.`);
  }
  for (const l of lines.slice(0, SHOWN)) console.error(l);
  if (trail.unchained.waiting > 0) console.log(describeWaiting(trail.unchained, now));
  if (lines.length > SHOWN) console.error(`… and ${lines.length - SHOWN} more.`);

  // Only a trail from before the upgrade has entries that are not keyed: say how many (on a new install, none).
  const plain = trail.keyedFrom ? trail.keyedFrom - 1 : trail.count;
  if (lines.length > 0) {
    console.error(`Audit trail NOT intact: ${lines.length} problem(s) in ${trail.count} entries.`);
    return 1;
  }
  let text = `Audit trail intact: ${trail.count} entries, each chained to the previous one${expected ? `, reaching the recorded head ${expected.chain}` : ''}.`;
  if (plain > 0)
    text += ` The first ${plain} were chained before the audit key (SHA-256)${trail.keyedFrom ? `; keyed from chain ${trail.keyedFrom} on` : ''}.`;
  if (anchors?.newest) {
    const after = trail.last - anchors.newest.chain;
    text += ` All ${anchors.heads} anchored head(s) are in the trail unchanged; the newest, chain ${anchors.newest.chain} at ${when(anchors.newest.at)}, is followed by ${after} entr${after === 1 ? 'y' : 'ies'} not anchored yet.`;
  }
  if (anchors?.ignored) text += ` (${anchors.ignored} line(s) without a head were skipped.)`;
  console.log(text);
  return 0;
}
