/** Japan-time parsing: a day or time that does not exist is refused, never rolled over into the next month (B1). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { japanDate, japanLocalInput, parseJapanDate, parseJapanLocalInput } from '../../src/web/japan-time.ts';

test('B1 parseJapanDate: a real day is its first millisecond in Japan time', () => {
  const at = parseJapanDate('2026-02-28');
  assert.equal(at, Date.parse('2026-02-27T15:00:00Z'));
  assert.equal(japanDate(at as number), '2026-02-28');
  assert.equal(typeof parseJapanDate('2028-02-29'), 'number', 'a leap day');
  assert.equal(parseJapanDate(''), undefined);
  assert.equal(parseJapanDate(undefined), undefined);
});

test('B1 parseJapanDate: impossible days are refused instead of rolling over (2026-02-30 is not 2 March)', () => {
  for (const v of [
    '2026-02-30',
    '2026-02-29',
    '2026-04-31',
    '2026-02-31',
    '2026-13-01',
    '2026-00-10',
    '2026-01-00',
    '2026-01-32',
  ]) {
    assert.equal(parseJapanDate(v), 'bad', v);
  }
  assert.equal(parseJapanDate('2026-2-3'), 'bad', 'malformed');
});

test('B1 parseJapanLocalInput: a real time reads back; an impossible day or hour is refused', () => {
  const at = parseJapanLocalInput('2026-11-24T14:09');
  assert.equal(typeof at, 'number');
  assert.equal(japanLocalInput(at as number), '2026-11-24T14:09');
  for (const v of ['2026-02-30T10:00', '2026-11-24T24:00', '2026-11-24T23:60', '2026-06-31T00:00']) {
    assert.equal(parseJapanLocalInput(v), 'bad', v);
  }
  assert.equal(parseJapanLocalInput(''), undefined);
});
