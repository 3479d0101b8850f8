// Output parity of the classic builder with dockerd 20.10: a corpus of Dockerfiles built by the real docker CLI
// (v28, no buildx: DOCKER_BUILDKIT=0, and once its default path) against berthd, compared with what dockerd
// 20.10 produced for the same corpus (test/build-parity.expected.json): the `docker build` lines, `history`
// (CREATED BY with `#(nop) ` forms and COPY's `file:`/`dir:`/`multi:` tarsum hashes, SIZE), `inspect` Config in
// key order, and every layer's entries (names, modes, owners, sizes) from `docker save`, plus error texts and
// exit codes. IDs are masked (base images differ in their import time); everything else must match.
//
// Where berth differs on purpose (kept out of the corpus): `COPY --chmod` works here (dockerd 20.10's classic
// builder refuses it: "the --chmod option requires BuildKit"), RUN --mount and heredocs are accepted, the failed
// RUN's container is removed, and the image's Parent is its base image, not the last intermediate one.
//
// Re-record against a dockerd: BERTH_PARITY_RECORD=unix:///path/docker.sock node --import tsx --test this file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm, chmod, symlink, readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startDaemon, importBusybox, busyboxRootfsTar, haveBusybox, docker, haveDocker, type StartedDaemon } from './helpers/index.ts';

const EXPECTED = join(dirname(fileURLToPath(import.meta.url)), 'build-parity.expected.json');
const RECORD = process.env.BERTH_PARITY_RECORD;
const skip = !haveDocker() ? 'docker CLI not installed' : !haveBusybox() ? 'busybox-static not installed' : process.getuid?.() !== 0 ? 'needs root' : false;

