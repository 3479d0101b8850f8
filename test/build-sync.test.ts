// The context sync (src/build/context/sync.ts) through the berth CLI and berthd: a rebuild sends only what
// changed, and what the image gets is always the directory as it is now — a same-size rewrite with its mtime
// put back, a removed file, a new file, and a RUN bind mount of a context merged from two sends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startDaemon, importBusybox, run, REPO, type StartedDaemon } from './helpers/index.ts';
import { runtimeSkip } from './runtime-helpers.ts';
import { writeContext } from './build-helpers.ts';

let d: StartedDaemon;
const berth = (args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [join(REPO, 'bin', 'berth.js'), ...args], { env: { ...d.dockerEnv, ...env }, timeoutMs: 120_000 });

before(async () => {
  d = await startDaemon();
  await importBusybox(d);
});
after(async () => { await d?.stop(); });

/** Files written an hour ago (so none is "racy" for the sync), plus a Dockerfile. */
// back-dated an hour: files the stat-keyed caches may trust
const context = (name: string, dockerfile: string, files: Record<string, string>) => writeContext(d.dir, name, dockerfile, files, { mtime: new Date(Date.now() - 3600_000) });

const sent = (out: string): number => {
  const m = /Sending build context to Docker daemon\s+([\d.]+)(B|kB|MB)/.exec(out);
  assert.ok(m, out);
  return Number(m[1]) * { B: 1, kB: 1e3, MB: 1e6 }[m[2] as 'B' | 'kB' | 'MB'];
};

async function exported(ctx: string, dest: string): Promise<Record<string, string>> {
  await rm(dest, { recursive: true, force: true });
  const r = await berth(['build', '-o', `type=local,dest=${dest}`, ctx]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out: Record<string, string> = {};
  for (const f of (await readdir(join(dest, 'app'), { recursive: true })).sort()) {
    const p = join(dest, 'app', f);
    if ((await stat(p)).isFile()) out[f] = await readFile(p, 'utf8');
  }
  return out;
}

test('a rebuild sends only changed files; the image always has the files as they are now', async () => {
  const big = 'x'.repeat(200_000);
  const ctx = await context('sync', 'FROM busybox\nCOPY . /app\n', { 'a.txt': 'aaaa', 'sub/b.txt': 'bbbb', 'big.bin': big });
  const first = await berth(['build', '-t', 'sync:1', ctx]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.ok(sent(first.stdout) > 200_000, first.stdout);

  const second = await berth(['build', '-t', 'sync:1', ctx]);
  assert.equal(second.code, 0, second.stderr + second.stdout);
  assert.ok(sent(second.stdout) < 20_000, `unchanged files sent again: ${second.stdout}`);
  assert.match(second.stdout, /Step 2\/2 : COPY \. \/app\n ---> Using cache\n/);

  // same size, mtime put back: the stat key (ctime) still differs, so the new bytes are sent and used
  const st = await stat(join(ctx, 'a.txt'));
  await writeFile(join(ctx, 'a.txt'), 'AAAA');
  await utimes(join(ctx, 'a.txt'), st.atime, st.mtime);
  await rm(join(ctx, 'sub', 'b.txt'));
  await writeFile(join(ctx, 'sub', 'c.txt'), 'cccc');
  const files = await exported(ctx, join(d.dir, 'out1'));
  assert.deepEqual(files, { 'Dockerfile': 'FROM busybox\nCOPY . /app\n', 'a.txt': 'AAAA', 'big.bin': big, 'sub/c.txt': 'cccc' });
  // the new COPY layer's snapshot shares the unchanged file's inode with the earlier one (executor/reuse.ts);
  // the changed one has its own
  const copies = execFileSync('find', [join(d.dataRoot, 'snapshots'), '-path', '*/fs/app/big.bin', '-links', '+1'], { encoding: 'utf8' });
  assert.equal(copies.trim().split('\n').length, 2, copies);
  const a = execFileSync('find', [join(d.dataRoot, 'snapshots'), '-path', '*/fs/app/a.txt', '-links', '1'], { encoding: 'utf8' });
  assert.equal(a.trim().split('\n').length, 2, a);

  // with the sync turned off the whole context goes, and the result is the same image
  const full = await berth(['build', '-q', ctx], { BERTH_BUILD_CONTEXT_SYNC: '0' });
  const synced = await berth(['build', '-q', ctx]);
  assert.equal(full.code, 0, full.stderr);
  assert.equal(full.stdout, synced.stdout);
});

test('a RUN bind mount sees a context merged from the kept tar and the new send', { skip: runtimeSkip() }, async () => {
  const ctx = await context('syncbind', 'FROM busybox\nRUN --mount=type=bind,target=/ctx cat /ctx/one /ctx/two > /seen\nCMD ["cat", "/seen"]\n', { one: '1\n', two: '2\n' });
  const a = await berth(['build', '-t', 'syncbind', ctx]);
  assert.equal(a.code, 0, a.stderr + a.stdout);
  await writeFile(join(ctx, 'two'), 'two\n');
  const b = await berth(['build', '-t', 'syncbind', ctx]);
  assert.equal(b.code, 0, b.stderr + b.stdout);
  assert.ok(sent(b.stdout) < 10_000, b.stdout);
  const out = await berth(['run', '--rm', 'syncbind']);
  assert.equal(out.stdout, '1\ntwo\n', out.stderr);
});

test('many rebuilds in a row keep sending only what changed (the kept tars are compacted, not dropped)', async () => {
  const ctx = await context('syncmany', 'FROM busybox\nCOPY . /app\n', { 'big.bin': 'y'.repeat(300_000), 'small.txt': '0' });
  assert.equal((await berth(['build', '-q', ctx])).code, 0);
  for (let i = 1; i <= 10; i++) {
    // a different small file each time (each build leaves one more kept tar)
    await writeFile(join(ctx, 'small.txt'), String(i));
    await utimes(join(ctx, 'small.txt'), new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
    const r = await berth(['build', ctx]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.ok(sent(r.stdout) < 100_000, `build ${i} sent the big file again: ${r.stdout.split('\n')[0]}`);
  }
  const files = await exported(ctx, join(d.dir, 'outmany'));
  assert.equal(files['small.txt'], '10');
  assert.equal(files['big.bin']!.length, 300_000);
});
