/**
 * H11 (issue 10 item 11): a burst of kicks while a delivery round runs (every stage-② request kicks the worker)
 * marks one more round as due; it never chains one waiter per kick. 100 000 kicks during a slow round lead to
 * exactly one more round, and runOnce() during a round hands every caller the same promise.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyBaseLogger } from 'fastify';
import { createMailWorker, type MailWorker } from '../../src/mail/worker.ts';
import { createSecretBox } from '../../src/security/secret-box.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db-targets.ts';

let database: TestDatabase;
before(async () => {
  database = await freshDatabase('sqlite');
});
after(async () => {
  await database?.drop();
});

const quiet = { error() {}, warn() {}, info() {}, debug() {} } as unknown as FastifyBaseLogger;
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

/** A worker whose rounds are counted; the first round is held until `release()` is called. */
function slowWorker() {
  let rounds = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const worker: MailWorker = createMailWorker({
    db: database.db,
    dialect: database.dialect,
    box: createSecretBox('kick-test-secret-kick-test-secret-0123'),
    transport: { send: async () => ({ where: 'nowhere' }), describe: () => 'none', close() {} } as never,
    from: 'from@example.jp',
    now: Date.now,
    log: quiet,
    retryBaseMs: 100,
    maxAttempts: 3,
    // Idle polling far away: every round seen in the test comes from the kicks.
    pollMs: 600_000,
    prepare: async () => {
      rounds++;
      if (rounds === 1) await gate;
      return 0;
    },
  });
  return { worker, rounds: () => rounds, release };
}

test('H11, R2: 100 000 kicks during a slow round make one more round, not one per kick', async () => {
  const { worker, rounds, release } = slowWorker();
  worker.start();
  try {
    for (let i = 0; i < 50 && rounds() === 0; i++) await tick();
    assert.equal(rounds(), 1, 'the first round runs and is held');
    // The kicks come spread over many turns of the event loop, as requests do (the timer fires in between).
    for (let batch = 0; batch < 1000; batch++) {
      for (let i = 0; i < 100; i++) worker.kick();
      if (batch % 10 === 0) await tick();
    }
    assert.equal(rounds(), 1, 'no round starts while one runs');
    release();
    for (let i = 0; i < 100 && rounds() < 2; i++) await tick();
    // Long enough for a chain of waiters (one per timer that fired during the round) to show more rounds.
    for (let i = 0; i < 30; i++) await tick();
    assert.equal(rounds(), 2, 'exactly one more round was due');
  } finally {
    await worker.stop();
  }
});

test('H11: runOnce() during a running round gives every caller the same promise of the next round', async () => {
  const { worker, rounds, release } = slowWorker();
  const first = worker.runOnce();
  const waiting = Array.from({ length: 100_000 }, () => worker.runOnce());
  assert.equal(new Set(waiting).size, 1, 'one shared promise, not 100 000');
  release();
  await first;
  await waiting[0];
  assert.equal(rounds(), 2, 'the round that ran and the one queued behind it');
  await worker.stop();
});
