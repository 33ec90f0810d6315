/**
 * One check per picture (R6, K6): answers sent in parallel to the same CAPTCHA picture share a single try. The red
 * team sent six answers to one flow at once, the right one last, and the right one passed every time, because each
 * request compared its answer with the challenge it had read before any of them used it up.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbTargets } from '../helpers/db-targets.ts';
import { startTestPortal, type TestPortal } from '../helpers/test-app.ts';

for (const target of await dbTargets()) {
  describe(`K6 R6: parallel answers to one CAPTCHA picture [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target, { env: { CAPTCHA_TEST_ANSWER: '', RESET_REQUESTS_PER_IP_PER_HOUR: '100' } });
    });
    after(async () => {
      await p?.close();
    });

    test('six requests with the right answer at once: exactly one passes stage ①, the others get a new picture', async () => {
      const c = p.client();
      c.ip = '10.77.0.1';
      await c.open('/password-reset');
      const action = c.formAction();
      const flowId = /flow=([A-Za-z0-9]{32})/.exec(action)![1]!;
      const row = await p.database.db
        .selectFrom('flows')
        .select('captcha_answer')
        .where('id', '=', flowId)
        .executeTakeFirstOrThrow();
      const answer = p.app.services.box.open(row.captcha_answer!);
      const fields = { stage: 'identify', action: 'next', username: 'race-user', captcha: answer };
      const pages = await Promise.all(Array.from({ length: 6 }, () => c.post(action, fields)));
      const passed = pages.filter((r) => r.status === 303);
      assert.equal(passed.length, 1, `one request passes (statuses ${pages.map((r) => r.status).join(', ')})`);
      for (const r of pages.filter((x) => x.status !== 303))
        assert.ok(r.status >= 400 && r.status < 500, `the others are refused with a 4xx page (${r.status})`);
      const identified = (await p.audit('password_reset.identified')).filter((a) => a.identifier === 'race-user');
      assert.equal(identified.length, 1, 'stage ① was passed once');
    });
  });
}
