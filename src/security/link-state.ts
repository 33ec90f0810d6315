/** The life of a mailed link's token, the same for reset tokens and e-mail verifications. */
export type LinkState = 'valid' | 'expired' | 'used' | 'cancelled' | 'invalid';

export function linkStateOf(
  token: { expires_at: number; used_at: number | null; cancelled_at: number | null } | undefined,
  now: number,
): LinkState {
  if (!token) return 'invalid';
  if (token.used_at !== null) return 'used';
  if (token.cancelled_at !== null) return 'cancelled';
  if (token.expires_at <= now) return 'expired';
  return 'valid';
}
