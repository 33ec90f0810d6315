/**
 * Import of accounts from the old portal (CSV). Every row is checked first; each rejected row is reported
 * with its line number and reason; the rest are written in transactions. Running it again changes nothing.
 *
 * Columns (header line required, UTF-8, comma-separated, RFC 4180 quotes):
 *   institution_code,institution_name,contact_name,email,username,password_bcrypt
 * `email` may be a provisional placeholder ending in @01 … @48; `password_bcrypt` may be empty.
 */
import type { Db } from '../db/database.ts';
import type { User } from '../db/schema.ts';
import { appendAudit } from '../security/audit.repository.ts';
import { randomId } from '../security/tokens.ts';
import { isEmailAddress, isProvisionalPlaceholder, normalizeIdentifier, USERNAME_PATTERN } from './identity.ts';
import { normalizeInstitutionCode, validateInstitutionCode } from './institution-code.ts';
import { findInstitutionAccount, findUserByAnyName, insertUser } from './users.repository.ts';

export const LEGACY_COLUMNS = [
  'institution_code',
  'institution_name',
  'contact_name',
  'email',
  'username',
  'password_bcrypt',
] as const;

export interface ImportReport {
  rows: number;
  imported: number;
  provisional: number;
  unchanged: number;
  rejected: Array<{ line: number; reason: string }>;
}

/** Splits CSV text into records with the line on which each starts; a broken quote is an error of that line. */
export function parseCsv(text: string): Array<{ line: number; fields: string[] } | { line: number; error: string }> {
  const out: Array<{ line: number; fields: string[] } | { line: number; error: string }> = [];
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  let i = 0;
  let line = 1;
  while (i < src.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let broken: string | undefined;
    for (;;) {
      if (i >= src.length) {
        if (quoted) broken = 'a quoted field is not closed';
        fields.push(field);
        break;
      }
      const c = src[i]!;
      if (quoted) {
        if (c === '"' && src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        if (c === '"') {
          quoted = false;
          i++;
          continue;
        }
        if (c === '\n') line++;
        field += c;
        i++;
        continue;
      }
      if (c === '"' && field === '') {
        quoted = true;
        i++;
        continue;
      }
      if (c === '"') {
        broken = 'a quote inside an unquoted field';
      }
      if (c === ',') {
        fields.push(field);
        field = '';
        i++;
        continue;
      }
      if (c === '\n') {
        fields.push(field);
        i++;
        line++;
        break;
      }
      field += c;
      i++;
    }
    if (fields.length === 1 && fields[0] === '' && !broken) continue;
    out.push(broken ? { line: start, error: broken } : { line: start, fields });
  }
  return out;
}

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

export async function importLegacyCsv(db: Db, text: string, now: number): Promise<ImportReport> {
  const records = parseCsv(text);
  const report: ImportReport = { rows: 0, imported: 0, provisional: 0, unchanged: 0, rejected: [] };
  const header = records.shift();
  if (
    !header ||
    'error' in header ||
    header.fields.map((f) => f.trim().toLowerCase()).join(',') !== LEGACY_COLUMNS.join(',')
  ) {
    report.rejected.push({ line: 1, reason: `the first line must be the header ${LEGACY_COLUMNS.join(',')}` });
    return report;
  }
  const seenUsernames = new Set<string>();
  const seenCodes = new Set<string>();
  const accepted: Array<{ line: number; user: User }> = [];
  for (const rec of records) {
    report.rows++;
    const reject = (reason: string) => report.rejected.push({ line: rec.line, reason });
    if ('error' in rec) {
      reject(`malformed line: ${rec.error}`);
      continue;
    }
    if (rec.fields.length !== LEGACY_COLUMNS.length) {
      reject(`expected ${LEGACY_COLUMNS.length} columns, found ${rec.fields.length}`);
      continue;
    }
    const [rawCode, name, contact, rawEmail, rawUsername, bcryptHash] = rec.fields.map((f) => f.trim()) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const code = normalizeInstitutionCode(rawCode);
    const problems = validateInstitutionCode(code);
    if (problems.length) {
      reject(`institution code "${rawCode}" is not valid (${problems.join(', ')})`);
      continue;
    }
    if (!name) {
      reject('institution_name is empty');
      continue;
    }
    if (!contact) {
      reject('contact_name is empty');
      continue;
    }
    const provisional = isProvisionalPlaceholder(rawEmail);
    if (!provisional && !isEmailAddress(rawEmail)) {
      reject(`email "${rawEmail}" is neither an address nor a placeholder ending in @01 … @48`);
      continue;
    }
    const username = normalizeIdentifier(rawUsername);
    if (!USERNAME_PATTERN.test(username)) {
      reject(`username "${rawUsername}" must be 3–64 characters: letters, digits, ".", "_" or "-"`);
      continue;
    }
    if (bcryptHash && !BCRYPT.test(bcryptHash)) {
      reject('password_bcrypt is not a bcrypt hash');
      continue;
    }
    if (seenUsernames.has(username)) {
      reject(`username "${username}" appears on an earlier line`);
      continue;
    }
    if (seenCodes.has(code)) {
      reject(`institution code ${code} appears on an earlier line`);
      continue;
    }
    const existing = await findUserByAnyName(db, username);
    if (existing) {
      if (existing.username === username && existing.institution_code === code) {
        report.unchanged++;
        seenUsernames.add(username);
        seenCodes.add(code);
        continue;
      }
      reject(`username "${username}" is already used by another account`);
      continue;
    }
    if (await findInstitutionAccount(db, code)) {
      reject(`institution code ${code} already has an account`);
      continue;
    }
    seenUsernames.add(username);
    seenCodes.add(code);
    accepted.push({
      line: rec.line,
      user: {
        id: randomId(),
        username,
        user_id: null,
        account_type: 'institution',
        email: rawEmail,
        display_name: contact,
        institution_code: code,
        status: provisional ? 'provisional' : 'active',
        password_hash: '',
        failed_logins: 0,
        locked_until: null,
        created_at: now,
        updated_at: now,
        password_changed_at: now,
        institution_name: name,
        phone: null,
        legacy_hash: bcryptHash || null,
        email_verified_at: null,
      },
    });
  }
  for (let i = 0; i < accepted.length; i += 500) {
    const chunk = accepted.slice(i, i + 500);
    try {
      await db.transaction().execute(async (trx) => {
        for (const { user } of chunk) {
          await insertUser(trx, user);
          await appendAudit(trx, now, {
            event: 'user.imported',
            outcome: user.status,
            userId: user.id,
            actor: 'cli',
            detail: { institutionCode: user.institution_code, legacyPassword: user.legacy_hash !== null },
          });
        }
      });
      report.imported += chunk.length;
      report.provisional += chunk.filter((c) => c.user.status === 'provisional').length;
    } catch (err) {
      for (const { line } of chunk) report.rejected.push({ line, reason: `not written: ${(err as Error).message}` });
    }
  }
  report.rejected.sort((a, b) => a.line - b.line);
  return report;
}
