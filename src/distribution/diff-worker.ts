// The hashing worker: gunzip + sha256 of gzip layers (diffID and docker's layer size), and for a fresh
// download the blob's own sha256 too (blob streams, blob-hasher.ts / fetch-worker.ts), on a thread of its own,
// so the main thread only receives and writes. zlib's inflate runs on the libuv pool either way.
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
import { USAGE } from './diff-worker-usage.ts';

const WINDOW = 4 << 20;
const BATCH = 1 << 20;

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
// Blob streams (blob-hasher.ts): the compressed bytes' sha256 here too, so each byte is hashed once, and each
// buffer goes back (in order) once zlib is done with it, for the main thread to write to the ingest. A gzip
// error stops only the diffID: the blob digest is still computed and reported beside the error.
const blobs = new Map();
function back(m) { parentPort.postMessage({ id: m.id, ack: m.len, buf: m.buf, off: m.off, len: m.len }, [m.buf]); }
function blobDone(id, s) {
  if (blobs.get(id) !== s) return;
  blobs.delete(id);
  parentPort.postMessage({ id, done: true, blob: 'sha256:' + s.h.digest('hex'), blobSize: s.n,
    ...(s.diff ? s.diff : {}), ...(s.err ? { error: s.err.message, code: s.err.code } : {}) });
}
function blobFail(s, e) {
  if (!s.gz) return;
  if (e) s.err = e;
  s.gz = null;
  for (const x of s.q.splice(0)) back(x);
}
function onBlob(m) {
  let s = blobs.get(m.id);
  if (m.abort) { if (s) { blobs.delete(m.id); s.gz?.destroy(); } return; }
  if (!s) {
    s = { h: crypto.createHash('sha256'), n: 0, q: [], gz: null, err: null, diff: null, ending: false };
    if (m.inflate) {
      const dh = crypto.createHash('sha256');
      const u = makeUsage();
      const gz = zlib.createGunzip({ chunkSize: 1024 * 1024 });
      const st = s;
      gz.on('data', (c) => { dh.update(c); u.usage(c); });
      gz.on('end', () => { st.diff = { digest: 'sha256:' + dh.digest('hex'), size: u.total() }; blobFail(st); if (st.ending) blobDone(m.id, st); });
      gz.on('error', (e) => { blobFail(st, e); if (st.ending) blobDone(m.id, st); });
      s.gz = gz;
    }
    blobs.set(m.id, s);
  }
  if (m.end) { s.ending = true; if (s.gz) s.gz.end(); else blobDone(m.id, s); return; }
  const view = Buffer.from(m.buf, m.off, m.len);
  s.h.update(view);
  s.n += m.len;
  if (!s.gz) { back(m); return; }
  s.q.push(m);
  const st = s;
  s.gz.write(view, (e) => { if (e) { blobFail(st, e); if (st.ending) blobDone(m.id, st); return; } const x = st.q.shift(); if (x) back(x); });
}
parentPort.on('message', (m) => {
  if (m.blob) { onBlob(m); return; }
  if (m.abort) { const gz = streams.get(m.id); streams.delete(m.id); gz?.destroy(); return; }
  const gz = streams.get(m.id) ?? open(m.id);
  if (m.end) { gz.end(); return; }
  // the buffer goes back with the ack, for the next batch (no allocation per MiB on either side)
  gz.write(Buffer.from(m.buf, 0, m.len), () => parentPort.postMessage({ id: m.id, ack: m.len, buf: m.buf }, [m.buf]));
});
`;

export interface Stream { onMessage(m: Reply): void; fail(e: unknown): void }
export interface Reply {
  id: number; ack?: number; buf?: ArrayBuffer; off?: number; len?: number; done?: boolean; digest?: string; size?: number;
  error?: string; code?: string; blob?: string; blobSize?: number;
}

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
export const streamId = (): number => nextId++;

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

/** Opens stream `id` on the least busy worker (blob-hasher.ts's streams too). */
export function attach(id: number, st: Stream): Worker {
  let me = pool.reduce<Shared | undefined>((a, b) => (!a || b.streams.size < a.streams.size ? b : a), undefined);
  if (!me || (me.streams.size > 0 && pool.length < POOL)) pool.push(me = start());
  if (me.idle) { clearTimeout(me.idle); me.idle = undefined; }
  me.streams.set(id, st);
  byStream.set(id, me);
  return me.w;
}

export function detach(id: number): void {
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
  const id = streamId();
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
