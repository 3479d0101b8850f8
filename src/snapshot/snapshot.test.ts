import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile, readdir, mkdir, readlink, writeFile, stat, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { Snapshotter } from './index.ts';
import { DataRoot } from '../layout/index.ts';
import { digestOf, type Digest } from '../digest/index.ts';
import { chainIds } from '../image/index.ts';
import { isKind } from '../errors/index.ts';
import { openContentStore } from '../content/index.ts';

const root = process.getuid?.() === 0;

async function layer(entries: { name: string; type?: 'file' | 'directory'; body?: string }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => { chunks.push(c as Buffer); });
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) {
    await new Promise<void>((res, rej) => pack.entry({ name: e.name, type: e.type ?? 'file', mode: e.type === 'directory' ? 0o755 : 0o644 }, e.body ?? '', (err) => (err ? rej(err) : res())));
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

async function fixture(t: { after: (fn: () => Promise<void>) => void }): Promise<{ dir: string; snaps: Snapshotter }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-snap-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return { dir, snaps: new Snapshotter(new DataRoot(dir)) };
}

test('unpack two layers, stack them with overlay: whiteouts and opaque dirs hide lower files', { skip: !root && 'needs root (overlay whiteouts are char devices, mount)' }, async (t) => {
  const { dir, snaps } = await fixture(t);
  const l0 = await layer([{ name: 'a', body: 'A' }, { name: 'd/', type: 'directory' }, { name: 'd/x', body: 'X' }, { name: 'keep', body: 'K' }]);
  const l1 = await layer([{ name: '.wh.a' }, { name: 'd/', type: 'directory' }, { name: 'd/.wh..wh..opq' }, { name: 'd/y', body: 'Y' }]);
  const diffIds = [digestOf(l0), digestOf(l1)];
  const ids = chainIds(diffIds);
  const s0 = await snaps.unpack({ chainId: ids[0]!, diffId: diffIds[0]!, source: Readable.from([gzipSync(l0)]) });
  await snaps.unpack({ chainId: ids[1]!, parent: ids[0], diffId: diffIds[1]!, source: Readable.from([l1]) });
  assert.equal(s0.size, l0.length);
  assert.equal(await readFile(join(snaps.fsPath(ids[0]!), 'a'), 'utf8'), 'A');
  assert.equal(await readlink(join(dir, 'snapshots', 'l', s0.link)), join('..', ids[0]!.slice(7), 'fs'));
  // Idempotent: a second unpack of the same chainID returns the committed one.
  assert.deepEqual(await snaps.unpack({ chainId: ids[0]!, diffId: diffIds[0]!, source: Readable.from([l0]) }), s0);

  const upper = join(dir, 'c', 'upper');
  const work = join(dir, 'c', 'work');
  const merged = join(dir, 'c', 'merged');
  await Promise.all([upper, work, merged].map((p) => mkdir(p, { recursive: true })));
  const [m] = await snaps.mounts(ids, upper, work);
  assert.equal(m!.type, 'overlay');
  assert.match(m!.options[0]!, /^lowerdir=l\/[A-Z2-7]{12}:l\/[A-Z2-7]{12}$/);
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', m!.options.join(','), merged], { cwd: m!.cwd });
  t.after(() => { try { execFileSync('umount', [merged], { stdio: 'ignore' }); } catch { /* gone */ } });
  assert.deepEqual((await readdir(merged)).sort(), ['d', 'keep']);
  assert.deepEqual(await readdir(join(merged, 'd')), ['y']);
  execFileSync('umount', [merged]);
});

test('a layer whose tar does not hash to its diffID is refused and leaves nothing behind', async (t) => {
  const { dir, snaps } = await fixture(t);
  const l0 = await layer([{ name: 'f', body: 'data' }]);
  const wrong = digestOf('something else');
  await assert.rejects(snaps.unpack({ chainId: wrong, diffId: wrong, source: Readable.from([l0]) }), (e) => isKind(e, 'InvalidArgument', 'DIGEST_MISMATCH'));
  assert.equal(await snaps.has(wrong), false);
  assert.deepEqual((await readdir(join(dir, 'snapshots'))).filter((n) => n !== 'l'), []);
});

test('mounts keep the options of a 150-layer image under one page; an empty image gets an empty lowerdir', async (t) => {
  const { snaps } = await fixture(t);
  const diffIds: Digest[] = [];
  for (let i = 0; i < 150; i++) diffIds.push(digestOf(`layer ${i}`));
  const tars = await Promise.all(diffIds.map((_, i) => layer([{ name: `f${i}`, body: String(i) }])));
  const realDiff = tars.map((b) => digestOf(b));
  const realIds = chainIds(realDiff);
  await Promise.all(tars.map((b, i) => snaps.unpack({ chainId: realIds[i]!, diffId: realDiff[i]!, source: Readable.from([b]) })));
  const [m] = await snaps.mounts(realIds, '/x/upper', '/x/work');
  assert.ok(m!.options.join(',').length < 4096, `options are ${m!.options.join(',').length} bytes`);
  if (root) {
    const merged = join(snaps.root, '..', 'merged');
    await mkdir(merged);
    const [ro2] = await snaps.mounts(realIds);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', ro2!.options.join(','), merged], { cwd: ro2!.cwd });
    try {
      assert.equal((await readdir(merged)).length, 150);
    } finally {
      execFileSync('umount', [merged]);
    }
  }
  const [ro] = await snaps.mounts(realIds.slice(0, 1));
  assert.equal(ro!.type, 'bind');
  const [empty] = await snaps.mounts([], '/x/upper', '/x/work');
  assert.match(empty!.options[0]!, /^lowerdir=\.empty$/);
  assert.equal((await snaps.list()).length, 150);
  const removed = await snaps.prune(realIds.slice(0, 10));
  assert.equal(removed.length, 140);
  assert.deepEqual((await snaps.list()).map((s) => s.chainId).sort(), realIds.slice(0, 10).sort());
  await assert.rejects(snaps.stat(realIds[20]!), (e) => isKind(e, 'NotFound'));
});

