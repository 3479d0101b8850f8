import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDuration } from './healthopts.ts';

test('parseGoDuration: Go\'s units, sums and messages', () => {
  assert.equal(parseGoDuration('100ms'), 1e8);
  assert.equal(parseGoDuration('1m30s'), 90e9);
  assert.equal(parseGoDuration('1.5s'), 1.5e9);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('-2s'), -2e9);
  assert.equal(parseGoDuration('2'), 'time: missing unit in duration "2"');
  assert.equal(parseGoDuration('x'), 'time: invalid duration "x"');
  assert.equal(parseGoDuration('3d'), 'time: unknown unit "d" in duration "3d"');
});
