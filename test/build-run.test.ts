// RUN steps through the builder's runtime interface. src/runtime is still landing (not committed yet), so
// this drives a scripted stand-in that behaves like a container from the builder's point of view: it gets
// the argv/env/network, writes into the upper dir it was given (files, and an overlay whiteout for a
// deletion), produces output and an exit code, and records kill/delete. The real runtime plugs into the same
// BuildRuntime interface (see src/build/executor/run.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, readFile, lstat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageService } from '../src/images/index.ts';
import { Snapshotter } from '../src/snapshot/index.ts';
import { DataRoot } from '../src/layout/index.ts';
import { chainIds } from '../src/image/index.ts';
import { Builder, type BuildEvent, type BuildRuntime, type BuildContainerOptions } from '../src/build/index.ts';
import { busyboxRootfsTar, haveBusybox } from './helpers/index.ts';

const skip = !haveBusybox() ? 'busybox-static is not installed' : process.getuid?.() !== 0 ? 'needs root (mknod for whiteouts, layer owners)' : false;

type Script = (o: BuildContainerOptions, upper: string) => Promise<{ out: string; code: number; hang?: boolean }>;

class ScriptedRuntime implements BuildRuntime {
  created: BuildContainerOptions[] = [];
  deleted: string[] = [];
  killed: string[] = [];
  private results = new Map<string, { out: string; code: number; hang?: boolean }>();
  private hangs = new Map<string, () => void>();
  constructor(private readonly base: string, public script: Script) {}
  upperDir(id: string): string { return join(this.base, id, 'upper'); }
  workDir(id: string): string { return join(this.base, id, 'work'); }
  async create(o: BuildContainerOptions): Promise<void> {
    this.created.push(o);
    await mkdir(this.upperDir(o.id), { recursive: true });
    await mkdir(this.workDir(o.id), { recursive: true });
  }
  async start(id: string): Promise<void> {
    const o = this.created.find((c) => c.id === id)!;
    this.results.set(id, await this.script(o, this.upperDir(id)));
  }
  wait(id: string): Promise<{ exitCode: number }> {
    const r = this.results.get(id)!;
    if (!r.hang) return Promise.resolve({ exitCode: r.code });
    return new Promise((resolve) => this.hangs.set(id, () => resolve({ exitCode: 137 })));
  }
  async kill(id: string): Promise<void> { this.killed.push(id); this.hangs.get(id)?.(); }
  async delete(id: string): Promise<void> { this.deleted.push(id); await rm(join(this.base, id), { recursive: true, force: true }); }
  async *output(id: string, exited: Promise<unknown>): AsyncIterable<{ data: Uint8Array }> {
    yield { data: Buffer.from(this.results.get(id)!.out) };
    await exited;
  }
}

let dir = '';
let images: ImageService;
let snapshots: Snapshotter;
let rt: ScriptedRuntime;
let builder: Builder;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'berth-brun-'));
  const layout = new DataRoot(join(dir, 'd'));
  images = await ImageService.open({ root: layout });
  snapshots = new Snapshotter(layout);
  rt = new ScriptedRuntime(join(dir, 'c'), async () => ({ out: '', code: 0 }));
  builder = new Builder({ images, snapshots, layout, runtime: rt });
  await mkdir(join(dir, 'rootfs'));
  await images.import(createReadStream(await busyboxRootfsTar(join(dir, 'rootfs'))), { ref: 'busybox:latest' });
  await mkdir(join(dir, 'ctx'));
});
after(async () => {
  if (skip) return;
  await images.close();
  await rm(dir, { recursive: true, force: true });
});

async function build(dockerfile: string, o: { buildArgs?: Record<string, string>; signal?: AbortSignal; onStream?: (s: string) => void } = {}) {
  const events: BuildEvent[] = [];
  const res = await builder.build({
    contextDir: join(dir, 'ctx'), dockerfile, buildArgs: o.buildArgs, signal: o.signal,
    onEvent: (e) => { events.push(e); if ('stream' in e) o.onStream?.(e.stream); },
  });
  return { ...res, stream: events.map((e) => ('stream' in e ? e.stream : '')).join('') };
}

