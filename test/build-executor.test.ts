// The builder's executor against a real image service, content store and snapshotter in a temp data root,
// with a busybox-static base image imported from Debian's busybox. No daemon: the /build route is the daemon
// engineer's; this drives Builder directly and checks the classic stream, the image config, the layers'
// files, cache hits, reproducibility and the error cases.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, rm, readFile, stat, readdir } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { ImageService } from '../src/images/index.ts';
import { Snapshotter } from '../src/snapshot/index.ts';
import { DataRoot } from '../src/layout/index.ts';
import { chainIds } from '../src/image/index.ts';
import { Builder, type BuildEvent, type BuildOptions } from '../src/build/index.ts';
import { haveBusybox } from './helpers/index.ts';
import { openBuilder, closeBuilder, type BuilderBench } from './build-helpers.ts';

const skip = !haveBusybox() ? 'busybox-static is not installed (/bin/busybox)' : process.getuid?.() !== 0 ? 'needs root (layer ownership)' : false;

let dir = '';
let images: ImageService;
let snapshots: Snapshotter;
let builder: Builder;
let ctx = '';

let bench: BuilderBench | undefined;
before(async () => {
  if (skip) return;
  bench = await openBuilder('berth-build-', { 'a.txt': 'A\n', 'dir/b.txt': 'B\n', 'dir/sub/c.txt': 'C\n' }, { root: 'root' });
  ({ dir, images, builder, ctx } = bench);
  ({ snapshots } = bench);
});
after(() => closeBuilder(bench));

async function build(dockerfile: string, o: Partial<BuildOptions> = {}) {
  const events: BuildEvent[] = [];
  const res = await builder.build({ contextDir: ctx, dockerfile, onEvent: (e) => events.push(e), ...o });
  const stream = events.map((e) => ('stream' in e ? e.stream : '')).join('');
  return { ...res, events, stream };
}

/** The files a layer added, from its snapshot. */
async function layerFiles(id: string, index: number): Promise<string[]> {
  const rec = images.resolve(id).record;
  const chain = chainIds(rec.layers.map((l) => l.diffId));
  const root = snapshots.fsPath(chain[index]!);
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const n of (await readdir(d)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      out.push(r);
      if ((await stat(join(d, n))).isDirectory()) await walk(join(d, n), r);
    }
  };
  await walk(root, '');
  return out;
}

const DF = [
  'FROM busybox',
  'ARG V=1',
  'ENV A=$V B="x y"',
  'WORKDIR /app',
  'COPY a.txt dir/ ./',
  'COPY <<EOF /etc/motd',
  'hello $A',
  'EOF',
  'LABEL version=$V',
  'EXPOSE 80 53/udp',
  'USER nobody',
  'CMD ["sh"]',
].join('\n');

