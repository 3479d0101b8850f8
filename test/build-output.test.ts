// `berth build --output` (buildx's -o syntax on the classic protocol): the result is exported — a directory,
// a tar of the filesystem, or an OCI layout tar — and no image is left behind or tagged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startDaemon, importBusybox, haveBusybox, type StartedDaemon } from './helpers/index.ts';
import { berth } from './cli-helpers.ts';

const skip = !haveBusybox() ? 'busybox-static not installed' : process.getuid?.() !== 0 ? 'needs root' : false;
let dir = '';
let d: StartedDaemon;
let env: NodeJS.ProcessEnv;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'bout-'));
  d = await startDaemon();
  await importBusybox(d);
  env = { ...d.dockerEnv };
  await writeFile(join(dir, 'Dockerfile'), 'FROM busybox AS b\nRUN echo hi > /hi && mkdir -p /gone && touch /gone/x\nFROM b\nRUN rm -rf /gone\n'
    + 'FROM scratch\nCOPY --from=1 / /root/\nCOPY f.txt /out/f.txt\n');
  await writeFile(join(dir, 'f.txt'), 'file\n');
});
after(async () => {
  if (skip) return;
  await d.stop();
  await rm(dir, { recursive: true, force: true });
});

const images = async (): Promise<string> => (await berth(['images', '-a', '-q', '--no-trunc'], { env })).stdout;

test('-o DIR, type=tar (file and stdout), type=oci: exported, whiteouts applied, nothing loaded', { skip, timeout: 180_000 }, async () => {
  const before = await images();
  const out = join(dir, 'out');
  let r = await berth(['build', '-q', '-t', 'never:tagged', '-o', out, dir], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await readFile(join(out, 'out', 'f.txt'), 'utf8'), 'file\n');
  assert.equal(await readFile(join(out, 'root', 'hi'), 'utf8'), 'hi\n');
  assert.ok(!(await readdir(join(out, 'root'))).includes('gone'), 'a directory removed by a later RUN stays removed');

  const tarFile = join(dir, 'fs.tar');
  r = await berth(['build', '-q', '--output', `type=tar,dest=${tarFile}`, dir], { env });
  assert.equal(r.code, 0, r.stderr);
  const names = execFileSync('tar', ['-tf', tarFile]).toString().split('\n');
  assert.ok(names.includes('out/f.txt') && names.includes('root/hi'), names.join(' '));

  r = await berth(['build', '-q', '-o', '-', dir], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(execFileSync('tar', ['-tf', '-'], { input: r.out }).toString().split('\n').includes('out/f.txt'));

  const oci = join(dir, 'oci.tar');
  r = await berth(['build', '-q', '-o', `type=oci,dest=${oci}`, dir], { env });
  assert.equal(r.code, 0, r.stderr);
  const layout = execFileSync('tar', ['-tf', oci]).toString().split('\n');
  assert.ok(layout.includes('oci-layout') && layout.includes('index.json'), layout.join(' '));

  assert.equal(await images(), before, 'no image loaded');
  assert.notEqual((await berth(['image', 'inspect', 'never:tagged'], { env })).code, 0);
  r = await berth(['build', '-o', 'type=registry', dir], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /output type registry is not supported/);
});
