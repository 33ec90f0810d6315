/** Password hashing with argon2id (P2): m=19 MiB, t=2, p=1, no truncation, rehash when parameters change. */
import { hash, verify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';

export const ARGON2_PARAMS = { algorithm: 2 as const, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export async function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** Checks a password against a bcrypt hash imported from the old portal. */
export async function verifyLegacyPassword(stored: string, password: string): Promise<boolean> {
  if (!/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(stored)) return false;
  try {
    return await bcrypt.compare(password, stored);
  } catch {
    return false;
  }
}

/** True when the stored hash was made with other parameters than today's. */
export function needsRehash(stored: string): boolean {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
  if (!m) return true;
  return Number(m[1]) < ARGON2_PARAMS.memoryCost || Number(m[2]) < ARGON2_PARAMS.timeCost || Number(m[3]) !== ARGON2_PARAMS.parallelism;
}

let dummy: Promise<string> | undefined;

/**
 * Spends the same time as a real verification, for unknown or locked accounts (L1, R2),
 * so that timing does not tell whether an account exists.
 */
export async function burnVerification(password: string): Promise<void> {
  dummy ??= hashPassword('dummy-password-for-timing');
  await verifyPassword(await dummy, password);
}
