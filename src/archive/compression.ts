// Compression of layer streams. gzip compression through `pigz` when installed (parallel deflate; faster than
// node:zlib on 2 cores, measured in bench/archive.ts), else node:zlib; gzip decompression always node:zlib; zstd only through the `zstd` CLI (no usable zstd binding for Node 20
// here); bzip2/xz (accepted by `docker import` and ADD) through their CLIs. Children are streamed, never
// buffered, and a child's non-zero exit fails the stream *before* it ends, so a corrupt blob can never look
// like a complete one.
import { spawn, spawnSync } from 'node:child_process';
import { Duplex, PassThrough, Readable, type Transform } from 'node:stream';
import { createGunzip, createGzip, constants as zc } from 'node:zlib';
import { invalidArgument, failedPrecondition } from '../errors/index.ts';

export type CompressionKind = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none';

/** Sniffs the compression from the first bytes (≥ 6 for xz): gzip 1f8b08, zstd 28b52ffd, bzip2 'BZh', xz. */
export function detectCompression(first: Uint8Array): CompressionKind {
  const b = first;
  if (b.length >= 3 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 0x08) return 'gzip';
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'zstd';
  if (b.length >= 3 && b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return 'bzip2';
  if (b.length >= 6 && b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0x00) return 'xz';
  return 'none';
}

const haveCache = new Map<string, boolean>();
/** True when `cmd` is on PATH (checked once per process). */
export function haveTool(cmd: string): boolean {
  let v = haveCache.get(cmd);
  if (v === undefined) {
    v = spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
    haveCache.set(cmd, v);
  }
  return v;
}

/** Lets tests and benchmarks force the node:zlib path. */
let preferTools = process.env.BERTH_NO_PIGZ ? false : true;
export function setPreferTools(on: boolean): void { preferTools = on; }

/**
 * A duplex around a child process filter (stdin → stdout). The readable side ends only after the child
 * exited 0; a non-zero exit destroys it with an InvalidArgument naming the tool and its stderr. Destroying the
 * duplex kills the child.
 */
export function childFilter(cmd: string, args: string[], what: string): Duplex {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let exited = false;
  child.stderr!.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString(); });
  const stdin = child.stdin!;
  const stdout = child.stdout!;
  stdin.on('error', () => { /* EPIPE when the child dies early: its exit status reports the cause */ });
  let stdoutEnded = false;
  let exitCode: number | null | undefined;
  const maybeEnd = (): void => {
    if (!stdoutEnded || exitCode === undefined) return;
    if (exitCode === 0) duplex.push(null);
    else duplex.destroy(invalidArgument(`${what}: ${cmd} exited with ${exitCode}${stderr ? `: ${stderr.trim()}` : ''}`, { code: 'DECOMPRESS_FAILED' }));
  };
  const duplex = new Duplex({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _enc, cb) {
      if (exited || stdin.destroyed) { cb(); return; } // swallow: the exit status reports the failure
      if (stdin.write(chunk)) cb(); else stdin.once('drain', () => cb());
    },
    final(cb) { stdin.end(); cb(); },
    read() { stdout.resume(); },
    destroy(err, cb) {
      if (!exited) child.kill('SIGKILL');
      stdout.destroy();
      cb(err);
    },
  });
  stdout.on('data', (d: Buffer) => { if (!duplex.push(d)) stdout.pause(); });
  stdout.on('end', () => { stdoutEnded = true; maybeEnd(); });
  child.on('error', (e) => duplex.destroy(failedPrecondition(`${what}: cannot run ${cmd}: ${e.message}`, { cause: e })));
  child.on('exit', (code, signal) => { exited = true; exitCode = code ?? (signal ? 128 : 1); maybeEnd(); });
  return duplex;
}

const GUNZIP_INPUT = 1 << 20;

/**
 * Chunks gathered into pieces of at least `size` bytes (the last may be shorter): one copy per piece, none when
 * a single chunk is big enough. For consumers that pay per call (a zlib write is a thread-pool trip).
 */
export class Gatherer {
  private parts: Buffer[] = [];
  private n = 0;

  constructor(private readonly size: number) {}

  /** Adds a chunk; returns a piece once at least `size` bytes are in. */
  push(chunk: Buffer): Buffer | undefined {
    this.parts.push(chunk);
    this.n += chunk.length;
    return this.n >= this.size ? this.take() : undefined;
  }

  /** Whatever is in (at the end, or before a break), or undefined when nothing is. */
  take(): Buffer | undefined {
    if (!this.n) return undefined;
    const b = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.n);
    this.parts = [];
    this.n = 0;
    return b;
  }
}

/**
 * `inner` behind a duplex that hands it writes of at least `bytes` (the last may be shorter): one copy per
 * piece. (stream.compose would do, but Node 20's loses an error raised in the inner stream's flush, so a
 * truncated gzip never ends.)
 */
function coalescingInput(inner: Transform, bytes: number): Duplex {
  const pieces = new Gatherer(bytes);
  const outer = new Duplex({
    writableHighWaterMark: bytes,
    readableHighWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      const piece = pieces.push(chunk);
      if (!piece || inner.write(piece)) cb(); else inner.once('drain', () => cb());
    },
    final(cb) {
      const rest = pieces.take();
      if (rest) inner.write(rest);
      inner.end();
      cb();
    },
    read() { inner.resume(); },
    destroy(err, cb) {
      inner.destroy();
      cb(err);
    },
  });
  inner.on('data', (d: Buffer) => { if (!outer.push(d)) inner.pause(); });
  inner.on('end', () => outer.push(null));
  inner.on('error', (e) => outer.destroy(e));
  return outer;
}