test('unpackImage reads layer blobs from the content store and skips present snapshots', async (t) => {
  const { dir, snaps } = await fixture(t);
  const store = await openContentStore(new DataRoot(dir));
  const l0 = await layer([{ name: 'etc/', type: 'directory' }, { name: 'etc/hostname', body: 'base' }]);
  const l1 = await layer([{ name: 'etc/', type: 'directory' }, { name: 'etc/motd', body: 'top' }]);
  const blobs = [gzipSync(l0), gzipSync(l1)];
  for (const b of blobs) await store.put(b);
  const refs = blobs.map((b, i) => ({ digest: digestOf(b), diffId: digestOf([l0, l1][i]!) }));
  const ids = await snaps.unpackImage(store, refs);
  assert.deepEqual(ids, chainIds(refs.map((r) => r.diffId)));
  assert.ok(existsSync(join(snaps.fsPath(ids[1]!), 'etc/motd')));
  assert.ok(!existsSync(join(snaps.fsPath(ids[1]!), 'etc/hostname')));
  const u = await snaps.usage(ids[0]!);
  assert.equal(u.size, 4);
  await store.delete(refs[0]!.digest);
  assert.deepEqual(await snaps.unpackImage(store, refs), ids); // present: the blob is not needed again
});

test('prune keeps what a lease holds and what was committed after the lease began, until it is released', async (t) => {
  const { snaps } = await fixture(t);
  const unpack = async (body: string): Promise<Digest> => {
    const l = await layer([{ name: 'f', body }]);
    const id = digestOf(l);
    await snaps.unpack({ chainId: id, diffId: id, source: Readable.from([l]) });
    return id;
  };
  const old = await unpack('old');
  const kept = await unpack('kept');
  const lease = snaps.lease();
  lease.add([old]);
  // a snapshot unpacked while the lease is open is held without being named (a pull not yet recorded)
  const fresh = await unpack('fresh');
  const other = snaps.lease();
  other.release();
  assert.deepEqual(await snaps.prune([kept]), []);
  lease.release();
  lease.release(); // safe twice
  assert.deepEqual((await snaps.prune(async () => [kept])).sort(), [old, fresh].sort());
  assert.deepEqual((await snaps.list()).map((s) => s.chainId), [kept]);
});

test('durability: commits are synced in a batch and marked; cleanup drops unmarked snapshots of an earlier boot only', async (t) => {
  const { snaps } = await fixture(t);
  const ids: Digest[] = [];
  for (const body of ['a', 'b', 'c', 'd']) {
    const l = await layer([{ name: 'f', body }]);
    ids.push(digestOf(l));
    await snaps.unpack({ chainId: digestOf(l), diffId: digestOf(l), source: Readable.from([l]) });
  }
  await snaps.syncNow();
  const dirOf = (id: Digest) => join(snaps.root, id.slice(7));
  const synced = async (id: Digest) => ((await stat(join(dirOf(id), 'meta.json'))).mode & 0o222) === 0;
  for (const id of ids) assert.ok(await synced(id), `${id} marked`);
  const meta = async (id: Digest, change: (m: Record<string, unknown>) => void) => {
    const p = join(dirOf(id), 'meta.json');
    const m = JSON.parse(await readFile(p, 'utf8'));
    change(m);
    const mode = (await stat(p)).mode & 0o777;
    await chmod(p, 0o644);
    await writeFile(p, JSON.stringify(m));
    await chmod(p, mode);
  };
  const unmark = (id: Digest) => chmod(join(dirOf(id), 'meta.json'), 0o644);
  // a: earlier boot, never synced (torn by a crash?) → dropped; b: earlier boot, synced → kept;
  // c: this boot, not synced yet → kept; d: from before boots were recorded → kept
  await meta(ids[0]!, (m) => { m.boot = 'an-earlier-boot'; });
  await unmark(ids[0]!);
  await meta(ids[1]!, (m) => { m.boot = 'an-earlier-boot'; });
  await unmark(ids[2]!);
  await meta(ids[3]!, (m) => { delete m.boot; });
  await unmark(ids[3]!);
  await snaps.cleanup();
  assert.deepEqual((await snaps.list()).map((s) => s.chainId).sort(), ids.slice(1).sort());
  // a removal waits for a batch that may be marking the snapshot (the marker must not land in a removed dir)
  const l = await layer([{ name: 'f', body: 'e' }]);
  await snaps.unpack({ chainId: digestOf(l), diffId: digestOf(l), source: Readable.from([l]) });
  const syncing = snaps.syncNow();
  const removed = await snaps.prune([]);
  await syncing;
  assert.equal(removed.length, 4);
  assert.deepEqual(await snaps.list(), []);
  assert.ok(!existsSync(dirOf(digestOf(l))));
});
