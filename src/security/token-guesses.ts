/**
 * T6: guessing the token of a mailed link (reset, registration, change of address) is limited per address (an IPv4
 * address, an IPv6 /64: address-bucket.ts).
 * Every invalid token counts; past the limit the address gets 429 on every link for an hour.
 */
import type { Services } from '../services.ts';
import { HttpError } from '../web/errors.ts';
import { addressBucket } from './address-bucket.ts';

export const TOKEN_GUESSES_PER_IP_PER_HOUR = 30;
const HOUR = 3600_000;
const guessKey = (ip: string) => `tokenguess:ip:${addressBucket(ip)}`;

/** Throws RATE_LIMITED when this address has guessed too often. */
export async function refuseTokenGuesser(s: Services, ip: string): Promise<void> {
  if ((await s.counters.peek(guessKey(ip))) >= TOKEN_GUESSES_PER_IP_PER_HOUR) throw new HttpError('RATE_LIMITED');
}

/** Counts an invalid token against the address. */
export async function countTokenGuess(s: Services, ip: string): Promise<void> {
  await s.counters.hit(guessKey(ip), HOUR);
}
