// RUN steps on the real runtime (crun/runc under conmon, overlay snapshots): output in the stream, files in the
// layer, deletions as whiteouts, exit codes in docker's words, a cache mount that persists, cancellation, and
// no container left behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, readdir, readFile, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageService } from '../src/images/index.ts';
import { Snapshotter } from '../src/snapshot/index.ts';
import { DataRoot } from '../src/layout/index.ts';
import { chainIds } from '../src/image/index.ts';
import { Builder, type BuildEvent } from '../src/build/index.ts';
import { runtimeSkip } from './runtime-helpers.ts';
import { openBuilder, closeBuilder, type BuilderBench } from './build-helpers.ts';

const skip = runtimeSkip() ?? false;
let dir = '';
let layout: DataRoot;
let images: ImageService;
let snapshots: Snapshotter;
let builder: Builder;
let ctx = '';

let bench: BuilderBench | undefined;
before(async () => {
  if (skip) return;
  bench = await openBuilder('bbr-', { 'in.txt': 'input\n' }, { runtime: true });
  ({ dir, images, builder, ctx } = bench);
  ({ layout, snapshots } = bench);
});
after(() => closeBuilder(bench));

async function build(dockerfile: string, o: { buildArgs?: Record<string, string>; signal?: AbortSignal; onStream?: (s: string) => void } = {}) {
  const events: BuildEvent[] = [];
  const res = await builder.build({
    contextDir: ctx, dockerfile, buildArgs: o.buildArgs, signal: o.signal,
    onEvent: (e) => { events.push(e); if ('stream' in e) o.onStream?.(e.stream); },
  });
  return { ...res, stream: events.map((e) => ('stream' in e ? e.stream : '')).join('') };
}

const layersOf = (id: string): string[] => chainIds(images.resolve(id).record.layers.map((l) => l.diffId)).map((c) => snapshots.fsPath(c));

test('RUN in a real container: output, layer files, whiteouts, build args, heredoc, bind mount, no leftovers', { skip }, async () => {
  const r = await build([
    'FROM busybox',
    'ARG WHO=world',
    'RUN echo "hello $WHO" && echo err >&2 && mkdir -p /out && echo data > /out/f && rm /etc/group',
    'RUN --mount=type=bind,source=in.txt,target=/in.txt cat /in.txt > /out/copied',
    'RUN <<EOF',
    'echo from heredoc > /out/h',
    'EOF',
  ].join('\n'), { buildArgs: { WHO: 'berth' } });
  assert.match(r.stream, /Step 3\/5 : RUN echo "hello \$WHO"[^\n]*\n ---> Running in [0-9a-f]{12}\n/);
  assert.match(r.stream, /hello berth\n/);
  assert.match(r.stream, /err\n/);
  assert.match(r.stream, /Removing intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}\n/);
  const l = layersOf(r.id);
  const first = l.at(-3)!;
  assert.equal(await readFile(join(first, 'out/f'), 'utf8'), 'data\n');
  assert.ok((await lstat(join(first, 'etc/group'))).isCharacterDevice(), 'the deleted file is a whiteout');
  assert.equal(await readFile(join(l.at(-2)!, 'out/copied'), 'utf8'), 'input\n');
  assert.deepEqual((await readdir(l.at(-2)!)).sort(), ['out'], 'the bind mount point left no stub');
  assert.equal(await readFile(join(l.at(-1)!, 'out/h'), 'utf8'), 'from heredoc\n');
  const cfg = await images.configOf(r.id);
  assert.match(cfg.history!.at(-3)!.created_by!, /^\|1 WHO=berth \/bin\/sh -c echo "hello \$WHO"/);
  assert.deepEqual(await readdir(layout.containers).catch(() => []), [], 'no container left');
});

test('a failing RUN says so in docker words; a cache mount persists across builds', { skip }, async () => {
  await assert.rejects(build('FROM busybox\nRUN exit 3\n'), { message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" });
  const df = (n: string) => `FROM busybox\nRUN --mount=type=cache,target=/cache echo ${n} >> /cache/log && cat /cache/log\n`;
  await build(df('one'));
  const second = await build(df('two'));
  assert.match(second.stream, /one\ntwo\n/);
  assert.deepEqual(await readdir(layout.containers).catch(() => []), []);
});

test('cancelling a build kills its RUN container', { skip }, async () => {
  const ac = new AbortController();
  const t0 = Date.now();
  await assert.rejects(build('FROM busybox\nRUN echo started && sleep 60\n', { signal: ac.signal, onStream: (s) => { if (s.includes('started')) ac.abort(new Error('client went away')); } }));
  assert.ok(Date.now() - t0 < 30_000);
  assert.deepEqual(await readdir(layout.containers).catch(() => []), []);
});
