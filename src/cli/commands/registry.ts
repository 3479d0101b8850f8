// `berth registry …`: the OCI distribution server (src/registry, issue 4) behind the berth command. Its own
// argument parser takes everything after `registry`. It is loaded only when this command runs, and from its
// own bundle (dist/berth-registry.mjs beside dist/berth.mjs): bundled into berth.mjs it would double every
// command's start-up time.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defineCommand } from '../spec.ts';
import { importModule } from '../esm.ts';

export const registry = defineCommand({
  path: ['registry'],
  use: 'COMMAND',
  short: 'Run an OCI distribution registry (berth registry serve --help)',
  args: 'any',
  rawArgs: true,
  async run(_ctx, _opts, args) {
    const bundle = join(dirname(fileURLToPath(import.meta.url)), 'berth-registry.mjs');
    if (existsSync(bundle)) {
      // The bundle runs runRegistryCli(process.argv.slice(2)) and exits; its cluster workers re-run argv[1].
      process.argv = [process.argv[0]!, bundle, ...args];
      await importModule(pathToFileURL(bundle).href);
      return new Promise<number>(() => { /* the registry exits the process itself */ });
    }
    // From sources (tsx): a computed specifier keeps the bundler from inlining the registry.
    const source = '../../registry/index.ts';
    const mod = (await import(source)) as { runRegistryCli(argv: string[]): Promise<number> };
    return mod.runRegistryCli(args);
  },
});
