// gunzip + sha256 of gzip layers on a worker thread, so the diffID of a downloading layer is computed on the
// other core while the main thread receives, hashes and stores the compressed bytes (measured on 2 cores:
// 4 × 64 MB pulled in ~1.9–2.4 s with both hashes on the main thread, see bench/pushpull.ts).
// Workers are kept for the next layers (streams keyed by id; up to POOL of them, a new stream goes to the least
// busy, one is started while every worker has a stream) and end after a few idle seconds: a fresh worker per
// layer cost an isolate start-up (~60 ms of CPU) each. POOL is 1: one thread keeps up with three layers (its
// share of 256 MB is ~0.4 s of CPU), and in a fresh daemon, pulls of 4 × 64 MB with one worker took 1.1–1.9 s
// and 1.3–1.7 s of CPU against 1.3–2.0 s and 1.6–1.8 s with three (side by side, 6 runs each).
// The worker's source is inline (eval) so it survives esbuild bundling into a single file. Flow control:
// write() completes once the worker has less than WINDOW bytes of that stream unprocessed, so memory stays flat.
import { Worker } from 'node:worker_threads';
import { Writable } from 'node:stream';
import type { Digest } from '../digest/index.ts';
import type { DiffInfo } from './diff.ts';

const WINDOW = 4 << 20;
const BATCH = 1 << 20;

