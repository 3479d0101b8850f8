import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { packTar, type PackEntry } from '../../archive/index.ts';
import { LazyContext } from './lazy.ts';
import { ContextSync, type ManifestFile } from './sync.ts';

const OLD = Math.floor(Date.now() / 1000) - 3600;

/** One build through the sync: manifest → wanted files only in the body → receive → keep. */
async function build(sync: ContextSync, work: string, files: Record<string, string>, stat: (n: string) => string): Promise<{ sent: string[]; read: Record<string, string> }> {
  const list: ManifestFile[] = Object.entries(files).map(([n, c]) => [n, Buffer.byteLength(c), 0o644, OLD, stat(n)]);
  const { session, want } = sync.open('host\0uid\0/ctx', { now: Date.now(), files: list });
  const sent = want.map((i) => list[i]![0]);
  const entries: PackEntry[] = sent.map((n) => ({ header: { name: n, type: 'file', mode: 0o644, uid: 0, gid: 0, size: Buffer.byteLength(files[n]!), mtime: OLD }, body: Buffer.from(files[n]!) }));
  const use = sync.use(session);
  const dir = await mkdtemp(join(work, 'ctx-'));
  const ctx = await LazyContext.receive(Readable.from(packTar(entries)), dir, { reuse: use.reuse });
  const read: Record<string, string> = {};
  for (const n of Object.keys(files)) {
    const parts: Buffer[] = [];
    for await (const c of ctx.read(n)) parts.push(c);
    read[n] = Buffer.concat(parts).toString();
  }
  ctx.close();
  await use.keep(ctx);
  await rm(dir, { recursive: true, force: true });
  return { sent, read };
}

test('context sync: unchanged files are not asked for again; kept tars are released as records move on', async () => {
  const work = await mkdtemp(join(tmpdir(), 'csync-'));
  try {
    const store = join(work, 'store');
    const sync = new ContextSync(store);
    const files: Record<string, string> = { Dockerfile: 'FROM scratch\n', 'big.bin': 'b'.repeat(10_000), 'small.txt': '0' };
    const stats: Record<string, number> = { Dockerfile: 1, 'big.bin': 1, 'small.txt': 1 };
    const stat = (n: string): string => `key-${stats[n]}`;
    const first = await build(sync, work, files, stat);
    assert.deepEqual(first.sent.sort(), ['Dockerfile', 'big.bin', 'small.txt']);
    for (let i = 1; i <= 12; i++) {
      files['small.txt'] = String(i);
      stats['small.txt']!++;
      // two new files a round: later rounds reuse them from this round's tar (two references into it)
      files[`n${i}a`] = `a${i}`; files[`n${i}b`] = `b${i}`; stats[`n${i}a`] = 1; stats[`n${i}b`] = 1;
      const r = await build(sync, work, files, stat);
      // the Dockerfile always goes; big.bin never again (compaction keeps the tar holding most bytes)
      const resent = r.sent.filter((n) => n.startsWith('n') && n !== `n${i}a` && n !== `n${i}b`);
      assert.deepEqual(r.sent.filter((n) => !n.startsWith('n')).sort(), ['Dockerfile', 'small.txt'], `round ${i}`);
      // only when the kept tars reach their limit (round 8 here) are the small ones' files sent again
      assert.ok(i === 8 || resent.length === 0, `round ${i} resent ${resent}`);
      assert.deepEqual(r.read, files);
      // with every reference dropped when it should be, the store holds at most the record's tars
      await new Promise((res) => setImmediate(res));
      assert.ok((await readdir(store)).length <= 8, `round ${i}: ${(await readdir(store)).length} tars kept`);
    }
    // a changed stat key (ctime moved: a rewrite, even of the same size and mtime) sends the file again
    stats['big.bin']!++;
    assert.deepEqual((await build(sync, work, files, stat)).sent.sort(), ['Dockerfile', 'big.bin']);
    sync.clear();
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(await readdir(store), []);
    assert.throws(() => sync.use('nope'), /session nope not found/);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
