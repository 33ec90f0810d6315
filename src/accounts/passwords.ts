/** Password hashing with argon2id (P2): m=19 MiB, t=2, p=1, no truncation, rehash when parameters change. */
import { hash, verify } from '@node-rs/argon2';
import { verify as verifyBcrypt } from '@node-rs/bcrypt';

export const ARGON2_PARAMS = { algorithm: 2 as const, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/**
 * How many verifications ran in this process: argon2id ones (`dummy` of them against the dummy hash) and bcrypt
 * ones. Lets a test count the work a login did instead of only timing it (issue 10 items 3 and 6).
 */
export const passwordWork = { argon2: 0, dummy: 0, bcrypt: 0 };

export async function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

const ARGON2_SHAPE = /^\$argon2(id|i|d)\$/;

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  passwordWork.argon2++;
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/**
 * Checks a password against a bcrypt hash imported from the old portal. @node-rs/bcrypt runs the check on libuv's
 * thread pool, so a legacy login does not stall the other requests of the process.
 */
export async function verifyLegacyPassword(stored: string, password: string): Promise<boolean> {
  passwordWork.bcrypt++;
  if (!/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(stored)) return false;
  try {
    return await verifyBcrypt(password, stored);
  } catch {
    return false;
  }
}

/** True when the stored hash was made with other parameters than today's. */
export function needsRehash(stored: string): boolean {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
  if (!m) return true;
  return (
    Number(m[1]) < ARGON2_PARAMS.memoryCost ||
    Number(m[2]) < ARGON2_PARAMS.timeCost ||
    Number(m[3]) !== ARGON2_PARAMS.parallelism
  );
}

let dummy: Promise<string> | undefined;

/**
 * Spends the same time as a real verification, for unknown or locked accounts (L1, R2),
 * so that timing does not tell whether an account exists.
 */
export async function burnVerification(password: string): Promise<void> {
  dummy ??= hashPassword('dummy-password-for-timing');
  passwordWork.dummy++;
  await verifyPassword(await dummy, password);
}

/** The hashes of an account as stored: argon2id, and the old portal's bcrypt hash until the first login. */
export interface StoredPassword {
  passwordHash: string;
  legacyHash: string | null;
}

/**
 * The password check of a login. Every failure spends exactly one argon2id verification — the real one, or the
 * dummy for an unknown, locked or throttled account (`stored` null), an account without a usable hash, or after a
 * wrong bcrypt password — so that the work done does not tell these cases apart (L1, issue 10 item 6).
 */
export async function checkLoginPassword(stored: StoredPassword | null, password: string): Promise<boolean> {
  if (stored?.legacyHash) {
    if (await verifyLegacyPassword(stored.legacyHash, password)) return true;
  } else if (stored && ARGON2_SHAPE.test(stored.passwordHash)) {
    return verifyPassword(stored.passwordHash, password);
  }
  await burnVerification(password);
  return false;
}

/** How long the slowest recent failure (a wrong bcrypt password) keeps raising the floor of the others. */
const SLOW_WINDOW_MS = 5 * 60_000;
/** An outlier (a pause of the process) must not hold every failure for long. */
const SLOW_CAP_MS = 5_000;
let slowest = { ms: 0, at: -Infinity };

/**
 * Holds a failed login's answer until `floorMs` after `startedMs` (performance.now()) — or longer, until the time the
 * slowest failure of the last minutes took: a wrong bcrypt password costs bcrypt + argon2id, the others argon2id
 * only, and under load bcrypt alone may outlast any fixed floor (issue 10 item 6). `legacy` marks such a failure.
 * The state is per process: each instance learns its own load.
 */
export async function holdFailureAnswer(startedMs: number, floorMs: number, legacy = false): Promise<void> {
  const now = performance.now();
  if (legacy) {
    const ms = Math.min(now - startedMs, SLOW_CAP_MS);
    if (ms >= slowest.ms || now - slowest.at > SLOW_WINDOW_MS) slowest = { ms, at: now };
  }
  const raised = now - slowest.at <= SLOW_WINDOW_MS ? slowest.ms : 0;
  const wait = startedMs + Math.max(floorMs, raised) - now;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
