/** Random secrets and their one-way hashes (T1). */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A CSPRNG string over [A-Za-z0-9]; 32 characters carry about 190 bits. */
export function randomAlnum(length = 32): string {
  let out = '';
  while (out.length < length) {
    // One buffer of random bytes; bytes ≥ 248 (= 4 × 62) are skipped so that every character is equally likely.
    for (const b of secureBytes(length + 8)) {
      if (b < 248) out += ALNUM[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/**
 * CSPRNG bytes taken from a 4 KiB buffer filled at once (as crypto.randomUUID does): one call into OpenSSL per
 * hundred ids instead of one per id. Each byte is handed out once.
 */
let pool = Buffer.alloc(0);
let offset = 0;
function secureBytes(n: number): Buffer {
  if (n > 1024) return randomBytes(n);
  if (offset + n > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + n));
  pool.fill(0, offset, offset + n);
  offset += n;
  return out;
}

/** Opaque ids for rows and sessions (base64url, 128+ bits). */
export function randomId(bytes = 16): string {
  return secureBytes(bytes).toString('base64url');
}

/** SHA-256 of a secret, hex: the only form in which tokens and session ids are stored. */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** HMAC-SHA-256 with the server secret, hex. */
export function hmac(key: string, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests. */
export function sameDigest(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}

/** True for a well-formed reset token: exactly 32 letters and digits. */
export function isTokenShape(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9]{32}$/.test(value);
}
