// Real crun/runc under conmon on a busybox-static rootfs: exit codes, logs, missing commands, OOM, stop,
// pause, a pty, and containers that outlive the process that started them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { writeFile, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture, runtimeSkip, type Fixture } from './runtime-helpers.ts';
import { waitFor } from './helpers/index.ts';
import { Runtime, readLogs, attach, frames, isMemoryCgroupUsable, runtimeStatus, Networks, defaultBridge, cgroupStats, top, type LogRecord } from '../src/runtime/index.ts';
import { createServer, connect } from 'node:net';
import { isKind } from '../src/errors/index.ts';

const skip = runtimeSkip();
let f: Fixture;
before(async () => { if (!skip) f = await fixture(); });
after(async () => { await f?.cleanup(); });

async function logsOf(id: string): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of readLogs(f.rt.logPath(id))) out.push(r);
  return out;
}

test('echo hi: exit 0 and "hi" on stdout in the log', { skip }, async () => {
  const s = await f.run({ cmd: ['sh', '-c', 'echo hi; echo oops >&2'] });
  const end = await f.rt.wait(s.id);
  assert.equal(end.status, 'exited');
  assert.equal(end.exitCode, 0);
  const logs = await logsOf(s.id);
  assert.deepEqual(logs.map((r) => [r.stream, r.data.toString()]), [['stdout', 'hi\n'], ['stderr', 'oops\n']]);
  assert.deepEqual(await f.rt.changes(s.id), []);
  assert.match(logs[0]!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
});

test('exit 3 is exit code 3; the process sees docker-like env, hostname, user and workdir', { skip }, async () => {
  const s = await f.run({ cmd: ['sh', '-c', 'echo "$HOSTNAME $(hostname) $(id -u):$(id -G) $(pwd) $FOO"; exit 3'], env: ['FOO=bar'], user: 'nobody', workdir: '/work/dir' });
  const end = await f.rt.wait(s.id);
  assert.equal(end.exitCode, 3);
  // docker diff: the created workdir shows as added.
  assert.deepEqual(await f.rt.changes(s.id), [{ Path: '/work', Kind: 1 }, { Path: '/work/dir', Kind: 1 }]);
  const line = (await logsOf(s.id)).map((r) => r.data.toString()).join('');
  assert.equal(line, `${s.id.slice(0, 12)} ${s.id.slice(0, 12)} 65534:65534 50 /work/dir bar\n`);
});

test('a missing command fails create with the runtime\'s message (docker: exit 127) and leaves nothing', { skip }, async () => {
  const id = f.newId();
  await assert.rejects(f.run({ id, cmd: ['nosuchcmd'] }), (e) => {
    assert.ok(isKind(e, 'InvalidArgument', 'EXEC_NOT_FOUND'), String(e));
    assert.match((e as Error).message, /nosuchcmd/);
    return true;
  });
  await assert.rejects(f.rt.inspect(id), (e) => isKind(e, 'NotFound'));
});

test('an unknown user name is refused with docker\'s text', { skip }, async () => {
  await assert.rejects(f.run({ cmd: ['true'], user: 'ghost' }), /unable to find user ghost: no matching entries in passwd file/);
});

test('exceeding -m is OOMKilled with exit 137', { skip: skip ?? (!isMemoryCgroupUsable() && 'memory cgroup not usable here') }, async () => {
  // tail buffers its whole input: /dev/zero without newlines grows until the limit.
  const s = await f.run({ cmd: ['sh', '-c', 'tail /dev/zero'], memory: 16 * 1024 * 1024, memorySwap: 16 * 1024 * 1024 });
  const end = await f.rt.wait(s.id);
  assert.equal(end.exitCode, 137);
  assert.equal(end.oomKilled, true);
});

test('stop: SIGTERM first, SIGKILL after the timeout; with --init TERM reaches the process', { skip }, async () => {
  const stubborn = await f.run({ cmd: ['sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done'] });
  const t0 = Date.now();
  const end = await f.rt.stop(stubborn.id, 1);
  assert.equal(end.exitCode, 137);
  assert.ok(Date.now() - t0 >= 900, 'waited for the timeout');
  const init = (await import('../src/runtime/index.ts')).runtimeStatus().init;
  if (init) {
    const polite = await f.run({ cmd: ['sleep', '1000'], init });
    // a PID 1 ignores signals it has no handler for: TERM sent before the init set up its handling is lost
    // (docker's stop would then wait for the timeout too), so wait until it catches or blocks TERM (bit 15 of
    // SigCgt or SigBlk: catatonit reads signals from a signalfd, tini catches them)
    await waitFor(async () => {
      const status = await readFile(`/proc/${polite.pid}/status`, 'utf8').catch(() => '');
      return ['SigCgt', 'SigBlk'].some((k) => {
        const m = new RegExp(`${k}:\\s+([0-9a-f]+)`).exec(status);
        return !!m && (BigInt(`0x${m[1]}`) & (1n << 14n)) !== 0n;
      });
    }, 'the init to handle SIGTERM');
    const e2 = await f.rt.stop(polite.id, 20);
    assert.equal(e2.exitCode, 143);
  }
});

test('pause and resume; kill with a signal; rm refuses a running container without force', { skip }, async () => {
  const s = await f.run({ cmd: ['sleep', '1000'], memory: 64 << 20 });
  const st = await cgroupStats(s.id);
  assert.equal(st.memoryLimit, 64 << 20);
  assert.equal(st.pids, 1);
  assert.ok(st.memoryUsage > 0 && st.cpuUsageNs > 0, JSON.stringify(st));
  const tp = await top(s.id);
  assert.ok(tp.Titles.includes('PID'));
  assert.deepEqual(tp.Processes.map((p) => p.at(-1)), ['sleep 1000']);
  await f.rt.pause(s.id);
  assert.equal((await f.rt.inspect(s.id)).status, 'paused');
  await f.rt.resume(s.id);
  assert.equal((await f.rt.inspect(s.id)).status, 'running');
  await assert.rejects(f.rt.delete(s.id), (e) => isKind(e, 'Conflict'));
  await f.rt.kill(s.id, 'SIGKILL');
  assert.equal((await f.rt.wait(s.id)).exitCode, 137);
  await assert.rejects(f.rt.kill(s.id, 'TERM'), (e) => isKind(e, 'Conflict'));
  // A stopped container starts again (docker start), with a fresh exit code; its rootfs was unmounted at
  // exit (as docker does) and is mounted again.
  assert.equal(execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' }).includes(` ${f.rt.rootfs(s.id)} `), false);
  await f.rt.start(s.id);
  assert.ok((await f.rt.snapshotsInUse()).has(f.chain[0]!));
  assert.equal((await f.rt.inspect(s.id)).status, 'running');
  await f.rt.kill(s.id, 9);
  assert.equal((await f.rt.wait(s.id)).exitCode, 137);
});

test('-t: a real pty through conmon; write a command, read its output, resize follows', { skip }, async () => {
  const s = await f.run({ cmd: ['sh'], tty: true, openStdin: true, stdinOnce: true }, false);
  const a = await attach(f.rt.dir(s.id), join(f.dir, 'state', 'bin'));
  await f.rt.start(s.id);
  await f.rt.resize(s.id, 33, 101);
  let text = '';
  const got = (async () => {
    for await (const fr of frames(a.output)) {
      text += fr.data.toString();
      if (/33 101\r\n[\s\S]*hi-there\r\n/.test(text)) return;
    }
  })();
  a.stdin.write('stty size; echo hi-$((1))there | tr -d 1; exit 7\n');
  await got;
  assert.match(text, /33 101\r\n/);
  assert.equal((await f.rt.wait(s.id)).exitCode, 7);
  a.close();
});

test('-i without -t: stdin to the process, stdout and stderr as separate frames', { skip }, async () => {
  const s = await f.run({ cmd: ['sh', '-c', 'read x; echo "out:$x"; echo "err:$x" >&2'], openStdin: true, stdinOnce: true }, false);
  const a = await attach(f.rt.dir(s.id), join(f.dir, 'state', 'bin'));
  await f.rt.start(s.id);
  a.stdin.end('value\n');
  const got: [number, string][] = [];
  for await (const fr of frames(a.output)) got.push([fr.stream, fr.data.toString()]);
  assert.deepEqual(got.sort(), [[1, 'out:value\n'], [2, 'err:value\n']]);
  assert.equal((await f.rt.wait(s.id)).exitCode, 0);
});

test('a container outlives the process that started it (kill -9); a new process reconciles and stops it', { skip }, async () => {
  const id = f.newId();
  const script = join(f.dir, 'starter.mts');
  const here = fileURLToPath(new URL('.', import.meta.url));
  await writeFile(script, `
    import { Runtime } from ${JSON.stringify(join(here, '../src/runtime/index.ts'))};
    import { Snapshotter } from ${JSON.stringify(join(here, '../src/snapshot/index.ts'))};
    import { DataRoot } from ${JSON.stringify(join(here, '../src/layout/index.ts'))};
    const root = new DataRoot(${JSON.stringify(f.root.root)});
    const rt = new Runtime({ dataRoot: root, stateDir: ${JSON.stringify(f.rt.stateDir)} });
    const chain = ${JSON.stringify(f.chain)};
    const id = ${JSON.stringify(id)};
    const rootfsMounts = await new Snapshotter(root).mounts(chain, rt.upperDir(id), rt.workDir(id));
    await rt.create({ id, chain, rootfsMounts, cmd: ['sh', '-c', 'i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.05; done'] });
    await rt.start(id);
    console.log('started');
    setInterval(() => {}, 1000);
  `);
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => { if (String(d).includes('started')) resolve(); });
    child.on('exit', (c) => reject(new Error(`starter exited ${c}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('close', r));
  const rt2 = new Runtime({ dataRoot: f.root, stateDir: f.rt.stateDir });
  assert.equal((await rt2.inspect(id)).status, 'running');
  assert.ok((await rt2.list()).some((c) => c.id === id && c.status === 'running'));
  // The log keeps growing without the starter.
  const ac = new AbortController();
  let ticks = 0;
  for await (const r of readLogs(rt2.logPath(id), { follow: true, signal: ac.signal })) {
    if (r.data.toString().startsWith('tick')) ticks++;
    if (ticks >= 5) ac.abort();
  }
  const end = await rt2.stop(id, 1);
  assert.equal(end.status, 'exited');
  assert.equal(end.exitCode, 137); // sh as PID 1 ignores TERM: killed after the timeout
});

test('exec: output and exit code, -e/-u/-w, a tty, and -d', { skip }, async () => {
  const s = await f.run({ cmd: ['sleep', '1000'] });
  const e = await f.rt.exec(s.id, { args: ['sh', '-c', 'echo "$X $(id -u) $(pwd)"; echo e >&2; exit 4'], env: ['X=y'], user: 'nobody', workdir: '/tmp' });
  const got: [number, string][] = [];
  for await (const fr of frames(e.attachment!.output)) got.push([fr.stream, fr.data.toString()]);
  assert.deepEqual(got.sort(), [[1, 'y 65534 /tmp\n'], [2, 'e\n']]);
  assert.equal(await e.exited, 4);

  const t = await f.rt.exec(s.id, { args: ['sh'], tty: true, stdin: true });
  let text = '';
  const done = (async () => { for await (const fr of frames(t.attachment!.output)) text += fr.data.toString(); })();
  t.attachment!.stdin.write('tty; exit 2\n');
  assert.equal(await t.exited, 2);
  await done;
  assert.match(text, /\/dev\/pts\/\d+/);

  const d = await f.rt.exec(s.id, { args: ['sh', '-c', 'echo detached > /tmp/mark; rm /bin/vi; echo x >> /etc/passwd'], detach: true });
  assert.equal(d.attachment, undefined);
  assert.equal(await d.exited, 0);
  assert.deepEqual(await f.rt.changes(s.id), [
    { Path: '/bin', Kind: 0 }, { Path: '/bin/vi', Kind: 2 }, { Path: '/etc', Kind: 0 }, { Path: '/etc/passwd', Kind: 0 },
    { Path: '/tmp', Kind: 0 }, { Path: '/tmp/mark', Kind: 1 },
  ]);
  await assert.rejects(f.rt.exec(s.id, { args: ['nosuch'] }), (err) => isKind(err, 'InvalidArgument', 'EXEC_NOT_FOUND'));
  await f.rt.kill(s.id, 'KILL');
  await f.rt.wait(s.id);
  await assert.rejects(f.rt.exec(s.id, { args: ['true'] }), (err) => isKind(err, 'Conflict'));
});

test('runc works too (--runtime runc): exit code, logs, a tty through conmon', { skip: skip ?? (!runtimeStatus().runtimes.runc && 'runc not installed') }, async () => {
  const s = await f.run({ cmd: ['sh', '-c', 'echo via-runc; exit 5'], runtime: 'runc' });
  assert.equal(s.runtime, 'runc');
  assert.equal((await f.rt.wait(s.id)).exitCode, 5);
  assert.deepEqual((await logsOf(s.id)).map((r) => r.data.toString()), ['via-runc\n']);
  const t = await f.run({ cmd: ['sh'], tty: true, openStdin: true, stdinOnce: true, runtime: 'runc' }, false);
  const a = await f.rt.attach(t.id);
  await f.rt.start(t.id);
  let text = '';
  const got = (async () => { for await (const fr of frames(a.output)) { text += fr.data.toString(); if (text.includes('ok-runc')) return; } })();
  a.stdin.write('echo ok-$((0))runc | tr -d 0; exit 0\n');
  await got;
  assert.equal((await f.rt.wait(t.id)).exitCode, 0);
  a.close();
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function fetchTcp(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(port, host);
    let out = '';
    c.on('data', (d) => { out += d; });
    c.on('end', () => resolve(out));
    c.on('error', reject);
  });
}

test('bridge network via netavark: an address on the subnet, -p hostPort:80 reachable on 127.0.0.1, teardown', { skip: skip ?? (!['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark'].some((p) => existsSync(p)) && 'netavark not installed') }, async (t) => {
  const nets = new Networks(f.rt.stateDir);
  // A subnet of its own per run, so parallel test files never collide.
  const net = { ...defaultBridge(`10.${100 + (process.pid % 100)}.${process.pid % 250}.0/24`), name: `t${process.pid}`, bridge: `brt${process.pid % 100000}` };
  const id = f.newId();
  const hostPort = await freePort();
  const att = await nets.setup(id, net, { ports: [{ containerPort: 80, hostPort }] });
  t.after(() => nets.teardown(id));
  assert.match(att.ip, /^10\.\d+\.\d+\.2$/);
  await f.run({ id, cmd: ['sh', '-c', 'while :; do nc -l -p 80 -e echo served-$HOSTNAME; done'], network: { netns: att.netnsPath } });
  // The listener may not be up yet: retry until it answers.
  let got = '';
  for (let i = 0; i < 100 && !got.includes('served'); i++) {
    got = await fetchTcp('127.0.0.1', hostPort).catch(() => '');
    if (!got) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(got.trim(), `served-${id.slice(0, 12)}`);
  let direct = '';
  for (let i = 0; i < 100 && !direct.includes('served'); i++) {
    direct = await fetchTcp(att.ip, 80).catch(() => '');
    if (!direct) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(direct.trim(), `served-${id.slice(0, 12)}`);
  await f.rt.delete(id, { force: true });
  await nets.teardown(id);
  assert.ok(!existsSync(att.netnsPath));
  await assert.rejects(fetchTcp('127.0.0.1', hostPort));
});

test('--read-only with --tmpfs, a bind mount and a volume (copy-up), capabilities dropped', { skip }, async () => {
  const { Volumes } = await import('../src/runtime/index.ts');
  const vols = new Volumes(f.root);
  const vol = await vols.create({ name: `v${process.pid}` });
  const host = join(f.dir, 'hostdir');
  await mkdir(host);
  const s = await f.run({
    cmd: ['sh', '-c', 'touch /etc/x 2>/dev/null && exit 9; echo b > /data/b; echo v > /vol/v; echo t > /run/t && cat /run/t; chown nobody /run/t 2>/dev/null && exit 8; exit 0'],
    readOnly: true, tmpfs: { '/run': 'size=1m' }, capDrop: ['CHOWN'],
    mounts: [{ type: 'bind', source: host, target: '/data' }, { type: 'volume', source: vol.Mountpoint, target: '/vol' }],
  });
  const end = await f.rt.wait(s.id);
  assert.equal(end.exitCode, 0, (await logsOf(s.id)).map((r) => r.data.toString()).join(''));
  assert.equal(await readFile(join(host, 'b'), 'utf8'), 'b\n');
  assert.equal(await readFile(join(vol.Mountpoint, 'v'), 'utf8'), 'v\n');
  assert.deepEqual((await logsOf(s.id)).map((r) => r.data.toString()), ['t\n']);
  // copy-up of an image path into a fresh volume
  const v2 = await vols.create({ name: `w${process.pid}` });
  assert.equal(await vols.populate(v2.Name, await f.rt.mountedRootfs(s.id), '/etc'), true);
  assert.ok((await readFile(join(v2.Mountpoint, 'passwd'), 'utf8')).startsWith('root:'));
});

test('logs: follow ends when the container exits; tail and since; --network host sees the host interfaces', { skip }, async () => {
  const s = await f.run({ cmd: ['sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.1; done; cat /proc/net/dev | wc -l'], network: 'host' });
  const seen: string[] = [];
  for await (const r of readLogs(f.rt.logPath(s.id), { follow: true, exited: f.rt.wait(s.id) })) seen.push(r.data.toString());
  const hostIfaces = (await readFile('/proc/net/dev', 'utf8')).split('\n').filter(Boolean).length;
  assert.deepEqual(seen, ['line1\n', 'line2\n', 'line3\n', `${hostIfaces}\n`]);
  const tail: string[] = [];
  for await (const r of readLogs(f.rt.logPath(s.id), { tail: 2 })) tail.push(r.data.toString());
  assert.deepEqual(tail, ['line3\n', `${hostIfaces}\n`]);
  const all: { time: string }[] = [];
  for await (const r of readLogs(f.rt.logPath(s.id))) all.push(r);
  const since = Date.parse(all[2]!.time.replace(/(\.\d{3})\d*/, '$1'));
  let n = 0;
  for await (const _r of readLogs(f.rt.logPath(s.id), { since })) n++;
  assert.ok(n >= 2 && n <= 3, `since gave ${n}`);
  // none: only the loopback device (2 header lines + lo)
  const iso = await f.run({ cmd: ['sh', '-c', 'cat /proc/net/dev | wc -l'] });
  await f.rt.wait(iso.id);
  assert.deepEqual((await logsOf(iso.id)).map((r) => r.data.toString()), ['3\n']);
});