test('RUN: argv through SHELL, env with build args, output streamed, upper dir becomes the layer', { skip }, async () => {
  rt.script = async (o, upper) => {
    if (o.cmd.at(-1)!.includes('rm')) {
      await mkdir(join(upper, 'out'), { recursive: true });
      execFileSync('mknod', [join(upper, 'out/f'), 'c', '0', '0']);
      return { out: 'removed\n', code: 0 };
    }
    await mkdir(join(upper, 'out'), { recursive: true });
    await writeFile(join(upper, 'out/f'), 'data\n');
    return { out: `hello ${o.env.find((e) => e.startsWith('WHO='))}\n`, code: 0 };
  };
  const r = await build('FROM busybox\nARG WHO=world\nWORKDIR /w\nRUN make > /out/f\nRUN rm /out/f\n', { buildArgs: { WHO: 'berth' } });
  const first = rt.created.at(-2)!;
  assert.deepEqual(first.cmd, ['/bin/sh', '-c', 'make > /out/f']);
  assert.deepEqual(first.entrypoint, []);
  assert.equal(first.workdir, '/w');
  assert.equal(first.network, 'host');
  assert.ok(first.env.includes('WHO=berth'));
  assert.match(r.stream, /Step 4\/5 : RUN make > \/out\/f\n ---> Running in [0-9a-f]{12}\nhello WHO=berth\nRemoving intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}\n/);
  const cfg = await images.configOf(r.id);
  assert.equal(cfg.history!.at(-2)!.created_by, '|1 WHO=berth /bin/sh -c make > /out/f');
  const chain = chainIds(images.resolve(r.id).record.layers.map((l) => l.diffId));
  assert.equal(await readFile(join(snapshots.fsPath(chain.at(-2)!), 'out/f'), 'utf8'), 'data\n');
  assert.ok((await lstat(join(snapshots.fsPath(chain.at(-1)!), 'out/f'))).isCharacterDevice(), 'deletion kept as a whiteout');
  assert.deepEqual(rt.deleted.slice(-2), rt.created.slice(-2).map((c) => c.id), 'every container removed');
  const again = await build('FROM busybox\nARG WHO=world\nWORKDIR /w\nRUN make > /out/f\nRUN rm /out/f\n', { buildArgs: { WHO: 'berth' } });
  assert.equal(again.id, r.id);
  assert.equal(again.stream.match(/Using cache/g)?.length, 4);
});

