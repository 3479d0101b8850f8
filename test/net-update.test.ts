// `update` (POST /containers/{id}/update) and `network connect/disconnect` of a running container, through the
// real docker CLI v28 and berth on berthd: the cgroup changes at once, HostConfig records it, docker's messages
// and output; a second network appears in inspect with its own interface, and goes again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { containerSuite, containerSkip } from './helpers/index.ts';
import { berth } from './cli-helpers.ts';

const suite = containerSuite(containerSkip(), (x) => x.k(['network', 'rm', 'second']));
const skip = containerSkip();
const k = suite.k;
const b = (args: string[]) => berth(args, { env: suite.d.dockerEnv });

/** A cgroup v1 (or v2) limit file of the running container, read from the host. */
function cgroupFile(pid: number, controller: string, v1: string, v2: string): string | undefined {
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const [, ctrls, path] = line.split(':');
    if (ctrls === undefined || path === undefined) continue;
    if (ctrls.split(',').includes(controller) && existsSync(`/sys/fs/cgroup/${controller}${path}/${v1}`)) return readFileSync(`/sys/fs/cgroup/${controller}${path}/${v1}`, 'utf8').trim();
    if (ctrls === '' && existsSync(`/sys/fs/cgroup${path}/${v2}`)) return readFileSync(`/sys/fs/cgroup${path}/${v2}`, 'utf8').trim();
  }
  return undefined;
}

test('update: limits change on the running container and are recorded; docker\'s output and errors', { skip, timeout: 60_000 }, async () => {
  assert.equal((await k(['run', '-d', '--name', 'u1', '-m', '64m', 'busybox', 'sleep', '300'])).code, 0);
  const pid = Number((await k(['inspect', '-f', '{{.State.Pid}}', 'u1'])).stdout);
  const u = await k(['update', '-m', '96m', '--memory-swap', '200m', '--cpus', '0.5', '--pids-limit', '50', '--restart', 'on-failure:3', 'u1']);
  assert.deepEqual([u.code, u.stdout, u.stderr], [0, 'u1\n', '']);
  const hc = JSON.parse((await k(['inspect', '-f', '{{json .HostConfig}}', 'u1'])).stdout);
  assert.deepEqual([hc.Memory, hc.MemorySwap, hc.NanoCpus, hc.PidsLimit, hc.RestartPolicy], [96 * 2 ** 20, 200 * 2 ** 20, 5e8, 50, { Name: 'on-failure', MaximumRetryCount: 3 }]);
  const mem = cgroupFile(pid, 'memory', 'memory.limit_in_bytes', 'memory.max');
  if (mem !== undefined) assert.equal(mem, String(96 * 2 ** 20));
  const pids = cgroupFile(pid, 'pids', 'pids.max', 'pids.max');
  if (pids !== undefined) assert.equal(pids, '50');
  const quota = cgroupFile(pid, 'cpu', 'cpu.cfs_quota_us', 'cpu.max');
  if (quota !== undefined) assert.match(quota, /^50000\b/);
  assert.ok(mem !== undefined && pids !== undefined && quota !== undefined, `cgroup files found: ${mem} ${pids} ${quota}`);

  // berth update prints the same, with -c
  const bu = await b(['update', '-c', '512', 'u1']);
  assert.deepEqual([bu.code, bu.stdout, bu.stderr], [0, 'u1\n', '']);
  assert.equal((await k(['inspect', '-f', '{{.HostConfig.CpuShares}}', 'u1'])).stdout.trim(), '512');

  // errors as docker's: no flags, too little memory, unknown container (printed, exit 1)
  for (const args of [['update', 'u1'], ['update', '-m', '1m', 'u1'], ['update', '-m', '300m', 'u1'], ['update', '-m', '96m', 'nope'], ['update', '--memory', '1zz', 'u1']]) {
    const [x, y] = [await b(args), await k(args)];
    assert.deepEqual([x.code, x.stdout, x.stderr.replace(/\bberth\b/g, 'docker')], [y.code, y.stdout, y.stderr], args.join(' '));
  }
  assert.match((await k(['update', '-m', '1m', 'u1'])).stderr, /Minimum memory limit allowed is 6MB/);
  assert.match((await k(['update', '-m', '300m', 'u1'])).stderr, /Memory limit should be smaller than already set memoryswap limit/);

  // an --rm container cannot get a restart policy (docker's message)
  assert.equal((await k(['run', '-d', '--rm', '--name', 'u2', 'busybox', 'sleep', '300'])).code, 0);
  const rm = await k(['update', '--restart', 'always', 'u2']);
  assert.equal(rm.code, 1);
  assert.match(rm.stderr, /Restart policy cannot be updated because AutoRemove is enabled for the container/);
  await k(['rm', '-f', 'u1', 'u2']);
});

test('network connect adds an interface shown in inspect; disconnect removes it', { skip, timeout: 60_000 }, async () => {
  assert.equal((await k(['network', 'create', 'second'])).code, 0);
  assert.equal((await k(['run', '-d', '--name', 'c1', 'busybox', 'sleep', '300'])).code, 0);
  const c = await k(['network', 'connect', '--alias', 'other', 'second', 'c1']);
  assert.equal(c.code, 0, c.stderr);
  const nets = JSON.parse((await k(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'c1'])).stdout);
  assert.deepEqual(Object.keys(nets).sort(), ['bridge', 'second']);
  const second = nets.second;
  const netId = (await k(['network', 'inspect', '-f', '{{.Id}}', 'second'])).stdout.trim();
  assert.equal(second.NetworkID, netId);
  assert.match(second.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
  assert.notEqual(second.IPAddress, nets.bridge.IPAddress);
  assert.ok(second.Aliases.includes('other'), JSON.stringify(second));
  assert.deepEqual(second.DNSNames.slice(0, 1), ['c1']);
  const addrs = await k(['exec', 'c1', 'ip', '-4', '-o', 'addr']);
  assert.match(addrs.stdout, new RegExp(`eth1 +inet ${second.IPAddress.replaceAll('.', '\\.')}/`));
  const ni = JSON.parse((await k(['network', 'inspect', 'second'])).stdout)[0];
  assert.equal(Object.values(ni.Containers as Record<string, { Name: string }>)[0]!.Name, 'c1');
  assert.equal((await k(['ps', '-q', '-f', 'network=second'])).stdout.trim().length, 12);
  // removing a network in use is refused
  assert.equal((await k(['network', 'rm', 'second'])).code, 1);

  const dc = await k(['network', 'disconnect', 'second', 'c1']);
  assert.equal(dc.code, 0, dc.stderr);
  assert.deepEqual(Object.keys(JSON.parse((await k(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'c1'])).stdout)), ['bridge']);
  assert.doesNotMatch((await k(['exec', 'c1', 'ip', '-o', 'link'])).stdout, /eth1/);
  await k(['rm', '-f', 'c1']);
  assert.equal((await k(['network', 'rm', 'second'])).code, 0);
});
