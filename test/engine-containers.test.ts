// Containers through berthd with the real docker CLI v28 and real crun/conmon: run, logs, exec, lifecycle,
// name conflicts, exit codes. One berthd for the file; a busybox-static image imported at start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, importBusybox, docker, haveDocker, type StartedDaemon } from './helpers/index.ts';
import { runtimeSkip } from './runtime-helpers.ts';

const skip = runtimeSkip() ?? (haveDocker() ? undefined : 'needs the docker CLI');
let d: StartedDaemon;

before(async () => {
  if (skip) return;
  d = await startDaemon();
  await importBusybox(d, 'busybox:latest', ['CMD ["sh"]']);
});
after(async () => {
  if (!d) return;
  // containers outlive berthd (conmon): remove every one this file made
  const ids = (await docker(['ps', '-aq'], { env: d.dockerEnv })).stdout.split('\n').filter(Boolean);
  if (ids.length) await docker(['rm', '-f', ...ids], { env: d.dockerEnv });
  await d.stop();
});

test('docker run --rm prints the output and removes the container', { skip }, async () => {
  const r = await docker(['run', '--rm', 'busybox', 'echo', 'hi'], { env: d.dockerEnv });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'hi\n');
  assert.equal(r.code, 0);
  const ps = await docker(['ps', '-a', '--format', '{{.Names}}'], { env: d.dockerEnv });
  assert.equal(ps.stdout, '');
});

test('exit codes: the command\'s own, 127 for a missing command', { skip }, async () => {
  const r = await docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo err >&2; exit 3'], { env: d.dockerEnv });
  assert.equal(r.code, 3);
  assert.equal(r.stderr, 'err\n');
  const m = await docker(['run', '--rm', 'busybox', 'nosuchcmd'], { env: d.dockerEnv });
  assert.equal(m.code, 127, m.stderr);
  assert.match(m.stderr, /nosuchcmd/);
});

test('run -d, logs -f, exec, ps --format, stop, rm', { skip }, async () => {
  const r = await docker(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'echo start; while true; do sleep 0.2; done'], { env: d.dockerEnv });
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = await docker(['ps', '--format', '{{.Names}} {{.Image}} {{.State}}'], { env: d.dockerEnv });
  assert.equal(ps.stdout, 'ticker busybox running\n');
  const ex = await docker(['exec', 'ticker', 'sh', '-c', 'echo from exec; exit 4'], { env: d.dockerEnv });
  assert.equal(ex.stdout, 'from exec\n');
  assert.equal(ex.code, 4);
  const logs = await docker(['logs', 'ticker'], { env: d.dockerEnv });
  assert.equal(logs.stdout, 'start\n');
  const ins = await docker(['inspect', '--format', '{{.State.Status}} {{.State.Running}} {{.Name}}', 'ticker'], { env: d.dockerEnv });
  assert.equal(ins.stdout, 'running true /ticker\n');
  // logs -f ends when the container stops
  const follow = docker(['logs', '-f', 'ticker'], { env: d.dockerEnv });
  const st = await docker(['stop', '-t', '1', 'ticker'], { env: d.dockerEnv });
  assert.equal(st.code, 0, st.stderr);
  assert.equal((await follow).stdout, 'start\n');
  const ins2 = await docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'ticker'], { env: d.dockerEnv });
  assert.match(ins2.stdout, /^exited (137|143)\n$/);
  assert.equal((await docker(['rm', 'ticker'], { env: d.dockerEnv })).code, 0);
  const gone = await docker(['inspect', 'ticker'], { env: d.dockerEnv });
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /No such object: ticker|No such container: ticker/);
});

