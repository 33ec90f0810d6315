/**
 * The non-visual alternative to the CAPTCHA picture (W2, K2, K3): an ALTCHA proof of work (altcha-lib, PBKDF2 with
 * SHA-256) that the person's browser solves in about a second when they press the button, with no character to
 * read or hear. It hands a script nothing for free, unlike the spelled-out answer it replaces: every pass costs
 * CPU, and passes are capped per flow (one) and per address (POW_PASSES_PER_IP_PER_HOUR) in `s.counters`, which
 * Redis shares between instances. It is not proof of a human: a determined attacker with CPU passes it as often
 * as the limits let them.
 */
import { createChallenge, randomInt, verifySolution, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import type { Services } from '../services.ts';
import type { Flow } from '../db/schema.ts';
import { addressBucket } from './address-bucket.ts';
import { hmac } from './tokens.ts';

export const POW_ALGORITHM = 'PBKDF2/SHA-256';
/**
 * PBKDF2 iterations per attempt and the range of the secret counter the browser must reach: about 2000 attempts of
 * 0.3 ms each in WebCrypto, a second or so on a laptop, a few on an old phone (README, "proof of work").
 */
export const POW_COST = 500;
export const POW_COUNTER_MIN = 1000;
export const POW_COUNTER_MAX = 3000;
/** A challenge is good for 5 minutes after it was given out. */
export const POW_TTL_MS = 5 * 60_000;
const HOUR = 3600_000;
/** The largest form value accepted as a solution (a challenge and its solution, base64 JSON, are ~700 bytes). */
export const POW_FIELD_MAX = 4000;

/** Signing keys derived from the server secret and the flow: a challenge of one flow fails in any other. */
function keysOf(s: Services, flow: Pick<Flow, 'id' | 'kind'>) {
  return {
    hmacSignatureSecret: hmac(s.config.sessionSecret, `altcha-challenge:${flow.kind}:${flow.id}`),
    hmacKeySignatureSecret: hmac(s.config.sessionSecret, `altcha-key:${flow.kind}:${flow.id}`),
  };
}

const flowKey = (flow: Pick<Flow, 'id'>) => `pow:flow:${flow.id}`;
/** Per IPv4 address or IPv6 /64: the addresses of one /64 share their passes (red team item 3). */
const ipKey = (ip: string) => `pow:ip:${addressBucket(ip)}`;

/** Whether this flow or address has used up its passes: the page then says so before any work is done. */
export async function powLimited(s: Services, flow: Pick<Flow, 'id'>, ip: string): Promise<boolean> {
  const [perFlow, perIp] = await Promise.all([s.counters.peek(flowKey(flow)), s.counters.peek(ipKey(ip))]);
  return perFlow >= 1 || perIp >= s.config.powPassesPerIpPerHour;
}

/**
 * A new challenge for this flow. Deterministic mode: the server picks the counter, so checking a solution is one
 * HMAC (the derived key's signature), never a PBKDF2 run an attacker could make the server do.
 */
export async function newPowChallenge(s: Services, flow: Pick<Flow, 'id' | 'kind'>): Promise<Challenge> {
  return createChallenge({
    algorithm: POW_ALGORITHM,
    cost: POW_COST,
    counter: randomInt(POW_COUNTER_MAX, POW_COUNTER_MIN),
    deriveKey,
    expiresAt: Math.floor((s.now() + POW_TTL_MS) / 1000),
    data: { kind: flow.kind },
    ...keysOf(s, flow),
  });
}

export type PowOutcome = 'ok' | 'invalid' | 'expired' | 'replayed' | 'limited';

/**
 * Checks a solution posted with the form (`value` is base64 of `{ challenge, solution }`): signed for this flow,
 * not expired, right, never used before (a solved challenge is refused the second time, on every instance that
 * shares the counters), and within the limits of one pass per flow and a few per address per hour.
 */
export async function checkPow(
  s: Services,
  flow: Pick<Flow, 'id' | 'kind'>,
  value: string,
  ip: string,
): Promise<PowOutcome> {
  let payload: { challenge?: Challenge; solution?: { counter: number; derivedKey: string } };
  try {
    payload = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    return 'invalid';
  }
  const challenge = payload?.challenge;
  if (
    !challenge ||
    typeof challenge !== 'object' ||
    typeof challenge.parameters !== 'object' ||
    !challenge.parameters ||
    typeof challenge.signature !== 'string' ||
    challenge.parameters.algorithm !== POW_ALGORITHM ||
    typeof payload.solution !== 'object'
  )
    return 'invalid';
  // altcha-lib checks expiry against the wall clock; the portal's clock (tests move it) decides first.
  const expiresAt = challenge.parameters.expiresAt;
  if (typeof expiresAt !== 'number' || expiresAt * 1000 <= s.now()) return 'expired';
  let result;
  try {
    result = await verifySolution({ challenge, solution: payload.solution!, deriveKey, ...keysOf(s, flow) });
  } catch {
    return 'invalid';
  }
  if (result.expired) return 'expired';
  if (!result.verified) return 'invalid';
  // The nonce is random per challenge and covered by the signature: counting it makes each challenge single use.
  if ((await s.counters.hit(`pow:used:${challenge.parameters.nonce}`, POW_TTL_MS * 2)) > 1) return 'replayed';
  if ((await s.counters.hit(flowKey(flow), s.config.flowTtlMinutes * 60_000)) > 1) return 'limited';
  if ((await s.counters.hit(ipKey(ip), HOUR)) > s.config.powPassesPerIpPerHour) return 'limited';
  return 'ok';
}
