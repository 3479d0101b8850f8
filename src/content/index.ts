// The content-addressed blob store, split into containerd's roles (core/content/content.go):
// Provider (read), Ingester (write), Manager (info/delete/walk/maintenance), composed into ContentStore.
// Callers accept the narrowest role they need: a function that only reads takes a Provider.
//
// On disk (paths built by src/layout only):
//   content/blobs/sha256/<hex>        committed blobs, each exactly once; visible only after verification
//   content/ingest/<sha256(ref)>/     one in-flight write: `data` (the bytes so far) + `ref` (the ref text)
//
// Guarantees:
// - A blob path exists only for bytes whose size and digest were verified, fsynced and atomically renamed in.
// - A Writer with the same `ref` as an interrupted one (even across a process restart) resumes at `offset`.
// - Two writers of the same blob under different refs are safe: the second commit finds the blob there and
//   fails with AlreadyExists (code BLOB_EXISTS), which `put` treats as success.
// - Two live writers of the same ref in one process: the second fails with Unavailable (code REF_LOCKED).
// - Nothing here knows about images, names or GC roots: deciding what to delete is the caller's (src/images).
import type { Readable } from 'node:stream';
import type { Digest } from '../digest/index.ts';

export interface Info {
  digest: Digest;
  /** Size in bytes. */
  size: number;
  /** When the blob was committed (ms since epoch, from the file's mtime). */
  committedAt: number;
}

export interface ReadOptions {
  /** First byte to read (default 0). */
  start?: number;
  /** Last byte to read, inclusive, as fs.createReadStream's `end` (default: to the end). */
  end?: number;
}

/** Read access. Every method fails with NotFound (code BLOB_UNKNOWN) for a blob that is not committed. */
export interface Provider {
  info(d: Digest): Promise<Info>;
  has(d: Digest): Promise<boolean>;
  /** A stream of the blob's bytes (or a range of them). Opens the file before resolving, so NotFound is thrown here. */
  createReadStream(d: Digest, opts?: ReadOptions): Promise<Readable>;
  /** The whole blob in memory, for small blobs (manifests, configs). InvalidArgument when larger than `maxSize` (default 16 MiB). */
  readBytes(d: Digest, maxSize?: number): Promise<Buffer>;
  /** The committed file's path, for direct use (sendfile, copy_file_range, a tar entry). Does not check existence. */
  blobPath(d: Digest): string;
}

export interface WriterOptions {
  /**
   * Names the write. Reusing a ref resumes the partial data kept under ingest/ (e.g. a pull interrupted by a
   * daemon restart); callers usually choose something stable such as `pull-<digest>` or `load-<digest>`.
   */
  ref: string;
  /** The digest the bytes must have; checked by commit() (and may be given there instead). */
  expected?: Digest;
  /** The total size the bytes must have; checked by write() (too many bytes) and commit(). */
  expectedSize?: number;
  /**
   * Who hashes the bytes. 'caller': the caller computes the digest of exactly the bytes it writes (e.g. on
   * another thread that already reads every byte for other work, so each byte is hashed once) and hands it to
   * commit(), which still refuses it unless it is the expected digest and the size matches the bytes written.
   * Honoured only for a write that starts at offset 0: when earlier data is resumed the writer hashes as
   * usual (its bytes were never seen by the caller) — read `digestBy` after opening. Default 'writer'.
   */
  digestBy?: 'writer' | 'caller';
}

/**
 * One in-flight write. Lifecycle: writer() → write()* → commit() | abort() | close().
 * - `offset` is how many bytes are already in the ingest (non-zero when resumed); write() appends there.
 * - commit() checks size and digest (InvalidArgument, codes SIZE_MISMATCH / DIGEST_MISMATCH), fsyncs the data,
 *   renames it atomically to its blob path and removes the ingest. On mismatch the ingest is removed too (its
 *   bytes are known bad). When the blob already exists it removes the ingest and fails with AlreadyExists
 *   (code BLOB_EXISTS). The writer is always closed afterwards, success or not.
 * - abort() deletes the partial data; it is safe to call twice and after commit(), so it can sit in `finally`.
 * - close() releases the writer but keeps the partial data so a later writer with the same ref resumes.
 */
export interface Writer {
  readonly ref: string;
  readonly offset: number;
  /** Who hashes the bytes (WriterOptions.digestBy, 'writer' for a resumed write). */
  readonly digestBy: 'writer' | 'caller';
  /** The digest of the bytes written so far (cheap: the running hash is copied). FailedPrecondition when the caller hashes. */
  digest(): Digest;
  /**
   * Appends `chunk`. The writer may keep a reference to it after the promise resolves (writes are gathered and
   * several are in flight); `released`, when given, is called once it holds none any more (the bytes reached
   * the file, or the writer dropped them), so the caller can reuse the memory — not before.
   */
  write(chunk: Uint8Array, released?: () => void): Promise<void>;
  /** Drops the partial data and restarts at offset 0 (e.g. when a registry does not honour a Range). */
  truncate(): Promise<void>;
  /**
   * `digest`: what the caller computed over every byte written (required when digestBy is 'caller', refused
   * otherwise); it must equal the expected digest, as the writer's own hash would.
   */
  commit(opts?: { expected?: Digest; expectedSize?: number; digest?: Digest }): Promise<Info>;
  abort(): Promise<void>;
  close(): Promise<void>;
}

export type PutSource = Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

export interface PutOptions {
  expected?: Digest;
  expectedSize?: number;
  /** A ref to identify the write (put always writes the whole source: leftovers under it are dropped); default: unique. */
  ref?: string;
  signal?: AbortSignal;
}

/** Write access. */
export interface Ingester {
  writer(opts: WriterOptions): Promise<Writer>;
  /**
   * Writes a whole blob from bytes or a stream and commits it. An existing blob with the same digest is
   * success (the source is still consumed and verified when `expected` is absent, to learn its digest).
   */
  put(src: PutSource, opts?: PutOptions): Promise<Info>;
}

export interface IngestStatus {
  ref: string;
  offset: number;
  /** ms since epoch of the last write. */
  updatedAt: number;
}

export interface FsckReport {
  checked: number;
  bytes: number;
  /** Blobs whose bytes no longer match their name; `actual` is what they hash to now. */
  corrupt: { digest: Digest; actual: Digest; size: number }[];
  /** Files under blobs/ that are not a valid digest name (left alone). */
  stray: string[];
}

/** Maintenance. */
export interface Manager {
  /** Removes a committed blob; false when it was not there. */
  delete(d: Digest): Promise<boolean>;
  /** Calls `fn` for every committed blob (sequentially, awaited). */
  walk(fn: (info: Info) => void | Promise<void>): Promise<void>;
  /** In-flight writes (including abandoned ones waiting to be resumed). */
  listIngests(): Promise<IngestStatus[]>;
  /**
   * Deletes ingests not written for `maxAgeMs` and not open now; returns how many. Call on daemon start.
   * `keep` spares refs the caller will resume (pulls continue their partial downloads after a restart).
   */
  cleanupIngest(maxAgeMs: number, keep?: (ref: string) => boolean): Promise<number>;
  /** Re-hashes every blob. With `remove`, corrupt blobs are deleted (so a later pull/load can restore them). */
  fsck(opts?: { remove?: boolean }): Promise<FsckReport>;
}

export interface ContentStore extends Provider, Ingester, Manager {
  /** The directory blobs live in (content/), for disk usage figures. */
  readonly root: string;
}

export { openContentStore } from './store.ts';
