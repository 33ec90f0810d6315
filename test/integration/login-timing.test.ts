/**
 * No timing oracle at login (issue 10 item 6; L1, G5) on every database target: an unknown user, a wrong argon2id
 * password, a wrong bcrypt password (an account imported from the old portal) and an account without any hash each
 * do exactly one argon2id verification, answer the same page, and take the same time (LOGIN_FAILURE_FLOOR_MS);
 * bcrypt runs on the thread pool, so a legacy check does not stall the event loop.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { passwordWork, verifyLegacyPassword } from '../../src/accounts/passwords.ts';
import { dbTargets } from '../helpers/db-targets.ts';
import { startTestPortal, type Client, type TestPortal } from '../helpers/test-app.ts';

const CASES = ['unknown', 'argon2', 'bcrypt', 'nohash'] as const;
type Case = (typeof CASES)[number];
const ROUNDS = 7;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const target of await dbTargets()) {
  describe(`login timing [${target}]`, () => {
    let p: TestPortal;
    const clients = new Map<Case, Client>();
    before(async () => {
      // No lock during the measurement: each case fails ROUNDS + 1 times.
      p = await startTestPortal(target, { env: { LOCKOUT_THRESHOLD: '100', LOGIN_FAILURES_PER_IP_PER_15MIN: '1000' } });
      await p.createUser({ username: 'tm-argon2' });
      const legacy = await p.createUser({ username: 'tm-bcrypt' });
      // Cost 10, as the old portal's hashes (bcrypt's usual default).
      await p.database.db
        .updateTable('users')
        .set({ password_hash: '', legacy_hash: await bcryptHash('Old-Portal-Pass1', { cost: 10 }) })
        .where('id', '=', legacy.id)
        .execute();
      const bare = await p.createUser({ username: 'tm-nohash' });
      await p.database.db
        .updateTable('users')
        .set({ password_hash: '', legacy_hash: null })
        .where('id', '=', bare.id)
        .execute();
      for (const [i, c] of CASES.entries()) {
        const client = p.client();
        client.ip = `10.90.0.${i + 1}`;
        await client.get('/login');
        clients.set(c, client);
      }
    });
    after(async () => {
      await p?.close();
    });

    const username = (c: Case) => (c === 'unknown' ? 'tm-nobody' : `tm-${c}`);
    const attempt = (c: Case) =>
      clients.get(c)!.post('/login', { username: username(c), password: 'Wrong-Guess-2026' });

    test('G5 L1: each failure does exactly one argon2id verification (the dummy where there is nothing real to check) and answers the same page', async () => {
      const bodies: string[] = [];
      for (const c of CASES) {
        const before = { ...passwordWork };
        const page = await attempt(c);
        assert.equal(page.status, 401, c);
        bodies.push(page.body.replace(/name="_csrf" value="[^"]*"/, '').replace(username(c), 'X'));
        assert.equal(passwordWork.argon2 - before.argon2, 1, `${c}: one argon2id verification`);
        assert.equal(
          passwordWork.dummy - before.dummy,
          c === 'argon2' ? 0 : 1,
          `${c}: the dummy unless a real argon2id hash was checked`,
        );
        assert.equal(
          passwordWork.bcrypt - before.bcrypt,
          c === 'bcrypt' ? 1 : 0,
          `${c}: bcrypt only for the imported account`,
        );
      }
      assert.equal(new Set(bodies).size, 1, 'the same page in all four cases');
    });

    test(`G5 L1: the median answer times of the four cases lie within 60 ms (or 15 %) of each other, none below LOGIN_FAILURE_FLOOR_MS`, async (t) => {
      const times = new Map<Case, number[]>(CASES.map((c) => [c, []]));
      for (let r = 0; r < ROUNDS; r++) {
        for (const c of CASES) {
          const started = performance.now();
          await attempt(c);
          times.get(c)!.push(performance.now() - started);
        }
      }
      const medians = CASES.map((c) => median(times.get(c)!));
      t.diagnostic(`medians (ms) ${CASES.map((c, i) => `${c} ${medians[i]!.toFixed(1)}`).join(', ')}`);
      for (const m of medians) assert.ok(m >= p.config.loginFailureFloorMs - 1, `at least the floor: ${m}`);
      const spread = Math.max(...medians) - Math.min(...medians);
      assert.ok(
        spread < Math.max(60, 0.15 * Math.max(...medians)),
        `medians ${medians.map((m) => m.toFixed(1)).join(', ')}`,
      );
    });
  });
}

describe('legacy bcrypt off the main thread', () => {
  test('G5: checking a cost-12 bcrypt hash leaves the event loop free (it runs on the thread pool)', async () => {
    const stored = await bcryptHash('Old-Portal-Pass1', { cost: 12 });
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = performance.now();
    assert.equal(await verifyLegacyPassword(stored, 'Wrong-Guess-2026'), false);
    const took = performance.now() - started;
    delay.disable();
    const stalled = delay.max / 1e6;
    assert.ok(took > 100, `a real cost-12 check (${took.toFixed(0)} ms)`);
    // bcryptjs (before) ran on the main thread in slices of 100 ms; a loaded machine alone stalls ~60 ms at worst.
    assert.ok(
      stalled < 90,
      `the loop was never blocked for long: at most ${stalled.toFixed(1)} ms during ${took.toFixed(0)} ms`,
    );
  });
});
