import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { randomBytes, createHash } from 'node:crypto';
import { workerGunzipHasher } from './diff-worker.ts';

function feed(h: ReturnType<typeof workerGunzipHasher>, gz: Buffer): void {
  for (let o = 0; o < gz.length; o += 50_000) h.input.write(gz.subarray(o, o + 50_000));
  h.input.end();
}

test('the shared diffID worker hashes concurrent layers apart; a corrupt one fails alone', async () => {
  const raws = [randomBytes(3 << 20), Buffer.alloc(5 << 20, 'x'), randomBytes(10)];
  const hs = raws.map(() => workerGunzipHasher());
  const bad = workerGunzipHasher();
  const corrupt = gzipSync(randomBytes(2 << 20));
  corrupt[corrupt.length - 6] ^= 0xff; // the CRC
  raws.forEach((r, i) => feed(hs[i]!, gzipSync(r)));
  feed(bad, corrupt);
  const got = await Promise.all(hs.map((h) => h.done));
  assert.deepEqual(got.map((g) => g.diffId), raws.map((r) => `sha256:${createHash('sha256').update(r).digest('hex')}`));
  await assert.rejects(bad.done);
  // an aborted stream leaves the worker serving the next one
  const ab = workerGunzipHasher();
  ab.input.write(gzipSync(randomBytes(1000)).subarray(0, 100));
  ab.input.destroy();
  await assert.rejects(ab.done);
  const next = workerGunzipHasher();
  const raw = randomBytes(1 << 20);
  feed(next, gzipSync(raw));
  assert.equal((await next.done).diffId, `sha256:${createHash('sha256').update(raw).digest('hex')}`);
});
