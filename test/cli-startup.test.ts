// bin/berth.js runs the CommonJS bundle through vm.Script with a V8 code cache (issue 3's start-up targets).
// The CLI must print exactly what it printed before — the unbundled sources run in-process are the reference —
// with no cache, when it writes one, when it reads one, and when the cache is corrupt, stale (from another
// script) or cannot be written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, PassThrough } from 'node:stream';
import { Script } from 'node:vm';
import { startDaemon, importBusybox, haveBusybox, run, REPO, type StartedDaemon } from './helpers/index.ts';
import { ensureBerth, norm } from './cli-helpers.ts';
import { main } from '../src/cli/cli.ts';

let d: StartedDaemon;
let dir: string;
let bin: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-startup-'));
  await ensureBerth();
  // a private copy of bin/ and the bundle: a rebuild of dist/ by another test file (after an edit to src/)
  // must not change the build id, and so the cache file, in the middle of these tests
  for (const f of ['bin/berth.js', 'bin/package.json', 'dist/berth.cjs']) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    copyFileSync(join(REPO, f), join(dir, f));
  }
  bin = join(dir, 'bin', 'berth.js');
  d = await startDaemon();
  if (haveBusybox()) await importBusybox(d, 'startup:latest');
});

after(async () => {
  await d?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function sink(): Writable & { text(): string } {
  const parts: Buffer[] = [];
  const w = new Writable({ write(c, _e, cb) { parts.push(Buffer.from(c as Buffer)); cb(); } }) as Writable & { text(): string };
  w.text = () => Buffer.concat(parts).toString();
  return w;
}

/** The reference: the CLI's sources run in this process. */
async function fromSources(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = sink();
  const err = sink();
  const code = await main(args, { stdout: out, stderr: err, stdin: new PassThrough() } as never, { ...process.env, BERTH_HOST: d.host });
  return { code, stdout: norm(out.text()), stderr: err.text() };
}

async function viaBin(args: string[], cache: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await run(process.execPath, [bin, ...args], { env: { ...process.env, BERTH_HOST: d.host, BERTH_CODE_CACHE: cache } });
  return { code: r.code ?? -1, stdout: norm(r.stdout), stderr: r.stderr };
}

const CASES = [['version'], ['images'], ['--help'], ['image', 'ls', '--help'], ['nosuchcommand'], ['images', '--bogus']];

async function sameAsSources(cache: string): Promise<void> {
  for (const args of CASES) {
    const [want, got] = await Promise.all([fromSources(args), viaBin(args, cache)]);
    assert.deepEqual(got, want, `berth ${args.join(' ')}`);
  }
}

function cacheFiles(cache: string): string[] {
  try { return readdirSync(cache).filter((n) => n.endsWith('.v8cache')).map((n) => join(cache, n)); } catch { return []; }
}

/** A cache file's parts (see bin/berth.js): payload length, where the payload starts, the command words. */
function layout(b: Buffer): { n: number; at: number; words: string[] } {
  const w = b.readUInt16LE(12);
  return { n: b.readUInt32LE(8), at: 14 + w, words: b.toString('utf8', 14, 14 + w).split('\n') };
}

/** A cache file bin/berth.js would accept: magic, lengths, two identical copies. */
function wellFormed(file: string): boolean {
  const b = readFileSync(file);
  const { n, at } = layout(b);
  return b.subarray(0, 8).toString() === 'berthcc3' && b.length === at + 2 * n && b.subarray(at, at + n).equals(b.subarray(at + n));
}

test('the code-cached CLI prints what the sources print, exit codes included (no cache, writing, reading)', async () => {
  const codes = (await Promise.all(CASES.map(fromSources))).map((r) => r.code);
  assert.deepEqual(codes, [0, 0, 0, 0, 1, 125]);
  await sameAsSources('0');
  const cache = join(dir, 'cache-a');
  await viaBin(['--version'], cache);
  const [file] = cacheFiles(cache);
  assert.ok(file && wellFormed(file), 'the first run writes one well-formed cache file');
  // each command not yet in the cache adds its functions once
  await sameAsSources(cache);
  assert.deepEqual(layout(readFileSync(file)).words, ['', 'version', 'images', 'image', 'nosuchcommand']);
  const written = statSync(file).mtimeMs;
  await sameAsSources(cache);
  assert.equal(statSync(file).mtimeMs, written, 'V8 accepted the cache and it covers these commands: no run rewrote it');
  assert.equal(cacheFiles(cache).length, 1);
});

test('a corrupt, truncated or stale cache is ignored and replaced, never a crash', async () => {
  const cache = join(dir, 'cache-b');
  await viaBin(['--version'], cache);
  const [file] = cacheFiles(cache);
  assert.ok(file);
  const good = readFileSync(file);
  const { n, at } = layout(good);

  // bytes changed in one copy: V8 would abort on such a payload, so the loader must not hand it over
  const corrupt = Buffer.from(good);
  corrupt.fill(0xa5, at + (n >> 1), at + (n >> 1) + 64);
  // both copies changed the same way: the loader cannot tell, V8's own header check must (magic number)
  const badHeader = Buffer.from(good);
  badHeader.fill(0, at, at + 8);
  badHeader.fill(0, at + n, at + n + 8);
  // a well-formed file holding the cache of another script: V8 rejects it (source hash)
  const other = new Script('(function () { return 42 })', { filename: 'other.js' });
  other.runInThisContext();
  const payload = other.createCachedData();
  const head = Buffer.alloc(14 + 'version'.length);
  head.write('berthcc3');
  head.writeUInt32LE(payload.length, 8);
  head.writeUInt16LE('version'.length, 12);
  head.write('version', 14);
  const stale = Buffer.concat([head, payload, payload]);

  for (const [what, bytes] of [['corrupt', corrupt], ['bad header', badHeader], ['truncated', good.subarray(0, good.length >> 1)], ['stale', stale], ['empty', Buffer.alloc(0)]] as const) {
    writeFileSync(file, bytes);
    const want = await fromSources(['version']);
    assert.deepEqual(await viaBin(['version'], cache), want, what);
    assert.ok(wellFormed(file) && !readFileSync(file).equals(bytes), `${what}: the run wrote a fresh cache`);
  }
});

test('an unwritable cache directory only means no cache', async () => {
  const blocker = join(dir, 'a-file');
  writeFileSync(blocker, 'not a directory');
  await sameAsSources(join(blocker, 'cache'));
  assert.equal(readFileSync(blocker, 'utf8'), 'not a directory');
});

test('the executable starts node without NODE_EXTRA_CA_CERTS and hands the value on to what it runs', async () => {
  // node would parse (here: fail to read) the file before any JS; a credential helper the CLI runs must see it
  const helpers = join(dir, 'helpers');
  mkdirSync(helpers, { recursive: true });
  const seen = join(dir, 'seen');
  writeFileSync(join(helpers, 'docker-credential-envdump'), `#!/bin/sh\necho "$NODE_EXTRA_CA_CERTS|\${BERTH_EXTRA_CA_CERTS-unset}" > '${seen}'\n`, { mode: 0o755 });
  const config = join(dir, 'docker-config');
  mkdirSync(config, { recursive: true });
  writeFileSync(join(config, 'config.json'), JSON.stringify({ credsStore: 'envdump' }));
  const extra = join(dir, 'no-such-ca.pem');
  const r = await run(bin, ['logout', '127.0.0.1:5999'], {
    env: { ...process.env, PATH: `${helpers}:${process.env.PATH}`, DOCKER_CONFIG: config, NODE_EXTRA_CA_CERTS: extra, BERTH_CODE_CACHE: '0' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /extra certs/i, 'node read NODE_EXTRA_CA_CERTS at start-up');
  assert.equal(readFileSync(seen, 'utf8').trim(), `${extra}|unset`);
});
