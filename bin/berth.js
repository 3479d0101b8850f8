#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS BERTH_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node
// The `berth` entry. It runs the CLI bundle (dist/berth.cjs, see scripts/build.mjs) the way node runs a
// CommonJS module, but compiles it through vm.Script with a V8 code cache: every command pays this start-up,
// and compiling the bundle from source was its largest single cost (17–35 ms of `berth version`; 2–4 ms from
// the cache). CommonJS (bin/package.json) because node's ESM loader adds its own start-up work.
//
// The cache is one file per bundle build and node version in $BERTH_CODE_CACHE (a directory; "0" turns it
// off), else $XDG_CACHE_HOME/berth, else ~/.cache/berth. It is written at exit by the first run that found
// none (or one V8 rejected), so it holds the functions that run compiled; a run of a command the cache has not
// seen yet (by the first word on the line) writes it again, adding that command's functions (V8 compiles
// functions lazily, and a command's code not in the cache is compiled from source on every run). V8 checks a cache's version, flags
// and source length, but not its bytes: a corrupt payload can abort the process. So the file holds the payload
// twice and the copies are compared before V8 sees them — a memcmp, where a hash would need node:crypto (~4 ms
// to load, a tenth of what the cache saves) or a JS loop over 270 KB (slower still before it is optimised).
// Any cache problem means compiling from source, never an error.
//
// The shebang runs node without NODE_EXTRA_CA_CERTS: node 20 reads and parses that whole PEM bundle before any
// JS runs (with Debian's ca-certificates.crt, 80 ms — two thirds of `node -e ""` on a 2-core VM), and the CLI
// never opens a TLS connection (registries are berthd's business). The value travels as BERTH_EXTRA_CA_CERTS
// and is put back below, so what the CLI starts (berthd, credential helpers) sees the user's environment.
'use strict';
if (process.env.BERTH_EXTRA_CA_CERTS !== undefined) {
  if (process.env.BERTH_EXTRA_CA_CERTS) process.env.NODE_EXTRA_CA_CERTS = process.env.BERTH_EXTRA_CA_CERTS;
  delete process.env.BERTH_EXTRA_CA_CERTS;
}
const { readFileSync, writeFileSync, renameSync, mkdirSync, unlinkSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');
const { createRequire } = require('node:module');

const BUNDLE = join(__dirname, '..', 'dist', 'berth.cjs');
const MAGIC = Buffer.from('berthcc3');

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

/** The command word of this run: the first argument that is neither a global flag nor a flag's value. */
function commandWord(argv) {
  for (let i = 0; i < argv.length; i++) {
    if (/^(-H|--host|-l|--log-level|--config|-c|--context)$/.test(argv[i])) i++;
    else if (!argv[i].startsWith('-')) return argv[i];
  }
  return '';
}

/**
 * The cache file: magic, payload length (u32), length of the command words (u16), the words (\n-joined), then
 * the payload twice. Returns the payload when the file is whole, and the words it covers.
 */
function readCache(file) {
  let buf;
  try { buf = readFileSync(file); } catch { return undefined; }
  if (buf.length < 14 || !buf.subarray(0, 8).equals(MAGIC)) return undefined;
  const n = buf.readUInt32LE(8);
  const w = buf.readUInt16LE(12);
  const at = 14 + w;
  if (n === 0 || buf.length !== at + 2 * n) return undefined;
  const payload = buf.subarray(at, at + n);
  if (!payload.equals(buf.subarray(at + n))) return undefined;
  return { payload, words: buf.toString('utf8', 14, at).split('\n') };
}

function writeCache(file, payload, words) {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const list = Buffer.from(words.slice(-100).join('\n'));
    const head = Buffer.alloc(14);
    MAGIC.copy(head);
    head.writeUInt32LE(payload.length, 8);
    head.writeUInt16LE(list.length, 12);
    writeFileSync(tmp, Buffer.concat([head, list, payload, payload]), { mode: 0o600 });
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
  cachedData: cached?.payload,
});
const word = commandWord(process.argv.slice(2));
if (cacheFile && (!cached || script.cachedDataRejected || !cached.words.includes(word))) {
  const words = cached && !script.cachedDataRejected ? [...cached.words, word] : [word];
  process.once('exit', () => writeCache(cacheFile, script.createCachedData(), words));
}

// Code compiled from a V8 code cache has no import() in Node 20 (no loader is attached to it): the bundle
// reaches ES modules through this one (src/cli/esm.ts); builtins it require()s.
globalThis[Symbol.for('berth.import')] = (specifier) => import(specifier);

const mod = { exports: {}, filename: BUNDLE, id: '.', loaded: false };
script.runInThisContext()(mod.exports, createRequire(BUNDLE), mod, BUNDLE, join(__dirname, '..', 'dist'));