// USAGE is src/archive's TarUsage (the layer size docker reports: unpacked bytes as moby's directory.Size
// counts them, not the tar's length) restated in plain JS for the worker, which cannot import bundled code;
// test/parity-images.test.ts and src/distribution tests check both agree.
const USAGE = `
const U = { total: 0, sizes: new Map(), skip: 0, head: Buffer.alloc(512), fill: 0, meta: null, pax: null, gpax: null, ln: null, ll: null, end: false };
function num(b, o, n) {
  if (b[o] & 0x80) { let v = 0; for (let i = o + 1; i < o + n; i++) v = v * 256 + b[i]; return v; }
  const t = b.toString('latin1', o, o + n).split('\\0')[0].trim();
  return t ? parseInt(t, 8) : 0;
}
function cstr(b, o, n) { const e = b.indexOf(0, o); return b.toString('utf8', o, e < 0 || e > o + n ? o + n : e); }
function paxOf(buf, into) {
  let o = 0;
  while (o < buf.length && buf[o] !== 0) {
    const sp = buf.indexOf(32, o);
    const n = sp < 0 ? NaN : parseInt(buf.toString('latin1', o, sp), 10);
    if (!(n > 0)) break;
    const rec = buf.toString('utf8', sp + 1, o + n - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) into.set(rec.slice(0, eq), rec.slice(eq + 1));
    o += n;
  }
  return into;
}
function endMeta(m) {
  if (m.flag === 'x') U.pax = paxOf(m.buf, new Map(U.pax || U.gpax || []));
  else if (m.flag === 'g') U.gpax = paxOf(m.buf, U.gpax || new Map());
  else if (m.flag === 'L') U.ln = cstr(m.buf, 0, m.buf.length);
  else U.ll = cstr(m.buf, 0, m.buf.length);
}
function header() {
  const h = U.head;
  let zero = true;
  for (let i = 0; i < 512; i++) if (h[i] !== 0) { zero = false; break; }
  if (zero) { U.end = true; return; }
  // not a tar header (a blob that is not a layer tar): stop counting, as TarUsage does
  let sum = 256;
  for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += h[i];
  if (num(h, 148, 8) !== sum) { U.end = true; return; }
  const flag = String.fromCharCode(h[156]);
  let size = num(h, 124, 12);
  if (!(size >= 0)) { U.end = true; return; }
  if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
    if (size > 16777216) { U.end = true; return; }
    U.meta = { flag, buf: Buffer.alloc(size), fill: 0, pad: (512 - size % 512) % 512 };
    if (size === 0) { const m = U.meta; U.meta = null; endMeta(m); }
    return;
  }
  let name = cstr(h, 0, 100);
  if (h.toString('latin1', 257, 262) === 'ustar') { const pre = cstr(h, 345, 155); if (pre) name = pre + '/' + name; }
  let link = cstr(h, 157, 100);
  const p = U.pax || U.gpax;
  if (U.ln !== null) name = U.ln;
  if (U.ll !== null) link = U.ll;
  if (p) { if (p.has('path')) name = p.get('path'); if (p.has('linkpath')) link = p.get('linkpath'); if (p.has('size')) size = Number(p.get('size')); }
  U.pax = null; U.ln = null; U.ll = null;
  const known = '01234567\\0'.includes(flag);
  const isFile = flag === '0' || flag === '\\0' || flag === '7';
  const data = !known || isFile ? size : 0;
  U.skip = data + (512 - data % 512) % 512;
  if (!known) return;
  name = name.replace(/^(\\.\\/)+/, '').replace(/\\/+$/, '');
  const base = name.slice(name.lastIndexOf('/') + 1);
  let s = 0;
  if (isFile && !base.startsWith('.wh.')) s = size; else if (flag === '2') s = Buffer.byteLength(link);
  const prev = U.sizes.get(name);
  if (prev !== undefined) { U.total -= prev; U.sizes.delete(name); }
  if (s > 0) { U.sizes.set(name, s); U.total += s; }
}
function usage(c) {
  let off = 0;
  while (off < c.length && !U.end) {
    if (U.skip > 0) { const n = Math.min(U.skip, c.length - off); U.skip -= n; off += n; continue; }
    if (U.meta) {
      const m = U.meta; const n = Math.min(m.buf.length - m.fill, c.length - off);
      c.copy(m.buf, m.fill, off, off + n); m.fill += n; off += n;
      if (m.fill === m.buf.length) { U.meta = null; U.skip = m.pad; endMeta(m); }
      continue;
    }
    const n = Math.min(512 - U.fill, c.length - off);
    c.copy(U.head, U.fill, off, off + n); U.fill += n; off += n;
    if (U.fill === 512) { U.fill = 0; try { header(); } catch { U.end = true; } }
  }
}
`;

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
const crypto = require('node:crypto');
function makeUsage() {
${USAGE}
  return { usage, total: () => U.total };
}
const streams = new Map();
function open(id) {
  const h = crypto.createHash('sha256');
  const u = makeUsage();
  const gz = zlib.createGunzip({ chunkSize: 1024 * 1024 });
  gz.on('data', (c) => { h.update(c); u.usage(c); });
  gz.on('end', () => { streams.delete(id); parentPort.postMessage({ id, done: true, digest: 'sha256:' + h.digest('hex'), size: u.total() }); });
  gz.on('error', (e) => { streams.delete(id); parentPort.postMessage({ id, error: e.message, code: e.code }); });
  streams.set(id, gz);
  return gz;
}
parentPort.on('message', (m) => {
  if (m.abort) { const gz = streams.get(m.id); streams.delete(m.id); gz?.destroy(); return; }
  const gz = streams.get(m.id) ?? open(m.id);
  if (m.end) { gz.end(); return; }
  // the buffer goes back with the ack, for the next batch (no allocation per MiB on either side)
  gz.write(Buffer.from(m.buf, 0, m.len), () => parentPort.postMessage({ id: m.id, ack: m.len, buf: m.buf }, [m.buf]));
});
`;

interface Stream { onMessage(m: Reply): void; fail(e: unknown): void }
interface Reply { id: number; ack?: number; buf?: ArrayBuffer; done?: boolean; digest?: string; size?: number; error?: string; code?: string }

/** Transfer buffers of BATCH bytes, back from the worker after use; at most SPARE kept. */
const spare: ArrayBuffer[] = [];
const SPARE = 16;
const takeBuffer = (): ArrayBuffer => spare.pop() ?? new ArrayBuffer(BATCH);

/** Workers end when no stream has been open on them for IDLE_MS. */
const IDLE_MS = 5000;
const POOL = 1;
interface Shared { w: Worker; streams: Map<number, Stream>; idle?: NodeJS.Timeout }
const pool: Shared[] = [];
const byStream = new Map<number, Shared>();
let nextId = 1;

function start(): Shared {
  const w = new Worker(SOURCE, { eval: true });
  w.unref(); // never keeps the daemon (or a test) alive
  const me: Shared = { w, streams: new Map() };
  w.on('message', (m: Reply) => me.streams.get(m.id)?.onMessage(m));
  const dead = (e: unknown) => {
    const i = pool.indexOf(me);
    if (i >= 0) pool.splice(i, 1);
    for (const x of me.streams.values()) x.fail(e);
    me.streams.clear();
  };
  w.on('error', dead);
  w.on('exit', () => dead(new Error('diff hashing worker exited')));
  return me;
}

function attach(id: number, st: Stream): Worker {
  let me = pool.reduce<Shared | undefined>((a, b) => (!a || b.streams.size < a.streams.size ? b : a), undefined);
  if (!me || (me.streams.size > 0 && pool.length < POOL)) pool.push(me = start());
  if (me.idle) { clearTimeout(me.idle); me.idle = undefined; }
  me.streams.set(id, st);
  byStream.set(id, me);
  return me.w;
}

function detach(id: number): void {
  const me = byStream.get(id);
  byStream.delete(id);
  if (!me || !me.streams.delete(id) || me.streams.size) return;
  endWhenIdle(me);
}

function endWhenIdle(me: Shared): void {
  me.idle = setTimeout(() => {
    const i = pool.indexOf(me);
    if (i >= 0 && !me.streams.size) { pool.splice(i, 1); void me.w.terminate(); }
  }, IDLE_MS);
  me.idle.unref();
}

/**
 * Starts workers for `streams` streams about to open (a pull that knows which layers it will download), so
 * their start-up (~40 ms each) overlaps the requests before the first layer byte instead of stalling it.
 */
export function warmDiffWorkers(streams: number): void {
  while (pool.length < Math.min(streams, POOL)) {
    const me = start();
    pool.push(me);
    endWhenIdle(me);
  }
}

/** A Writable taking gzip bytes; `done` resolves with the diffID and uncompressed size of what was written. */
export function workerGunzipHasher(): { input: Writable; done: Promise<DiffInfo> } {
  const id = nextId++;
  let outstanding = 0;
  let waiting: (() => void) | undefined;
  let settle!: { resolve: (d: DiffInfo) => void; reject: (e: unknown) => void };
  const done = new Promise<DiffInfo>((resolve, reject) => { settle = { resolve, reject }; });
  done.catch(() => {});
  let finished = false;
  const finish = (e?: unknown, info?: DiffInfo) => {
    if (finished) return;
    finished = true;
    detach(id);
    if (e) { settle.reject(e); input.destroy(e as Error); } else settle.resolve(info!);
    const cb = waiting; waiting = undefined; cb?.();
  };
  const w = attach(id, {
    onMessage(m) {
      if (m.ack !== undefined) {
        outstanding -= m.ack;
        if (m.buf && spare.length < SPARE) spare.push(m.buf);
        if (waiting && outstanding < WINDOW) { const cb = waiting; waiting = undefined; cb(); }
      } else if (m.done) {
        finish(undefined, { diffId: m.digest as Digest, uncompressedSize: m.size! });
      } else if (m.error) {
        finish(Object.assign(new Error(m.error), { code: m.code ?? 'Z_DATA_ERROR' }));
      }
    },
    fail: (e) => finish(e),
  });
  // bytes are copied into a transfer buffer (http pieces share their memory with the content store's pending
  // writes, so they cannot be handed over themselves)
  let cur: Uint8Array | undefined;
  let used = 0;
  const send = (): void => {
    if (!cur || !used) return;
    outstanding += used;
    w.postMessage({ id, buf: cur.buffer, len: used }, [cur.buffer as ArrayBuffer]);
    cur = undefined;
    used = 0;
  };
  const gather = (chunk: Buffer): void => {
    for (let off = 0; off < chunk.length;) {
      cur ??= new Uint8Array(takeBuffer());
      const n = Math.min(cur.length - used, chunk.length - off);
      cur.set(chunk.subarray(off, off + n), used);
      used += n;
      off += n;
      if (used === cur.length) send();
    }
  };
  const input = new Writable({
    highWaterMark: 1 << 20,
    // finishing the input must not end the stream before the worker answered; destroy() (abort) does
    autoDestroy: false,
    write(chunk: Buffer, _e, cb) {
      // Gathered into 1 MiB messages: one postMessage, one ack and one zlib trip per MiB.
      gather(chunk);
      if (outstanding < WINDOW) cb(); else waiting = cb;
    },
    final(cb) { send(); w.postMessage({ id, end: true }); cb(); },
    destroy(err, cb) {
      if (!finished) {
        finished = true;
        detach(id);
        w.postMessage({ id, abort: true });
        settle.reject(err ?? new Error('diff hashing aborted'));
      }
      cb(err);
    },
  });
  // a decompression error is reported through `done` (and fails later writes); not as an uncaught 'error'
  input.on('error', () => {});
  return { input, done };
}
