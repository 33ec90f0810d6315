/** Rules about usernames, user IDs and e-mail addresses shared by the CLI, login and reset. */

/** Normalises what a person typed as username or user ID: full-width → half-width, trimmed, lower case. */
export function normalizeIdentifier(input: string): string {
  return input.normalize('NFKC').trim().toLowerCase();
}

export function normalizeEmail(input: string): string {
  return input.normalize('NFKC').trim().toLowerCase();
}

/** A provisional account's placeholder address ends in @01 … @48 (migrated from the old portal). */
export function isProvisionalPlaceholder(email: string): boolean {
  const m = /@(\d{2})$/.exec(email.trim());
  if (!m) return false;
  const n = Number(m[1]);
  return n >= 1 && n <= 48;
}

export function isEmailAddress(email: string): boolean {
  return (
    /^[^\s@]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(
      email,
    ) && email.length <= 254
  );
}

/**
 * What stage ② of the reset accepts as the registered address: a real one, or a provisional account's placeholder
 * (`name@07`), which is what such a user finds registered. The request then goes through like any other and sends
 * nothing (R1); refusing it as "not an e-mail address" told them nothing useful (issue 11 item 3).
 */
export function isResetAddress(email: string): boolean {
  return isEmailAddress(email) || (isProvisionalPlaceholder(email) && /^[^\s@]{1,64}@\d{2}$/.test(email));
}

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{2,63}$/;
