// berth's volume, network and stats commands against Debian's dockerd 20.10 (the anchor), each compared with
// the real docker CLI v28 on the same daemon: same tables, --format output, messages and exit codes. (Against
// berthd the same commands are tested in cli-containers.test.ts; here the daemon is the reference.)
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Dockerd } from '../bench/anchors.ts';
import { haveBusybox, run, DOCKER } from './helpers/index.ts';
import { berth, norm, cliDockerd, stopCliDockerd } from './cli-helpers.ts';

const skip = !haveBusybox() ? 'busybox-static not installed' : false;
let d: Dockerd | undefined;
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => { if (!skip) ({ d, dir, env } = await cliDockerd('cli-cd-', ['sh', 'sleep', 'true', 'echo', 'dd', 'cat'])); });
after(() => stopCliDockerd({ d, dir }));

const k = (args: string[], input?: string) => run(DOCKER, args, { env, input });
/** Runs ARGS through berth and docker; stdout, stderr and exit code must agree (ages masked). */
async function same(args: string[], input?: string) {
  const x = await berth(args, { env, input });
  const y = await k(args, input);
  assert.equal(norm(x.stdout), norm(y.stdout), `stdout of: ${args.join(' ')}`);
  assert.equal(x.stderr.replace(/\bberth\b/g, 'docker'), y.stderr, `stderr of: ${args.join(' ')}`);
  assert.equal(x.code, y.code, `exit code of: ${args.join(' ')}`);
  return x;
}

test('volume create/ls/inspect/rm/prune: as docker volume', { skip }, async (t) => {
  if (!d) { t.skip("Debian's dockerd not available (needs root)"); return; }
  const c = await berth(['volume', 'create', '--label', 'team=a', 'v1'], { env });
  assert.deepEqual([c.code, c.stdout], [0, 'v1\n'], c.stderr);
  assert.equal((await k(['volume', 'create', 'v2'])).code, 0);
  const anon = await berth(['volume', 'create'], { env });
  assert.match(anon.stdout, /^[0-9a-f]{64}\n$/);
  await same(['volume', 'ls']);
  await same(['volume', 'ls', '-q']);
  await same(['volume', 'list', '--filter', 'label=team=a']);
  await same(['volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}} {{.Label "team"}}']);
  await same(['volume', 'ls', '--format', 'table {{.Name}}\t{{.Mountpoint}}']);
  await same(['volume', 'ls', '--format', '{{json .}}']);
  await same(['volume', 'inspect', 'v1']);
  await same(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Labels}}', 'v1', 'v2']);
  await same(['volume', 'inspect', 'v1', 'nosuch']);
  await same(['volume', 'rm', 'nosuch']);
  // dockerd 20.10 (API 1.41) prunes named volumes too: docker 28 then warns of "all local volumes"
  await same(['volume', 'prune'], 'n\n');
  const rm = await berth(['volume', 'rm', 'v1', 'nosuch', 'v2'], { env });
  assert.deepEqual([rm.code, rm.stdout, rm.stderr], [1, 'v1\nv2\n', 'Error response from daemon: get nosuch: no such volume\n']);
  const p = await berth(['volume', 'prune', '-f'], { env });
  assert.equal(p.code, 0, p.stderr);
  assert.equal(p.stdout, `Deleted Volumes:\n${anon.stdout}\nTotal reclaimed space: 0B\n`);
  await same(['volume', 'ls']);
});

test('network create/ls/inspect/connect/disconnect/rm/prune: as docker network', { skip }, async (t) => {
  if (!d) { t.skip("Debian's dockerd not available (needs root)"); return; }
  const c = await berth(['network', 'create', '--driver', 'bridge', '--subnet', '10.231.7.0/24', '--label', 'l=1', 'n1'], { env });
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
  assert.equal((await k(['network', 'create', '--internal', 'n2'])).code, 0);
  await same(['network', 'ls']);
  await same(['network', 'ls', '-q']);
  await same(['network', 'ls', '--no-trunc']);
  await same(['network', 'ls', '--filter', 'name=n1', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}} {{.IPv6}} {{.Labels}}']);
  await same(['network', 'ls', '--format', '{{json .}}']);
  await same(['network', 'inspect', '-f', '{{.Name}} {{range .IPAM.Config}}{{.Subnet}}{{end}} {{.Internal}}', 'n1', 'n2']);
  await same(['network', 'inspect', 'nosuch']);
  assert.equal((await k(['create', '--name', 'nc', 'bb:base', 'sleep', '300'])).code, 0);
  await same(['network', 'connect', 'nosuch', 'nc']);
  const con = await berth(['network', 'connect', '--alias', 'web', 'n1', 'nc'], { env });
  assert.equal(con.code, 0, con.stderr);
  assert.equal((await k(['inspect', '-f', '{{json .NetworkSettings.Networks.n1.Aliases}}', 'nc'])).stdout.includes('"web"'), true);
  const dis = await berth(['network', 'disconnect', 'n1', 'nc'], { env });
  assert.equal(dis.code, 0, dis.stderr);
  await same(['network', 'rm', 'nosuch']);
  await same(['network', 'rm', '-f', 'nosuch']);
  await same(['network', 'prune'], 'n\n');
  const p = await berth(['network', 'prune', '-f'], { env });
  assert.equal(p.code, 0, p.stderr);
  // dockerd lists what it pruned in its map's order, which changes from run to run
  assert.deepEqual(p.stdout.split('\n').sort(), ['', 'Deleted Networks:', 'n1', 'n2']);
  await same(['network', 'ls', '--filter', 'type=custom']);
});

test('stats --no-stream: docker\'s columns and --format fields', { skip }, async (t) => {
  if (!d) { t.skip("Debian's dockerd not available (needs root)"); return; }
  const r = await k(['run', '-d', '--network', 'none', '--name', 's1', 'bb:base', 'sleep', '300']);
  assert.equal(r.code, 0, r.stderr);
  const s = await berth(['stats', '--no-stream'], { env });
  assert.equal(s.code, 0, s.stderr);
  const ds = await k(['stats', '--no-stream']);
  const head = (x: string) => x.split('\n')[0]!.split(/ {2,}/);
  assert.deepEqual(head(s.stdout), head(ds.stdout));
  assert.deepEqual(head(s.stdout), ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS']);
  assert.match(s.stdout.split('\n')[1]!, new RegExp(`^${r.stdout.slice(0, 12)} +s1 +\\d+\\.\\d\\d% +[\\d.]+[KMG]?i?B / [\\d.]+[KMGT]?i?B +\\d+\\.\\d\\d% +[\\d.]+[kMG]?B / [\\d.]+[kMG]?B +[\\d.]+[kMG]?B / [\\d.]+[kMG]?B +1$`));
  await same(['container', 'stats', '--no-stream', '--format', '{{.Name}} {{.Container}} {{.PIDs}}', 's1']);
  await same(['stats', '--no-stream', '--no-trunc', '--format', '{{.ID}}', 's1']);
  await same(['stats', '--no-stream', 'nosuch']);
  const j = await berth(['stats', '--no-stream', '--format', '{{json .}}', 's1'], { env });
  assert.deepEqual(Object.keys(JSON.parse(j.stdout) as object), Object.keys(JSON.parse((await k(['stats', '--no-stream', '--format', '{{json .}}', 's1'])).stdout) as object));
  assert.equal((await k(['rm', '-f', 's1'])).code, 0);
});
