// One blob from a registry into the content store, resumable and verified (spec "Pulling blobs"):
// the ingest ref is derived from the digest (`pull-<digest>`), so an interrupted download — a cut connection,
// a registry restart, even a daemon restart — continues where the ingest stopped, asking for the rest with
// `Range: bytes=<offset>-`. The content store's commit checks size and digest before the blob becomes
// visible; a mismatch drops the ingest (its bytes are known bad) and fails with DIGEST_MISMATCH. A fresh
// download of a large blob is hashed on the worker (fetch-worker.ts; the store checks the digest it computed),
// a resumed one by the content writer, which re-reads the bytes kept from before.
import { BerthError, isKind } from '../errors/index.ts';
import type { Digest } from '../digest/index.ts';
import type { Ingester, Provider } from '../content/index.ts';
import type { Repository } from './client.ts';
import type { Writable } from 'node:stream';
import { diffHasher, writeTo, type Decompressor, type DiffInfo } from './diff.ts';
import { openBlobPieces } from './blobread.ts';
import { layerCompression } from '../image/index.ts';
import { defaultDecompressor } from './diff.ts';
import { fetchThroughWorker, commitFailed } from './fetch-worker.ts';

export interface FetchOptions {
  signal?: AbortSignal;
  /** Called as bytes arrive with (bytes stored so far, total). */
  onBytes?: (current: number, total: number) => void;
  /** Called once the last byte arrived, before the digest is checked and the blob committed. */
  onVerifying?: () => void;
  /** Also compute the layer's diffID while downloading (only possible when the download starts at byte 0). */
  diff?: { mediaType: string; decompress?: Decompressor };
  /**
   * A tee for the blob's bytes as they download (e.g. into an unpack), asked for on each attempt that starts
   * at byte 0. It gets end() once every byte arrived (before the digest check: the consumer must wait for
   * the fetch to resolve before trusting what it read) and is destroyed when the attempt fails. A sink that
   * fails or is destroyed by its consumer is simply dropped: the download goes on.
   */
  sink?: () => Writable;
}

export interface FetchResult {
  /** False when the blob was already in content. */
  downloaded: boolean;
  /** The diffID and uncompressed size, when `diff` was asked and the whole blob streamed through. */
  diff?: DiffInfo;
  /** True when a `sink` received the whole blob from byte 0 and was ended. */
  teed?: boolean;
}

/** Downloads shared by concurrent pulls in this process: the same blob is fetched once. */
const inflight = new Map<string, Promise<FetchResult>>();

/** The ingest ref of a pull of `digest`; stable across restarts so partial data is resumed. */
export function pullRef(digest: Digest): string {
  return `pull-${digest}`;
}

/**
 * Makes sure `digest` (of `size` bytes) is in `content`, fetching it from `repo` when missing.
 */
export function fetchBlob(repo: Repository, content: Provider & Ingester, digest: Digest, size: number, opts: FetchOptions = {}): Promise<FetchResult> {
  const running = inflight.get(digest);
  if (running) return running;
  const p = (async () => {
    if (await content.has(digest)) return { downloaded: false };
    const state = { teed: false };
    const diff = await repo.client.transport.retry(() => fetchOnce(repo, content, digest, size, opts, state), opts.signal);
    return { downloaded: true, diff, ...(opts.sink ? { teed: state.teed } : {}) };
  })().finally(() => inflight.delete(digest));
  inflight.set(digest, p);
  return p;
}

/** Blobs at least this large are hashed on the worker (smaller ones take the ordinary path: configs). */
const WORKER_MIN = 1 << 20;

