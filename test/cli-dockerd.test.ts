// The berth CLI against Debian's dockerd 20.10 (the anchor: a daemon berth did not write), for build and ps:
// `berth build` speaks the classic /build
// protocol (context with .dockerignore, -f/-t/--label/-q/--iidfile/stdin, a failing step's exit code), and
// `berth ps` prints what `docker ps` prints for the same containers.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dockerd } from '../bench/anchors.ts';
import { haveBusybox, run, DOCKER } from './helpers/index.ts';
import { berth, norm, cliDockerd, stopCliDockerd } from './cli-helpers.ts';

const skip = !haveBusybox() ? 'busybox-static not installed' : false;
let d: Dockerd | undefined;
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => { if (!skip) ({ d, dir, env } = await cliDockerd('cli-build-', ['sh', 'find', 'cat', 'sort', 'sleep', 'true', 'echo'])); });
after(() => stopCliDockerd({ d, dir }));

test('build: context with .dockerignore, tags, labels, -f, -q, --iidfile, stdin, failing step', { skip }, async (t) => {
  if (!d) { t.skip("Debian's dockerd not available (needs root)"); return; }
  const ctxDir = join(dir, 'ctx');
  mkdirSync(join(ctxDir, 'sub'), { recursive: true });
  writeFileSync(join(ctxDir, 'Dockerfile'), 'FROM bb:base\nCOPY . /ctx/\nLABEL made=by-berth\n');
  writeFileSync(join(ctxDir, 'other.Dockerfile'), 'FROM bb:base\nCOPY a.txt /a.txt\n');
  writeFileSync(join(ctxDir, '.dockerignore'), '# comment\nignored.txt\nsub/*.log\n!sub/keep.log\n');
  for (const [f, c] of [['a.txt', 'a'], ['ignored.txt', 'i'], ['sub/x.log', 'x'], ['sub/keep.log', 'k'], ['sub/y.txt', 'y']]) writeFileSync(join(ctxDir, f!), c!);

  const b = await berth(['build', '-t', 'built:1', '-t', 'built:2', '--label', 'extra=1', ctxDir], { env });
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /^Sending build context to Docker daemon  [\d.]+[kM]?B\r\r\nStep 1\/4 : FROM bb:base\n/);
  assert.match(b.stdout, /Successfully built [0-9a-f]{12}\nSuccessfully tagged built:1\nSuccessfully tagged built:2\n$/);
  const ls = await run(DOCKER, ['run', '--rm', '--network', 'none', 'built:1', 'find', '/ctx', '-type', 'f'], { env });
  assert.equal(ls.code, 0, ls.stderr);
  assert.deepEqual(ls.stdout.trim().split('\n').sort(),
    ['/ctx/.dockerignore', '/ctx/Dockerfile', '/ctx/a.txt', '/ctx/other.Dockerfile', '/ctx/sub/keep.log', '/ctx/sub/y.txt']);
  const labels = await run(DOCKER, ['inspect', '-f', '{{json .Config.Labels}}', 'built:2'], { env });
  assert.equal(labels.stdout, '{"extra":"1","made":"by-berth"}\n');

  const iid = join(dir, 'iid');
  const q = await berth(['build', '-q', '-f', join(ctxDir, 'other.Dockerfile'), '--iidfile', iid, ctxDir], { env });
  assert.equal(q.code, 0, q.stderr);
  assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(readFileSync(iid, 'utf8'), q.stdout.trim());

  const outside = join(dir, 'Outside.Dockerfile');
  writeFileSync(outside, 'FROM bb:base\nLABEL outside=yes\n');
  const o = await berth(['build', '-q', '-f', outside, ctxDir], { env });
  assert.equal(o.code, 0, o.stderr);

  const s = await berth(['build', '-t', 'fromstdin:1', '-'], { env, input: 'FROM bb:base\nLABEL stdin=yes\n' });
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /Successfully tagged fromstdin:1\n$/);

  const f = await berth(['build', '-'], { env, input: 'FROM bb:base\nRUN exit 3\n' });
  assert.equal(f.code, 3);
  assert.equal(f.stderr, "The command '/bin/sh -c exit 3' returned a non-zero code: 3\n");

  const missing = await berth(['build', join(dir, 'nope')], { env });
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `unable to prepare context: path "${join(dir, 'nope')}" not found\n`);
});

