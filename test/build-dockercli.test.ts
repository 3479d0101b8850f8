// The real docker CLI (v28, classic builder path: DOCKER_BUILDKIT=0) talking to prepareBuild behind a bare
// HTTP server on a temp socket — the few lines the daemon's /build route will hold — so the stream format,
// the error path and tagging are checked against the client that matters before berthd's route exists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageService } from '../src/images/index.ts';
import { Snapshotter } from '../src/snapshot/index.ts';
import { DataRoot } from '../src/layout/index.ts';
import { kindOf, messageOf } from '../src/errors/index.ts';
import { Builder, prepareBuild } from '../src/build/index.ts';
import { busyboxRootfsTar, haveBusybox, docker, haveDocker } from './helpers/index.ts';

const skip = !haveDocker() ? 'docker CLI not installed' : !haveBusybox() ? 'busybox-static not installed' : process.getuid?.() !== 0 ? 'needs root' : false;
let dir = '';
let server: Server;
let images: ImageService;
let env: NodeJS.ProcessEnv;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'bcli-'));
  const layout = new DataRoot(join(dir, 'd'));
  images = await ImageService.open({ root: layout });
  const builder = new Builder({ images, snapshots: new Snapshotter(layout), layout });
  await mkdir(join(dir, 'rootfs'));
  await images.import(createReadStream(await busyboxRootfsTar(join(dir, 'rootfs'))), { ref: 'busybox:latest' });
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/v[\d.]+/, '');
    if (path === '/_ping') {
      res.writeHead(200, { 'Api-Version': '1.51', Ostype: 'linux', 'Builder-Version': '1', 'Content-Type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
      return;
    }
    if (path === '/build' && req.method === 'POST') {
      const ac = new AbortController();
      res.on('close', () => { if (!res.writableFinished) ac.abort(); });
      let job;
      try {
        job = await prepareBuild({ builder, layout, query: url.searchParams, body: req, signal: ac.signal });
      } catch (e) {
        res.writeHead(kindOf(e) === 'NotFound' ? 404 : kindOf(e) === 'InvalidArgument' ? 400 : 500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message: messageOf(e) }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      try { await job.run((m) => res.write(JSON.stringify(m) + '\n')); } catch { /* already in the stream */ } finally { await job.cleanup(); res.end(); }
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ message: `page not found: ${path}` }));
  });
  const sock = join(dir, 'b.sock');
  await new Promise<void>((r) => server.listen(sock, () => r()));
  env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(dir, 'cfg') };
});
after(async () => {
  if (skip) return;
  await new Promise<void>((r) => server.close(() => r()));
  await images.close();
  await rm(dir, { recursive: true, force: true });
});

test('docker build (classic) against prepareBuild: steps, warning, tag; failures exit 1 with docker\'s text', { skip }, async () => {
  const ctx = join(dir, 'ctx');
  await mkdir(ctx);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nARG V=1\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n');
  await writeFile(join(ctx, 'hello.txt'), 'hi\n');
  await writeFile(join(ctx, '.dockerignore'), 'secret\n');
  await writeFile(join(ctx, 'secret'), 'no\n');
  const r = await docker(['build', '-t', 'cli:1', '--build-arg', 'X=1', ctx], { env });
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.match(out, /Step 1\/4 : FROM busybox/);
  assert.match(out, /Step 3\/4 : COPY hello.txt \/hello.txt/);
  assert.match(out, /\[Warning\] One or more build-args \[X\] were not consumed/);
  assert.match(out, /Successfully built [0-9a-f]{12}\nSuccessfully tagged cli:1\n/);
  assert.ok(images.resolve('cli:1'));
  const again = await docker(['build', '-q', ctx], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), images.resolve('cli:1').record.id);

  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY ../nope /x\n');
  const bad = await docker(['build', ctx], { env });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /COPY failed: forbidden path outside the build context: \.\.\/nope \(\)/);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nFOO bar\n');
  const parse = await docker(['build', ctx], { env });
  assert.equal(parse.code, 1);
  assert.match(parse.stderr, /dockerfile parse error line 2: unknown instruction: FOO/);
  const missing = await docker(['build', '-f', 'Nope', ctx], { env });
  assert.equal(missing.code, 1);
});
