// The Writer's caller-hashed mode (digestBy 'caller') and its `released` callbacks: contracts in index.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openContentStore } from './index.ts';
import { digestOf } from '../digest/index.ts';
import { isKind } from '../errors/index.ts';

async function withStore(fn: (s: Awaited<ReturnType<typeof openContentStore>>) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), 'berth-content-'));
  try { await fn(await openContentStore(root)); } finally { await rm(root, { recursive: true, force: true }); }
}

test('caller-hashed writer: commits only with the expected digest from the caller; a wrong one drops the ingest', () => withStore(async (s) => {
  const data = randomBytes(3 << 20);
  const d = digestOf(data);
  const w = await s.writer({ ref: 'pull-a', expected: d, expectedSize: data.length, digestBy: 'caller' });
  assert.equal(w.digestBy, 'caller');
  assert.throws(() => w.digest(), (e) => isKind(e, 'FailedPrecondition', 'DIGEST_BY_CALLER'));
  await w.write(data);
  const info = await w.commit({ digest: d });
  assert.equal(info.digest, d);
  assert.deepEqual(await readFile(s.blobPath(d)), data);

  // a caller that computed something else (the bytes were not the blob): refused, nothing visible, ingest gone
  const other = randomBytes(1 << 20);
  const w2 = await s.writer({ ref: 'pull-b', expected: digestOf(other), digestBy: 'caller' });
  await w2.write(randomBytes(1 << 20));
  await assert.rejects(w2.commit({ digest: digestOf(Buffer.from('x')) }), (e) => isKind(e, 'InvalidArgument', 'DIGEST_MISMATCH'));
  assert.equal(await s.has(digestOf(other)), false);
  assert.deepEqual(await s.listIngests(), []);

  // no digest, or no expected digest to check it against: refused
  const w3 = await s.writer({ ref: 'pull-c', digestBy: 'caller' });
  await w3.write(Buffer.from('abc'));
  await assert.rejects(w3.commit({ digest: digestOf('abc') }), (e) => isKind(e, 'InvalidArgument', 'DIGEST_REQUIRED'));
  const w4 = await s.writer({ ref: 'pull-d', expected: digestOf('abc'), digestBy: 'caller' });
  await w4.write(Buffer.from('abc'));
  await assert.rejects(w4.commit(), (e) => isKind(e, 'InvalidArgument', 'DIGEST_REQUIRED'));
  assert.equal(await s.has(digestOf('abc')), false);
  // and a writer that hashes itself takes no digest from outside
  const w5 = await s.writer({ ref: 'pull-e', expected: digestOf('abc') });
  await w5.write(Buffer.from('abc'));
  await assert.rejects(w5.commit({ digest: digestOf('abc') }), (e) => isKind(e, 'InvalidArgument', 'DIGEST_UNEXPECTED'));
}));

test('caller-hashed writer: resumed data is hashed by the writer (the caller never saw it)', () => withStore(async (s) => {
  const data = randomBytes(2 << 20);
  const d = digestOf(data);
  const w1 = await s.writer({ ref: 'pull-r', expected: d, digestBy: 'caller' });
  await w1.write(data.subarray(0, 1 << 20));
  await w1.close();
  const w2 = await s.writer({ ref: 'pull-r', expected: d, digestBy: 'caller' });
  assert.equal(w2.offset, 1 << 20);
  assert.equal(w2.digestBy, 'writer');
  await w2.write(data.subarray(1 << 20));
  assert.equal((await w2.commit()).digest, d);
}));

test('released is called once for every chunk: after its write, or when the writer drops it', () => withStore(async (s) => {
  const chunks = Array.from({ length: 9 }, () => randomBytes(300 << 10));
  let released = 0;
  const w = await s.writer({ ref: 'r1' });
  for (const c of chunks) await w.write(c, () => { released++; });
  await w.commit();
  assert.equal(released, chunks.length);
  released = 0;
  const w2 = await s.writer({ ref: 'r2' });
  for (const c of chunks) await w2.write(c, () => { released++; });
  await w2.abort();
  assert.equal(released, chunks.length);
  released = 0;
  const w3 = await s.writer({ ref: 'r3', expectedSize: 10 });
  await assert.rejects(w3.write(chunks[0]!, () => { released++; }), (e) => isKind(e, 'InvalidArgument', 'SIZE_MISMATCH'));
  await w3.write(Buffer.from('0123'), () => { released++; });
  await w3.truncate();
  await w3.close();
  assert.equal(released, 2);
}));
