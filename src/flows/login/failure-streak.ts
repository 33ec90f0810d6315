/**
 * Consecutive failed logins as the login page counts them for its notice about the lockout rule (issue 11 item 2).
 *
 * The count is kept per (typed name, address bucket: an IPv4 address, an IPv6 /64), never per account: an unknown name counts exactly like an existing
 * one, so the notice appears at the same failure for both and says nothing about whether the account exists (L1).
 * The key is an HMAC, so the counter store (Redis, when shared) never holds what was typed — people sometimes type
 * their password into the username field. The account's own lockout counters (login-throttle.ts) are separate;
 * this one only decides what the page says.
 */
import type { Services } from '../../services.ts';
import { normalizeIdentifier } from '../../accounts/identity.ts';
import { addressBucket } from '../../security/address-bucket.ts';
import { hmac } from '../../security/tokens.ts';

/** A streak ends after a quiet day (a fixed window from its first failure), like a source's lock count. */
const STREAK_WINDOW_MS = 24 * 3600_000;

function streakKey(s: Services, typedName: string, ip: string): string {
  return `loginstreak:${hmac(s.config.sessionSecret, `login-streak:${addressBucket(ip)}:${normalizeIdentifier(typedName)}`).slice(0, 32)}`;
}

/** Counts one more failure of this name from this address; returns the streak so far. */
export function countFailure(s: Services, typedName: string, ip: string): Promise<number> {
  return s.counters.hit(streakKey(s, typedName, ip), STREAK_WINDOW_MS);
}

/** A successful login ends the streak of its name from its address. */
export function endStreak(s: Services, typedName: string, ip: string): Promise<void> {
  return s.counters.reset(streakKey(s, typedName, ip));
}

/**
 * From which failure on the page states the rule: the third (the issue's choice), but always before the lock
 * itself when LOCKOUT_THRESHOLD is set lower, so that the warning comes while it can still help.
 */
export function ruleShownFrom(threshold: number): number {
  return Math.max(1, Math.min(3, threshold - 1));
}
