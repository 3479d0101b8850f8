#!/usr/bin/env node
// The `berth` entry. It runs the CLI bundle (dist/berth.cjs, see scripts/build.mjs) the way node runs a
// CommonJS module, but compiles it through vm.Script with a V8 code cache: every command pays this start-up,
// and compiling the bundle from source was its largest single cost (17–35 ms of `berth version`; 2–4 ms from
// the cache). CommonJS (bin/package.json) because node's ESM loader adds its own start-up work.
//
// The cache is one file per bundle build and node version in $BERTH_CODE_CACHE (a directory; "0" turns it
// off), else $XDG_CACHE_HOME/berth, else ~/.cache/berth. It is written at exit by the first run that found
// none (or one V8 rejected), so it holds the functions that run compiled. V8 checks a cache's version, flags
// and source length, but not its bytes: a corrupt payload can abort the process. So the file holds the payload
// twice and the copies are compared before V8 sees them — a memcmp, where a hash would need node:crypto (~4 ms
// to load, a tenth of what the cache saves) or a JS loop over 270 KB (slower still before it is optimised).
// Any cache problem means compiling from source, never an error.
'use strict';
const { readFileSync, writeFileSync, renameSync, mkdirSync, unlinkSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');
const { createRequire } = require('node:module');

const BUNDLE = join(__dirname, '..', 'dist', 'berth.cjs');
const MAGIC = Buffer.from('berthcc2');

let source;
try {
  source = readFileSync(BUNDLE, 'utf8');
} catch (e) {
  process.stderr.write(`berth: cannot read ${BUNDLE} (${e.code ?? e.message}): run \`npm run build\`\n`);
  process.exit(1);
}

function cacheDir(env) {
  const v = env.BERTH_CODE_CACHE;
  if (v === '0' || v === 'off' || v === 'false') return undefined;
  if (v) return v;
  const base = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, '.cache') : undefined);
  return base ? join(base, 'berth') : undefined;
}

// scripts/build.mjs starts the bundle with `// berth-build-id: <32 hex>`; a bundle built otherwise runs uncached.
const buildId = /^\/\/ berth-build-id: ([0-9a-f]{32})\n/.exec(source.slice(0, 60))?.[1];
const dir = buildId && buildId !== '0'.repeat(32) ? cacheDir(process.env) : undefined;
const SUFFIX = `-${process.version}-${process.arch}.v8cache`;
const cacheFile = dir && join(dir, `cli-${buildId}${SUFFIX}`);

/** The cached payload when the file is whole: magic, length, and two identical copies. */
function readCache(file) {
  let buf;
  try { buf = readFileSync(file); } catch { return undefined; }
  if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) return undefined;
  const n = buf.readUInt32LE(8);
  if (n === 0 || buf.length !== 12 + 2 * n) return undefined;
  const payload = buf.subarray(12, 12 + n);
  return payload.equals(buf.subarray(12 + n)) ? payload : undefined;
}

function writeCache(file, payload) {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const head = Buffer.alloc(12);
    MAGIC.copy(head);
    head.writeUInt32LE(payload.length, 8);
    writeFileSync(tmp, Buffer.concat([head, payload, payload]), { mode: 0o600 });
    renameSync(tmp, file);
    // caches of earlier builds for this node would only pile up (one per rebuild)
    for (const name of readdirSync(dir)) {
      if (name.startsWith('cli-') && name.endsWith(SUFFIX) && join(dir, name) !== file) unlinkSync(join(dir, name));
    }
  } catch {
    // an unwritable cache only costs the next run its compile time
    try { unlinkSync(tmp); } catch { /* never written */ }
  }
}

const cached = cacheFile ? readCache(cacheFile) : undefined;
// node's CommonJS wrapper, so the bundle sees what it would see run as `node dist/berth.cjs`
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: BUNDLE,
  cachedData: cached,
});
if (cacheFile && (!cached || script.cachedDataRejected)) {
  process.once('exit', () => writeCache(cacheFile, script.createCachedData()));
}

// Code compiled from a V8 code cache has no import() in Node 20 (no loader is attached to it): the bundle
// reaches ES modules through this one (src/cli/esm.ts); builtins it require()s.
globalThis[Symbol.for('berth.import')] = (specifier) => import(specifier);

const mod = { exports: {}, filename: BUNDLE, id: '.', loaded: false };
script.runInThisContext()(mod.exports, createRequire(BUNDLE), mod, BUNDLE, join(__dirname, '..', 'dist'));
