// `--network container:NAME|ID` (one container joins another's network namespace) through the real docker CLI
// v28 on berthd, with dockerd's behaviour (checked against Debian's dockerd): the mode is resolved when the
// container starts, stored as `container:<full id>`, docker's errors for a missing or stopped container and for
// options that would configure a network it does not own; inspect shows no networks of its own. Also: an --rm
// container survives its restart (its volatile overlay is mounted again) and one whose start failed is removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerSuite, containerSkip, waitFor } from './helpers/index.ts';

const skip = containerSkip();
const suite = containerSuite(skip);
const k = suite.k;

test('container: joins the running container\'s namespace (address, hostname, resolv.conf); inspect and ps', { skip, timeout: 60_000 }, async () => {
  assert.equal((await k(['run', '-d', '--name', 'owner', 'busybox', 'sleep', '300'])).code, 0);
  const ownerId = (await k(['inspect', '-f', '{{.Id}}', 'owner'])).stdout.trim();
  const ip = (await k(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'owner'])).stdout.trim();
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  const r = await k(['run', '--rm', '--network', 'container:owner', 'busybox', 'sh', '-c', 'hostname; ip -4 addr show eth0; grep nameserver /etc/resolv.conf']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`${ownerId.slice(0, 12)}\n`), r.stdout);
  assert.match(r.stdout, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
  // joined by short id; the mode is kept with the full id, as dockerd stores it
  assert.equal((await k(['run', '-d', '--name', 'guest', '--network', `container:${ownerId.slice(0, 12)}`, 'busybox', 'sleep', '300'])).code, 0);
  const mode = await k(['inspect', '-f', '{{.HostConfig.NetworkMode}}|{{json .NetworkSettings.Networks}}|{{.Config.Hostname}}', 'guest']);
  assert.equal(mode.stdout.trim(), `container:${ownerId}|{}|${ownerId.slice(0, 12)}`);
  const ps = await k(['ps', '--filter', 'name=guest', '--format', '[{{.Networks}}]']);
  assert.equal(ps.stdout.trim(), '[]');
  const c = await k(['network', 'connect', 'bridge', 'guest']);
  assert.equal(c.code, 1);
  assert.match(c.stderr, /container sharing network namespace with another container or host cannot be connected to any other network/);
  // the namespace outlives its owner's process, as with docker
  assert.equal((await k(['stop', '-t', '0', 'owner'])).code, 0);
  assert.equal((await k(['inspect', '-f', '{{.State.Status}}', 'guest'])).stdout.trim(), 'running');
  await k(['rm', '-f', 'guest', 'owner']);
});

test('container: docker\'s errors — missing and stopped containers (at start), conflicting options, bad format', { skip, timeout: 60_000 }, async () => {
  // a missing container is no error at create (dockerd resolves the mode at start)
  const c1 = await k(['create', '--name', 'm1', '--network', 'container:nosuch', 'busybox', 'true']);
  assert.equal(c1.code, 0, c1.stderr);
  const s1 = await k(['start', 'm1']);
  assert.equal(s1.code, 1);
  assert.match(s1.stderr, /^Error response from daemon: No such container: nosuch\n/);
  assert.equal((await k(['create', '--name', 'idle', 'busybox', 'sleep', '300'])).code, 0);
  const idleId = (await k(['inspect', '-f', '{{.Id}}', 'idle'])).stdout.trim();
  const r = await k(['run', '--rm', '--name', 'rmme', '--network', 'container:idle', 'busybox', 'true']);
  assert.equal(r.code, 125);
  assert.equal(r.stderr, `docker: Error response from daemon: cannot join network of a non running container: ${idleId}\n\nRun 'docker run --help' for more information\n`);
  // an --rm container whose start failed is removed, as dockerd does
  assert.equal((await k(['ps', '-a', '--filter', 'name=rmme', '--format', '{{.Names}}'])).stdout, '');
  assert.equal((await k(['start', 'idle'])).code, 0);
  const cases: [string[], string][] = [
    [['-p', '80:80'], 'conflicting options: port publishing and the container type network mode'],
    [['-h', 'foo'], 'conflicting options: hostname and the network mode'],
    [['--dns', '1.1.1.1'], 'conflicting options: dns and the network mode'],
    [['--add-host', 'a:1.2.3.4'], 'conflicting options: custom host-to-IP mapping and the network mode'],
    [['--expose', '80'], 'conflicting options: port exposing and the container type network mode'],
  ];
  for (const [flags, msg] of cases) {
    const x = await k(['run', '--rm', '--network', 'container:idle', ...flags, 'busybox', 'true']);
    assert.deepEqual([x.code, x.stderr], [125, `docker: Error response from daemon: ${msg}\n\nRun 'docker run --help' for more information\n`], flags.join(' '));
  }
  const bad = await k(['run', '--rm', '--network', 'container:', 'busybox', 'true']);
  assert.match(bad.stderr, /Invalid network mode: invalid container format container:<name\|id>/);
  await k(['rm', '-f', 'm1', 'idle']);
});

test('an --rm container restarts (its volatile overlay mounts again, its files kept) and is removed when it ends', { skip, timeout: 60_000 }, async () => {
  const id = (await k(['run', '-d', '--rm', '--network', 'none', 'busybox', 'sleep', '300'])).stdout.trim();
  assert.equal((await k(['exec', id, 'sh', '-c', 'echo kept > /f'])).code, 0);
  const r = await k(['restart', '-t', '0', id]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await k(['exec', id, 'cat', '/f'])).stdout, 'kept\n');
  assert.equal((await k(['stop', '-t', '0', id])).code, 0);
  const w = await k(['wait', id]);
  // gone once it ended: wait finds it removed (or reports its end just before)
  assert.ok(w.code === 0 || /No such container/.test(w.stderr), w.stderr);
  await waitFor(async () => (await k(['ps', '-aq', '--filter', `id=${id}`])).stdout === '', 'the --rm container removed');
});
