// Bundles each entry point into one file: the CLI's start-up time is part of every command (issue 6 measures
// `berth run --rm IMG true`), and one file loads much faster than hundreds.
// Type checking is separate (`npm run typecheck`); esbuild only strips types.
//
// The CLI is bundled as CommonJS (dist/berth.cjs), not ESM: bin/berth.js compiles it through vm.Script with a
// V8 code cache, which only exists for scripts (Node 20 has no compile cache for ES modules). Measured on
// `berth version`: compiling the 445 KB ESM bundle cost 17–35 ms of every run; from the code cache, 2–4 ms.
//
//   node scripts/build.mjs              every bundle into dist/
//   node scripts/build.mjs cli OUTFILE  only the CLI bundle, to OUTFILE (tests build to a temp file and rename)
import { build } from 'esbuild';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // native addons and optional test-only clients stay outside the bundle
  external: ['usocket', 'dockerode'],
};

// commander loads node:child_process (and with it dgram, net …) at start-up for executable sub-commands, which
// berth never uses: spawn is looked up when called instead. Left as it is if a commander release changes the line.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, ({ path }) => ({
      loader: 'js',
      contents: readFileSync(path, 'utf8').replace("const childProcess = require('node:child_process');",
        "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"),
    }));
  },
};

/** esbuild options of the CLI bundle (CommonJS: see above). */
function cliOptions(outfile) {
  return {
    ...common,
    entryPoints: [join(REPO, 'src/cli/main.ts')],
    outfile,
    format: 'cjs',
    plugins: [lazyChildProcess],
    // CommonJS has no import.meta: the few uses (finding dist/berthd.mjs and dist/berth-registry.mjs beside the
    // bundle) read the bundle's own URL, made from __filename, which both bin/berth.js and node provide.
    define: { 'import.meta.url': '__berthBundleUrl' },
    // import() inside a script compiled from a code cache fails in Node 20 (see bin/berth.js): the bundle's
    // import() of builtins becomes require(); ES modules go through src/cli/esm.ts.
    supported: { 'dynamic-import': false },
    banner: { js: `${BUILD_ID_LINE}${ZERO_ID}\nvar __berthBundleUrl = require("node:url").pathToFileURL(__filename).href;` },
  };
}

// The CLI bundle's first line names its content: bin/berth.js keys its code cache by it (hashing 450 KB at
// every start would need node:crypto, ~4 ms to load). The id is the sha256 of the bundle with the id zeroed,
// written over the zeros, so the source map's offsets do not move.
const BUILD_ID_LINE = '// berth-build-id: ';
const ZERO_ID = '0'.repeat(32);

async function buildCli(options) {
  await build(options);
  const text = readFileSync(options.outfile, 'utf8');
  if (!text.startsWith(BUILD_ID_LINE + ZERO_ID)) throw new Error(`${options.outfile}: the build id line is missing`);
  const id = createHash('sha256').update(text).digest('hex').slice(0, 32);
  writeFileSync(options.outfile, BUILD_ID_LINE + id + text.slice(BUILD_ID_LINE.length + ZERO_ID.length));
}

/** esbuild options of an ESM bundle (berthd, the registry): start-up is not on their hot path. */
function esmOptions(entry, outfile) {
  return {
    ...common,
    entryPoints: [join(REPO, entry)],
    outfile,
    format: 'esm',
    // ESM bundles of CommonJS dependencies need a require()
    banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
  };
}

const [what, out] = process.argv.slice(2);
if (what === 'cli') {
  // a temp OUTFILE is renamed by the caller: a linked source map would keep the temp name
  await buildCli({ ...cliOptions(out ?? join(REPO, 'dist/berth.cjs')), sourcemap: out ? false : 'linked' });
} else {
  const jobs = [buildCli(cliOptions(join(REPO, 'dist/berth.cjs')))];
  for (const [src, dst] of [['src/daemon/main.ts', 'dist/berthd.mjs'], ['src/registry/main.ts', 'dist/berth-registry.mjs']]) {
    if (existsSync(join(REPO, src))) jobs.push(build(esmOptions(src, join(REPO, dst))));
  }
  await Promise.all(jobs);
}