test('ps: the same tables and formats as docker ps over running, created and exited containers', { skip }, async (t) => {
  if (!d) { t.skip("Debian's dockerd not available (needs root)"); return; }
  const k = (args: string[]) => run(DOCKER, args, { env });
  assert.equal((await k(['create', '--name', 'c1', '--label', 'x=1', 'bb:base', 'sh', '-c', 'echo a rather long command line here'])).code, 0);
  const r2 = await k(['run', '-d', '--network', 'none', '--name', 'c2', '--label', 'a=b', '--label', 'c=d', 'bb:base', 'sleep', '300']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal((await k(['run', '--network', 'none', '--name', 'c3', 'bb:base', 'true'])).code, 0);
  const same = async (args: string[]) => {
    const [x, y] = await Promise.all([berth(args, { env }), k(args)]);
    assert.equal(norm(x.stdout), norm(y.stdout), `stdout of: ${args.join(' ')}`);
    assert.equal(x.stderr.replace(/\bberth\b/g, 'docker'), y.stderr, `stderr of: ${args.join(' ')}`);
    assert.equal(x.code, y.code);
    return x;
  };
  const x = await same(['ps']);
  assert.match(x.stdout, /^CONTAINER ID {3}IMAGE {5,}COMMAND {4,}CREATED {4,}STATUS {4,}PORTS {5,}NAMES\n[0-9a-f]{12} {3}bb:base {3}"sleep 300" /);
  await same(['ps', '-a']);
  await same(['ps', '-a', '--no-trunc']);
  await same(['ps', '-aq']);
  await same(['ps', '-a', '-s']);
  await same(['container', 'ls', '-n', '2']);
  await same(['container', 'list', '-l']);
  await same(['ps', '-a', '--filter', 'name=c1']);
  await same(['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}} {{.State}} {{.Label "x"}}|{{.Labels}}']);
  await same(['ps', '-a', '--format', 'table {{.Names}}\t{{.Command}}\t{{.Mounts}}\t{{.LocalVolumes}}\t{{.Networks}}']);
  await same(['ps', '-a', '--format', '{{json .}}']);
  await same(['ps', '--format', 'json']);
});

test('container lifecycle, logs, inspect and prune: same output, errors and exit codes as docker', { skip }, async (t) => {
  if (!d) { t.skip("Debian's dockerd not available (needs root)"); return; }
  const k = (args: string[], input?: string) => run(DOCKER, args, { env, input });
  const same = async (args: string[], input?: string) => {
    const [x, y] = await Promise.all([berth(args, { env, input }), k(args, input)]);
    assert.equal(x.stdout, y.stdout, `stdout of: ${args.join(' ')}`);
    assert.equal(x.stderr.replace(/\bberth\b/g, 'docker'), y.stderr, `stderr of: ${args.join(' ')}`);
    assert.equal(x.code, y.code, `exit code of: ${args.join(' ')}`);
    return x;
  };
  const r = await k(['run', '-d', '--network', 'none', '--name', 'lc1', 'bb:base', 'sh', '-c', 'echo out; echo err >&2; sleep 300']);
  assert.equal(r.code, 0, r.stderr);
  // logs once both lines are there
  for (let i = 0; i < 200 && !(await k(['logs', 'lc1'])).stderr.includes('err'); i++) await new Promise((res) => setTimeout(res, 25));
  const l = await same(['logs', 'lc1']);
  assert.equal(l.stdout, 'out\n');
  assert.equal(l.stderr, 'err\n');
  await same(['logs', '-t', '--tail', '1', 'lc1']);
  await same(['container', 'inspect', '-f', '{{.Name}} {{.State.Status}} {{json .Config.Cmd}} {{.HostConfig.NetworkMode}}', 'lc1']);
  await same(['container', 'inspect', 'lc1', 'nosuch']);
  for (const verb of ['start', 'stop', 'kill', 'rm', 'pause', 'unpause', 'wait', 'restart', 'logs']) await same([verb, 'nosuch']);
  await same(['start', 'nosuch', 'lc1', 'nosuch2']);
  await same(['rename', 'nosuch', 'x']);
  const stopped = await berth(['stop', '-t', '0', 'lc1'], { env });
  assert.equal(stopped.stdout, 'lc1\n', stopped.stderr);
  const waited = await berth(['wait', 'lc1'], { env });
  assert.equal(waited.stdout, '137\n');
  assert.equal((await berth(['rename', 'lc1', 'lc2'], { env })).code, 0);
  await same(['ps', '-a', '--filter', 'name=lc2', '--format', '{{.Names}} {{.State}}']);
  assert.equal((await k(['create', '--name', 'lc3', 'bb:base', 'true'])).code, 0);
  const declined = await same(['container', 'prune'], 'n\n');
  assert.equal(declined.stdout, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
  const p = await berth(['container', 'prune', '-f'], { env });
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /^Deleted Containers:\n([0-9a-f]{64}\n)+\nTotal reclaimed space: \S+\n$/);
  assert.equal((await k(['create', '--name', 'lc4', 'bb:base', 'true'])).code, 0);
  const rm = await berth(['rm', '-f', 'lc4', 'nosuch'], { env });
  assert.equal(rm.stdout, 'lc4\n');
  assert.equal(rm.code, 1);
  assert.equal(rm.stderr, 'Error response from daemon: No such container: nosuch\n');
});

test('run and create: output, stdin, exit codes, detach, flags and errors as docker run', { skip }, async (t) => {
  if (!d) { t.skip("Debian's dockerd not available (needs root)"); return; }
  const same = async (args: string[], input?: string) => {
    const [x, y] = await Promise.all([berth(args, { env, input }), run(DOCKER, args, { env, input })]);
    assert.equal(x.stdout, y.stdout, `stdout of: ${args.join(' ')}`);
    assert.equal(x.stderr.replace(/\bberth\b/g, 'docker'), y.stderr, `stderr of: ${args.join(' ')}`);
    assert.equal(x.code, y.code, `exit code of: ${args.join(' ')}`);
    return x;
  };
  const hi = await same(['run', '--rm', '--network', 'none', 'bb:base', 'echo', 'hi']);
  assert.equal(hi.stdout, 'hi\n');
  const three = await same(['run', '--rm', '--network', 'none', 'bb:base', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(three.code, 3);
  await same(['run', '--rm', '--network', 'none', '-e', 'A=1', '-w', '/tmp', '-u', '65534', '-h', 'myhost', '--entrypoint', 'sh', 'bb:base', '-c', 'echo $A $(pwd) $(hostname)']);
  await same(['run', '--rm', '-i', '--network', 'none', 'bb:base', 'cat'], 'piped in\n');
  await same(['run', '--rm', '--network', 'none', 'bb:base', 'nosuchcmd']);
  await same(['run', '-m', '1zz', 'bb:base', 'true']);
  await same(['run', '-p', '99999:80', 'bb:base', 'true']);
  await same(['container', 'run', '--rm', '--network', 'none', 'bb:base', 'nosuchcmd']);
  const dId = await berth(['run', '-d', '--network', 'none', '--name', 'rd1', 'bb:base', 'sleep', '30'], { env });
  assert.match(dId.stdout, /^[0-9a-f]{64}\n$/, dId.stderr);
  const running = await run(DOCKER, ['inspect', '-f', '{{.State.Running}} {{.Name}}', 'rd1'], { env });
  assert.equal(running.stdout, 'true /rd1\n');
  await same(['run', '--name', 'rd1', 'bb:base', 'true']);
  const c = await berth(['create', '--name', 'cr1', '--label', 'k=v', 'bb:base', 'echo', 'created'], { env });
  assert.match(c.stdout, /^[0-9a-f]{64}\n$/, c.stderr);
  assert.equal((await berth(['start', 'cr1'], { env })).stdout, 'cr1\n');
  assert.equal((await berth(['wait', 'cr1'], { env })).stdout, '0\n');
  assert.equal((await berth(['logs', 'cr1'], { env })).stdout, 'created\n');
  assert.equal((await berth(['rm', '-f', 'rd1', 'cr1'], { env })).stdout, 'rd1\ncr1\n');
});

test('exec: output, exit codes, env/workdir, stdin, errors as docker exec', { skip }, async (t) => {
  if (!d) { t.skip("Debian's dockerd not available (needs root)"); return; }
  const same = async (args: string[], input?: string) => {
    const [x, y] = await Promise.all([berth(args, { env, input }), run(DOCKER, args, { env, input })]);
    assert.equal(x.stdout, y.stdout, `stdout of: ${args.join(' ')}`);
    assert.equal(x.stderr.replace(/\bberth\b/g, 'docker'), y.stderr, `stderr of: ${args.join(' ')}`);
    assert.equal(x.code, y.code, `exit code of: ${args.join(' ')}`);
    return x;
  };
  assert.equal((await run(DOCKER, ['run', '-d', '--network', 'none', '--name', 'ex1', 'bb:base', 'sleep', '300'], { env })).code, 0);
  assert.equal((await same(['exec', 'ex1', 'echo', 'hi'])).stdout, 'hi\n');
  assert.equal((await same(['exec', 'ex1', 'sh', '-c', 'echo e >&2; exit 5'])).code, 5);
  await same(['exec', '-e', 'X=2', '-w', '/tmp', 'ex1', 'sh', '-c', 'echo $X $(pwd)']);
  await same(['exec', '-i', 'ex1', 'cat'], 'through stdin\n');
  await same(['exec', 'nosuch', 'echo']);
  await same(['exec', 'ex1', 'nosuchcmd']);
  await same(['exec', '-d', 'ex1', 'true']);
  await same(['exec', 'ex1']);
  assert.equal((await run(DOCKER, ['rm', '-f', 'ex1'], { env })).code, 0);
});

test('run -it through a real terminal (tmux): prompt, typed command, terminal size, exit code', { skip }, async (t) => {
  if (!d) { t.skip("Debian's dockerd not available (needs root)"); return; }
  const { existsSync } = await import('node:fs');
  if (!existsSync('/usr/bin/tmux')) { t.skip('tmux not installed'); return; }
  const { BERTH_BIN } = await import('./cli-helpers.ts');
  const sock = `berth-cli-${process.pid}`;
  const tmux = (...a: string[]) => run('/usr/bin/tmux', ['-L', sock, ...a], { env });
  const screen = async () => (await tmux('capture-pane', '-p', '-t', 'it')).stdout;
  const until = async (re: RegExp) => {
    for (let i = 0; i < 400; i++) { if (re.test(await screen())) return; await new Promise((r) => setTimeout(r, 25)); }
    assert.fail(`screen never matched ${re}:\n${await screen()}`);
  };
  try {
    const cmd = `${process.execPath} ${BERTH_BIN} run -it --rm --network none bb:base sh; echo EXIT=$?; sleep 60`;
    assert.equal((await tmux('new-session', '-d', '-s', 'it', '-x', '100', '-y', '20', cmd)).code, 0);
    await until(/^\/ # ?$/m);
    await tmux('send-keys', '-t', 'it', 'echo hello-$((1+2)); stty size', 'Enter');
    await until(/^hello-3\n20 100$/m);
    await tmux('send-keys', '-t', 'it', 'exit 4', 'Enter');
    await until(/^EXIT=4$/m);
  } finally {
    await tmux('kill-server');
  }
});
