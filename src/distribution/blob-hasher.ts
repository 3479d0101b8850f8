// A downloading blob's bytes through the hashing worker (diff-worker.ts) on their way to the ingest: the worker
// computes the blob's sha256 and, for a gzip layer, gunzips it for the diffID and docker's layer size, then
// hands each buffer back, in order, for the main thread to write. So the main thread only receives and writes:
// each byte is hashed once per digest (the content writer is opened with digestBy 'caller' and commits with the
// digest computed here, which it still checks against the expected one), buffers move between the threads
// without a copy (transferred), and the receive slabs are reused (slabs.ts) once written.
import { BerthError } from '../errors/index.ts';
import type { Digest } from '../digest/index.ts';
import type { DiffInfo } from './diff.ts';
import { attach, detach, streamId, type Reply } from './diff-worker.ts';
import { takeSlab, SLAB } from './slabs.ts';

/** Bytes at the worker (sent, not yet back) before push() waits. */
const WINDOW = 2 << 20;

export interface BlobHash {
  digest: Digest;
  size: number;
  /** With `inflate`: the diffID and layer size, or why the blob did not decompress. */
  diff?: DiffInfo;
  diffError?: Error;
}

export interface BlobHasher {
  /**
   * Sends `piece` to the worker; `owned` pieces (whole slabs from slabs.ts) are transferred as they are, others
   * copied into slabs. Resolves when the worker has room for more.
   */
  push(piece: Buffer, owned: boolean): Promise<void>;
  /** No more pieces: resolves once every piece came back (onPiece called for each) with the digests. */
  end(): Promise<BlobHash>;
  /** Drops the stream (pieces still at the worker are not handed back). */
  abort(): void;
}

/** `onPiece` gets each piece back, in order, once the worker is done with it; it then owns the slab. */
export function workerBlobHasher(opts: { inflate: boolean; onPiece: (piece: Buffer) => void }): BlobHasher {
  const id = streamId();
  let outstanding = 0;
  let waiting: (() => void) | undefined;
  let failure: unknown;
  let settle: { resolve: (h: BlobHash) => void; reject: (e: unknown) => void } | undefined;
  let result: BlobHash | undefined;
  let closed = false;
  const wake = () => { const w = waiting; waiting = undefined; w?.(); };
  const close = () => { if (!closed) { closed = true; detach(id); } };
  const w = attach(id, {
    onMessage(m: Reply) {
      if (m.ack !== undefined && m.buf) {
        outstanding -= m.ack;
        opts.onPiece(Buffer.from(m.buf, m.off ?? 0, m.len ?? m.ack));
        if (outstanding < WINDOW) wake();
      } else if (m.done) {
        close();
        result = {
          digest: m.blob as Digest, size: m.blobSize!,
          ...(m.digest ? { diff: { diffId: m.digest as Digest, uncompressedSize: m.size! } } : {}),
          ...(m.error ? { diffError: Object.assign(new Error(m.error), { code: m.code ?? 'Z_DATA_ERROR' }) } : {}),
        };
        settle?.resolve(result);
      }
    },
    fail(e) {
      close();
      failure = e;
      settle?.reject(e);
      wake();
    },
  });
  const send = (buf: ArrayBuffer, off: number, len: number) => {
    outstanding += len;
    w.postMessage({ id, blob: true, inflate: opts.inflate, buf, off, len }, [buf]);
  };
  return {
    async push(piece, owned) {
      if (failure) throw failure;
      if (closed) throw new BerthError('Internal', 'blob hashing stream already ended', { code: 'HASHER_CLOSED' });
      if (owned && piece.buffer.byteLength === SLAB) {
        send(piece.buffer as ArrayBuffer, piece.byteOffset, piece.length);
      } else {
        for (let off = 0; off < piece.length; off += SLAB) {
          const slab = takeSlab();
          const n = piece.copy(slab, 0, off, Math.min(piece.length, off + SLAB));
          send(slab.buffer as ArrayBuffer, slab.byteOffset, n);
        }
      }
      if (outstanding >= WINDOW) await new Promise<void>((r) => { waiting = r; });
      if (failure) throw failure;
    },
    end() {
      if (failure) return Promise.reject(failure);
      if (result) return Promise.resolve(result);
      const p = new Promise<BlobHash>((resolve, reject) => { settle = { resolve, reject }; });
      w.postMessage({ id, blob: true, end: true });
      return p;
    },
    abort() {
      if (closed) return;
      close();
      w.postMessage({ id, blob: true, abort: true });
      const e = new Error('blob hashing aborted');
      failure ??= e;
      settle?.reject(e);
      wake();
    },
  };
}