/** name → files (path → content, or [content, mode]; '->x' makes a symlink; a trailing '/' a directory; '.args' extra flags). */
const CORPUS: Record<string, Record<string, string | [string, number]>> = {
  metadata: {
    Dockerfile: [
      'FROM busybox', 'ARG V=1', 'ENV A=1 B="x y"', 'ENV C $A', 'LABEL a=b "c d"=e', 'EXPOSE 80 443/udp', 'VOLUME /data ["/v2"]',
      'USER nobody', 'WORKDIR /app', 'WORKDIR sub', 'STOPSIGNAL SIGTERM', 'HEALTHCHECK --interval=5s --retries=2 CMD true',
      'SHELL ["/bin/sh", "-c"]', 'ONBUILD RUN echo hi', 'MAINTAINER me', 'ENTRYPOINT ["/bin/sh"]', 'CMD ["-c", "echo $A"]', '',
    ].join('\n'),
  },
  copy: {
    Dockerfile: [
      'FROM busybox', 'COPY file.txt /', 'COPY file.txt /opt/f2', 'COPY dir /d/', 'COPY dir/ /tmp/', 'COPY file.txt dir /multi/',
      'ADD arch.tar /x/', 'ADD file.txt /added', 'COPY --chown=1:2 file.txt /owned', 'COPY *.md /docs/', 'WORKDIR /new/dir', 'COPY file.txt .', '',
    ].join('\n'),
    'file.txt': 'hello\n', 'dir/': '', 'dir/a': ['x\n', 0o755], 'dir/sub/': '', 'dir/sub/b': 'y\n', 'a.md': 'a\n', 'b.md': 'b\n',
  },
  context: {
    Dockerfile: 'FROM busybox\nCOPY . /all/\nCOPY link /via-link\n',
    '.dockerignore': 'secret*\n*.log\n!keep.log\n', 'secret.txt': 's', 'x.log': 'l', 'keep.log': 'k', 'src/': '', 'src/main.c': 'int main;\n',
    'src/tool.sh': ['#!/bin/sh\n', 0o750], link: '->src/main.c',
  },
  run: {
    Dockerfile: [
      'FROM busybox', 'ARG X=1', 'ARG Y', 'RUN echo $X > /x && mkdir -p /a/b && rm -rf /etc/group', 'RUN ["sh", "-c", "echo exec > /e"]',
      'ENV PATH=/usr/bin:/bin', 'RUN touch /t', 'CMD echo hi', '',
    ].join('\n'),
  },
  stages: {
    Dockerfile: [
      'FROM busybox AS build', 'RUN mkdir /out && echo built > /out/a', 'FROM scratch', 'COPY --from=build /out /o',
      'COPY --from=build /out/a /b', 'COPY f.txt /', 'ENV X=1', '',
    ].join('\n'),
    'f.txt': 'hi\n',
  },
  onbuild: { Dockerfile: 'FROM busybox\nONBUILD ENV ONB=1\nONBUILD RUN echo trigger > /trig\nLABEL x=y\n' },
  triggered: { Dockerfile: 'FROM par-onbuild\nCMD ["true"]\n' },
  shells: {
    Dockerfile: [
      'ARG BASE=busybox', 'FROM ${BASE} AS base', 'ARG BASE', 'ENV DIR=/srv HOME_X="a b" \\', '    MULTI=1',
      'LABEL "com.x.multi"="line one" \\', '      other=2', 'EXPOSE 8000-8002 9000/tcp', 'USER 1000:1000', 'WORKDIR $DIR/app',
      'ENTRYPOINT echo entry', 'CMD echo cmd', 'SHELL ["/bin/sh", "-ec"]', 'CMD echo cmd2', 'FROM base AS final', 'USER root',
      'RUN echo $BASE > /base.txt', '',
    ].join('\n'),
  },
  sources: {
    Dockerfile: [
      'FROM busybox', 'COPY src/a/one.txt src/b/two.txt /two/', 'COPY *.txt /', 'COPY --from=busybox /bin/busybox /bb', 'ADD src /addsrc',
      'COPY src/a /tmp/nested/deeper/', '',
    ].join('\n'),
    'src/': '', 'src/a/': '', 'src/b/': '', 'src/a/one.txt': '1\n', 'src/b/two.txt': '2\n', 'top.txt': '3\n',
  },
  volumes: {
    Dockerfile: [
      'FROM busybox', 'RUN mkdir -p /data && echo x > /data/f && chmod 700 /data', 'VOLUME /data', 'RUN echo y > /data/g',
      'RUN rm /bin/ls && ln -s /bin/busybox /bin/sh2', 'RUN mkdir /opq && touch /opq/a', 'RUN rm -rf /opq && mkdir /opq && touch /opq/b', '',
    ].join('\n'),
  },
  // --build-arg (one unused: the warning), --label (one LABEL step per label, in key order)
  flags: {
    Dockerfile: 'FROM busybox\nARG A\nRUN echo "A is $A"\nLABEL l=1\n',
    '.args': '--build-arg A=1 --build-arg UNUSED=2 --label z=1 --label ab=c d',
  },
  'fail-glob-dir': { Dockerfile: 'FROM busybox\nCOPY src/*/ /flat/\n', 'src/': '', 'src/a/': '', 'src/a/x': '1\n' },
  'fail-run': { Dockerfile: 'FROM busybox\nRUN echo out && exit 3\n' },
  'fail-missing': { Dockerfile: 'FROM busybox\nCOPY nope /x\n' },
  'fail-instruction': { Dockerfile: 'FROM busybox\nFOO bar\n' },
  'fail-flag': { Dockerfile: 'FROM busybox\nCOPY --bogus=1 Dockerfile /x\n' },
};

interface Outcome { build: string; history?: string; config?: string; layers?: string[] }

let dir = '';
let daemon: StartedDaemon | undefined;
let env: NodeJS.ProcessEnv;

async function writeCase(name: string): Promise<string> {
  const root = join(dir, 'corpus', name);
  await mkdir(root, { recursive: true });
  await chmod(root, 0o755);
  for (const [path, spec] of Object.entries(CORPUS[name]!)) {
    if (path === '.args') continue;
    const p = join(root, path);
    if (path.endsWith('/')) { await mkdir(p, { recursive: true }); await chmod(p, 0o755); continue; }
    const [body, mode] = typeof spec === 'string' ? [spec, 0o644] : spec;
    if (body.startsWith('->')) { await symlink(body.slice(2), p); continue; }
    await writeFile(p, body);
    await chmod(p, mode);
  }
  if (name === 'copy') execFileSync('tar', ['--owner=0', '--group=0', '--mtime=@0', '-C', root, '-cf', join(root, 'arch.tar'), 'dir']);
  return root;
}

/** IDs masked; the CLI's deprecation banner (which depends on DOCKER_BUILDKIT) dropped. */
function normalize(out: string): string {
  return out.replace(/DEPRECATED:[^\n]*\n(?: {12}[^\n]*\n)*\n?/g, '').replace(/\b[0-9a-f]{12}\b/g, '<id>');
}

