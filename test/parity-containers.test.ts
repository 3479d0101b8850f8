// Parity with a real Docker for issue 6's container commands: the same image (built by Debian's dockerd 20.10
// with the classic builder on a busybox base imported there, saved with `docker save`) is loaded into berthd and
// into a private dockerd; the real docker CLI v28 then runs the same commands against each and the outputs,
// errors and exit codes are compared. dockerd runs with --bridge=none, so every container uses --network none.
// What is normalised, and why (everything else must be byte-equal):
//   - container IDs (random on each side) and times/ages (two runs a moment apart): masked
//   - the data roots (/tmp/dkd-… vs /tmp/bd-…) and the files under them: masked
//   - the OCI runtime's own prefix in create errors (runc's "failed to create shim task … runc create failed:
//     unable to start container process:" vs berth's crun): the docker CLI keys exit codes on the tail
//   - `docker diff`: dockerd walks a Go map, so its order changes from run to run; both sides are sorted
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync, symlinkSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfsTar, run, DOCKER, type RunResult } from './helpers/index.ts';
import { norm } from './cli-helpers.ts';
import { parityPair, paritySkip, ok } from './parity-helpers.ts';

const duo = parityPair('parity-c-', async (p) => {
  // containers a failed test left behind hold mounts under the data roots: remove them before the daemons stop
  for (const side of [p.D, p.B]) {
    const ids = (await side(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await side(['rm', '-f', '-v', ...ids]);
  }
});
const skip = paritySkip;
const { D, B } = duo;

/** IDs, data roots and ages masked (see the header). */
function mask(s: string): string {
  return norm(s)
    .replace(/\/tmp\/(dkd|bd)-[A-Za-z0-9]+\/[^\s",:]*/g, 'PATH')
    .replace(/\b[0-9a-f]{64}\b/g, 'ID')
    .replace(/\b[0-9a-f]{12}\b/g, 'SHORT')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME')
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \w+/g, 'TIME');
}

/** Runs `docker ARGS` against both daemons: the same exit code, stdout and stderr once shaped. */
function same(args: string[], shape: (s: string) => string = mask, input?: string | Buffer): Promise<[RunResult, RunResult]> {
  return duo.same(args, shape, input);
}

/** Waits until `docker inspect` of NAME on both sides says the container is no longer running. */
async function exitedBoth(name: string): Promise<void> {
  for (const side of [D, B]) {
    for (let i = 0; ; i++) {
      const r = await side(['inspect', '-f', '{{.State.Running}}', name]);
      if (r.stdout.trim() === 'false') break;
      assert.ok(i < 200, `${name} still running`);
      await new Promise((res) => setTimeout(res, 25));
    }
  }
}

duo.setup = async () => {
  const rootfs = await busyboxRootfsTar(duo.dir, { applets: ['sh', 'ls', 'cat', 'echo', 'true', 'false', 'sleep', 'mkdir', 'rm', 'chmod', 'chown', 'ln', 'touch', 'kill', 'id', 'stat'] });
  await ok(D(['import', '--change', 'CMD ["sh"]', rootfs, 'bb:base']));
  const ctx = join(duo.dir, 'ctx');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:base\nENV A=1\nWORKDIR /w\nLABEL team=parity\nRUN echo hi > /w/f && mkdir /data\nCMD ["sh"]\n');
  const built = await run(DOCKER, ['build', '-q', '-t', 'app:1', ctx], { env: { ...duo.denv, DOCKER_BUILDKIT: '0' } });
  assert.equal(built.code, 0, built.stderr);
  const archive = join(duo.dir, 'app.tar');
  await ok(D(['save', '-o', archive, 'bb:base', 'app:1']));
  await ok(D(['rmi', 'app:1', 'bb:base']));
  await Promise.all([ok(D(['load', '-q', '-i', archive])), ok(B(['load', '-q', '-i', archive]))]);
};


test('docker run: output and exit codes for true, false, exit 3, missing commands (127), not executable (126), killed (137)', { skip }, async () => {
  await same(['run', '--rm', '--network', 'none', 'app:1', 'true']);
  await same(['run', '--rm', '--network', 'none', 'app:1', 'false']);
  await same(['run', '--rm', '--network', 'none', 'app:1', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  await same(['run', '--rm', '--network', 'none', '-e', 'B=2', 'app:1', 'sh', '-c', 'echo $A $B; pwd']);
  await same(['run', '--rm', '--network', 'none', '-i', 'app:1', 'cat'], mask, 'from stdin\n');
  // pid 1 ignores a SIGKILL it sends itself: exits 0 on both
  await same(['run', '--rm', '--network', 'none', 'app:1', 'sh', '-c', 'kill -9 $$']);
  // under --init the shell is not pid 1: SIGKILL ends it, 137
  await same(['run', '--rm', '--init', '--network', 'none', 'app:1', 'sh', '-c', 'kill -9 $$']);
  const runtime = (s: string) => mask(s).replace(/Error response from daemon: .*?(exec: ")/, 'Error response from daemon: RUNTIME: $1');
  for (const cmd of [['nosuch'], ['/bin/nosuch', 'arg'], ['/etc'], ['/etc/passwd']]) {
    await same(['run', '--rm', '--network', 'none', 'app:1', ...cmd], runtime);
  }
  // docker kill: 137, "Exited (137)"
  await same(['run', '-d', '--network', 'none', '--name', 'k9', 'app:1', 'sleep', '100']);
  await same(['kill', 'k9']);
  await exitedBoth('k9');
  await same(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}} {{.State.OOMKilled}}', 'k9']);
  await same(['ps', '-a', '--filter', 'name=k9', '--format', '{{.Names}} {{.Status}}']);
  await same(['rm', 'k9']);
});

test('docker ps -a: columns, STATUS texts (Created, Up, Exited (n)), --no-trunc, -q, --format, filters', { skip }, async () => {
  await same(['create', '--network', 'none', '--name', 'p-created', 'app:1', 'sleep', '100']);
  await same(['run', '-d', '--network', 'none', '--name', 'p-up', 'app:1', 'sleep', '100']);
  await same(['run', '--network', 'none', '--name', 'p-exit', 'app:1', 'sh', '-c', 'exit 4']);
  await same(['run', '--network', 'none', '--name', 'p-quote', 'app:1', 'sh', '-c', 'echo a b']);
  const rows = (s: string) => { const l = mask(s).split('\n'); return [l[0], ...l.slice(1).sort()].join('\n'); };
  await same(['ps', '-a', '--filter', 'name=p-'], rows);
  await same(['ps', '--filter', 'name=p-'], rows);
  await same(['ps', '-a', '--no-trunc', '--filter', 'name=p-'], rows);
  await same(['ps', '-a', '--filter', 'status=exited', '--filter', 'name=p-', '--format', '{{.Names}}\t{{.Command}}\t{{.Status}}'], rows);
  await same(['ps', '-a', '--filter', 'exited=4', '--format', '{{.Names}} {{.State}}'], rows);
  await same(['ps', '-a', '--filter', 'name=p-', '--format', 'table {{.Names}}\t{{.Image}}\t{{.Status}}'], rows);
  await same(['ps', '-a', '--filter', 'name=p-', '--format', '{{json .}}'], rows);
  await same(['ps', '-aq', '--filter', 'name=p-exit'], rows);
  await same(['rm', '-f', 'p-created', 'p-up', 'p-exit', 'p-quote']);
});

test('docker inspect of a container: the whole document in dockerd 20.10\'s shape at API 1.41 (State, Config, HostConfig defaults, Mounts, GraphDriver)', { skip }, async () => {
  await same(['run', '--network', 'none', '--name', 'i1', '-e', 'X=1', '--label', 'l=v', '-v', '/data', 'app:1', 'sh', '-c', 'exit 2']);
  const [d, b] = await Promise.all([D(['inspect', 'i1']), run(DOCKER, ['inspect', 'i1'], { env: { ...duo.benv, DOCKER_API_VERSION: '1.41' } })]);
  assert.equal(b.code, 0, b.stderr);
  const shape = (s: string) => {
    const j = JSON.parse(s)[0] as Record<string, Record<string, unknown>>;
    // the OCI runtime's name (runc / berth's crun), the log driver's file name, the volume's random name, and
    // the sandbox and endpoint IDs of dockerd's libnetwork are what differs by implementation
    j.HostConfig!.Runtime = 'RUNTIME';
    // dockerd's LowerDir starts with the container's "-init" layer; berth has none (its mount points are made
    // by the runtime), so the count of lower dirs differs by one
    (j.GraphDriver!.Data as Record<string, string>).LowerDir = 'LOWER';
    (j as Record<string, unknown>).LogPath = 'LOG';
    const net = j.NetworkSettings as { SandboxID: string; SandboxKey: string; Networks: Record<string, { NetworkID: string; EndpointID: string }> };
    net.SandboxID = net.SandboxKey = 'SANDBOX';
    for (const e of Object.values(net.Networks)) e.NetworkID = e.EndpointID = 'NET';
    return mask(JSON.stringify(j, null, 1)).replace(/"Name": "[0-9a-f]{64}"/g, '"Name": "VOL"');
  };
  assert.equal(shape(b.stdout), shape(d.stdout));
  // a created (never started) container with many flags: HostConfig as dockerd fills it (MemorySwap, Init,
  // Tmpfs, Ulimits, caps), Config with entrypoint, stop signal and timeout, no resolv.conf/log paths yet
  const rich = ['create', '--name', 'i2', '--network', 'none', '--memory', '64m', '--cpus', '0.5', '--restart', 'on-failure:3', '--init', '--read-only',
    '-w', '/tmp', '-u', '0:0', '--hostname', 'hh', '--entrypoint', 'sh', '--tmpfs', '/run', '--cap-add', 'NET_ADMIN', '--cap-drop', 'MKNOD',
    '--ulimit', 'nofile=1024:1024', '-e', 'Q=1', '-l', 'k=v', '--stop-signal', 'SIGUSR1', '--stop-timeout', '5', '--shm-size', '1m',
    '--add-host', 'a:1.2.3.4', '--dns', '1.1.1.1', '--pids-limit', '50', 'app:1', '-c', 'true'];
  await same(rich);
  const [d2, b2] = await Promise.all([D(['inspect', 'i2']), run(DOCKER, ['inspect', 'i2'], { env: { ...duo.benv, DOCKER_API_VERSION: '1.41' } })]);
  assert.equal(shape(b2.stdout), shape(d2.stdout));
  await same(['rm', 'i2']);
  // the docker CLI's own version (1.50) against berthd: the same fields a script reads
  await same(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.Config.Image}} {{json .Config.Env}} {{json .Config.Labels}} {{.HostConfig.NetworkMode}} {{.HostConfig.LogConfig.Type}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.ShmSize}} {{len .Mounts}} {{(index .Mounts 0).Destination}} {{.GraphDriver.Name}}', 'i1']);
  await same(['container', 'inspect', '-f', '{{json .Config}}', 'i1']);
  await same(['rm', '-v', 'i1']);
});

test('docker logs: stdout and stderr apart, -t, --tail, --since, --until, --details', { skip }, async () => {
  // stdout and stderr come through two pipes: their relative order in the log is not defined (for dockerd
  // either), so --tail is checked on a container writing one stream; the CLI splits the streams for the rest
  await same(['run', '--network', 'none', '--name', 'l1', 'app:1', 'sh', '-c', 'echo one; echo two >&2; echo three']);
  await same(['run', '--network', 'none', '--name', 'l2', 'app:1', 'sh', '-c', 'echo one; echo two; echo three']);
  for (const args of [['logs', 'l1'], ['logs', '-t', 'l1'], ['logs', '--details', 'l1'], ['logs', '--tail', '1', 'l2'], ['logs', '--tail', '0', 'l2'],
    ['logs', '--tail', '2', '-t', 'l2'], ['logs', '--since', '2099-01-01', 'l1'], ['logs', '--until', '2000-01-01', 'l1'], ['logs', '-f', 'l1'], ['logs', 'nope']]) await same(args);
  await same(['rm', 'l1', 'l2']);
});

test('docker diff, export, cp both ways (modes, owners, symlinks, -a, tar streams)', { skip }, async () => {
  await same(['run', '--network', 'none', '--name', 'f1', 'app:1', 'sh', '-c',
    'mkdir -p /a/b && echo 1 > /a/b/f && rm /etc/group && echo x >> /etc/passwd && ln -s /x /lnk && chmod 700 /a && touch /tmp/t && chown 1000:1000 /a/b/f && rm -r /w']);
  await same(['diff', 'f1'], (s) => s.split('\n').sort().join('\n'));
  const listing = (s: string) => mask(s.replace(/ \d{4}-\d\d-\d\d \d\d:\d\d /g, ' TIME '));
  const tarList = async (p: Promise<RunResult>) => { const r = await p; return (await run('tar', ['tv'], { env: process.env, input: r.out })).stdout; };
  const pair = async (args: string[]) => { const [d, b] = await Promise.all([tarList(D(args)), tarList(B(args))]); assert.equal(listing(b), listing(d), args.join(' ')); };
  await pair(['export', 'f1']);
  await pair(['cp', 'f1:/a', '-']);
  await pair(['cp', 'f1:/lnk', '-']);
  await pair(['cp', 'f1:/a/.', '-']);
  // into the container: a tar stream, and files with modes and a symlink; read back through cp -
  const src = join(duo.dir, 'cpsrc');
  mkdirSync(join(src, 'd'), { recursive: true });
  writeFileSync(join(src, 'd', 'x.sh'), '#!/bin/sh\n');
  chmodSync(join(src, 'd', 'x.sh'), 0o750);
  symlinkSync('x.sh', join(src, 'd', 'l'));
  await same(['cp', join(src, 'd'), 'f1:/tmp/']);
  await same(['cp', '-a', join(src, 'd', 'x.sh'), 'f1:/tmp/y.sh']);
  await pair(['cp', 'f1:/tmp', '-']);
  const tarIn = (await run('tar', ['cf', '-', '-C', src, 'd'], { env: process.env })).out;
  await same(['cp', '-', 'f1:/a'], mask, tarIn);
  await pair(['cp', 'f1:/a/d', '-']);
  const out = join(duo.dir, 'out-d'), outB = join(duo.dir, 'out-b');
  await Promise.all([ok(D(['cp', 'f1:/a', out])), ok(B(['cp', 'f1:/a', outB]))]);
  const ls = async (p: string) => (await run('sh', ['-c', `cd ${p} && find . | sort | xargs stat -c '%n %A %u:%g %s'`], { env: process.env })).stdout;
  assert.equal(await ls(outB), await ls(out));
  // errors
  await same(['cp', 'f1:/nope', '-']);
  await same(['cp', 'nope:/a', '-']);
  await same(['rm', 'f1']);
});

test('docker commit (-c CMD, -m, -a): the new image\'s history, config, author and sizes', { skip }, async () => {
  await same(['run', '--network', 'none', '--name', 'm1', 'app:1', 'sh', '-c', 'echo x > /new && rm /w/f']);
  await same(['run', '--network', 'none', '--name', 'm0', 'app:1', 'true']);
  await Promise.all([
    ok(D(['commit', '-m', 'msg', '-a', 'me <me@example.com>', '-c', 'CMD ["echo","c"]', '-c', 'ENV Z=9', 'm1', 'made:1'])),
    ok(B(['commit', '-m', 'msg', '-a', 'me <me@example.com>', '-c', 'CMD ["echo","c"]', '-c', 'ENV Z=9', 'm1', 'made:1'])),
    ok(D(['commit', 'm0', 'made:0'])), ok(B(['commit', 'm0', 'made:0'])),
  ]);
  for (const n of ['made:1', 'made:0']) {
    await same(['history', n]);
    await same(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}|{{.Comment}}', n]);
    await same(['image', 'inspect', '-f', '{{json .Config}} {{.Author}} {{.Comment}} {{.Size}} {{len .RootFS.Layers}} {{.Parent}}', n]);
  }
  // at API 1.41 the container's own config is there too, as dockerd 20.10 records it
  const cc = ['image', 'inspect', '-f', '{{json .ContainerConfig}}', 'made:1'];
  const [d, b] = await Promise.all([D(cc), run(DOCKER, cc, { env: { ...duo.benv, DOCKER_API_VERSION: '1.41' } })]);
  assert.equal(mask(b.stdout).replace(/"Hostname":"\w+"/, 'H'), mask(d.stdout).replace(/"Hostname":"\w+"/, 'H'));
  await same(['run', '--rm', '--network', 'none', 'made:1']);
  await same(['rm', 'm1', 'm0']);
  await same(['rmi', 'made:1', 'made:0']);
});

test('docker top, stats --no-stream --format, volume ls/inspect/prune, events --since/--until --filter', { skip }, async () => {
  await same(['run', '-d', '--network', 'none', '--name', 't1', 'app:1', 'sleep', '100']);
  const pids = (s: string) => mask(s).replace(/^(\S+\s+)\d+\s+\d+\s+\S+\s+\S+/gm, '$1PIDS');
  await same(['top', 't1'], pids);
  await same(['top', 't1', '-o', 'comm,args']);
  await same(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 't1']);
  await same(['stats', '--no-stream', '--format', 'table {{.Name}}\t{{.PIDs}}', 't1']);
  await same(['rm', '-f', 't1']);
  await same(['top', 'nope']);

  await same(['volume', 'create', 'pv1']);
  await same(['volume', 'create', '--label', 'a=b', 'pv2']);
  await same(['volume', 'ls']);
  await same(['volume', 'ls', '--filter', 'label=a']);
  await same(['volume', 'inspect', 'pv1', 'pv2']);
  await same(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Labels}}', 'pv2']);
  await same(['volume', 'inspect', 'nope']);
  // below API 1.42 (dockerd 20.10) prune removes named volumes too; at the CLI's 1.50 only anonymous ones
  const kept = await B(['volume', 'prune', '-f']);
  assert.deepEqual([kept.code, kept.stdout], [0, 'Total reclaimed space: 0B\n']);
  const [d, b] = await Promise.all([D(['volume', 'prune', '-f']), run(DOCKER, ['volume', 'prune', '-f'], { env: { ...duo.benv, DOCKER_API_VERSION: '1.41' } })]);
  // dockerd deletes in map order: compare the lines sorted
  const lines = (x: string) => x.split('\n').sort().join('\n');
  assert.deepEqual([b.code, lines(b.stdout), b.stderr], [d.code, lines(d.stdout), d.stderr]);
  await same(['volume', 'ls']);
  // --rm and rm -v take the container's anonymous volume with it
  await same(['run', '--rm', '--network', 'none', '-v', '/anon', 'app:1', 'true']);
  await same(['run', '--network', 'none', '--name', 'v1', '-v', '/anon', 'app:1', 'true']);
  await same(['volume', 'ls', '-q'], (x) => mask(x).replace(/ID/g, 'VOL'));
  await same(['rm', '-v', 'v1']);
  await same(['volume', 'ls']);

  // a window to the nanosecond around one run (docker's "seconds.nanoseconds"), so nothing else falls in it
  const stamp = () => { const ms = Date.now(); return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}000000`; };
  const since = stamp();
  await same(['run', '--network', 'none', '--name', 'e1', 'app:1', 'true']);
  await same(['rm', 'e1']);
  const until = stamp();
  await same(['events', '--since', since, '--until', until, '--filter', 'container=e1', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.image}}']);
  await same(['events', '--since', since, '--until', until, '--filter', 'type=container', '--filter', 'event=die', '--filter', 'container=e1', '--format', '{{json .Actor.Attributes}}']);
  await same(['events', '--since', since, '--until', until, '--filter', 'container=e1']);
  // everything in the window: the none network's connect/disconnect around start and die too
  await same(['events', '--since', since, '--until', until, '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}}']);
  await same(['events', '--since', since, '--until', until, '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}} {{.Actor.Attributes.container}}']);
  // volumes: created with the container, mounted before start (by destination), unmounted after die
  await same(['volume', 'create', 'ev-named']);
  const since3 = stamp();
  await same(['run', '--rm', '--network', 'none', '-v', '/q', '-v', 'ev-named:/n', 'app:1', 'true']);
  const until3 = stamp();
  // dockerd mounts same-depth volumes in its map's (random) order: the mount lines are compared as a set
  const mountsSorted = (x: string): string => {
    const lines = x.split('\n');
    const mounts = lines.filter((l) => l.startsWith('mount ')).sort();
    return lines.map((l) => (l.startsWith('mount ') ? mounts.shift()! : l)).join('\n');
  };
  await same(['events', '--since', since3, '--until', until3, '--filter', 'type=volume', '--format', '{{.Action}} {{json .Actor.Attributes}}'],
    (x) => mountsSorted(mask(x).replace(/"container":"ID",/g, '')));
  await same(['volume', 'rm', 'ev-named']);
  // stop and kill: the stop signal as a kill event with its number, die (143 under --init), then stop; kill: 9, 137
  const since2 = stamp();
  await same(['run', '-d', '--init', '--network', 'none', '--name', 'e2', 'app:1', 'sleep', '100']);
  await same(['stop', 'e2']);
  await same(['start', 'e2']);
  await same(['kill', 'e2']);
  await exitedBoth('e2');
  await same(['rm', 'e2']);
  const until2 = stamp();
  await same(['events', '--since', since2, '--until', until2, '--filter', 'container=e2', '--format', '{{.Type}} {{.Action}} {{json .Actor.Attributes}}']);
});

test('errors and exit codes: unknown containers, name conflicts, stop/kill/pause of stopped containers', { skip }, async () => {
  await same(['create', '--network', 'none', '--name', 'x1', 'app:1', 'true']);
  for (const args of [
    ['create', '--network', 'none', '--name', 'x1', 'app:1'], ['run', '--network', 'none', '--name', 'x1', 'app:1'],
    ['start', 'nope'], ['stop', 'nope'], ['kill', 'nope'], ['rm', 'nope'], ['rm', '-f', 'nope'], ['logs', 'nope'], ['inspect', 'nope'],
    ['container', 'inspect', 'nope'], ['restart', 'nope'], ['diff', 'nope'], ['export', 'nope'], ['wait', 'nope'],
    ['stop', 'x1'], ['kill', 'x1'], ['pause', 'x1'], ['unpause', 'x1'], ['attach', 'x1'],
    ['rename', 'x1', 'x1'], ['run', '--network', 'none', '--name', 'bad/name', 'app:1'],
  ]) await same(args);
  // docker 28 lower-cases "container … is not running" for exec (dockerd 20.10: "Container …"); berth is docker 28
  await same(['exec', 'x1', 'true'], (s) => mask(s).replace('daemon: Container', 'daemon: container'));
  await same(['start', 'x1']);
  await same(['wait', 'x1']);
  await same(['stop', 'x1']);
  await same(['run', '-d', '--network', 'none', '--name', 'x2', 'app:1', 'sleep', '100']);
  // removing a running container: dockerd 20.10 and docker 28 word it differently (berth answers docker 28's
  // "cannot remove container …: container is running"); the exit code and the advice are the same
  const [d, b] = await Promise.all([D(['rm', 'x2']), B(['rm', 'x2'])]);
  assert.deepEqual([b.code, /stop the container before/i.test(b.stderr)], [d.code, /stop the container before/i.test(d.stderr)]);
  await same(['rm', '-f', 'x1', 'x2']);
  // container prune: the removed IDs and the writable layers' bytes as "Total reclaimed space"
  await same(['run', '--network', 'none', '--name', 'pr1', 'app:1', 'sh', '-c', 'echo 12345 > /f']);
  await same(['run', '--network', 'none', '--name', 'pr2', 'app:1', 'true']);
  await same(['container', 'prune', '-f']);
});
