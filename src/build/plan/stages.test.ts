import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBuild, resolveStageRef } from './stages.ts';
import { cacheKey, normalizeInstruction, canonicalJSON } from './cachekey.ts';
import { parseDockerfile } from '../dockerfile/convert.ts';
import { BuildArgs } from '../args.ts';
import { expandInstruction } from '../expand.ts';

const df = (...l: string[]) => parseDockerfile(l.join('\n') + '\n');

const multi = df(
  'ARG GO=1.22',
  'FROM golang:${GO} AS build',
  'RUN go build',
  'FROM busybox AS assets',
  'RUN make assets',
  'FROM build AS test',
  'RUN go test',
  'FROM scratch AS final',
  'COPY --from=build /out/app /app',
  'COPY --from=1 /assets /assets',
  'COPY --from=nginx:latest /etc/nginx /etc/nginx',
  'RUN --mount=type=bind,from=assets,target=/a true',
);

test('stages form a DAG; the last stage is the default target', () => {
  const p = planBuild(multi, new BuildArgs());
  assert.equal(p.target, 3);
  assert.deepEqual(p.stages.map((s) => s.base), [
    { kind: 'image', ref: 'golang:1.22', platform: undefined }, { kind: 'image', ref: 'busybox', platform: undefined },
    { kind: 'stage', index: 0 }, { kind: 'scratch' },
  ]);
  assert.deepEqual(p.stages.map((s) => s.deps), [[], [], [0], [0, 1]]);
  assert.deepEqual(p.stages[3]!.images, ['nginx:latest']);
  assert.deepEqual(p.order, [0, 1, 3], 'the test stage is not needed');
  assert.deepEqual(p.levels, [[0, 1], [3]], 'independent stages share a level');
});

test('--target selects only what it needs; build args reach FROM', () => {
  const p = planBuild(multi, new BuildArgs({ GO: '1.23' }), 'TEST');
  assert.equal(p.target, 2);
  assert.deepEqual(p.order, [0, 2]);
  assert.deepEqual(p.levels, [[0], [2]]);
  assert.deepEqual(p.stages[0]!.base, { kind: 'image', ref: 'golang:1.23', platform: undefined });
  assert.equal(p.metaEnv.get('GO'), '1.23');
  assert.throws(() => planBuild(multi, new BuildArgs(), 'nope'), { message: 'failed to reach build target nope in Dockerfile' });
});

test('FROM expands global and platform args only; blank base names fail', () => {
  const p = planBuild(df('FROM --platform=$BUILDPLATFORM alpine:${TAG:-3}'), new BuildArgs());
  assert.ok(p.stages[0]!.base.kind === 'image');
  assert.equal(p.stages[0]!.base.ref, 'alpine:3');
  assert.match(p.stages[0]!.base.platform!, /^linux\//);
  assert.throws(() => planBuild(df('ARG X', 'FROM $X'), new BuildArgs()), { message: 'dockerfile parse error line 2: base name ($X) should not be blank' });
  assert.throws(() => planBuild(df('FROM ${X'), new BuildArgs()), /dockerfile parse error line 1: failed to process "\$\{X": syntax error: missing '}'/);
});

test('stage references: names are case-insensitive and only backwards; indexes must be earlier', () => {
  const d = df('FROM a AS one', 'FROM b AS two', 'FROM c');
  assert.deepEqual(resolveStageRef(d.stages, 2, 'ONE'), { index: 0 });
  assert.deepEqual(resolveStageRef(d.stages, 2, '1'), { index: 1 });
  assert.deepEqual(resolveStageRef(d.stages, 0, 'two'), { image: 'two' });
  assert.throws(() => resolveStageRef(d.stages, 1, '1'), { message: 'invalid from flag value 1: refers to current build stage' });
  assert.throws(() => resolveStageRef(d.stages, 1, '5'), { message: 'invalid from flag value 5: index out of bounds' });
  assert.throws(() => planBuild(df('FROM a', 'COPY --from=0 /a /b'), new BuildArgs()), {
    message: 'dockerfile parse error line 2: invalid from flag value 0: refers to current build stage',
  });
  const self = planBuild(df('FROM x AS x', 'FROM x'), new BuildArgs());
  assert.deepEqual(self.stages.map((s) => s.base), [{ kind: 'image', ref: 'x', platform: undefined }, { kind: 'stage', index: 0 }]);
});

test('cache keys: equal inputs give equal keys; every input matters', () => {
  const base = { parentChainId: 'sha256:' + 'a'.repeat(64), step: 'RUN x', args: ['B=2', 'A=1'], env: ['PATH=/bin'], files: '', platform: 'linux/amd64' };
  const k = cacheKey(base);
  assert.match(k, /^sha256:[0-9a-f]{64}$/);
  assert.equal(cacheKey({ ...base, args: ['A=1', 'B=2'] }), k, 'arg order does not matter');
  for (const change of [
    { parentChainId: 'sha256:' + 'b'.repeat(64) }, { step: 'RUN y' }, { args: ['A=1'] }, { env: ['PATH=/usr/bin'] },
    { files: 'sha256:' + 'c'.repeat(64) }, { platform: 'linux/arm64' }, { parentConfig: 'sha256:x' },
  ]) assert.notEqual(cacheKey({ ...base, ...change }), k, JSON.stringify(change));
  assert.equal(canonicalJSON({ b: 1, a: [1, { d: 2, c: undefined }] }), '{"a":[1,{"d":2}],"b":1}');
});

test('normalised instructions ignore spelling and lines, keep meaning', () => {
  const [a] = df('FROM x', 'run   echo hi').stages[0]!.commands;
  const [b] = df('FROM x', '', 'RUN echo hi').stages[0]!.commands;
  const [c] = df('FROM x', 'RUN ["/bin/sh", "-c", "echo hi"]').stages[0]!.commands;
  const [d] = df('FROM x', 'RUN --network=none echo hi').stages[0]!.commands;
  assert.notEqual(a!.original, b!.original);
  assert.equal(normalizeInstruction(a!), normalizeInstruction(b!));
  assert.equal(normalizeInstruction(a!), normalizeInstruction(c!), 'shell form = exec form with the shell');
  assert.notEqual(normalizeInstruction(a!), normalizeInstruction(a!, ['/bin/bash', '-c']));
  assert.notEqual(normalizeInstruction(a!), normalizeInstruction(d!));
  const [e1] = df('FROM x', 'COPY --chown=$U a /b').stages[0]!.commands;
  const env = (u: string) => new Map([['U', u]]);
  assert.notEqual(normalizeInstruction(expandInstruction(e1!, env('1'))), normalizeInstruction(expandInstruction(e1!, env('2'))));
});
