// The `run --rm` fast path of the runtime (issue 6's latency work) keeps its guarantees: a precompiled seccomp
// program still confines the process, crun's start done in-process releases the container, an exit seen by
// two waiters at once is recorded once, and a removal is complete for every reader at once while its tail
// (runtime delete, rm) finishes in the background without leaving anything. `--network none` joins a namespace
// made ahead (netns.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, runtimeSkip, type Fixture } from './runtime-helpers.ts';
import { readLogs, runtimeStatus } from '../src/runtime/index.ts';
import { waitFor } from './helpers/index.ts';

const skip = runtimeSkip();
let f: Fixture;
before(async () => { if (!skip) f = await fixture(); });
after(async () => { await f?.cleanup(); });

async function output(id: string): Promise<string> {
  let s = '';
  for await (const r of readLogs(f.rt.logPath(id))) s += r.data.toString();
  return s;
}

const crunSkip = skip ?? (runtimeStatus().runtimes.crun ? undefined : 'needs crun');

test('seccomp: the second container gets the compiled program through crun annotation and is still confined', { skip: crunSkip }, async () => {
  const probe = ['sh', '-c', 'grep ^Seccomp: /proc/self/status; unshare -r true 2>/dev/null && echo unshare-ok || echo unshare-denied'];
  const a = await f.run({ cmd: probe, runtime: 'crun' });
  assert.equal((await f.rt.wait(a.id)).exitCode, 0);
  const spec1 = await f.rt.spec(a.id) as { annotations?: Record<string, string> };
  assert.equal(spec1.annotations?.['run.oci.seccomp_bpf_data'], undefined, 'the first one compiles');
  const b = await f.run({ cmd: probe, runtime: 'crun' });
  assert.equal((await f.rt.wait(b.id)).exitCode, 0);
  const spec2 = await f.rt.spec(b.id) as { annotations?: Record<string, string> };
  const bpf = Buffer.from(spec2.annotations?.['run.oci.seccomp_bpf_data'] ?? '', 'base64');
  assert.ok(bpf.length > 0 && bpf.length % 8 === 0, 'the second one is handed the program');
  // mode 2 = filter, and unshare (denied by docker's profile without CAP_SYS_ADMIN) is refused in both
  assert.equal(await output(a.id), 'Seccomp:\t2\nunshare-denied\n');
  assert.equal(await output(b.id), 'Seccomp:\t2\nunshare-denied\n');
  // a different profile (another capability set) is not served the first one's program
  const c = await f.run({ cmd: probe, runtime: 'crun', capAdd: ['SYS_ADMIN'] });
  await f.rt.wait(c.id);
  const spec3 = await f.rt.spec(c.id) as { annotations?: Record<string, string> };
  assert.equal(spec3.annotations?.['run.oci.seccomp_bpf_data'], undefined);
});

test('start without crun start: the created container runs, and a second start is a no-op', { skip }, async () => {
  const s = await f.run({ cmd: ['sh', '-c', 'echo started'] }, false);
  assert.equal((await f.rt.inspect(s.id)).status, 'created');
  await f.rt.start(s.id);
  const end = await f.rt.wait(s.id);
  assert.equal(end.exitCode, 0);
  assert.equal(await output(s.id), 'started\n');
});

test('an exit seen by two waiters is recorded once; wait returns with the rootfs unmounted', { skip }, async () => {
  const s = await f.run({ cmd: ['sh', '-c', 'exit 7'] });
  const [x, y] = await Promise.all([f.rt.wait(s.id), f.rt.wait(s.id)]);
  assert.equal(x.exitCode, 7);
  assert.deepEqual(y, x);
  const saved = JSON.parse(readFileSync(join(f.rt.dir(s.id), 'state.json'), 'utf8')) as { status: string; finishedAt: string };
  assert.equal(saved.status, 'exited');
  assert.equal(saved.finishedAt, x.finishedAt);
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${f.rt.rootfs(s.id)} `), false);
});

test('delete: the container is gone at once; the runtime state and the directory follow, nothing left behind', { skip }, async () => {
  const s = await f.run({ cmd: ['true'] });
  await f.rt.wait(s.id);
  await f.rt.delete(s.id);
  assert.equal(existsSync(f.rt.dir(s.id)), false);
  await assert.rejects(f.rt.inspect(s.id), /No such container/);
  await f.rt.settled();
  const rt = (await import('../src/runtime/index.ts')).runtimeStatus();
  const bin = rt.runtimes[s.runtime]!;
  assert.throws(() => execFileSync(bin, [`--root=${f.rt.runtimeRoot(s.runtime)}`, 'state', s.id], { stdio: 'pipe' }));
  assert.deepEqual(existsSync(f.root.tmp) ? readdirSync(f.root.tmp).filter((n) => n.includes(s.id)) : [], []);
  // a running container removed with force goes the same way
  const r = await f.run({ cmd: ['sleep', '100'] });
  await f.rt.delete(r.id, { force: true });
  assert.equal(existsSync(f.rt.dir(r.id)), false);
  await f.rt.settled();
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(r.id), false);
});

test('--network none joins a prepared namespace (lo up, nothing else), dropped with the container; a new Runtime keeps held ones', { skip }, async () => {
  const probe = ['sh', '-c', 'ip -o link | cut -d" " -f2,3'];
  // the first container may find the pool still empty: the runtime makes its namespace then
  const first = await f.run({ cmd: probe, network: 'none' });
  await f.rt.wait(first.id);
  const ns = await waitFor(async () => {
    const s = await f.run({ cmd: probe, network: 'none' });
    await f.rt.wait(s.id);
    return s.netns ? s : undefined;
  }, 'a container on a prepared namespace');
  assert.equal(await output(ns.id), 'lo: <LOOPBACK,UP,LOWER_UP>\n');
  const path = ns.netns!;
  assert.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${path} `), 'a bind mount keeps the namespace');
  // a second Runtime on the same directories (a restarted daemon) sweeps what nobody holds, not this one
  const { Runtime } = await import('../src/runtime/index.ts');
  const again = new Runtime({ dataRoot: f.root, stateDir: f.rt.stateDir });
  await again.list();
  await again.close();
  assert.ok(existsSync(path));
  // restart joins it again; removal drops it
  await f.rt.start(ns.id);
  assert.equal((await f.rt.wait(ns.id)).exitCode, 0);
  await f.rt.delete(ns.id);
  await f.rt.settled();
  assert.ok(!existsSync(path), 'dropped with its container');
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${path} `));
});
