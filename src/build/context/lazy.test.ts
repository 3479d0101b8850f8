import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm, symlink, chmod, readdir } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { LazyContext } from './lazy.ts';
import { resolveSources } from './copy.ts';
import { digestSources } from './digest.ts';

test('the index answers COPY digests exactly as the extracted directory would, without extracting', async () => {
  const base = await mkdtemp(join(tmpdir(), 'berth-lazy-'));
  try {
    const src = join(base, 'src');
    await mkdir(join(src, 'app/lib'), { recursive: true });
    await mkdir(join(src, 'node_modules/x'), { recursive: true });
    await writeFile(join(src, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
    await writeFile(join(src, '.dockerignore'), 'node_modules\n*.log\n');
    await writeFile(join(src, 'app/main.js'), 'main');
    await writeFile(join(src, 'app/lib/u.js'), 'u');
    await chmod(join(src, 'app/lib/u.js'), 0o755);
    await writeFile(join(src, 'a.txt'), 'a');
    await writeFile(join(src, 'b.txt'), 'b');
    await writeFile(join(src, 'x.log'), 'log');
    await writeFile(join(src, 'node_modules/x/i.js'), 'i');
    await symlink('a.txt', join(src, 'link'));
    await symlink('../a.txt', join(src, 'app/inner-link'));
    const tar = join(base, 'ctx.tar.gz');
    execFileSync('sh', ['-c', `tar -C ${src} -cf - . | gzip > ${tar}`]);
    void createGzip;

    const lazy = await LazyContext.receive(createReadStream(tar), join(base, 'work'));
    assert.equal(lazy.dockerfile.toString(), 'FROM scratch\nCOPY . /\n');
    assert.equal(lazy.ignore.file, '.dockerignore');
    assert.equal(lazy.isExtracted, false);
    const asked = [['.'], ['app'], ['a.txt', 'b.txt'], ['*.txt'], ['app/l*'], ['/app/lib/'], ['app', 'a.txt']];
    const fromIndex = asked.map((s) => lazy.digestFor(s));
    assert.equal(lazy.isExtracted, false, 'answered from the index');
    assert.deepEqual(fromIndex.map((d, i) => (d ? 'ok' : asked[i]!.join(' '))), asked.map(() => 'ok'));
    assert.equal(lazy.digestFor(['link']), undefined, 'a symlinked source needs the disk');
    assert.equal(lazy.digestFor(['nope']), undefined);
    assert.equal(lazy.digestFor(['x.log']), undefined, 'excluded files are not in the index');
    assert.equal(lazy.digestFor(['../x']), undefined);

    const dir = await lazy.directory();
    assert.ok(!(await readdir(dir)).includes('node_modules'));
    for (let i = 0; i < asked.length; i++) {
      assert.equal(fromIndex[i], await digestSources(await resolveSources(dir, asked[i]!)), asked[i]!.join(' '));
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('ContextHashCache: a rebuild reuses digests of old files, re-hashes racy ones and sees edits', async () => {
  const { ContextHashCache } = await import('./lazy.ts');
  const { utimes } = await import('node:fs/promises');
  const base = await mkdtemp(join(tmpdir(), 'berth-lazyh-'));
  try {
    const src = join(base, 'src');
    await mkdir(src);
    await writeFile(join(src, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
    await writeFile(join(src, 'old.txt'), 'aaaa');
    await writeFile(join(src, 'new.txt'), 'bbbb');
    const old = Date.now() / 1000 - 3600;
    await utimes(join(src, 'old.txt'), old, old);
    const hashes = new ContextHashCache();
    let n = 0;
    const receive = async () => {
      const tar = join(base, `ctx${n}.tar`);
      execFileSync('tar', ['-C', src, '-cf', tar, '.']);
      return LazyContext.receive(createReadStream(tar), join(base, `w${n++}`), { hashes });
    };
    const first = await receive();
    const d1 = { old: first.digestFor(['old.txt']), neu: first.digestFor(['new.txt']) };
    // same size, new content: new.txt's mtime is recent (racy), so it is hashed again and the edit is seen
    await writeFile(join(src, 'new.txt'), 'cccc');
    const second = await receive();
    assert.equal(second.digestFor(['old.txt']), d1.old);
    assert.notEqual(second.digestFor(['new.txt']), d1.neu);
    // an edit that changes the mtime is seen even for an old entry
    await writeFile(join(src, 'old.txt'), 'dddd');
    assert.notEqual((await receive()).digestFor(['old.txt']), d1.old);
    // the documented trade-off: same size, mtime reset to the old value → the cached digest is kept
    await utimes(join(src, 'old.txt'), old, old);
    const fourth = await receive();
    await writeFile(join(src, 'old.txt'), 'eeee');
    await utimes(join(src, 'old.txt'), old, old);
    assert.equal((await receive()).digestFor(['old.txt']), fourth.digestFor(['old.txt']));
    // without the cache the digest is always the content's
    const tar = join(base, 'plain.tar');
    execFileSync('tar', ['-C', src, '-cf', tar, '.']);
    assert.notEqual((await LazyContext.receive(createReadStream(tar), join(base, 'plain'))).digestFor(['old.txt']), fourth.digestFor(['old.txt']));
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
