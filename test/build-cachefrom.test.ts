// --cache-from with the classic builder's semantics: an image's history (created_by of each step, in order,
// with its layers) stands in for steps when the local build cache has nothing — a CI machine that pulled last
// build's image rebuilds without running anything; a changed step and everything after it run again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ImageService } from '../src/images/index.ts';
import { Builder, type BuildEvent } from '../src/build/index.ts';
import { runtimeSkip } from './runtime-helpers.ts';
import { openBuilder, closeBuilder, type BuilderBench } from './build-helpers.ts';

const skip = runtimeSkip() ?? false;
let dir = '';
let images: ImageService;
let builder: Builder;
let ctx = '';

let bench: BuilderBench | undefined;
before(async () => {
  if (skip) return;
  bench = await openBuilder('bcf-', { 'a.txt': 'a\n' }, { runtime: true });
  ({ dir, images, builder, ctx } = bench);
});
after(() => closeBuilder(bench));

const DF = 'FROM busybox\nENV A=1\nCOPY a.txt /a.txt\nRUN echo ran > /ran\nWORKDIR /w\nCMD ["sh"]\n';

async function build(dockerfile: string, cacheFrom?: string[]) {
  const events: BuildEvent[] = [];
  const r = await builder.build({ contextDir: ctx, dockerfile, tags: ['cf:next'], cacheFrom, onEvent: (e) => events.push(e) });
  const stream = events.map((e) => ('stream' in e ? e.stream : '')).join('');
  return { ...r, stream, cached: stream.match(/ ---> Using cache\n/g)?.length ?? 0, ran: /Running in [0-9a-f]{12}\nRemoving intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}\nStep 5/.test(stream) };
}

test('an image\'s history satisfies the cache once the local cache is gone; a changed step runs again', { skip, timeout: 120_000 }, async () => {
  const first = await build(DF);
  await images.tag(first.id, 'cf:last');
  await builder.prune();
  const none = await build(DF);
  assert.equal(none.cached, 0, 'pruned: nothing cached without --cache-from');
  await builder.prune();

  const again = await build(DF, ['cf:last']);
  assert.equal(again.cached, 5, again.stream);
  assert.ok(!again.ran, 'RUN did not run');
  assert.equal(again.id, first.id, 'the same image: same config, history entries and layers');

  // the second build recorded local cache entries: no --cache-from needed now
  assert.equal((await build(DF)).cached, 5);

  await builder.prune();
  const changed = await build(DF.replace('echo ran', 'echo changed'), ['cf:last']);
  assert.equal(changed.cached, 2, 'ENV and COPY from the image, RUN and after rebuilt');
  const cfg = await images.configOf(changed.id);
  assert.equal(cfg.history!.length, (await images.configOf(first.id)).history!.length);
  await builder.prune();
  assert.equal((await build(DF, ['nope:missing'])).cached, 0, 'an unknown --cache-from image is ignored');
});