function zlibError(t: Transform, what: string): Transform {
  // Rewrap zlib's errors (Z_DATA_ERROR …) as InvalidArgument so callers can tell corrupt input from faults.
  const orig = t.destroy.bind(t);
  t.destroy = ((err?: Error) => orig(err && !(err as { kind?: string }).kind
    ? invalidArgument(`${what}: ${err.message}`, { code: 'DECOMPRESS_FAILED', cause: err }) : err)) as typeof t.destroy;
  return t;
}

/** A transform that decompresses `kind` (PassThrough for 'none'). */
export function decompressor(kind: CompressionKind): Duplex {
  switch (kind) {
    case 'none': return new PassThrough({ highWaterMark: 256 * 1024 });
    case 'gzip':
      // node:zlib, not `pigz -d`: inflate is single-threaded in pigz too, and the two pipe copies made the
      // child ~1.7× slower here (bench/archive.ts: 128 MB in 370–500 ms vs 700–800 ms).
      // A 1 MiB readable buffer lets inflate run ahead while the consumer waits on the disk. Input is gathered
      // into ~1 MiB pieces first: each write to zlib is one trip through the thread pool, and sockets and file
      // streams hand over 16–64 KiB at a time (64 MiB layer: 75 ms of CPU instead of 170–220, wall halved).
      return coalescingInput(zlibError(createGunzip({ chunkSize: 256 * 1024, readableHighWaterMark: 1024 * 1024 } as object), 'gzip decompression'), GUNZIP_INPUT);
    case 'zstd':
      if (!haveTool('zstd')) throw failedPrecondition('zstd-compressed layers need the zstd command (apt-get install zstd)');
      return childFilter('zstd', ['-dcq'], 'zstd decompression');
    case 'bzip2':
      if (!haveTool('bzip2')) throw failedPrecondition('bzip2-compressed archives need the bzip2 command');
      return childFilter('bzip2', ['-dc'], 'bzip2 decompression');
    case 'xz':
      if (!haveTool('xz')) throw failedPrecondition('xz-compressed archives need the xz command');
      return childFilter('xz', ['-dc'], 'xz decompression');
  }
}

export interface CompressOptions {
  /** 1 (fast) … 9 (small) for gzip; 1 … 19 for zstd. Defaults: gzip 6 (Go's default), zstd 3. */
  level?: number;
  /**
   * gzip through node:zlib even when pigz is installed: pigz and zlib produce different (both valid) bytes, so
   * reproducible builds (SOURCE_DATE_EPOCH) ask for this to get the same blob digest on every machine.
   */
  portable?: boolean;
}

/** A transform that compresses to `kind`. Output is deterministic for a given tool (no name, no mtime). */
export function compressor(kind: 'gzip' | 'zstd' | 'none', opts: CompressOptions = {}): Duplex {
  if (kind === 'none') return new PassThrough({ highWaterMark: 256 * 1024 });
  if (kind === 'zstd') {
    if (!haveTool('zstd')) throw failedPrecondition('zstd compression needs the zstd command (apt-get install zstd)');
    return childFilter('zstd', ['-cq', `-${opts.level ?? 3}`, '-T0'], 'zstd compression');
  }
  const level = opts.level ?? 6;
  if (preferTools && !opts.portable && haveTool('pigz')) return childFilter('pigz', ['-cn', `-${level}`], 'gzip compression');
  return createGzip({ level: level === -1 ? zc.Z_DEFAULT_COMPRESSION : level, chunkSize: 256 * 1024 });
}

/**
 * Reads the first bytes of `source` to sniff its compression, then returns the decompressed stream and what
 * was detected. The sniffed bytes are put back, nothing is buffered beyond one chunk.
 */
export async function decompress(input: Readable): Promise<{ stream: Readable; compression: CompressionKind }> {
  const { head, stream: source } = await peek(input, 6);
  const compression = detectCompression(head);
  const d = decompressor(compression);
  source.on('error', (e) => d.destroy(e));
  d.on('close', () => { if (!source.readableEnded) source.destroy(); });
  source.pipe(d);
  return { stream: d, compression };
}

/** Compresses a stream; errors on either side destroy the result. */
export function compress(source: Readable, kind: 'gzip' | 'zstd' | 'none', opts: CompressOptions = {}): Readable {
  const c = compressor(kind, opts);
  source.on('error', (e) => c.destroy(e));
  c.on('close', () => { if (!source.readableEnded) source.destroy(); });
  source.pipe(c);
  return c;
}

/**
 * Waits until `n` bytes (or the end) are buffered in `source` and returns them with a stream that still
 * yields every byte: `source` itself with the bytes unshifted back, or, when the source already ended, a new
 * stream of what it held.
 */
export async function peek(source: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const parts: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const chunk: Buffer | null = source.read();
    if (chunk !== null) {
      parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      have += chunk.length;
      continue;
    }
    if (source.readableEnded || source.destroyed) break;
    const ended = await new Promise<boolean>((resolve, reject) => {
      const onReadable = () => { cleanup(); resolve(false); };
      const onEnd = () => { cleanup(); resolve(true); };
      const onError = (e: Error) => { cleanup(); reject(e); };
      const cleanup = () => { source.off('readable', onReadable); source.off('end', onEnd); source.off('error', onError); };
      source.on('readable', onReadable);
      source.on('end', onEnd);
      source.on('error', onError);
    });
    if (ended) break;
  }
  const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  if (source.readableEnded) return { head: all.subarray(0, n), stream: Readable.from(all.length ? [all] : []) };
  if (all.length) source.unshift(all);
  return { head: all.subarray(0, n), stream: source };
}
