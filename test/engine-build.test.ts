// `docker build` (real docker CLI v28, classic path) against berthd's POST /build with real crun/conmon for
// RUN: COPY + RUN, a cached rebuild, a failing RUN's message, and running the built image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, importBusybox, docker, haveDocker, type StartedDaemon } from './helpers/index.ts';
import { runtimeSkip } from './runtime-helpers.ts';
import { writeContext } from './build-helpers.ts';

const skip = runtimeSkip() ?? (haveDocker() ? undefined : 'needs the docker CLI');
let d: StartedDaemon;
let env: NodeJS.ProcessEnv;

before(async () => {
  if (skip) return;
  d = await startDaemon();
  env = { ...d.dockerEnv, DOCKER_BUILDKIT: '0' };
  await importBusybox(d, 'busybox:latest', ['CMD ["sh"]']);
});
after(async () => { await d?.stop(); });

const context = (name: string, dockerfile: string, files: Record<string, string> = {}) => writeContext(d.dir, name, dockerfile, files);

test('docker build with COPY + RUN, cached rebuild, then run the image', { skip }, async () => {
  const ctx = await context('ok', 'FROM busybox\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt > /copy.txt && echo built\nCMD ["cat", "/copy.txt"]\n', { 'hello.txt': 'hello from build\n' });
  const r = await docker(['build', '-t', 'built:1', ctx], { env, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Step 3\/4 : RUN cat \/hello.txt/);
  assert.match(r.stdout, /\nbuilt\n/);
  assert.match(r.stdout, /Successfully tagged built:1\n/);
  const again = await docker(['build', '-t', 'built:1', ctx], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Using cache/);
  assert.doesNotMatch(again.stdout, /Running in/);
  const run = await docker(['run', '--rm', 'built:1'], { env });
  assert.equal(run.stdout, 'hello from build\n', run.stderr);
});

test('every step is an image, as with the classic builder: history IDs, runnable " ---> <id>", images -a, rmi', { skip }, async () => {
  const ctx = await context('steps', 'FROM busybox\nCOPY f /f\nRUN echo two > /g\nENV X=1\n', { f: 'one\n' });
  const r = await docker(['build', '-t', 'steps:1', ctx], { env });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const ids = [...r.stdout.matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map((m) => m[1]!);
  assert.equal(ids.length, 4, r.stdout);   // FROM, COPY, RUN, ENV
  // the step after COPY is an image of its own: runnable, with COPY's file and not RUN's
  const mid = await docker(['run', '--rm', ids[1]!, 'sh', '-c', 'cat /f; ls /g 2>&1'], { env });
  assert.match(mid.stdout, /^one\n.*No such file/s, mid.stderr);
  const hist = await docker(['history', '--format', '{{.ID}}', 'steps:1'], { env });
  assert.deepEqual(hist.stdout.trim().split('\n').slice(0, 4), [...ids].reverse(), 'each step row shows its image, the base row the base');
  const shown = (await docker(['images', '-q'], { env })).stdout;
  const all = (await docker(['images', '-aq'], { env })).stdout;
  assert.ok(!shown.includes(ids[2]!) && all.includes(ids[2]!), 'intermediates: hidden by docker images, listed by -a');
  const rmi = await docker(['rmi', 'steps:1'], { env });
  assert.equal(rmi.code, 0, rmi.stderr);
  for (const id of ids.slice(1)) assert.match(rmi.stdout, new RegExp(`^Deleted: sha256:${id}`, 'm'));
  assert.doesNotMatch(rmi.stdout, new RegExp(ids[0]!), 'the base stays');
});

test('a failing RUN fails the build with the classic builder\'s message', { skip }, async () => {
  const ctx = await context('bad', 'FROM busybox\nRUN exit 7\n');
  const r = await docker(['build', ctx], { env });
  assert.equal(r.code, 7, 'docker exits with the RUN\'s code, as against dockerd 20.10 (errorDetail.code)');
  assert.match(r.stderr, /The command '\/bin\/sh -c exit 7' returned a non-zero code: 7/);
});

test('POST /build/prune answers docker\'s shape', { skip }, async () => {
  const r = await docker(['builder', 'prune', '-f'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Total reclaimed space/);
});

test('FROM an image that is not present pulls it (and docker run pulls a missing image)', { skip }, async () => {
  const { startBerthRegistry } = await import('./distribution-berth-registry.ts');
  const reg = await startBerthRegistry();
  try {
    const name = `${reg.host}/wire/base:1`;
    assert.equal((await docker(['tag', 'busybox', name], { env })).code, 0);
    const push = await docker(['push', name], { env });
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await docker(['rmi', name], { env })).code, 0);
    const ctx = await context('pull', `FROM ${name}\nRUN echo pulled-base\n`);
    const r = await docker(['build', '-t', 'frompulled', ctx], { env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /pulled-base/);
    assert.equal((await docker(['image', 'inspect', name], { env })).code, 0, 'the base image is present after the build');
    assert.equal((await docker(['rmi', name], { env })).code, 0);
    const run = await docker(['run', '--rm', name, 'echo', 'ran'], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`Unable to find image '${name.replace(/[.]/g, '\\.')}' locally`));
    assert.equal(run.stdout, 'ran\n');
  } finally {
    await reg.stop();
  }
});

test('berth build (the berth CLI) builds through the same route', { skip }, async () => {
  const { run, REPO } = await import('./helpers/index.ts');
  const ctx = await context('berthcli', 'FROM busybox\nRUN echo via-berth > /v\nCMD ["cat", "/v"]\n');
  const r = await run(process.execPath, [join(REPO, 'bin', 'berth.js'), 'build', '-t', 'berthbuilt', ctx], { env, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Successfully tagged berthbuilt:latest/);
  const out = await docker(['run', '--rm', 'berthbuilt'], { env });
  assert.equal(out.stdout, 'via-berth\n', out.stderr);
});

test('berth build --secret: RUN --mount=type=secret reads it; it is in no layer and no history; a missing source is refused', { skip }, async () => {
  const { run, REPO } = await import('./helpers/index.ts');
  const berth = (args: string[]) => run(process.execPath, [join(REPO, 'bin', 'berth.js'), ...args], { env, timeoutMs: 120_000 });
  const secretFile = join(d.dir, 'token.txt');
  await writeFile(secretFile, 's3cr3t-value\n');
  const ctx = await context('secretctx', 'FROM busybox\nRUN --mount=type=secret,id=token wc -c < /run/secrets/token > /len && ls /run/secrets > /seen\nCMD ["cat", "/len"]\n');
  const r = await berth(['build', '--secret', `id=token,src=${secretFile}`, '-t', 'withsecret', ctx]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal((await docker(['run', '--rm', 'withsecret'], { env })).stdout.trim(), '13');
  // the secret's bytes are nowhere in the image: not in its saved layers, config or history
  const saved = await docker(['save', 'withsecret'], { env });
  assert.equal(saved.code, 0, saved.stderr);
  assert.ok(!saved.stdout.includes('s3cr3t-value'), 'secret content in docker save output');
  assert.equal((await docker(['run', '--rm', 'withsecret', 'ls', '/run/secrets'], { env })).stdout, '');
  const missing = await berth(['build', '--secret', `id=token,src=${join(d.dir, 'nope')}`, ctx]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /could not parse secrets: .*failed to stat .*nope: no such file or directory/);
});
