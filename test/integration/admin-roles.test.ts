/**
 * The operators' console is its own part of the app (issue 4 §1), on every database target: every console route,
 * GET and POST, × {anonymous, portal user, サポート, 編集者, 管理者} gives the login page, the 403 page or the
 * screen; a refusal changes nothing and is audited; operator login, logout, lockout, idle timeout and the
 * session cookie (L1–L5, A1).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ja } from '../../src/web/i18n/ja.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { GOOD_PASSWORD, startTestPortal, type Client, type Page, type TestPortal } from '../helpers/test-app.ts';
import { logIn } from '../helpers/accounts.ts';
import {
  auditRows,
  consoleAs,
  createOperator,
  detailOf,
  operatorLogin,
  type Role,
  type TestOperator,
} from '../helpers/operators.ts';

type Principal = 'anonymous' | 'portal user' | Role;

interface Route {
  method: 'GET' | 'POST';
  path: (f: Fixture) => string;
  fields?: Record<string, string>;
  roles: Role[];
  /** What the allowed roles get: a status, and for a 303 its Location. */
  ok: number;
  location?: string | RegExp;
}

interface Fixture {
  userId: string;
}

const NEWS_FIELDS = {
  title_ja: '境界テスト',
  title_en: 'Boundary',
  body_ja: '本文',
  body_en: 'Body',
  category: 'general',
  importance: 'normal',
  publish_at: '2026-01-01T09:00',
  end_at: '',
  action: 'preview',
};
const FAQ_FIELDS = {
  category: 'password',
  sort_order: '10',
  question_ja: '質問',
  answer_ja: '回答',
  question_en: 'Q',
  answer_en: 'A',
  action: 'preview',
};
const PAGE_FIELDS = {
  title_ja: 'お問い合わせ先',
  title_en: 'Contact',
  body_ja: '本文',
  body_en: 'Body',
  action: 'preview',
};
const SUPPORT: Role[] = ['admin', 'support'];
const EDITOR: Role[] = ['admin', 'editor'];
const ALL: Role[] = ['admin', 'support', 'editor'];

/** Every route of the console but login and logout (tested on their own below). */
const ROUTES: Route[] = [
  { method: 'GET', path: () => '/admin', roles: ALL, ok: 200 },
  { method: 'GET', path: () => '/admin/users?q=rb-', roles: SUPPORT, ok: 200 },
  { method: 'GET', path: (f) => `/admin/users/${f.userId}`, roles: SUPPORT, ok: 200 },
  {
    method: 'POST',
    path: (f) => `/admin/users/${f.userId}/unlock`,
    fields: { reason: '境界テスト' },
    roles: SUPPORT,
    ok: 200,
  },
  {
    method: 'POST',
    path: (f) => `/admin/users/${f.userId}/send-reset`,
    fields: { reason: '境界テスト' },
    roles: SUPPORT,
    ok: 200,
  },
  {
    method: 'POST',
    path: (f) => `/admin/users/${f.userId}/mark-email-wrong`,
    fields: { reason: '境界テスト' },
    roles: SUPPORT,
    ok: 200,
  },
  { method: 'GET', path: () => '/admin/registration-cases', roles: SUPPORT, ok: 200 },
  { method: 'GET', path: () => '/admin/mail', roles: SUPPORT, ok: 200 },
  {
    method: 'POST',
    path: () => '/admin/mail/retry',
    roles: SUPPORT,
    ok: 303,
    location: /^\/admin\/mail\?retried=\d+$/,
  },
  {
    method: 'POST',
    path: () => '/admin/mail/no-such-mail/retry',
    roles: SUPPORT,
    ok: 303,
    location: '/admin/mail?retried=0',
  },
  { method: 'GET', path: () => '/admin/audit', roles: SUPPORT, ok: 200 },
  { method: 'GET', path: () => '/admin/audit.csv', roles: SUPPORT, ok: 200 },
  { method: 'GET', path: () => '/admin/news', roles: EDITOR, ok: 200 },
  { method: 'GET', path: () => '/admin/news/new', roles: EDITOR, ok: 200 },
  { method: 'GET', path: () => '/admin/news/seed-news-1', roles: EDITOR, ok: 200 },
  { method: 'POST', path: () => '/admin/news/new', fields: NEWS_FIELDS, roles: EDITOR, ok: 200 },
  { method: 'POST', path: () => '/admin/news/seed-news-1', fields: NEWS_FIELDS, roles: EDITOR, ok: 200 },
  { method: 'GET', path: () => '/admin/faq', roles: EDITOR, ok: 200 },
  { method: 'GET', path: () => '/admin/faq/new', roles: EDITOR, ok: 200 },
  { method: 'GET', path: () => '/admin/faq/seed-faq-1', roles: EDITOR, ok: 200 },
  { method: 'POST', path: () => '/admin/faq/new', fields: FAQ_FIELDS, roles: EDITOR, ok: 200 },
  { method: 'POST', path: () => '/admin/faq/seed-faq-1', fields: FAQ_FIELDS, roles: EDITOR, ok: 200 },
  { method: 'GET', path: () => '/admin/pages', roles: EDITOR, ok: 200 },
  { method: 'GET', path: () => '/admin/pages/contact', roles: EDITOR, ok: 200 },
  { method: 'POST', path: () => '/admin/pages/contact', fields: PAGE_FIELDS, roles: EDITOR, ok: 200 },
];

