import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyResult, mergeHealth, probeArgs, probeDelay, goDuration, type Health, type HealthConfig } from './health.ts';

const cfg = (c: HealthConfig = {}) => mergeHealth({ Test: ['CMD', 'true'], ...c }, undefined)!;
const res = (code: number, at = Date.now()) => ({ Start: new Date(at).toISOString(), End: new Date(at + 1).toISOString(), ExitCode: code, Output: '' });
const starting: Health = { Status: 'starting', FailingStreak: 0, Log: [] };

test('mergeHealth: container fields over the image\'s; NONE or no test is no healthcheck', () => {
  const m = mergeHealth({ Interval: 1e9 }, { Test: ['CMD-SHELL', 'curl x'], Interval: 5e9, Retries: 7 })!;
  assert.deepEqual([m.Test, m.Interval, m.Retries, m.Timeout], [['CMD-SHELL', 'curl x'], 1e9, 7, 0]);
  assert.equal(mergeHealth({ Test: ['NONE'] }, { Test: ['CMD', 'x'] }), undefined);
  assert.equal(mergeHealth(undefined, { Test: ['NONE'] }), undefined);
  assert.equal(mergeHealth(null, null), undefined);
});

test('probeArgs: CMD as is, CMD-SHELL through /bin/sh -c', () => {
  assert.deepEqual(probeArgs(['CMD', 'a', 'b c']), ['a', 'b c']);
  assert.deepEqual(probeArgs(['CMD-SHELL', 'test -f /x']), ['/bin/sh', '-c', 'test -f /x']);
});

test('applyResult: docker\'s transitions, streaks, start period and the last five results', () => {
  const c = cfg({ Retries: 2 });
  let h = applyResult(starting, res(1), c, 0);
  assert.deepEqual([h.Status, h.FailingStreak], ['starting', 1]);
  h = applyResult(h, res(1), c, 0);
  assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 2]);
  h = applyResult(h, res(0), c, 0);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
  h = applyResult(h, res(1), c, 0);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 1]);
  for (let i = 0; i < 6; i++) h = applyResult(h, res(0), c, 0);
  assert.equal(h.Log.length, 5);
  // default retries: 3
  let d = starting;
  for (let i = 0; i < 2; i++) d = applyResult(d, res(1), cfg(), 0);
  assert.equal(d.Status, 'starting');
  assert.equal(applyResult(d, res(1), cfg(), 0).Status, 'unhealthy');
  // inside the start period a failure while starting does not count
  const now = Date.now();
  const sp = cfg({ StartPeriod: 60e9, Retries: 1 });
  const s = applyResult(starting, res(1, now), sp, now);
  assert.deepEqual([s.Status, s.FailingStreak, s.Log.length], ['starting', 0, 1]);
  assert.equal(applyResult(starting, res(1, now + 61_000), sp, now).Status, 'unhealthy');
});

test('probeDelay: interval (default 30 s), start interval during the start period; goDuration', () => {
  assert.equal(probeDelay(cfg(), 0), 30_000);
  assert.equal(probeDelay(cfg({ Interval: 2e8 }), 0), 200);
  const now = Date.now();
  assert.equal(probeDelay(cfg({ Interval: 1e9, StartPeriod: 10e9, StartInterval: 1e8 }), now, now + 5), 100);
  assert.equal(probeDelay(cfg({ Interval: 1e9, StartPeriod: 10e9, StartInterval: 1e8 }), now, now + 11_000), 1000);
  assert.deepEqual([goDuration(200), goDuration(30_000), goDuration(90_000), goDuration(3_600_000)], ['200ms', '30s', '1m30s', '1h0m0s']);
});