async function fetchOnce(repo: Repository, content: Provider & Ingester, digest: Digest, size: number, opts: FetchOptions, state: { teed: boolean }): Promise<DiffInfo | undefined> {
  // The worker hashes the blob (and gunzips a gzip layer for its diffID) when it sees every byte from the
  // first: a fresh download; a resumed one is hashed by the content writer as before. Not when the bytes are
  // teed into an unpack, which decompresses and hashes them for the diffID on this thread anyway: there the
  // worker's start-up and messages cost more than the hash it takes over (side by side, 6 rounds: daemon CPU
  // 2.38 s against 2.22 s median, the same wall time).
  const kind = opts.diff ? layerCompression(opts.diff.mediaType) ?? 'none' : undefined;
  const viaWorker = !opts.sink && digest.startsWith('sha256:') && size >= WORKER_MIN
    && (!opts.diff || (kind === 'gzip' && (opts.diff.decompress ?? defaultDecompressor) === defaultDecompressor));
  const w = await content.writer({ ref: pullRef(digest), expected: digest, expectedSize: size, ...(viaWorker ? { digestBy: 'caller' as const } : {}) });
  if (w.digestBy === 'caller') {
    return fetchThroughWorker(repo, w, digest, size, { ...opts, inflate: !!opts.diff, transient: (e) => transient(e, digest), diffFailed });
  }
  let committed = false;
  let sink: Writable | undefined;
  let sinkDone = false;
  let hasher: ReturnType<typeof diffHasher> | undefined;
  let hashFailed: unknown;
  try {
    if (w.offset > size) await w.truncate();
    if (w.offset < size) {
      const b = await openBlobPieces(repo, digest, { start: w.offset, size, signal: opts.signal });
      try {
        if (b.start === 0 && w.offset > 0) await w.truncate(); // the registry ignored our Range
      } catch (e) {
        b.close();
        throw e;
      }
      if (opts.diff && w.offset === 0) hasher = diffHasher(opts.diff.mediaType, opts.diff.decompress);
      if (opts.sink && w.offset === 0) sink = opts.sink();
      opts.onBytes?.(w.offset, size);
      try {
        // Pieces of ~1 MiB (blobread.ts) go as they are to the store, the diffID hasher and the tee: one trip
        // through each per MiB, and no copy on the way.
        for await (const piece of b.pieces) {
          await w.write(piece);
          // A decompression failure is reported only after the digest check: bytes that are not what the
          // manifest names are a digest mismatch first, whatever they decompress to.
          const pending = hasher && !hashFailed && writeTo(hasher.input, piece)?.catch((e: unknown) => { hashFailed = e ?? true; });
          const teeing = sink && writeTo(sink, piece)?.catch(() => { sink = undefined; });
          if (pending) await pending;
          if (teeing) await teeing;
          opts.onBytes?.(w.offset, size);
        }
      } catch (e) {
        b.close();
        throw transient(e, digest);
      }
    }
    if (w.offset < size) {
      throw new BerthError('Unavailable', `unexpected EOF reading blob ${digest}: got ${w.offset} of ${size} bytes`, { code: 'BERTH_SHORT_BODY' });
    }
    opts.onVerifying?.();
    if (!hashFailed) hasher?.input.end();
    if (sink && !sink.destroyed) { sink.end(); sinkDone = true; state.teed = true; }
    try {
      await w.commit({ expected: digest, expectedSize: size });
    } catch (e) {
      if (isKind(e, 'AlreadyExists', 'BLOB_EXISTS')) { committed = true; return hasher ? await diffResult(hasher, hashFailed, digest) : undefined; }
      if (isKind(e, 'InvalidArgument')) committed = true; // commit removed the bad ingest
      throw commitFailed(e, digest);
    }
    committed = true;
    return hasher ? await diffResult(hasher, hashFailed, digest) : undefined;
  } finally {
    if (!committed) hasher?.input.destroy();
    if (sink && !sinkDone) sink.destroy(new Error(`download of ${digest} broke off`));
    // Keep partial data for the next attempt (or the next daemon) unless the ingest is finished.
    if (!committed) await w.close().catch(() => {});
  }
}

/** A body that broke off mid-way is worth another try (which resumes); keep node's code for the retry test. */
function transient(e: unknown, digest: Digest): unknown {
  if (e instanceof BerthError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if ((e as Error)?.name === 'AbortError') return e;
  if (code?.startsWith('Z_') || code === 'DECOMPRESS_FAILED') {
    return new BerthError('InvalidArgument', `layer ${digest} does not decompress: ${(e as Error).message}`, { code: 'DECOMPRESS_FAILED', cause: e });
  }
  return new BerthError('Unavailable', `error reading blob ${digest}: ${(e as Error)?.message ?? e}`, { code: code ?? 'ECONNRESET', cause: e });
}

async function diffResult(h: { done: Promise<DiffInfo> }, failed: unknown, digest: Digest): Promise<DiffInfo> {
  try {
    if (failed) throw failed;
    return await h.done;
  } catch (e) {
    throw diffFailed(e, digest);
  }
}

function diffFailed(e: unknown, digest: Digest): BerthError {
  return new BerthError('InvalidArgument', `layer ${digest} does not decompress: ${(e as Error)?.message ?? e}`, { code: 'DECOMPRESS_FAILED', cause: e });
}