/** Audit events that mean a console action took effect (a refusal must add none). */
const EFFECTS = /^(support\.|content\.|audit\.exported)/;

let ipSeq = 0;
const nextIp = () => `10.44.${Math.floor(ipSeq / 250)}.${(ipSeq++ % 250) + 1}`;

const targets = await dbTargets();
for (const target of targets) {
  describe(`console role boundaries [${target}]`, () => {
    let p: TestPortal;
    const ops = {} as Record<Role, TestOperator>;
    before(async () => {
      p = await startTestPortal(target);
      for (const role of ALL) ops[role] = await createOperator(p, role, `rb-${role}`, `境界${role}`);
    });
    after(async () => {
      await p.close();
    });

    async function effects(): Promise<number> {
      return (await auditRows(p)).filter((r) => EFFECTS.test(r.event)).length;
    }

    async function request(c: Client, route: Route, f: Fixture): Promise<Page> {
      return route.method === 'GET' ? c.get(route.path(f)) : c.post(route.path(f), route.fields ?? {});
    }

    /** A client as `who`, holding a valid CSRF token so that only the role decides. */
    async function clientAs(who: Principal): Promise<Client> {
      if (who === 'anonymous') {
        const c = p.client();
        c.ip = nextIp();
        await c.get('/admin/login');
        return c;
      }
      if (who === 'portal user') {
        const username = `rb-portal-${ipSeq}`;
        await p.createUser({ username });
        const c = p.client();
        c.ip = nextIp();
        const landed = await logIn(c, username, GOOD_PASSWORD);
        assert.ok(landed.text.includes(ja['nav.logout']), 'the portal user is logged in to the portal');
        return c;
      }
      return consoleAs(p, ops[who], nextIp());
    }

    for (const who of ['anonymous', 'portal user', 'support', 'editor', 'admin'] as const) {
      test(`issue4-1 L5 A1: every console route as ${who} → ${who === 'anonymous' || who === 'portal user' ? '303 to the console login' : 'its screen, or 403 for another role'}; a refusal changes nothing`, async () => {
        const user = await p.createUser({
          username: `rb-${who.replace(' ', '-')}-target`,
          email: `rb-${who.replace(' ', '-')}@example.jp`,
        });
        // One failed login: something for the unlock route to clear (it refuses an account with nothing to clear).
        await p.database.db.updateTable('users').set({ failed_logins: 1 }).where('id', '=', user.id).execute();
        const f: Fixture = { userId: user.id };
        const c = await clientAs(who);
        const wrong: string[] = [];
        for (const route of ROUTES) {
          const label = `${route.method} ${route.path(f)}`;
          const before = await effects();
          const forbiddenBefore = (await auditRows(p, 'admin.forbidden')).length;
          const page = await request(c, route, f);
          if (who === 'anonymous' || who === 'portal user') {
            if (page.status !== 303 || page.location !== '/admin/login')
              wrong.push(`${label}: ${page.status} ${page.location ?? ''}`);
            if ((await effects()) !== before) wrong.push(`${label}: had an effect`);
          } else if (route.roles.includes(who)) {
            if (page.status !== route.ok) wrong.push(`${label}: ${page.status}, expected ${route.ok}`);
            if (
              route.location &&
              !(typeof route.location === 'string'
                ? page.location === route.location
                : route.location.test(page.location ?? ''))
            )
              wrong.push(`${label}: Location ${page.location}`);
            if (page.status === 200 && route.path(f).endsWith('.csv'))
              assert.match(String(page.headers['content-type']), /^text\/csv/);
            else if (page.status === 200 && !page.text.includes(ops[who].displayName))
              wrong.push(`${label}: the console frame with the operator's name is missing`);
          } else {
            if (page.status !== 403 || !page.text.includes(ja['admin.forbidden']))
              wrong.push(`${label}: ${page.status}, expected 403 「${ja['admin.forbidden']}」`);
            if ((await effects()) !== before) wrong.push(`${label}: had an effect`);
            const refused = (await auditRows(p, 'admin.forbidden')).slice(forbiddenBefore);
            if (
              refused.length !== 1 ||
              refused[0]!.actor !== `operator:${ops[who].username}` ||
              detailOf(refused[0]!).url !== route.path(f).split('?')[0] ||
              refused[0]!.ip !== c.ip
            ) {
              wrong.push(`${label}: the refusal is not audited as admin.forbidden by operator:${ops[who].username}`);
            }
          }
        }
        assert.deepEqual(wrong, []);
        // A refused principal left the account as it was; an allowed one did what it asked.
        const row = await p.database.db
          .selectFrom('users')
          .select('status')
          .where('id', '=', user.id)
          .executeTakeFirstOrThrow();
        assert.equal(row.status, who === 'admin' || who === 'support' ? 'provisional' : 'active');
      });
    }

    test('issue4-1: the menu lists only what the role may use', async () => {
      const links = (page: Page) =>
        [...page.body.matchAll(/<nav class="header__nav"[\s\S]*?<\/nav>/g)].flatMap((n) =>
          [...n[0].matchAll(/<a href="([^"]+)"/g)].map((m) => m[1]),
        );
      const expected: Record<Role, string[]> = {
        support: ['/admin/users', '/admin/registration-cases', '/admin/mail', '/admin/audit'],
        editor: ['/admin/news', '/admin/faq', '/admin/pages'],
        admin: [
          '/admin/users',
          '/admin/registration-cases',
          '/admin/mail',
          '/admin/audit',
          '/admin/news',
          '/admin/faq',
          '/admin/pages',
        ],
      };
      for (const role of ALL) {
        const c = await consoleAs(p, ops[role]);
        const home = await c.get('/admin');
        assert.deepEqual(links(home), expected[role], role);
        assert.ok(
          home.text.includes(
            ja['admin.operator'].replace('{name}', ops[role].displayName).replace('{role}', ja[`admin.role.${role}`]),
          ),
          role,
        );
      }
    });

    test('L1 A1: a wrong password and an unknown operator get the same 401 page; portal credentials do not open the console, nor operator ones the portal', async () => {
      await p.createUser({ username: 'rb-cross' });
      const logins = (await auditRows(p, 'admin.login')).length;
      const pages: Page[] = [];
      for (const [username, password] of [
        [ops.support.username, 'Wrong-Pass-2026!'],
        ['no-such-operator', 'Wrong-Pass-2026!'],
        ['rb-cross', GOOD_PASSWORD],
      ] as const) {
        const c = p.client();
        c.ip = nextIp();
        const r = await operatorLogin(c, username, password);
        assert.equal(r.status, 401, username);
        assert.ok(r.text.includes(ja['admin.login.failed']), username);
        assert.equal(
          [...c.cookies.keys()].some((k) => k.endsWith('asid')),
          false,
          'no console session',
        );
        pages.push(r);
      }
      assert.equal(pages[0]!.text.replace(ops.support.username, 'X'), pages[1]!.text.replace('no-such-operator', 'X'));
      const outcomes = (await auditRows(p, 'admin.login')).slice(logins).map((r) => [r.identifier, r.outcome]);
      assert.deepEqual(outcomes, [
        [ops.support.username, 'bad_password'],
        ['no-such-operator', 'unknown_operator'],
        ['rb-cross', 'unknown_operator'],
      ]);

      const c = p.client();
      c.ip = nextIp();
      const portal = await logIn(c, ops.admin.username, ops.admin.password);
      assert.equal(portal.status, 401, 'an operator is not a portal user');
    });

    test('L2 A1: five wrong operator passwords lock the operator for LOCKOUT_MINUTES, even with the right password; then one more slip does not lock again', async () => {
      const op = await createOperator(p, 'support', 'rb-lockout');
      const c = p.client();
      c.ip = nextIp();
      for (let i = 0; i < p.config.lockoutThreshold; i++)
        assert.equal((await operatorLogin(c, op.username, 'Wrong-Pass-2026!')).status, 401);
      const locked = await operatorLogin(c, op.username, op.password);
      assert.equal(locked.status, 401);
      assert.ok(locked.text.includes(ja['admin.login.failed']));
      assert.equal(
        (await auditRows(p, 'admin.login')).filter((r) => r.identifier === op.username).at(-1)!.outcome,
        'locked',
      );
      p.clock.advance(p.config.lockoutMinutes * 60_000 + 1000);
      assert.equal((await operatorLogin(c, op.username, 'Wrong-Pass-2026!')).status, 401);
      const ok = await operatorLogin(c, op.username, op.password);
      assert.equal(ok.status, 303);
      assert.equal(ok.location, '/admin');
    });

    test('L3: the console cookie is __Host-asid, Secure, HttpOnly, SameSite=Lax; a planted session id is not adopted; it means nothing to the portal', async () => {
      const c = p.client();
      c.ip = nextIp();
      c.cookies.set('__Host-asid', 'planted-by-attacker-0123456789');
      const r = await operatorLogin(c, ops.support.username, ops.support.password);
      const set = [r.headers['set-cookie']].flat().find((s) => String(s).startsWith('__Host-asid='));
      assert.ok(set, 'the console session cookie is set');
      assert.match(String(set), /; Path=\//);
      assert.match(String(set), /; HttpOnly/);
      assert.match(String(set), /; Secure/);
      assert.match(String(set), /; SameSite=Lax/);
      const sid = c.cookies.get('__Host-asid')!;
      assert.notEqual(sid, 'planted-by-attacker-0123456789');
      assert.ok(sid.length >= 22, 'at least 128 bits');
      const account = await c.get('/account');
      assert.equal(account.status, 303, 'an operator session is not a portal login');
      assert.equal(account.location, '/login?m=loginRequired&next=%2Faccount');
    });

    test('L4 A1: logout ends the server session (the old cookie no longer opens anything) and is audited', async () => {
      const c = await consoleAs(p, ops.editor);
      const sid = c.cookies.get('__Host-asid')!;
      const out = await c.post('/admin/logout', {});
      assert.equal(out.status, 303);
      assert.equal(out.location, '/admin/login?m=loggedOut');
      assert.ok((await c.open(out.location)).text.includes(ja['admin.login.loggedOut']));
      const replay = p.client();
      replay.cookies.set('__Host-asid', sid);
      const r = await replay.get('/admin/news');
      assert.equal(r.status, 303);
      assert.equal(r.location, '/admin/login');
      assert.equal((await auditRows(p, 'admin.logout')).at(-1)!.actor, `operator:${ops.editor.username}`);
    });

    test(`L4: the console's idle timeout (ADMIN_IDLE_MINUTES) — 14 min idle is fine, 16 min sends back to the login page`, async () => {
      assert.equal(p.config.adminIdleMinutes, 15);
      const c = await consoleAs(p, ops.support);
      p.clock.advance(14 * 60_000);
      assert.equal((await c.get('/admin/users')).status, 200, 'still logged in after 14 minutes');
      p.clock.advance(14 * 60_000);
      assert.equal((await c.get('/admin/mail')).status, 200, 'activity restarts the idle time');
      p.clock.advance(16 * 60_000);
      const expired = await c.get('/admin/mail');
      assert.equal(expired.status, 303);
      assert.equal(expired.location, '/admin/login?m=expired');
      const login = await c.open(expired.location);
      assert.ok(login.text.includes(ja['admin.login.title']));
      assert.ok(login.text.includes(ja['admin.login.expired']), 'the operator is told why');
      const again = await c.get('/admin/users');
      assert.equal(again.status, 303, 'the session stays ended');
      assert.equal(again.location, '/admin/login', 'and the cookie is gone');
    });

    test('L5: a console POST without the CSRF token is refused (403) and does nothing', async () => {
      const user = await p.createUser({ username: 'rb-csrf', email: 'rb-csrf@example.jp' });
      const c = await consoleAs(p, ops.admin);
      const before = await effects();
      for (const path of [`/admin/users/${user.id}/mark-email-wrong`, '/admin/mail/retry', '/admin/pages/contact']) {
        const r = await c.post(path, { reason: 'csrf', ...PAGE_FIELDS, action: 'publish' }, { csrf: false });
        assert.equal(r.status, 403, path);
        assert.ok(r.text.includes(ja['error.csrf']), path);
      }
      assert.equal(await effects(), before);
      const row = await p.database.db
        .selectFrom('users')
        .select('status')
        .where('id', '=', user.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'active');
    });
  });
}
