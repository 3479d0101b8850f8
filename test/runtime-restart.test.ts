// The runtime's side of a container's end: its rootfs is unmounted when it exits, mountedRootfs() mounts it
// again for cp/export, and a restart mounts it afresh — on real crun/conmon with a busybox-static rootfs.
// (Restart policies are berthd's: src/daemon/routes/container-monitor.ts, tested in runtime-engine-restart.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fixture, runtimeSkip, type Fixture } from './runtime-helpers.ts';

const skip = runtimeSkip();
let f: Fixture;
before(async () => { if (!skip) f = await fixture(); });
after(async () => { await f?.cleanup(); });

const mounted = (p: string): boolean => execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' }).includes(` ${p} `);

test('the rootfs is unmounted at exit; mountedRootfs mounts it again; a restart runs on it', { skip, timeout: 30_000 }, async () => {
  const c = await f.run({ cmd: ['sh', '-c', 'echo run >> /runs'] });
  const st = await f.rt.wait(c.id);
  assert.equal(st.exitCode, 0);
  assert.equal(mounted(f.rt.rootfs(c.id)), false, 'unmounted when the container ended');
  assert.equal(await f.rt.mountedRootfs(c.id), f.rt.rootfs(c.id));
  assert.equal(mounted(f.rt.rootfs(c.id)), true, 'mountedRootfs mounts a stopped container again (cp, export)');
  await f.rt.start(c.id);
  assert.equal((await f.rt.wait(c.id)).exitCode, 0);
  assert.equal(mounted(f.rt.rootfs(c.id)), false);
  const runs = execFileSync('cat', [`${await f.rt.mountedRootfs(c.id)}/runs`], { encoding: 'utf8' });
  assert.equal(runs, 'run\nrun\n', 'the second run wrote on the same writable layer');
});