test('name conflict is 409 with docker\'s text; rm -f removes a running container', { skip }, async () => {
  const a = await docker(['run', '-d', '--name', 'dup', 'busybox', 'sleep', '60'], { env: d.dockerEnv });
  assert.equal(a.code, 0, a.stderr);
  const id = a.stdout.trim();
  const b = await docker(['create', '--name', 'dup', 'busybox'], { env: d.dockerEnv });
  assert.notEqual(b.code, 0);
  assert.match(b.stderr, new RegExp(`Conflict. The container name "/dup" is already in use by container "${id}". You have to remove \\(or rename\\) that container to be able to reuse that name.`));
  const rm = await docker(['rm', 'dup'], { env: d.dockerEnv });
  assert.notEqual(rm.code, 0);
  const rmf = await docker(['rm', '-f', 'dup'], { env: d.dockerEnv });
  assert.equal(rmf.code, 0, rmf.stderr);
  assert.equal((await docker(['ps', '-aq'], { env: d.dockerEnv })).stdout, '');
});

test('run of a missing image: 404 "No such image", then a pull attempt', { skip }, async () => {
  const r = await docker(['run', '--rm', '127.0.0.1:1/nothing/here'], { env: d.dockerEnv });
  assert.equal(r.code, 125);
  assert.match(r.stderr, /Unable to find image '127.0.0.1:1\/nothing\/here:latest' locally/);
});

test('docker cp both ways, then commit and run the new image', { skip }, async () => {
  const a = await docker(['run', '-d', '--name', 'files', 'busybox', 'sh', '-c', 'echo inside > /made.txt; mkdir -p /dir/sub; echo deep > /dir/sub/f; sleep 60'], { env: d.dockerEnv });
  assert.equal(a.code, 0, a.stderr);
  // wait for the container to have written its files
  for (let i = 0; i < 100; i++) {
    const e = await docker(['exec', 'files', 'cat', '/dir/sub/f'], { env: d.dockerEnv });
    if (e.code === 0) break;
  }
  const out = join(d.dir, 'cp-out');
  await mkdir(out, { recursive: true });
  const c1 = await docker(['cp', 'files:/made.txt', join(out, 'made.txt')], { env: d.dockerEnv });
  assert.equal(c1.code, 0, c1.stderr);
  assert.equal(await readFile(join(out, 'made.txt'), 'utf8'), 'inside\n');
  const c2 = await docker(['cp', 'files:/dir', out], { env: d.dockerEnv });
  assert.equal(c2.code, 0, c2.stderr);
  assert.equal(await readFile(join(out, 'dir', 'sub', 'f'), 'utf8'), 'deep\n');
  await writeFile(join(out, 'host.txt'), 'from host\n');
  const c3 = await docker(['cp', join(out, 'host.txt'), 'files:/tmp/'], { env: d.dockerEnv });
  assert.equal(c3.code, 0, c3.stderr);
  assert.equal((await docker(['exec', 'files', 'cat', '/tmp/host.txt'], { env: d.dockerEnv })).stdout, 'from host\n');
  const missing = await docker(['cp', 'files:/nope', out], { env: d.dockerEnv });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /Could not find the file \/nope in container files/);
  const cm = await docker(['commit', '-m', 'snap', '-c', 'CMD ["cat", "/made.txt"]', 'files', 'committed:1'], { env: d.dockerEnv });
  assert.equal(cm.code, 0, cm.stderr);
  assert.match(cm.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const run = await docker(['run', '--rm', 'committed:1'], { env: d.dockerEnv });
  assert.equal(run.stdout, 'inside\n', run.stderr);
  const diff = await docker(['diff', 'files'], { env: d.dockerEnv });
  assert.match(diff.stdout, /A \/made.txt/);
  // the image is in use: rmi refuses without -f
  const rmi = await docker(['rmi', 'busybox'], { env: d.dockerEnv });
  assert.notEqual(rmi.code, 0);
  assert.match(rmi.stderr, /container [0-9a-f]{12} is using its referenced image/);
  assert.equal((await docker(['rm', '-f', 'files'], { env: d.dockerEnv })).code, 0);
});

