// fetch.ts's path for a fresh download (from byte 0) of a large blob: the pieces go to the hashing worker
// (blob-hasher.ts) and, as they come back, to the ingest — opened with digestBy 'caller', so the content store
// commits with the worker's digest only if it is the expected one. A body that breaks off still has what
// arrived written first, so the next attempt resumes after it (with the content writer hashing, as every
// resumed download). Downloads teed into an unpack stay on the ordinary path (fetch.ts says why).
import { BerthError, isKind } from '../errors/index.ts';
import type { Digest } from '../digest/index.ts';
import type { Writer } from '../content/index.ts';
import type { Repository } from './client.ts';
import { openBlobPieces } from './blobread.ts';
import { workerBlobHasher, type BlobHash, type BlobHasher } from './blob-hasher.ts';
import { giveSlab } from './slabs.ts';
import type { DiffInfo } from './diff.ts';
import type { FetchOptions } from './fetch.ts';

/** Bytes back from the worker but not yet written before receiving waits. */
const BACKLOG = 2 << 20;

/** FetchOptions without a tee (fetch.ts keeps teed downloads on the ordinary path). */
export interface WorkerFetchOptions extends Omit<FetchOptions, 'sink'> {
  /** Gunzip for the diffID too (a gzip layer). */
  inflate: boolean;
  transient: (e: unknown) => unknown;
  diffFailed: (e: unknown, digest: Digest) => unknown;
}

export async function fetchThroughWorker(repo: Repository, w: Writer, digest: Digest, size: number, opts: WorkerFetchOptions): Promise<DiffInfo | undefined> {
  let committed = false;
  let hasher: BlobHasher | undefined;
  let writing: Promise<void> = Promise.resolve();
  let writeError: unknown;
  let backlog = 0;
  let waiting: (() => void) | undefined;
  try {
    const b = await openBlobPieces(repo, digest, { start: 0, size, signal: opts.signal });
    // Pieces come back in order; each is written, then its slab reused.
    hasher = workerBlobHasher({
      inflate: opts.inflate,
      onPiece: (piece) => {
        backlog += piece.length;
        writing = writing.then(async () => {
          try {
            if (writeError) return;
            await w.write(piece, () => giveSlab(piece));
            opts.onBytes?.(w.offset, size);
          } catch (e) {
            writeError ??= e;
          } finally {
            backlog -= piece.length;
            if (backlog < BACKLOG) { const r = waiting; waiting = undefined; r?.(); }
          }
        });
      },
    });
    opts.onBytes?.(0, size);
    try {
      for await (const piece of b.pieces) {
        await hasher.push(piece, b.owned);
        while (backlog >= BACKLOG && !writeError) await new Promise<void>((r) => { waiting = r; });
        if (writeError) throw writeError;
      }
    } catch (e) {
      b.close();
      // what arrived is written before the failure is reported: the next attempt resumes after it
      await hasher.end().catch(() => {});
      await writing;
      throw opts.transient(e);
    }
    const h = await hasher.end();
    await writing;
    if (writeError) throw writeError;
    if (w.offset < size) {
      throw new BerthError('Unavailable', `unexpected EOF reading blob ${digest}: got ${w.offset} of ${size} bytes`, { code: 'BERTH_SHORT_BODY' });
    }
    opts.onVerifying?.();
    try {
      await w.commit({ expected: digest, expectedSize: size, digest: h.digest });
    } catch (e) {
      if (isKind(e, 'AlreadyExists', 'BLOB_EXISTS')) { committed = true; return diffOf(h, opts, digest); }
      if (isKind(e, 'InvalidArgument')) committed = true; // commit removed the bad ingest
      throw commitFailed(e, digest);
    }
    committed = true;
    // a decompression failure is reported only after the digest check, as on the ordinary path
    return diffOf(h, opts, digest);
  } finally {
    if (!committed) hasher?.abort();
    // Keep partial data for the next attempt (or the next daemon) unless the ingest is finished.
    if (!committed) await w.close().catch(() => {});
  }
}

function diffOf(h: BlobHash, opts: WorkerFetchOptions, digest: Digest): DiffInfo | undefined {
  if (!opts.inflate) return undefined;
  if (h.diffError || !h.diff) throw opts.diffFailed(h.diffError ?? new Error('no diffID'), digest);
  return h.diff;
}

/** The commit's verdict in a pull's words (a mismatch: the bytes are not the blob the manifest names). */
export function commitFailed(e: unknown, digest: Digest): unknown {
  if (!isKind(e, 'InvalidArgument')) return e;
  return new BerthError('InvalidArgument', `filesystem layer verification failed for digest ${digest}: ${(e as Error).message}`,
    { code: (e as BerthError).code, cause: e, detail: (e as BerthError).detail });
}
