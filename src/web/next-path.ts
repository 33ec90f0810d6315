/**
 * Where a login returns to (issue 11 item 7): a protected page sends to `/login?m=loginRequired&next=<path>`, and
 * the login redirects there afterwards. Only a local path is ever followed, so that the login page cannot be used to
 * send a person elsewhere (an open redirect).
 */
import type { FastifyRequest } from 'fastify';

const MAX_LENGTH = 200;

/**
 * The value as a safe local path, or undefined. Accepted: `/` followed by a character other than `/` or `\`
 * (`//host` and `/\host` are another site to a browser), printable ASCII only (no control characters, which
 * browsers strip — `/\t/host` becomes `//host` —, and nothing a Location header cannot carry), no backslash
 * anywhere, at most 200 characters. A scheme (`https:`, `javascript:`) can only come first and is refused with it.
 * Nor a mailed link's secret (`sysparm_tiny=`, `token=`): no page behind a login needs one, and a login that opened
 * a link someone else chose would start their reset or registration in this browser (T5 keeps tokens out of URLs).
 */
export function safeNextPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length < 2 || value.length > MAX_LENGTH) return undefined;
  if (value[0] !== '/' || value[1] === '/' || value[1] === '\\') return undefined;
  if (!/^[\x21-\x7e]+$/.test(value) || value.includes('\\') || /[?&](sysparm_tiny|token)=/i.test(value))
    return undefined;
  return value;
}

/** The login page for a request that needs a session: it says so, and returns to the page asked for (a GET's own URL; after a POST, its page). */
export function loginRequiredUrl(request: FastifyRequest): string {
  const target = safeNextPath(request.method === 'GET' ? request.url : request.url.split('?')[0]);
  return `/login?m=loginRequired${target ? `&next=${encodeURIComponent(target)}` : ''}`;
}
