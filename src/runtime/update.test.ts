import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyUpdate, checkUpdate } from './update.ts';

const MB = 2 ** 20;

test('checkUpdate: docker\'s limits and messages', () => {
  assert.throws(() => checkUpdate({ Memory: 4 * MB }, {}), /Minimum memory limit allowed is 6MB/);
  assert.throws(() => checkUpdate({ Memory: 64 * MB, MemorySwap: 32 * MB }, {}), /Minimum memoryswap limit should be larger than memory limit/);
  assert.throws(() => checkUpdate({ Memory: 300 * MB }, { memory: { limit: 64 * MB, swap: 128 * MB } }), /update the memoryswap at the same time/);
  assert.doesNotThrow(() => checkUpdate({ Memory: 300 * MB, MemorySwap: 600 * MB }, { memory: { limit: 64 * MB, swap: 128 * MB } }));
  assert.doesNotThrow(() => checkUpdate({ Memory: 300 * MB }, {}));
  assert.throws(() => checkUpdate({ NanoCpus: 1e9, CpuQuota: 5000 }, {}), /Nano CPUs and CPU Period cannot both be set/);
  assert.throws(() => checkUpdate({ NanoCpus: 1e12 }, {}), /Range of CPUs is from 0.01 to \d+\.00, as there are only \d+ CPUs available/);
  assert.throws(() => checkUpdate({ BlkioWeight: 5 }, {}), /Range of blkio weight is from 10 to 1000/);
});

test('applyUpdate: changes only what is given, in the OCI shapes', () => {
  const cur = { devices: [{ allow: false }], memory: { limit: 64 * MB, swap: 128 * MB }, cpu: { shares: 1024 } };
  const r = applyUpdate({ Memory: 96 * MB, NanoCpus: 5e8, PidsLimit: 50 }, cur);
  assert.deepEqual(r.memory, { limit: 96 * MB, swap: 128 * MB });
  assert.deepEqual(r.cpu, { shares: 1024, period: 100_000, quota: 50_000 });
  assert.deepEqual(r.pids, { limit: 50 });
  assert.deepEqual(r.devices, cur.devices);
  assert.deepEqual(applyUpdate({ PidsLimit: -5 }, {}).pids, { limit: -1 });
  assert.deepEqual(applyUpdate({}, cur), cur);
});
