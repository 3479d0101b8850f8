import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { randomBytes, createHash } from 'node:crypto';
import { workerBlobHasher } from './blob-hasher.ts';
import { takeSlab } from './slabs.ts';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Feeds `blob` as whole slabs (transferred) or, with `owned` false, as plain pieces (copied). */
async function run(blob: Buffer, inflate: boolean, owned: boolean) {
  const back: Buffer[] = [];
  const h = workerBlobHasher({ inflate, onPiece: (p) => back.push(Buffer.from(p)) });
  for (let o = 0; o < blob.length; o += 700_000) {
    const part = blob.subarray(o, o + 700_000);
    if (owned) {
      const slab = takeSlab();
      part.copy(slab, 100);
      await h.push(slab.subarray(100, 100 + part.length), true);
    } else await h.push(Buffer.from(part), false);
  }
  const r = await h.end();
  return { r, back: Buffer.concat(back) };
}

test('the blob hasher gives every piece back in order with the blob digest and the diffID', async () => {
  const raw = randomBytes(3 << 20);
  const gz = gzipSync(raw);
  for (const owned of [true, false]) {
    const { r, back } = await run(gz, true, owned);
    assert.deepEqual(back, gz);
    assert.equal(r.digest, sha(gz));
    assert.equal(r.size, gz.length);
    assert.equal(r.diff?.diffId, sha(raw));
    assert.equal(r.diffError, undefined);
  }
  const plain = await run(raw, false, true);
  assert.equal(plain.r.digest, sha(raw));
  assert.equal(plain.r.diff, undefined);
});

test('a layer that does not gunzip still gets its blob digest and every byte back; an aborted stream fails alone', async () => {
  const gz = gzipSync(randomBytes(2 << 20));
  gz[1000] ^= 0xff;
  gz[1001] ^= 0xff;
  const { r, back } = await run(gz, true, true);
  assert.deepEqual(back, gz);
  assert.equal(r.digest, sha(gz));
  assert.ok(r.diffError);
  const ab = workerBlobHasher({ inflate: true, onPiece: () => {} });
  await ab.push(Buffer.from(gzipSync(randomBytes(1000))), false);
  ab.abort();
  await assert.rejects(ab.end());
  const raw = randomBytes(1 << 20);
  assert.equal((await run(gzipSync(raw), true, true)).r.diff?.diffId, sha(raw));
});