test('volumes: named volume through -v keeps data across containers; ls, inspect, rm in use, prune', { skip }, async () => {
  const w = await docker(['run', '--name', 'vw', '-v', 'data1:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f; echo 1234 > /layer'], { env: d.dockerEnv });
  assert.equal(w.code, 0, w.stderr);
  const r = await docker(['run', '--rm', '-v', 'data1:/data', 'busybox', 'cat', '/data/f'], { env: d.dockerEnv });
  assert.equal(r.stdout, 'kept\n', r.stderr);
  const ls = await docker(['volume', 'ls', '--format', '{{.Name}} {{.Driver}}'], { env: d.dockerEnv });
  assert.match(ls.stdout, /^data1 local$/m);
  const ins = await docker(['volume', 'inspect', '--format', '{{.Mountpoint}}', 'data1'], { env: d.dockerEnv });
  assert.match(ins.stdout, /volumes\/data1\/_data\n$/);
  const busy = await docker(['volume', 'rm', 'data1'], { env: d.dockerEnv });
  assert.notEqual(busy.code, 0);
  assert.match(busy.stderr, /volume is in use - \[[0-9a-f]{64}\]/);
  // system df counts it: one link (the stopped vw), 5 bytes of files
  const df = await docker(['system', 'df', '-v', '--format', '{{range .Volumes}}{{.Name}} {{.Links}} {{.Size}}{{end}}'], { env: d.dockerEnv });
  assert.equal(df.stdout.trim(), 'data1 1 5B', df.stderr);
  const sum = await docker(['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}}'], { env: d.dockerEnv });
  assert.match(sum.stdout, /^Local Volumes 1 1 5B$/m);
  // and the stopped writer's layer (/layer, 5 bytes; /data is the volume's): dockerd's SizeRw
  const cdf = await docker(['system', 'df', '-v', '--format', '{{range .Containers}}{{.Names}}={{.Size}} {{end}}'], { env: d.dockerEnv });
  assert.match(cdf.stdout, /\bvw=5B\b/, cdf.stdout);
  assert.equal((await docker(['rm', 'vw'], { env: d.dockerEnv })).code, 0);
  const pr = await docker(['volume', 'prune', '-a', '-f'], { env: d.dockerEnv });
  assert.equal(pr.code, 0, pr.stderr);
  assert.match(pr.stdout, /data1/);
  const gone = await docker(['volume', 'inspect', 'data1'], { env: d.dockerEnv });
  assert.match(gone.stderr, /no such volume/);
});

test('networks: ls/create/inspect/rm; run -p publishes a port through the bridge', { skip }, async () => {
  const ls = await docker(['network', 'ls', '--format', '{{.Name}} {{.Driver}}'], { env: d.dockerEnv });
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^bridge bridge$/m);
  assert.match(ls.stdout, /^host host$/m);
  assert.match(ls.stdout, /^none null$/m);
  const c = await docker(['network', 'create', 'wirenet'], { env: d.dockerEnv });
  assert.equal(c.code, 0, c.stderr);
  const ins = await docker(['network', 'inspect', '--format', '{{.Name}} {{.Driver}}', 'wirenet'], { env: d.dockerEnv });
  assert.equal(ins.stdout, 'wirenet bridge\n');
  const dup = await docker(['network', 'create', 'wirenet'], { env: d.dockerEnv });
  assert.match(dup.stderr, /network with name wirenet already exists/);
  assert.equal((await docker(['network', 'rm', 'wirenet'], { env: d.dockerEnv })).code, 0);
  // a free host port: bind port 0, read it, release it
  const { createServer } = await import('node:net');
  const port = await new Promise<number>((res) => { const srv = createServer(); srv.listen(0, '127.0.0.1', () => { const p = (srv.address() as { port: number }).port; srv.close(() => res(p)); }); });
  const web = await docker(['run', '-d', '--name', 'web', '-p', `${port}:80`, 'busybox', 'sh', '-c', 'mkdir /www; echo served > /www/index.html; httpd -f -p 80 -h /www'], { env: d.dockerEnv });
  assert.equal(web.code, 0, web.stderr);
  try {
    let body = '';
    for (let i = 0; i < 100 && body !== 'served\n'; i++) {
      body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => '');
      if (body !== 'served\n') await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(body, 'served\n');
    const ip = await docker(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', 'web'], { env: d.dockerEnv });
    assert.match(ip.stdout, /^\d+\.\d+\.\d+\.\d+\n$/);
    const ps = await docker(['ps', '--format', '{{.Ports}}', '--filter', 'name=web'], { env: d.dockerEnv });
    assert.match(ps.stdout, new RegExp(`${port}->80/tcp`));
  } finally {
    await docker(['rm', '-f', 'web'], { env: d.dockerEnv });
  }
});

