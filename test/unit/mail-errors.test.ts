/** issue4-2: the SMTP error an operator reads in the console is never empty. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeError } from '../../src/mail/worker.ts';

test('issue4-2: an error with a message is shown as it is', () => {
  assert.equal(describeError(new Error('connect ECONNREFUSED 127.0.0.1:2525')), 'connect ECONNREFUSED 127.0.0.1:2525');
});

test('issue4-2: a connection to a name with several addresses fails with an empty AggregateError: its inner errors are shown', () => {
  const inner = [new Error('connect ECONNREFUSED ::1:2525'), new Error('connect ECONNREFUSED 127.0.0.1:2525')];
  assert.equal(
    describeError(new AggregateError(inner, '')),
    'connect ECONNREFUSED ::1:2525; connect ECONNREFUSED 127.0.0.1:2525',
  );
});

test('issue4-2: an error without a message shows its code, or at least its name', () => {
  assert.equal(describeError(Object.assign(new Error(''), { code: 'ESOCKET' })), 'ESOCKET');
  assert.equal(describeError(new TypeError('')), 'TypeError');
  assert.equal(describeError('plain text'), 'plain text');
});
