/**
 * System-assigned ユーザー名 and ユーザーID: easy to read aloud over the telephone, with no look-alike
 * characters (no 0/o, 1/l/i, 9/g/q), unique across usernames and user IDs.
 */
import { randomInt } from 'node:crypto';
import type { Db } from '../db/database.ts';
import { isNameEverUsed } from './users.repository.ts';

const LETTERS = 'abcdefhjkmnprstuvwxyz';
const DIGITS = '2345678';

function pick(alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}

/** Username of an institution user, like "kmtr-2458": four letters, a hyphen, four digits. */
export function draftUsername(): string {
  return `${pick(LETTERS, 4)}-${pick(DIGITS, 4)}`;
}

/** User ID of a coordinator, like "t23457864": "t" (取りまとめ) and eight digits. */
export function draftUserId(): string {
  return `t${pick(DIGITS, 8)}`;
}

export async function assignUnique(db: Db, draft: () => string): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const name = draft();
    if (!(await isNameEverUsed(db, name))) return name;
  }
  throw new Error('could not assign a unique name after 20 tries');
}