test('metadata steps, WORKDIR, COPY and heredoc COPY build an image with docker-shaped config and history', { skip }, async () => {
  const r = await build(DF, { tags: ['mine:1', 'mine:latest'], buildArgs: { V: '2', UNUSED: 'x' } });
  // dockerd 20.10's classic builder: a metadata step reports the container its commit went through
  assert.match(r.stream, /^Step 1\/10 : FROM busybox\n ---> [0-9a-f]{12}\nStep 2\/10 : ARG V=1\n ---> Running in ([0-9a-f]{12})\nRemoving intermediate container \1\n ---> [0-9a-f]{12}\n/);
  assert.match(r.stream, /Step 5\/10 : COPY a.txt dir\/ \.\/\n ---> [0-9a-f]{12}\n/);
  assert.match(r.stream, /\[Warning\] One or more build-args \[UNUSED\] were not consumed\n/);
  assert.match(r.stream, new RegExp(`Successfully built ${r.id.slice(7, 19)}\nSuccessfully tagged mine:1\nSuccessfully tagged mine:latest\n$`));
  assert.deepEqual(r.events.filter((e) => 'aux' in e), [{ aux: { ID: r.id } }]);
  assert.deepEqual(r.names, ['mine:1', 'mine:latest']);

  const cfg = await images.configOf(images.resolve('mine:1').record.id);
  const c = cfg.config!;
  assert.deepEqual(c.Env?.slice(-2), ['A=2', 'B=x y']);
  assert.equal(c.WorkingDir, '/app');
  assert.deepEqual(c.Labels, { version: '2' });
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.equal(c.User, 'nobody');
  assert.deepEqual(c.Cmd, ['sh']);
  const hist = cfg.history!.slice(-9);
  assert.deepEqual(hist.map((h) => [h.created_by, h.empty_layer ?? false]), [
    ['/bin/sh -c #(nop)  ARG V=1', true],
    ['/bin/sh -c #(nop)  ENV A=2 B=x y', true],
    ['/bin/sh -c #(nop) WORKDIR /app', false],
    [hist[3]!.created_by, false],
    [hist[4]!.created_by, false],
    ['/bin/sh -c #(nop)  LABEL version=2', true],
    ['/bin/sh -c #(nop)  EXPOSE 53/udp 80', true],
    ['/bin/sh -c #(nop)  USER nobody', true],
    ['/bin/sh -c #(nop)  CMD ["sh"]', true],
  ]);
  assert.match(hist[3]!.created_by!, /^\/bin\/sh -c #\(nop\) COPY multi:[0-9a-f]{64} in \.\/ $/);
  assert.match(hist[4]!.created_by!, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/etc\/motd $/);

  const rec = images.resolve('mine:1').record;
  const base = images.resolve('busybox').record;
  assert.equal(rec.layers.length, base.layers.length + 3);
  // every step is an image whose parent is the previous step's (moby's classic builder): the chain from the
  // tagged image back to the base has one untagged image per step, each with the history so far
  const chain: string[] = [];
  for (let r: typeof rec | undefined = rec; r && r.id !== base.id; r = r.parent ? images.resolve(r.parent).record : undefined) chain.push(r.id);
  assert.equal(chain.length, hist.length);
  assert.equal(images.resolve(chain.at(-1)!).record.parent, base.id);
  assert.deepEqual(chain.slice(1).map((id) => images.referencesOf(id as never).length), chain.slice(1).map(() => 0));
  const n = base.layers.length;
  assert.deepEqual(await layerFiles('mine:1', n), ['app']);
  assert.deepEqual(await layerFiles('mine:1', n + 1), ['app', 'app/a.txt', 'app/b.txt', 'app/sub', 'app/sub/c.txt']);
  assert.deepEqual(await layerFiles('mine:1', n + 2), ['etc', 'etc/motd']);
  const motd = chainIds(rec.layers.map((l) => l.diffId))[n + 2]!;
  assert.equal(await readFile(join(snapshots.fsPath(motd), 'etc/motd'), 'utf8'), 'hello 2\n');
});

test('a rebuild without changes is all cache hits and gives the same image ID; one changed file rebuilds from its step', { skip }, async () => {
  const first = await build(DF, { buildArgs: { V: '2' } });
  const again = await build(DF, { buildArgs: { V: '2' } });
  assert.equal(again.id, first.id);
  assert.equal(again.stream.match(/ ---> Using cache\n/g)?.length, 9);
  await writeFile(join(ctx, 'dir/b.txt'), 'B2\n');
  try {
    const changed = await build(DF, { buildArgs: { V: '2' } });
    assert.notEqual(changed.id, first.id);
    assert.equal(changed.stream.match(/ ---> Using cache\n/g)?.length, 3, 'ARG, ENV, WORKDIR cached; COPY and after rebuilt');
  } finally {
    await writeFile(join(ctx, 'dir/b.txt'), 'B\n');
  }
  const otherArg = await build(DF, { buildArgs: { V: '3' } });
  assert.notEqual(otherArg.id, first.id);
});

test('SOURCE_DATE_EPOCH makes two uncached builds identical', { skip }, async () => {
  const a = await build(DF, { noCache: true, buildArgs: { SOURCE_DATE_EPOCH: '1700000000' } });
  const b = await build(DF, { noCache: true, buildArgs: { SOURCE_DATE_EPOCH: '1700000000' } });
  assert.equal(a.id, b.id);
  const cfg = await images.configOf(a.id);
  assert.equal(cfg.created, '2023-11-14T22:13:20Z');
  const c = await build(DF, { noCache: true });
  assert.notEqual(c.id, a.id);
});

test('multi-stage: COPY --from a stage into scratch; --target builds only what it needs', { skip }, async () => {
  const df = [
    'FROM busybox AS one',
    'COPY a.txt /out/a.txt',
    'FROM busybox AS unused',
    'COPY dir /never',
    'FROM scratch',
    'COPY --from=one /out/ /copied/',
    'COPY --from=busybox /bin/busybox /bin/',
  ].join('\n');
  const r = await build(df);
  assert.doesNotMatch(r.stream, /COPY dir \/never/);
  const rec = images.resolve(r.id).record;
  assert.equal(rec.layers.length, 2);
  assert.deepEqual(await layerFiles(r.id, 0), ['copied', 'copied/a.txt']);
  assert.deepEqual(await layerFiles(r.id, 1), ['bin', 'bin/busybox']);
  const cfg = await images.configOf(r.id);
  assert.deepEqual(cfg.config!.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  const t = await build(df, { target: 'one' });
  assert.match(t.stream, /^Step 1\/2 : FROM busybox AS one\n/);
});

test('--chown names from the image, --chmod, ONBUILD triggers', { skip }, async () => {
  const parent = await build('FROM busybox\nONBUILD COPY a.txt /from-trigger\n', { tags: ['withtrigger'] });
  assert.deepEqual((await images.configOf(parent.id)).config!.OnBuild, ['COPY a.txt /from-trigger']);
  const child = await build('FROM withtrigger\nCOPY --chown=nobody:nogroup --chmod=600 a.txt /owned\n');
  assert.match(child.stream, /# Executing 1 build trigger\n/);
  const rec = images.resolve(child.id).record;
  const chain = chainIds(rec.layers.map((l) => l.diffId));
  const owned = await stat(join(snapshots.fsPath(chain.at(-1)!), 'owned'));
  assert.deepEqual([owned.uid, owned.gid, owned.mode & 0o777], [65534, 65534, 0o600]);
  assert.ok((await stat(join(snapshots.fsPath(chain.at(-2)!), 'from-trigger'))).isFile());
  assert.equal((await images.configOf(child.id)).config!.OnBuild, null);
  await assert.rejects(build('FROM busybox\nCOPY --chown=nosuch a.txt /x\n'), /can't find uid for user nosuch/);
});

test('errors: outside the context, missing files, RUN not yet, bad target; nothing tagged', { skip }, async () => {
  await assert.rejects(build('FROM busybox\nCOPY ../x /x\n', { tags: ['bad:1'] }), { message: 'COPY failed: forbidden path outside the build context: ../x ()' });
  await assert.rejects(build('FROM busybox\nCOPY nope /x\n'), {
    message: 'COPY failed: file not found in build context or excluded by .dockerignore: stat nope: file does not exist',
  });
  await assert.rejects(build('FROM busybox\nCOPY a.txt dir/ /notdir\n'), {
    message: 'When using COPY with more than one source file, the destination must be a directory and end with a /',
  });
  const ev: BuildEvent[] = [];
  await assert.rejects(builder.build({ contextDir: ctx, dockerfile: 'FROM busybox\nRUN true\n', onEvent: (e) => ev.push(e) }), (e) => (e as { kind?: string }).kind === 'NotImplemented');
  assert.ok(ev.some((e) => 'errorDetail' in e));
  await assert.rejects(build('FROM busybox\n', { target: 'x' }), { message: 'failed to reach build target x in Dockerfile' });
  await assert.rejects(build('FROM nosuchimage\n'), /No such image: nosuchimage/);
  await assert.rejects(build('FROM busybox\nFOO\n'), { message: 'dockerfile parse error line 2: unknown instruction: FOO' });
  assert.throws(() => images.resolve('bad:1'), /No such image/);
});

test('ADD unpacks local tar archives into the destination; other files are copied', { skip }, async () => {
  const src = join(dir, 'arch');
  await mkdir(join(src, 'inner'), { recursive: true });
  await writeFile(join(src, 'inner/x.txt'), 'X\n');
  const { execFileSync } = await import('node:child_process');
  execFileSync('tar', ['-C', src, '-czf', join(ctx, 'arch.tgz'), 'inner']);
  try {
    const r = await build('FROM busybox\nADD arch.tgz /opt/\nADD a.txt /opt/a.txt\nADD --unpack=false arch.tgz /raw/\n');
    const n = images.resolve('busybox').record.layers.length;
    assert.deepEqual(await layerFiles(r.id, n), ['opt', 'opt/inner', 'opt/inner/x.txt']);
    assert.deepEqual(await layerFiles(r.id, n + 1), ['opt', 'opt/a.txt']);
    assert.deepEqual(await layerFiles(r.id, n + 2), ['raw', 'raw/arch.tgz']);
  } finally {
    await rm(join(ctx, 'arch.tgz'), { force: true });
  }
});

test('cache records are GC roots until builder prune; the build lease is gone afterwards', { skip }, async () => {
  const df = 'FROM busybox\nCOPY a.txt /gc-test\n';
  const first = await build(df);
  await images.gc();
  const again = await build(df);
  assert.match(again.stream, /Using cache/);
  assert.equal(again.id, first.id);
  const { LEASES } = await import('../src/metadata/index.ts');
  assert.deepEqual(images.metadata.list(LEASES).filter(([id]) => id.startsWith('build-')), []);
  const { records } = await builder.prune();
  assert.ok(records > 0);
  const rebuilt = await build(df);
  assert.doesNotMatch(rebuilt.stream, /Using cache/);
});

test('ADD from a URL: downloaded, named after the URL, 0600, checksum verified, not unpacked', { skip }, async () => {
  const { createServer } = await import('node:http');
  const { createHash } = await import('node:crypto');
  const body = Buffer.from('remote content\n');
  const server = createServer((req, res) => {
    if (req.url === '/redirect') { res.writeHead(302, { location: '/files/data.txt' }); res.end(); return; }
    if (req.url === '/files/data.txt') { res.writeHead(200, { 'last-modified': 'Tue, 14 Nov 2023 22:13:20 GMT' }); res.end(body); return; }
    res.writeHead(404, 'Not Found'); res.end('nope');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  try {
    const sum = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const r = await build(`FROM busybox\nADD --checksum=${sum} ${url}/redirect /dl/\n`);
    const chain = chainIds(images.resolve(r.id).record.layers.map((l) => l.diffId));
    const f = join(snapshots.fsPath(chain.at(-1)!), 'dl/data.txt');
    assert.equal(await readFile(f, 'utf8'), 'remote content\n');
    const st = await stat(f);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.mtimeMs, Date.parse('2023-11-14T22:13:20Z'));
    await assert.rejects(build(`FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} ${url}/files/data.txt /x\n`), /ADD failed: digest mismatch sha256:0+: sha256:/);
    await assert.rejects(build(`FROM busybox\nADD ${url}/missing /x\n`), /failed to GET http:\/\/127\.0\.0\.1:\d+\/missing with status 404 Not Found: nope/);
    await assert.rejects(build('FROM busybox\nADD --checksum=sha256:abc a.txt /x\n'), /checksum can't be specified for non-HTTP\(S\) sources/);
    await assert.rejects(build('FROM busybox\nADD git@example.invalid:a/b.git /src\n'), (e) => (e as { kind?: string }).kind === 'NotImplemented');
  } finally {
    server.close();
  }
});

test('missing base images go through the pull hook; --pull pulls even when present', { skip }, async () => {
  const pulled: string[] = [];
  const layout = new DataRoot(join(dir, 'root'));
  const withPull = new Builder({
    images, snapshots, layout,
    pull: async (ref) => {
      pulled.push(ref);
      if (ref === 'pulled/base') await images.tag('busybox:latest', 'pulled/base:latest');
    },
  });
  const r = await withPull.build({ contextDir: ctx, dockerfile: 'FROM pulled/base\nCOPY a.txt /p\n' });
  assert.deepEqual(pulled, ['pulled/base']);
  await withPull.build({ contextDir: ctx, dockerfile: 'FROM pulled/base\nCOPY a.txt /p\n', pull: true });
  assert.deepEqual(pulled, ['pulled/base', 'pulled/base']);
  assert.ok(r.id);
  await assert.rejects(withPull.build({ contextDir: ctx, dockerfile: 'FROM never/there\n' }), /No such image: never\/there/);
});

test('a context received as a tar is extracted only when a step misses the cache', { skip }, async () => {
  const { LazyContext } = await import('../src/build/index.ts');
  const { execFileSync } = await import('node:child_process');
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY dir /d\nCOPY *.txt /t/\nCMD ["sh"]\n');
  const tar = join(dir, 'lazyctx.tar');
  execFileSync('tar', ['-C', ctx, '-cf', tar, '.']);
  try {
    const first = await LazyContext.receive(createReadStream(tar), join(dir, 'lazy1'));
    const a = await builder.build({ context: first });
    assert.equal(first.isExtracted, false, 'COPY read the files from the tar in place');
    const second = await LazyContext.receive(createReadStream(tar), join(dir, 'lazy2'));
    const events: BuildEvent[] = [];
    const b = await builder.build({ context: second, onEvent: (e) => events.push(e) });
    assert.equal(b.id, a.id);
    assert.equal(second.isExtracted, false, 'all hits: no file of the context was created');
    assert.equal(events.filter((e) => 'stream' in e && e.stream === ' ---> Using cache\n').length, 3);
    // The same context as a directory gives the same keys.
    const c = await builder.build({ contextDir: ctx, dockerfile: 'FROM busybox\nCOPY dir /d\nCOPY *.txt /t/\nCMD ["sh"]\n' });
    assert.equal(c.id, a.id);
    // Uncached: layers written from the tar and from the extracted directory are byte-identical.
    const epoch = { SOURCE_DATE_EPOCH: '1700000000' };
    const third = await LazyContext.receive(createReadStream(tar), join(dir, 'lazy3'));
    const fromTar = await builder.build({ context: third, noCache: true, buildArgs: epoch });
    const fromDir = await builder.build({ contextDir: await third.directory(), dockerfile: third.dockerfile, noCache: true, buildArgs: epoch });
    assert.equal(fromTar.id, fromDir.id);
  } finally {
    await rm(join(ctx, 'Dockerfile'), { force: true });
  }
});

test('COPY --parents keeps source paths (from a directory and from a received tar alike)', { skip }, async () => {
  const df = 'FROM busybox\nCOPY --parents dir/sub/c.txt ./dir/./b.txt /p/\n';
  const r = await build(df);
  const n = images.resolve('busybox').record.layers.length;
  assert.deepEqual(await layerFiles(r.id, n), ['p', 'p/b.txt', 'p/dir', 'p/dir/sub', 'p/dir/sub/c.txt']);
  const { LazyContext } = await import('../src/build/index.ts');
  const { execFileSync } = await import('node:child_process');
  const tar = join(dir, 'parents.tar');
  await writeFile(join(ctx, 'Dockerfile'), df);
  execFileSync('tar', ['-C', ctx, '-cf', tar, '.']);
  await rm(join(ctx, 'Dockerfile'));
  const lazy = await LazyContext.receive(createReadStream(tar), join(dir, 'lazyp'));
  const r2 = await builder.build({ context: lazy, dockerfile: df, noCache: true });
  assert.deepEqual(await layerFiles(r2.id, n), ['p', 'p/b.txt', 'p/dir', 'p/dir/sub', 'p/dir/sub/c.txt']);
  assert.equal(lazy.isExtracted, false);
});

test('prepareBuild: query + context tar → the classic NDJSON stream; bad input fails before any output', { skip }, async () => {
  const { prepareBuild } = await import('../src/build/index.ts');
  const { execFileSync } = await import('node:child_process');
  const layout = new DataRoot(join(dir, 'root'));
  const src = join(dir, 'served');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'Dockerfile.web'), 'FROM busybox\nARG A\nCOPY f /f\nLABEL a=$A\n');
  await writeFile(join(src, 'f'), 'served\n');
  const tar = join(dir, 'served.tar');
  execFileSync('tar', ['-C', src, '-cf', tar, '.']);
  const q = new URLSearchParams({ dockerfile: 'Dockerfile.web', buildargs: '{"A":"x","B":"y"}', labels: '{"l":"v"}' });
  q.append('t', 'served:1');
  const job = await prepareBuild({ builder, layout, query: q, body: createReadStream(tar) });
  const lines: string[] = [];
  try {
    await job.run((m) => lines.push(JSON.stringify(m)));
  } finally {
    await job.cleanup();
  }
  const stream = lines.map((l) => JSON.parse(l) as BuildEvent);
  assert.deepEqual(stream[0], { stream: 'Step 1/5 : FROM busybox\n' });
  assert.ok(stream.some((e) => 'stream' in e && e.stream === '[Warning] One or more build-args [B] were not consumed\n'));
  assert.ok(stream.some((e) => 'aux' in e));
  assert.deepEqual(stream.at(-1), { stream: 'Successfully tagged served:1\n' });
  const cfg = await images.configOf(images.resolve('served:1').record.id);
  assert.deepEqual(cfg.config!.Labels, { a: 'x', l: 'v' });
  await assert.rejects(prepareBuild({ builder, layout, query: new URLSearchParams({ dockerfile: 'Nope' }), body: createReadStream(tar) }), {
    message: 'Cannot locate specified Dockerfile: Nope',
  });
  await assert.rejects(prepareBuild({ builder, layout, query: new URLSearchParams({ buildargs: '{' }), body: createReadStream(tar) }), /error reading build args/);
});