test('RUN forms: exec form as is, heredoc script, --network=none; failing RUN in docker words', { skip }, async () => {
  rt.script = async () => ({ out: '', code: 0 });
  await build('FROM busybox\nRUN --network=none ["/bin/true", "x"]\nRUN <<EOF\necho one\necho two\nEOF\nRUN cat <<A > /f\nbody\nA\n');
  const [exec, doc, inline] = rt.created.slice(-3);
  assert.deepEqual([exec!.cmd, exec!.network], [['/bin/true', 'x'], 'none']);
  assert.deepEqual(doc!.cmd, ['/bin/sh', '-c', 'echo one\necho two\n']);
  assert.deepEqual(inline!.cmd, ['/bin/sh', '-c', 'cat <<A > /f\nbody\nA']);
  rt.script = async () => ({ out: 'oops\n', code: 3 });
  const events: BuildEvent[] = [];
  await assert.rejects(builder.build({ contextDir: join(dir, 'ctx'), dockerfile: 'FROM busybox\nRUN exit 3\n', tags: ['x:1'], onEvent: (e) => events.push(e) }), {
    message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
  });
  assert.deepEqual(events.at(-1), { errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }, error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" });
  assert.equal(rt.deleted.at(-1), rt.created.at(-1)!.id);
  assert.throws(() => images.resolve('x:1'), /No such image/);
});

test('cancelling kills the RUN container and removes it', { skip }, async () => {
  rt.script = async () => ({ out: 'started\n', code: 0, hang: true });
  const ac = new AbortController();
  await assert.rejects(build('FROM busybox\nRUN sleep 1000\n', { signal: ac.signal, onStream: (s) => { if (s.includes('started')) ac.abort(new Error('client went away')); } }));
  const id = rt.created.at(-1)!.id;
  assert.ok(rt.killed.includes(id));
  assert.equal(rt.deleted.at(-1), id);
});

test('RUN --mount: cache dirs persist across builds, bind/tmpfs/secret mounts, stubs kept out of the layer', { skip }, async () => {
  await writeFile(join(dir, 'ctx', 'src.txt'), 'source\n');
  const secret = join(dir, 'token');
  await writeFile(secret, 's3cret\n');
  rt.script = async (o, upper) => {
    const cache = o.mounts!.find((m) => m.target === '/root/.cache')!;
    const n = Number(await readFile(join(cache.source!, 'count'), 'utf8').catch(() => '0')) + 1;
    await writeFile(join(cache.source!, 'count'), String(n));
    // What a runtime leaves for mount points that did not exist: empty stubs.
    await mkdir(join(upper, 'run/secrets'), { recursive: true });
    await writeFile(join(upper, 'run/secrets/tok'), '');
    await mkdir(join(upper, 'root/.cache'), { recursive: true });
    await writeFile(join(upper, 'result'), `run ${n}\n`);
    return { out: '', code: 0 };
  };
  const df = (tag: string) => [
    'FROM busybox',
    'WORKDIR /w',
    `RUN --mount=type=cache,target=/root/.cache --mount=type=bind,source=src.txt,target=ctx.txt \\`,
    `    --mount=type=tmpfs,target=/t,size=1m --mount=type=secret,id=tok --mount=type=secret,id=absent echo ${tag}`,
  ].join('\n');
  const r1 = await builder.build({ contextDir: join(dir, 'ctx'), dockerfile: df('one'), secrets: { tok: secret } });
  const m = rt.created.at(-1)!.mounts!;
  assert.deepEqual(m.map((x) => [x.type, x.target, x.readOnly ?? null]), [
    ['bind', '/root/.cache', false], ['bind', '/w/ctx.txt', true], ['tmpfs', '/t', null], ['bind', '/run/secrets/tok', true],
  ]);
  assert.equal(m[1]!.source, join(dir, 'ctx', 'src.txt'));
  assert.deepEqual(m[2]!.options, ['size=1048576']);
  assert.equal(m[3]!.source, secret);
  await builder.build({ contextDir: join(dir, 'ctx'), dockerfile: df('two'), secrets: { tok: secret } });
  const top = snapshots.fsPath(chainIds(images.resolve(r1.id).record.layers.map((l) => l.diffId)).at(-1)!);
  assert.equal(await readFile(join(top, 'result'), 'utf8'), 'run 1\n');
  const { readdir: rd } = await import('node:fs/promises');
  assert.deepEqual((await rd(top)).sort(), ['result'], 'no secret stub, no cache dir stub in the layer');
  const cfg = await images.configOf(r1.id);
  assert.doesNotMatch(JSON.stringify(cfg), /s3cret/);
  const cacheDir = rt.created.at(-1)!.mounts![0]!.source!;
  assert.equal(await readFile(join(cacheDir, 'count'), 'utf8'), '2', 'the cache dir survived into the second build');
  await writeFile(join(dir, 'ctx', 'src.txt'), 'changed\n');
  const r3 = await build(df('one').replace('--mount=type=secret,id=tok ', ''));
  assert.doesNotMatch(r3.stream, /Using cache\n ---> [0-9a-f]+\nRemoving/);
  await assert.rejects(builder.build({ contextDir: join(dir, 'ctx'), dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=need,required true\n' }), {
    message: 'secret need not found',
  });
  await assert.rejects(builder.build({ contextDir: join(dir, 'ctx'), dockerfile: 'FROM busybox\nRUN --mount=type=$T,target=/x true\n' }), {
    message: 'dockerfile parse error line 2: unsupported mount type ""',
  });
});

test('the build-wide network mode applies to RUN without --network', { skip }, async () => {
  rt.script = async () => ({ out: '', code: 0 });
  await builder.build({ contextDir: join(dir, 'ctx'), dockerfile: 'FROM busybox\nRUN echo a\nRUN --network=host echo b\n', networkMode: 'none' });
  assert.deepEqual(rt.created.slice(-2).map((c) => c.network), ['none', 'host']);
});
