// commands/index.ts names each command without loading it: its path and aliases must be its spec's, and two
// entries must not load the same spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS } from './index.ts';

test('every entry loads a spec with the same path and aliases, each spec once', async () => {
  const specs = await Promise.all(COMMANDS.map((e) => e.load()));
  COMMANDS.forEach((e, i) => {
    assert.deepEqual({ path: specs[i]!.path, aliases: specs[i]!.aliases }, { path: e.path, aliases: e.aliases }, e.path.join(' '));
  });
  assert.equal(new Set(specs).size, specs.length);
});