test('restart policy on-failure restarts, stats --no-stream, top, info counts, events', { skip }, async () => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const r = await docker(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 1'], { env: d.dockerEnv });
  assert.equal(r.code, 0, r.stderr);
  let count = '';
  for (let i = 0; i < 200 && count !== '2 exited'; i++) {
    count = (await docker(['inspect', '--format', '{{.RestartCount}} {{.State.Status}}', 'flaky'], { env: d.dockerEnv })).stdout.trim();
    if (count !== '2 exited') await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(count, '2 exited');
  const up = await docker(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '60'], { env: d.dockerEnv });
  assert.equal(up.code, 0, up.stderr);
  const stats = await docker(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'busy'], { env: d.dockerEnv });
  assert.equal(stats.code, 0, stats.stderr);
  assert.match(stats.stdout, /^busy \d+\n$/);
  // no -m: the limit is the machine's memory, as dockerd reports it (not cgroup v1's 2^63)
  const mem = await docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', 'busy'], { env: d.dockerEnv });
  const gib = (os.totalmem() / 2 ** 30).toFixed(2);
  assert.match(mem.stdout, new RegExp(` / ${gib.replace('.', '\\.')}GiB\n$`), mem.stdout);
  const top = await docker(['top', 'busy'], { env: d.dockerEnv });
  assert.match(top.stdout, /sleep 60/);
  const info = await docker(['info', '--format', '{{.ContainersRunning}}'], { env: d.dockerEnv });
  assert.equal(info.stdout, '1\n');
  const ev = await docker(['events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'container=flaky', '--format', '{{.Action}}'], { env: d.dockerEnv });
  const actions = ev.stdout.split('\n').filter(Boolean);
  assert.equal(actions.filter((a) => a === 'start').length, 3, ev.stdout);
  assert.equal(actions.filter((a) => a === 'die').length, 3, ev.stdout);
  assert.equal((await docker(['rm', '-f', 'busy', 'flaky'], { env: d.dockerEnv })).code, 0);
});

test('create + start -a, wait, attach, logs --tail/--timestamps, dockerode attach without Upgrade', { skip }, async () => {
  const c = await docker(['create', '--name', 'later', 'busybox', 'sh', '-c', 'echo one; echo two >&2; exit 9'], { env: d.dockerEnv });
  assert.equal(c.code, 0, c.stderr);
  const st = await docker(['start', '-a', 'later'], { env: d.dockerEnv });
  assert.equal(st.stdout, 'one\n');
  assert.equal(st.stderr, 'two\n');
  assert.equal(st.code, 9);
  const w = await docker(['wait', 'later'], { env: d.dockerEnv });
  assert.equal(w.stdout, '9\n');
  const tail = await docker(['logs', '--tail', '1', 'later'], { env: d.dockerEnv });
  assert.equal(tail.stdout + tail.stderr, 'two\n');
  const ts = await docker(['logs', '-t', 'later'], { env: d.dockerEnv });
  assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z one\n$/);
  // docker attach to a running container, then the container ends
  const run = await docker(['run', '-di', '--name', 'att', 'busybox', 'sh', '-c', 'read x; echo got $x'], { env: { ...d.dockerEnv } });
  assert.equal(run.code, 0, run.stderr);
  const at = await docker(['attach', 'att'], { env: d.dockerEnv, input: 'hello\n' });
  assert.equal(at.stdout, 'got hello\n', at.stderr);
  // dockerode's attach (plain POST, no hijack) reads the log with logs=1
  const Docker = (await import('dockerode')).default;
  const api = new Docker({ socketPath: d.socketPath });
  const stream = await api.getContainer('later').attach({ stream: false, logs: true, stdout: true, stderr: true }) as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  for await (const ch of stream) chunks.push(ch as Buffer);
  const all = Buffer.concat(chunks);
  assert.equal(all[0], 1);
  assert.equal(all.readUInt32BE(4), 4);
  assert.equal(all.subarray(8, 12).toString(), 'one\n');
  await docker(['rm', '-f', 'later', 'att'], { env: d.dockerEnv });
});