async function layers(image: string): Promise<string[]> {
  const save = join(dir, 'save', image.replace(/\W/g, '_'));
  await mkdir(save, { recursive: true });
  execFileSync('sh', ['-c', `docker save ${image} | tar -x -C ${save}`], { env });
  const manifest = JSON.parse(await readFile(join(save, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
  return manifest[0]!.Layers.map((l) => execFileSync('tar', ['--numeric-owner', '-tvf', join(save, l)]).toString()
    .trim().split('\n').map((line) => line.split(/\s+/).filter((_, i) => i !== 3 && i !== 4).join(' ')).join('\n'));
}

async function buildCase(name: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  const root = await writeCase(name);
  // '.args': extra flags, split on ' --' (values may hold spaces)
  const extra = String(CORPUS[name]!['.args'] ?? '').split(/ (?=--)/).filter(Boolean).flatMap((f) => { const i = f.indexOf(' '); return [f.slice(0, i), f.slice(i + 1)]; });
  const r = await docker(['build', ...extra, '-t', `par-${name}`, root], { env: { ...env, ...extraEnv } });
  const o: Outcome = { build: `${normalize(r.stdout)}--- stderr\n${normalize(r.stderr)}exit ${r.code}\n` };
  if (r.code !== 0) return o;
  o.history = (await docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}|{{.Comment}}', `par-${name}`], { env })).stdout;
  o.config = (await docker(['inspect', '-f', '{{json .Config}}', `par-${name}`], { env })).stdout;
  o.layers = await layers(`par-${name}`);
  return o;
}

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'bpar-'));
  if (RECORD) {
    env = { ...process.env, DOCKER_HOST: RECORD, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(dir, 'cfg') };
    execFileSync('docker', ['import', await busyboxRootfsTar(dir), 'busybox:latest'], { env });
  } else {
    daemon = await startDaemon();
    await importBusybox(daemon);
    env = { ...daemon.dockerEnv, DOCKER_BUILDKIT: '0' };
  }
});
after(async () => {
  if (skip) return;
  await daemon?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('the corpus builds as dockerd 20.10 built it: output lines, history, config, layers, errors', { skip, timeout: 300_000 }, async () => {
  const got: Record<string, Outcome> = {};
  for (const name of Object.keys(CORPUS)) got[name] = await buildCase(name);
  if (RECORD) {
    await writeFile(EXPECTED, JSON.stringify(got, null, 1) + '\n');
    return;
  }
  const want = JSON.parse(await readFile(EXPECTED, 'utf8')) as Record<string, Outcome>;
  for (const name of Object.keys(CORPUS)) {
    assert.equal(got[name]!.build, want[name]!.build, `${name}: docker build output`);
    assert.equal(got[name]!.history, want[name]!.history, `${name}: history`);
    assert.equal(got[name]!.config, want[name]!.config, `${name}: inspect .Config`);
    assert.deepEqual(got[name]!.layers, want[name]!.layers, `${name}: layer entries`);
  }
});

test('the docker CLI\'s default path (no buildx, DOCKER_BUILDKIT unset) builds through the classic protocol', { skip: skip || (RECORD ? 'recording' : false) }, async () => {
  const e = { ...env };
  delete e.DOCKER_BUILDKIT;
  const root = await writeCase('onbuild');
  const r = await docker(['build', '-t', 'par-default', root], { env: e });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Step 1\/4 : FROM busybox\n/);
  assert.match(r.stdout, /Successfully tagged par-default:latest\n$/);
  // the CLI chose the classic builder because /_ping says Builder-Version 1
  assert.match(r.stderr, /legacy builder is deprecated/);
  assert.ok(existsSync(root) && (await readdir(root)).includes('Dockerfile'));
});

test('berth build prints what docker build prints (same daemon, same cases)', { skip: skip || (RECORD ? 'recording' : false), timeout: 180_000 }, async () => {
  const { berth } = await import('./cli-helpers.ts');
  for (const name of ['copy', 'fail-run', 'fail-instruction']) {
    const root = await writeCase(name);
    const d = await docker(['build', '--no-cache', root], { env });
    const b = await berth(['build', '--no-cache', root], { env });
    assert.equal(`${normalize(b.stdout)}--- stderr\n${normalize(b.stderr)}exit ${b.code}`, `${normalize(d.stdout)}--- stderr\n${normalize(d.stderr)}exit ${d.code}`, name);
  }
});
