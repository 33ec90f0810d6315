/**
 * Reset-mail limits a stranger cannot use up (issue 10 item 2; R3, G4) on every database target, with the default
 * settings: 3 mails per account and hour asked from one address (RESET_MAILS_PER_ACCOUNT_PER_IP_PER_HOUR), under a
 * ceiling of 10 per account and hour from all addresses together (RESET_MAILS_PER_ACCOUNT_PER_HOUR).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dbTargets } from '../helpers/db-targets.ts';
import { requestReset, startTestPortal, type Client, type TestPortal } from '../helpers/test-app.ts';

let ipSeq = 0;
function browser(p: TestPortal): Client {
  const c = p.client();
  c.ip = `10.77.0.${++ipSeq}`;
  return c;
}

for (const target of await dbTargets()) {
  describe(`reset-mail limits per account and address [${target}]`, () => {
    let p: TestPortal;
    before(async () => {
      p = await startTestPortal(target);
    });
    after(async () => {
      await p?.close();
    });

    const mailsOf = async (userId: string) =>
      (
        await p.database.db
          .selectFrom('outbox')
          .select('id')
          .where('user_id', '=', userId)
          .where('kind', '=', 'password_reset')
          .execute()
      ).length;
    const decisions = async (username: string) =>
      (await p.audit('password_reset.requested'))
        .filter((r) => r.identifier === username)
        .map((r) => [r.ip, r.outcome, r.detail ? (JSON.parse(r.detail).limit ?? null) : null]);

    test("R3 G4: a stranger's address that used up its 3 mails leaves the owner's own requests able to get a mail", async () => {
      const user = await p.createUser({ username: 'g4-owner', email: 'g4-owner@example.jp' });
      const stranger = browser(p);
      for (let i = 0; i < 4; i++)
        assert.equal((await requestReset(stranger, 'g4-owner', 'g4-owner@example.jp')).status, 200);
      const owner = browser(p);
      assert.equal((await requestReset(owner, 'g4-owner', 'g4-owner@example.jp')).status, 200);
      assert.deepEqual(await decisions('g4-owner'), [
        [stranger.ip, 'mail_queued', null],
        [stranger.ip, 'mail_queued', null],
        [stranger.ip, 'mail_queued', null],
        [stranger.ip, 'rate_limited', 'account_ip'],
        [owner.ip, 'mail_queued', null],
      ]);
      assert.equal(await mailsOf(user.id), 4, "the owner's request got its mail");
    });

    test('R3 G4: the per-account ceiling (10 an hour) holds against many addresses the account never logged in from; it ends after an hour', async () => {
      const user = await p.createUser({ username: 'g4-ceiling', email: 'g4-ceiling@example.jp' });
      for (let n = 0; n < 4; n++) {
        const c = browser(p);
        for (let i = 0; i < (n < 3 ? 3 : 1); i++) await requestReset(c, 'g4-ceiling', 'g4-ceiling@example.jp');
      }
      assert.equal(await mailsOf(user.id), 10);
      const late = browser(p);
      await requestReset(late, 'g4-ceiling', 'g4-ceiling@example.jp');
      assert.deepEqual((await decisions('g4-ceiling')).at(-1), [late.ip, 'rate_limited', 'account']);
      assert.equal(await mailsOf(user.id), 10, 'no 11th mail');
      p.clock.advance(61 * 60_000);
      await requestReset(late, 'g4-ceiling', 'g4-ceiling@example.jp');
      assert.deepEqual((await decisions('g4-ceiling')).at(-1), [late.ip, 'mail_queued', null]);
    });
  });
}