test('pause/unpause, rename, restart, kill -s, export, container prune', { skip }, async () => {
  const r = await docker(['run', '-d', '--name', 'life', 'busybox', 'sh', '-c', 'trap "exit 42" USR1; while true; do sleep 0.1; done'], { env: d.dockerEnv });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await docker(['pause', 'life'], { env: d.dockerEnv })).code, 0);
  assert.equal((await docker(['inspect', '--format', '{{.State.Status}} {{.State.Paused}}', 'life'], { env: d.dockerEnv })).stdout, 'paused true\n');
  const px = await docker(['exec', 'life', 'true'], { env: d.dockerEnv });
  assert.equal(px.code, 1);
  assert.match(px.stderr, /^Error response from daemon: Container [0-9a-f]{64} is paused, unpause the container before exec$/m);
  assert.equal((await docker(['unpause', 'life'], { env: d.dockerEnv })).code, 0);
  const since = String(Math.floor(Date.now() / 1000) - 1);
  assert.equal((await docker(['exec', 'life', 'true'], { env: d.dockerEnv })).code, 0);
  // the CLI sends --until in whole seconds and docker drops events after it: end one second ahead instead
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const evs = await docker(['events', '--since', since, '--until', until, '--filter', 'event=exec_die',
    '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.image}} {{.Actor.Attributes.exitCode}}'], { env: d.dockerEnv });
  assert.equal(evs.stdout, 'exec_die life busybox 0\n', evs.stderr);
  assert.equal((await docker(['rename', 'life', 'life2'], { env: d.dockerEnv })).code, 0);
  assert.equal((await docker(['inspect', '--format', '{{.Name}}', 'life2'], { env: d.dockerEnv })).stdout, '/life2\n');
  const before = (await docker(['inspect', '--format', '{{.State.StartedAt}}', 'life2'], { env: d.dockerEnv })).stdout;
  assert.equal((await docker(['restart', '-t', '1', 'life2'], { env: d.dockerEnv })).code, 0);
  const after = (await docker(['inspect', '--format', '{{.State.Status}} {{.State.StartedAt}}', 'life2'], { env: d.dockerEnv })).stdout;
  assert.match(after, /^running /);
  assert.notEqual(after.slice(8), before);
  assert.equal((await docker(['kill', '-s', 'USR1', 'life2'], { env: d.dockerEnv })).code, 0);
  assert.equal((await docker(['wait', 'life2'], { env: d.dockerEnv })).stdout, '42\n');
  const ex = await docker(['export', 'life2'], { env: d.dockerEnv });
  assert.equal(ex.code, 0, ex.stderr);
  assert.ok(ex.out.includes(Buffer.from('bin/busybox')), 'the export tar holds the rootfs');
  const pr = await docker(['container', 'prune', '-f'], { env: d.dockerEnv });
  assert.equal(pr.code, 0, pr.stderr);
  assert.match(pr.stdout, /Deleted Containers:\n[0-9a-f]{64}\n/);
  assert.equal((await docker(['ps', '-aq', '--filter', 'name=life2'], { env: d.dockerEnv })).stdout, '');
});

test('ps -s reports the writable layer size', { skip }, async () => {
  const r = await docker(['run', '--name', 'sized', 'busybox', 'sh', '-c', 'head -c 100000 /dev/zero > /blob'], { env: d.dockerEnv });
  assert.equal(r.code, 0, r.stderr);
  const ps = await docker(['ps', '-a', '-s', '--filter', 'name=sized', '--format', '{{.Size}}'], { env: d.dockerEnv });
  assert.match(ps.stdout, /^100kB \(virtual [\d.]+MB\)\n$/);
  await docker(['rm', 'sized'], { env: d.dockerEnv });
});
