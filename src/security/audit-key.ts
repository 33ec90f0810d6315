/**
 * The audit trail's key (H10): the links of the chain are HMAC-SHA-256 with a key that is not in the database
 * (AUDIT_KEY, or DATA_DIR/audit-key), so that whoever can write the database cannot rewrite entries and re-chain
 * them. Signed heads, exported on a schedule, anchor the chain outside the database. No SQL here.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Two keys derived from the one secret: a head's signature is never a valid link, nor the other way round. */
export interface AuditKey {
  readonly link: Buffer;
  readonly head: Buffer;
}

/** Derives the link and head keys from the configured secret (AUDIT_KEY or the audit-key file). */
export function auditKeyFrom(secret: string): AuditKey {
  const derive = (purpose: string) =>
    createHmac('sha256', secret).update(`iryo-portal audit ${purpose}`, 'utf8').digest();
  return { link: derive('link v1'), head: derive('head v1') };
}

/** The link of an entry chained with the key: HMAC-SHA-256 over the previous hash and the entry. */
export function keyedLink(key: AuditKey, prev: string, canonical: string): string {
  return createHmac('sha256', key.link)
    .update(prev + '\n' + canonical, 'utf8')
    .digest('hex');
}

/** The link of an entry chained before the audit key existed (plain SHA-256): still verified, never written. */
export function plainLink(prev: string, canonical: string): string {
  return createHash('sha256')
    .update(prev + '\n' + canonical, 'utf8')
    .digest('hex');
}

/** How an entry's stored hash was made: with this key, plain SHA-256 (before the key), or neither. */
export function linkScheme(
  key: AuditKey,
  prev: string,
  canonical: string,
  hash: string | null,
): 'keyed' | 'plain' | 'bad' {
  if (hash === null) return 'bad';
  if (sameHex(keyedLink(key, prev, canonical), hash)) return 'keyed';
  return plainLink(prev, canonical) === hash ? 'plain' : 'bad';
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * A head of the chain as exported: its place, its hash, when it was taken, and where the keyed part of the trail
 * begins (0 while every entry predates the key): a later re-chaining of the keyed entries with plain SHA-256
 * shows as a different keyed-from.
 */
export interface SignedHead {
  chain: number;
  hash: string;
  at: number;
  keyedFrom: number;
}

const MARK = 'iryo-audit-head v1';
const LINE =
  /iryo-audit-head v1 chain=(\d{1,15}) hash=([0-9a-f]{64}) at=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z) keyed-from=(\d{1,15})(?: sig=([0-9a-f]{64}))?/;

function signature(key: AuditKey, body: string): string {
  return createHmac('sha256', key.head).update(body, 'utf8').digest('hex');
}

/** One line: `iryo-audit-head v1 chain=… hash=… at=… keyed-from=… sig=…` (what the timer appends to the heads file). */
export function formatSignedHead(key: AuditKey, h: SignedHead): string {
  const body = `${MARK} chain=${h.chain} hash=${h.hash} at=${new Date(h.at).toISOString()} keyed-from=${h.keyedFrom}`;
  return `${body} sig=${signature(key, body)}`;
}

export type HeadLine =
  | { kind: 'head'; head: SignedHead }
  /** No head on the line (a syslog or journal line about something else). */
  | { kind: 'none' }
  /** A head without a signature (also a bare CHAIN:HASH): anyone could have written it. */
  | { kind: 'unsigned' }
  /** A signature that this key did not make: forged, or written with another key. */
  | { kind: 'forged' }
  | { kind: 'malformed' };

/** Reads one line of a heads file; the head may follow a prefix (syslog: time, host, tag). */
export function parseSignedHead(key: AuditKey, line: string): HeadLine {
  if (!line.includes(MARK)) return /^\s*\d{1,15}:[0-9a-f]{64}\s*$/.test(line) ? { kind: 'unsigned' } : { kind: 'none' };
  const m = LINE.exec(line);
  if (!m) return { kind: 'malformed' };
  if (!m[5]) return { kind: 'unsigned' };
  const body = m[0].slice(0, m[0].length - ' sig='.length - 64);
  if (!sameHex(signature(key, body), m[5])) return { kind: 'forged' };
  return { kind: 'head', head: { chain: Number(m[1]), hash: m[2]!, at: Date.parse(m[3]!), keyedFrom: Number(m[4]) } };
}
