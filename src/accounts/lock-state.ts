/** Whether an account is locked now (temporary lockouts end by themselves; an operator lock has no end). */
import type { User } from '../db/schema.ts';

export type LockState = 'none' | 'temporary' | 'indefinite';

export function lockStateOf(user: User, now: number): LockState {
  if (user.status !== 'locked') return 'none';
  if (user.locked_until === null) return 'indefinite';
  return user.locked_until > now ? 'temporary' : 'none';
}
