/** Whether an account is locked now (temporary lockouts end by themselves; an operator lock has no end), and by whom. */
import type { LockOrigin, User } from '../db/schema.ts';

export type LockState = 'none' | 'temporary' | 'indefinite';

export function lockStateOf(user: User, now: number): LockState {
  if (user.status !== 'locked') return 'none';
  if (user.locked_until === null) return 'indefinite';
  return user.locked_until > now ? 'temporary' : 'none';
}

/**
 * Who set the account's lock, or null when it is not locked. A lock written before locked_by existed is read as
 * the migration classifies it: with an end, failed logins; without, the command line.
 */
export function lockOriginOf(user: User): LockOrigin | null {
  if (user.status !== 'locked') return null;
  return user.locked_by ?? (user.locked_until === null ? 'cli' : 'failures');
}

/** A lock an operator set on purpose: no password reset lifts it, only an operator's unlock (S12). */
export function isOperatorLock(user: User): boolean {
  const origin = lockOriginOf(user);
  return origin !== null && origin !== 'failures';
}

/** Support may lift only locks from failed logins or from support itself; an admin's or the CLI's needs an admin (S12). */
export function supportMayUnlock(user: User): boolean {
  const origin = lockOriginOf(user);
  return origin !== 'admin' && origin !== 'cli';
}
