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
  return /^[^\s@]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(email) && email.length <= 254;
}

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{2,63}$/;
