/**
 * The device cookie (L2): after a successful login the browser keeps a long-lived signed cookie that names the
 * accounts that logged in with it — as HMACs, never a clear id — so that the owner's own browser is not locked out
 * by failures from elsewhere. Value: `<random device id>.<mac>[.<mac>…]`, newest account first.
 */
import { hmac, randomId, sameDigest } from '../security/tokens.ts';

/** Accounts one browser remembers (a shared PC of a clinic is used by a few). */
const MAX_ACCOUNTS = 5;
export const DEVICE_COOKIE_DAYS = 365;

const SHAPE = /^[A-Za-z0-9_-]{22,64}(\.[0-9a-f]{32}){0,5}$/;

function macOf(secret: string, deviceId: string, subject: string): string {
  return hmac(secret, `device:${deviceId}:${subject}`).slice(0, 32);
}

function parse(value: string | undefined): { id: string; macs: string[] } | null {
  if (!value || !SHAPE.test(value)) return null;
  const [id, ...macs] = value.split('.');
  return { id: id!, macs };
}

/**
 * The counter key of this browser for `subject` when its cookie names that account, else null. The key is a digest
 * of the device id, so the database never holds the cookie's secret part.
 */
export function deviceSourceOf(secret: string, cookie: string | undefined, subject: string): string | null {
  const c = parse(cookie);
  if (!c) return null;
  const mac = macOf(secret, c.id, subject);
  if (!c.macs.some((m) => sameDigest(m, mac))) return null;
  return `dev:${hmac(secret, `device-source:${c.id}`).slice(0, 32)}`;
}

/** The cookie's new value after `subject` logged in with it (a new device id when there was no valid cookie). */
export function deviceCookieWith(secret: string, cookie: string | undefined, subject: string): string {
  const c = parse(cookie) ?? { id: randomId(24), macs: [] };
  const mac = macOf(secret, c.id, subject);
  const macs = [mac, ...c.macs.filter((m) => m !== mac)].slice(0, MAX_ACCOUNTS);
  return [c.id, ...macs].join('.');
}
