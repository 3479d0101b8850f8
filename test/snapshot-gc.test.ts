// Snapshot GC through berthd (issue 6 item 1): unpacked layers go with the last image, container and build
// cache record that stacks them (rmi, image prune), and stay while a container uses them. Real crun/conmon.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, mkdirSync, writeFileSync, copyFileSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startDaemon, importBusybox, docker, haveDocker, type StartedDaemon } from './helpers/index.ts';
import { runtimeSkip } from './runtime-helpers.ts';
import { HAVE_REGISTRY, startDistribution } from './distribution-fixtures.ts';

const skip = runtimeSkip() ?? (haveDocker() ? undefined : 'needs the docker CLI');
let d: StartedDaemon | undefined;
const daemons: StartedDaemon[] = [];
after(async () => {
  for (const x of daemons) {
    const ids = (await docker(['ps', '-aq'], { env: x.dockerEnv })).stdout.split('\n').filter(Boolean);
    if (ids.length) await docker(['rm', '-f', ...ids], { env: x.dockerEnv });
    await x.stop();
  }
});

/** The committed snapshots on disk (chainID hex directories). */
function snapshotDirs(dataRoot: string): string[] {
  try { return readdirSync(join(dataRoot, 'snapshots')).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort(); } catch { return []; }
}

test('rmi and image prune remove unpacked snapshots no image or container needs; a container keeps its own', { skip }, async () => {
  d = await startDaemon();
  daemons.push(d);
  const dk = async (...args: string[]) => {
    const r = await docker(args, { env: d!.dockerEnv });
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await importBusybox(d, 'gc:one');
  // a second image with a layer of its own: busybox plus one file
  const two = join(d.dir, 'two');
  mkdirSync(two);
  writeFileSync(join(two, 'hello'), 'hi\n');
  copyFileSync(join(d.dir, 'busybox-rootfs.tar'), join(d.dir, 'two.tar'));
  execFileSync('tar', ['rf', join(d.dir, 'two.tar'), '-C', two, 'hello']);
  for await (const m of d.client.stream('POST', '/images/create', { query: { fromSrc: '-', repo: 'gc:two' }, body: createReadStream(join(d.dir, 'two.tar')), headers: { 'content-type': 'application/x-tar' } })) {
    assert.equal(m.error, undefined);
  }

  await dk('create', '--name', 'keep', 'gc:one', 'true');
  const one = snapshotDirs(d.dataRoot);
  assert.equal(one.length, 1, 'create unpacked the busybox layer');
  await dk('run', '--name', 'c2', 'gc:one', 'true');
  await dk('create', '--name', 'c3', 'gc:two', 'true');
  assert.equal(snapshotDirs(d.dataRoot).length, 2);

  // gc:two's layer goes once its container and its image are gone
  await dk('rm', 'c3');
  await dk('rmi', 'gc:two');
  assert.deepEqual(snapshotDirs(d.dataRoot), one);

  // gc:one's layer stays while a container stacks it, even when the image itself is forced out
  await dk('rmi', '-f', 'gc:one');
  await dk('image', 'prune', '-f');
  assert.deepEqual(snapshotDirs(d.dataRoot), one);
  await dk('rm', 'keep', 'c2');
  await dk('image', 'prune', '-f');
  assert.deepEqual(snapshotDirs(d.dataRoot), []);
  assert.deepEqual(readdirSync(join(d.dataRoot, 'snapshots', 'l')), [], 'short links go with their snapshots');
});

test('unpack-on-pull false: a pull stores and verifies blobs only; the first run unpacks', { skip: skip || (!HAVE_REGISTRY && 'needs docker-registry') }, async () => {
  const reg = await startDistribution();
  try {
    const x = await startDaemon({ config: { 'unpack-on-pull': false } });
    daemons.push(x);
    const dk = async (...args: string[]) => {
      const r = await docker(args, { env: x.dockerEnv });
      assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    await importBusybox(x, `${reg.host}/lazy/bb:1`);
    await dk('push', `${reg.host}/lazy/bb:1`);
    await dk('rmi', `${reg.host}/lazy/bb:1`);
    assert.deepEqual(snapshotDirs(x.dataRoot), []);
    const out = await dk('pull', `${reg.host}/lazy/bb:1`);
    assert.match(out, /Pull complete/);
    assert.doesNotMatch(out, /Extracting/);
    assert.deepEqual(snapshotDirs(x.dataRoot), [], 'nothing unpacked by the pull');
    assert.match(await dk('images', '--format', '{{.Size}}', `${reg.host}/lazy/bb:1`), /^[1-9][0-9.]*[kM]B\n$/);
    await dk('run', '--rm', `${reg.host}/lazy/bb:1`, 'true');
    assert.equal(snapshotDirs(x.dataRoot).length, 1, 'the first run unpacked the layer');
  } finally {
    await reg.stop();
  }
});
