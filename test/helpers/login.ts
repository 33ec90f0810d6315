/**
 * The portal's login as the tests drive it: browsers at their own addresses (per-address counters and flood limits do
 * not mix between tests), the form posted as typed, and the generic failure text read back.
 */
import type { Client, Page, TestPortal } from './test-app.ts';

/**
 * Browsers each at the next address of `prefix`, or at `ip` when given: '192.0.2' gives 192.0.2.1, 192.0.2.2 …;
 * a two-part prefix such as '10.47' counts through 250 addresses per /24 (10.47.0.1 … 10.47.0.250, 10.47.1.1 …)
 * for files that need many. Each test file takes its own prefix.
 */
export function browsersAt(prefix: string): (p: TestPortal, ip?: string) => Client {
  let seq = 0;
  const wide = prefix.split('.').length === 2;
  return (p, ip) => {
    const n = seq++;
    const c = p.client();
    c.ip = ip ?? (wide ? `${prefix}.${Math.floor(n / 250)}.${(n % 250) + 1}` : `${prefix}.${n + 1}`);
    return c;
  };
}

/** Opens /login and posts the username and password (with the page's CSRF token). */
export async function postLogin(c: Client, username: string, password: string): Promise<Page> {
  await c.open('/login');
  return c.post('/login', { username, password });
}

/** The error alert of the login page (the generic failure text); '' when none. */
export function failureText(page: Page): string {
  const m = /<div class="alert alert--error" role="alert">([\s\S]*?)<\/div>/.exec(page.body);
  return m ? m[1]!.replace(/<[^>]+>/g, '').trim() : '';
}
