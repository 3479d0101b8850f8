import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, symlink, rm, chmod, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { prepareContext } from './buildcontext.ts';

async function tarOf(dir: string, dockerfile?: string | { content: Buffer }): Promise<{ bytes: Buffer; name: string }> {
  const c = await prepareContext(dir, dockerfile);
  const parts: Buffer[] = [];
  for await (const chunk of c.tar) parts.push(chunk as Buffer);
  return { bytes: Buffer.concat(parts), name: c.dockerfile };
}

/** GNU tar's verbose listing of `bytes` (an independent reader for our writer). */
function list(bytes: Buffer): string[] {
  const r = spawnSync('tar', ['--numeric-owner', '-tvf', '-'], { input: bytes });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString().trim().split('\n').map((l) => l.replace(/\s+/g, ' ').replace(/ \d{4}-\d\d-\d\d \d\d:\d\d/, ''));
}

test('the context tar: docker order, 0:0, modes, long names through PAX, symlinks, ignore rules, big files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bctx-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const long = 'n'.repeat(120);
  await mkdir(join(dir, 'a', long), { recursive: true });
  await writeFile(join(dir, 'a', long, 'f.txt'), 'hello');
  await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\n');
  await writeFile(join(dir, '.dockerignore'), 'skip*\n');
  await writeFile(join(dir, 'skipped'), 'x');
  await writeFile(join(dir, 'run.sh'), '#!/bin/sh\n');
  await chmod(join(dir, 'run.sh'), 0o755);
  await symlink('run.sh', join(dir, 'link'));
  const big = Buffer.alloc(3 * 1024 * 1024 + 7, 7); // spans several output chunks
  await writeFile(join(dir, 'big.bin'), big);
  await utimes(join(dir, 'big.bin'), 1_600_000_000, 1_600_000_000);
  const { bytes, name } = await tarOf(dir);
  assert.equal(name, 'Dockerfile');
  assert.equal(bytes.length % 512, 0);
  assert.deepEqual(list(bytes), [
    '-rw-r--r-- 0/0 6 .dockerignore',
    '-rw-r--r-- 0/0 13 Dockerfile',
    'drwxr-xr-x 0/0 0 a/',
    `drwxr-xr-x 0/0 0 a/${long}/`,
    `-rw-r--r-- 0/0 5 a/${long}/f.txt`,
    '-rw-r--r-- 0/0 3145735 big.bin',
    'lrwxrwxrwx 0/0 0 link -> run.sh',
    '-rwxr-xr-x 0/0 10 run.sh',
  ]);
  const out = await mkdtemp(join(tmpdir(), 'bctx-x-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  assert.equal(spawnSync('tar', ['-xf', '-', '-C', out], { input: bytes }).status, 0);
  const { readFile, stat } = await import('node:fs/promises');
  assert.deepEqual(await readFile(join(out, 'big.bin')), big);
  assert.equal((await stat(join(out, 'big.bin'))).mtimeMs, 1_600_000_000_000);
  assert.equal(await readFile(join(out, 'a', long, 'f.txt'), 'utf8'), 'hello');
});

test('a Dockerfile from stdin travels under a random name', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bctx-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { bytes, name } = await tarOf(dir, { content: Buffer.from('FROM busybox\n') });
  assert.match(name, /^\.dockerfile\.[0-9a-f]{20}$/);
  assert.deepEqual(list(bytes), [`-rw-r--r-- 0/0 13 ${name}`]);
});
