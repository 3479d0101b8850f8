// A build context kept as the tar it arrived as, plus an index, so a rebuild whose COPY steps all hit the
// cache never creates the context's files at all. Receiving writes the (decompressed) body to one file and
// indexes it in the same pass, as it streams in: every entry's type, mode, size, link target and content digest.
// `digestFor` answers a COPY's cache-key question from the index, with exactly the bytes digestSources would
// hash on disk (same lines, same order), and `directory()` extracts the context once, on the first step that
// needs real files (a cache miss, a RUN bind mount). Anything the index cannot answer exactly (symlinks on a
// source's path, hardlinks, devices, directories without their own entry) returns undefined: the caller then
// extracts and works on disk as before. Memory: the index only (one small record per entry).
import { Readable } from 'node:stream';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { chmod, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { decompress, detectCompression, packTar, peek, type EntryType, type PackEntry, type TarHeader } from '../../archive/index.ts';
import { Digester, digestOf, type Digest } from '../../digest/index.ts';
import { invalidArgument, notFound } from '../../errors/index.ts';
import { clean, ContextFilter, readDockerignore, type IgnoreSource } from './dockerignore.ts';
import { receiveContext } from './receive.ts';
import { compileMatch, hasWildcards } from './match.ts';
import { contextRelative, type SourceInfo } from './copy.ts';
import { dirHash, sourcesHash, tarsumHasher } from './tarsum.ts';
import { BatchWriter, ByteReader, ContextHashCache, scanTar, truncated } from './tarscan.ts';

export { ContextHashCache };

const ROOT_MODE = 0o755;
/** Files up to this size are read from the context tar synchronously (see read()). */
const SYNC_READ = 256 * 1024;

interface IndexEntry {
  type: EntryType;
  mode: number;
  size: number;
  /** Seconds (fractional when PAX said so). */
  mtime: number;
  linkname?: string;
  digest?: Digest;
  /** Where a file's bytes start in the tar. */
  offset?: number;
  /** The entry's tarsum v1 (the classic builder's history hash; see tarsum.ts). */
  tarsum?: string;
  /** Which backing tar holds the bytes (0: this build's own context.tar; others: reused, see ReusedFiles). */
  src?: number;
  /** The digest came from the stat-keyed ContextHashCache, not from these bytes: not for sharing files. */
  statDigest?: true;
}

/**
 * Files of an earlier context that this one shares unchanged (context sync, sync.ts): the client did not send
 * them again; their bytes, digests and tarsums come from the tars an earlier build received.
 */
export interface ReusedFiles {
  /** Tar files holding the bytes (read in place, never written). */
  backings: string[];
  /** `backing.path` is one of `backings`. */
  files: Map<string, { size: number; mode: number; mtime: number; digest: Digest; tarsum: string; offset: number; backing: { path: string } }>;
  /** Names the client was asked to send: each must be in the body. */
  wanted: Iterable<string>;
}

/** A file of the context as the context sync keeps it for the next build. */
export interface HeldFile { size: number; mode: number; mtime: number; digest: Digest; tarsum: string; offset: number; backing: string }

export class LazyContext {
  private extracted?: Promise<string>;
  private readonly fds = new Map<number, number>();
  /** When the body started and finished arriving (ms), its size, and the ignore file's (for --progress). */
  stats = { start: 0, end: 0, bytes: 0, ignoreBytes: 0 };
  private readonly children = new Map<string, string[]>();

  private constructor(
    /** [0] is this build's context.tar; the others hold reused files. */
    private readonly backings: string[],
    private readonly workDir: string,
    private readonly index: Map<string, IndexEntry>,
    readonly dockerfile: Buffer,
    readonly dockerfilePath: string,
    readonly ignore: IgnoreSource,
    private readonly requestedDockerfile: string | undefined,
  ) {
    for (const rel of [...index.keys()].sort()) {
      if (rel === '.') continue;
      const i = rel.lastIndexOf('/');
      const parent = i < 0 ? '.' : rel.slice(0, i);
      const list = this.children.get(parent) ?? [];
      list.push(i < 0 ? rel : rel.slice(i + 1));
      this.children.set(parent, list);
    }
  }

  /**
   * Streams `body` (plain, gzip or zstd tar) to `<workDir>/context.tar`, indexes it, reads the Dockerfile and
   * the ignore file from it. Errors as receiveContext ("Cannot locate specified Dockerfile: X", ...).
   */
  static async receive(
    body: Readable, workDir: string, opts: { dockerfile?: string; signal?: AbortSignal; hashes?: ContextHashCache; reuse?: ReusedFiles } = {},
  ): Promise<LazyContext> {
    const start = Date.now();
    await mkdir(workDir, { recursive: true });
    const tarPath = join(workDir, 'context.tar');
    const requested = opts.dockerfile || 'Dockerfile';
    const dfRel = clean(requested.replace(/^\/+/, ''));
    if (dfRel === '..' || dfRel.startsWith('../')) {
      throw invalidArgument(`forbidden path outside the build context: ${requested} ()`, { code: 'PATH_OUTSIDE_CONTEXT' });
    }
    const wanted = new Set([dfRel, 'dockerfile', '.dockerignore', `${dfRel}.dockerignore`]);
    const small = new Map<string, Buffer>();
    const index = new Map<string, IndexEntry>();
    // One pass: the body is indexed (and every file hashed) as it streams in, while the same bytes go to
    // context.tar for a later extraction or in-place read. Reading the file back afterwards cost one
    // thread-pool round trip per entry (~0.5-1 s for 2,000 files under load).
    // An uncompressed body (what both CLIs send) is read as it is, without a PassThrough in between.
    const { head, stream: peeked } = await peek(body, 6);
    const stream = detectCompression(head) === 'none' ? peeked : (await decompress(peeked)).stream;
    const fh = await open(tarPath, 'w');
    const out = new BatchWriter(fh);
    let bytes = 0;
    try {
      const reader = new ByteReader((stream as AsyncIterable<Buffer>)[Symbol.asyncIterator](), (b) => { bytes += b.length; return out.write(b); });
      for await (const { header: h, offset, body: data } of scanTar(reader)) {
        opts.signal?.throwIfAborted();
        const rel = clean(h.name.replace(/^\/+/, ''));
        if (rel === '..' || rel.startsWith('../')) continue; // extraction refuses it; the index ignores it
        const e: IndexEntry = { type: h.type, mode: h.mode & 0o7777, size: h.size, mtime: h.mtime, ...(h.linkname !== undefined ? { linkname: h.linkname } : {}) };
        if (h.type === 'file') {
          const keep = wanted.has(rel) ? [] as Buffer[] : undefined;
          const known = keep ? undefined : opts.hashes?.get(h);
          const d = known ? undefined : new Digester();
          const ts = known ? undefined : tarsumHasher({ ...h, name: rel, uname: '', gname: '' });
          for await (const part of data) {
            d?.update(part);
            ts?.update(part);
            keep?.push(Buffer.from(part));
          }
          e.digest = known?.digest ?? d!.digest();
          e.tarsum = known?.tarsum ?? ts!.digest('hex');
          if (!known) opts.hashes?.set(h, e.digest, e.tarsum);
          else e.statDigest = true;
          e.offset = offset;
          if (keep) small.set(rel, Buffer.concat(keep));
        } else {
          // names as the docker CLI writes them (no "./"): moby hashes the header's name as is, so a context
          // tarred as `tar -C dir -cf - .` would hash differently from the same directory sent by a CLI
          e.tarsum = tarsumHasher({ ...h, name: rel, uname: '', gname: '' }).digest('hex');
        }
        index.set(rel, e);
      }
      await out.end();
    } catch (err) {
      stream.destroy();
      await out.end().catch(() => {});
      throw err;
    } finally {
      await fh.close();
    }
    if (opts.reuse) {
      for (const name of opts.reuse.wanted) {
        if (!index.has(name)) throw invalidArgument(`the build context changed while it was sent: ${name} is missing`, { code: 'CONTEXT_CHANGED' });
      }
      const src = new Map(opts.reuse.backings.map((p, i) => [p, i + 1]));
      for (const [name, f] of opts.reuse.files) {
        if (index.has(name)) continue;
        index.set(name, { type: 'file', mode: f.mode, size: f.size, mtime: f.mtime, digest: f.digest, tarsum: f.tarsum, offset: f.offset, src: src.get(f.backing.path)! });
      }
    }
    let dockerfilePath = dfRel;
    let dockerfile = small.get(dfRel);
    if (!dockerfile && !opts.dockerfile && small.has('dockerfile')) { dockerfilePath = 'dockerfile'; dockerfile = small.get('dockerfile'); }
    if (!dockerfile) throw notFound(`Cannot locate specified Dockerfile: ${requested}`, { code: 'DOCKERFILE_NOT_FOUND' });
    if (dockerfile.length === 0) throw invalidArgument(`the Dockerfile (${requested}) cannot be empty`, { code: 'DOCKERFILE_EMPTY' });
    const specific = `${dockerfilePath}.dockerignore`;
    const file = small.has(specific) ? specific : small.has('.dockerignore') ? '.dockerignore' : '';
    const ignore: IgnoreSource = { patterns: file ? readDockerignore(small.get(file)!.toString('utf8')) : [], file };
    if (ignore.patterns.length) dropExcluded(index, new ContextFilter(ignore.patterns, [dockerfilePath, file]));
    // Most context tars (the docker CLI's too) carry no "./" entry: the extracted root is then 0755 (see
    // directory()), and the index says so, so digests of `COPY . …` agree either way.
    if (!index.has('.')) index.set('.', { type: 'dir', mode: ROOT_MODE, size: 0, mtime: Date.now() / 1000 });
    const ctx = new LazyContext([tarPath, ...(opts.reuse?.backings ?? [])], workDir, index, dockerfile, dockerfilePath, ignore, opts.dockerfile);
    ctx.stats = { start, end: Date.now(), bytes, ignoreBytes: file ? small.get(file)!.length : 0 };
    return ctx;
  }

  /** Releases the descriptor read() keeps open. Safe to call twice; read() reopens if used again. */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  /** The context as a directory (extracted on first call, ignore file applied as receiveContext does). */
  directory(signal?: AbortSignal): Promise<string> {
    this.extracted ??= (async () => {
      const dir = join(this.workDir, 'ctx');
      await mkdir(dir, { recursive: true });
      await chmod(dir, ROOT_MODE);
      // a context merged from several tars is written out from the index (same entries, same order rules)
      const tar = this.backings.length === 1 ? createReadStream(this.backings[0]!) : Readable.from(packTar(this.allEntries()));
      await receiveContext(tar, dir, { dockerfile: this.requestedDockerfile, signal });
      return dir;
    })();
    return this.extracted;
  }

  get isExtracted(): boolean {
    return this.extracted !== undefined;
  }

  /**
   * resolveSources(context, sources) answered from the index: tar-backed SourceInfos (`tar` set), or undefined
   * when the index cannot answer exactly (symlinks, hardlinks, devices on the way, missing paths).
   */
  sourcesFor(sources: readonly string[]): SourceInfo[] | undefined {
    const out: SourceInfo[] = [];
    for (const src of sources) {
      const rel = contextRelative(src);
      if (rel === '..' || rel.startsWith('../')) return undefined;
      let matches: string[];
      if (hasWildcards(rel)) {
        if (src.endsWith('/')) return undefined; // matches nothing (see resolveSources), which the disk path reports
        let m: (n: string) => boolean;
        try { m = compileMatch(rel); } catch { return undefined; }
        matches = this.walkOrder('.').filter((r) => r !== '.' && m(r));
        if (matches.length === 0) return undefined;
      } else {
        matches = [rel];
      }
      for (const r of matches) {
        if (!this.plainPath(r)) return undefined;
        const e = this.index.get(r)!;
        if (e.type === 'dir') {
          for (const sub of this.walkOrder(r)) {
            const t = this.index.get(sub)?.type;
            if (t !== 'dir' && t !== 'file' && t !== 'symlink') return undefined;
          }
        } else if (e.type !== 'file') {
          return undefined;
        }
        out.push({ rel: r, path: '', isDir: e.type === 'dir', tar: this });
      }
    }
    return out;
  }

  /** digestSources(resolveSources(context, sources)) from the index (same bytes), or undefined. */
  digestFor(sources: readonly string[]): Digest | undefined {
    const found = this.sourcesFor(sources);
    if (!found) return undefined;
    const lines: string[] = [];
    for (const s of found) {
      const e = this.index.get(s.rel)!;
      lines.push(`source ${JSON.stringify(s.rel)}`);
      if (e.type === 'dir') {
        for (const sub of this.walkOrder(s.rel)) {
          const inner = sub === s.rel ? '' : s.rel === '.' ? sub : sub.slice(s.rel.length + 1);
          const x = this.index.get(sub)!;
          const perm = x.mode.toString(8);
          if (x.type === 'dir') lines.push(`${JSON.stringify(inner)} d ${perm}`);
          else if (x.type === 'file') lines.push(`${JSON.stringify(inner)} f ${perm} ${x.size} ${x.digest}`);
          else lines.push(`${JSON.stringify(inner)} l ${perm} ${JSON.stringify(x.linkname ?? '')}`);
        }
      } else {
        lines.push(`"" f ${e.mode.toString(8)} ${e.size} ${e.digest}`);
      }
    }
    return digestOf(lines.join('\n'));
  }

  /**
   * The classic builder's history hash of `sources` (`file:…`, `dir:…`, `multi:…`; see tarsum.ts), or
   * undefined when the index cannot answer (then the caller hashes the extracted files).
   */
  classicHash(sources: readonly string[]): string | undefined {
    const found = this.sourcesFor(sources);
    if (!found) return undefined;
    const hashOf = (rel: string): string => {
      let e = this.index.get(rel);
      // moby's Hash follows a symlink to what it points at (inside the context)
      for (let hops = 0; e?.type === 'symlink' && hops < 16; hops++) {
        const base = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
        rel = contextRelative(e.linkname!.startsWith('/') ? e.linkname! : `${base}/${e.linkname}`);
        e = this.index.get(rel);
      }
      return e?.tarsum ?? rel;
    };
    return sourcesHash(found.map((s) => {
      if (!s.isDir) return `file:${hashOf(s.rel)}`;
      return dirHash(this.walkOrder(s.rel).filter((r) => r !== '.').map(hashOf));
    }));
  }

  /** An indexed entry's metadata (for tar-backed copies); `digest`: a file's content sha256 (hashed from its bytes). */
  stat(rel: string): { type: EntryType; mode: number; size: number; mtime: number; linkname?: string; digest?: Digest } | undefined {
    const e = this.index.get(rel);
    return e?.statDigest ? { ...e, digest: undefined } : e;
  }

  /** A file's bytes, read from the tar in place. */
  async *read(rel: string): AsyncGenerator<Buffer> {
    const e = this.index.get(rel);
    if (!e || e.type !== 'file' || e.offset === undefined) throw invalidArgument(`${rel}: not a file of the build context`);
    if (e.size === 0) return;
    if (e.size <= SYNC_READ) {
      // Small files (the many of a source tree) in one synchronous positioned read from the page cache: a read
      // stream per file cost several thread-pool round trips each (~1 s for 2,000 files under load)
      // (one descriptor kept for all of them; close() releases it)
      const buf = Buffer.allocUnsafe(e.size);
      const src = e.src ?? 0;
      let fd = this.fds.get(src);
      if (fd === undefined) { fd = openSync(this.backings[src]!, 'r'); this.fds.set(src, fd); }
      for (let done = 0; done < e.size;) {
        const n = readSync(fd, buf, done, e.size - done, e.offset + done);
        if (n === 0) throw truncated();
        done += n;
      }
      yield buf;
      return;
    }
    yield* createReadStream(this.backings[e.src ?? 0]!, { start: e.offset, end: e.offset + e.size - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
  }

  /**
   * The tar entries of directory `rel`'s contents under `prefix`, as archive.directoryEntries would write them
   * from the extracted directory: byte-sorted pre-order, `header` adjusted by `shape` (owner, mode, mtime).
   */
  async *dirEntries(rel: string, prefix: string, shape: (h: TarHeader) => TarHeader): AsyncGenerator<PackEntry & { digest?: Digest }> {
    const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const visit = async function* (this: LazyContext, dir: string): AsyncGenerator<PackEntry & { digest?: Digest }> {
      for (const name of [...(this.children.get(dir) ?? [])].sort(byBytes)) {
        const child = dir === '.' ? name : `${dir}/${name}`;
        const e = this.index.get(child)!;
        const inner = rel === '.' ? child : child.slice(rel.length + 1);
        const h: TarHeader = { name: prefix ? `${prefix}/${inner}` : inner, type: e.type, mode: e.mode, uid: 0, gid: 0, size: 0, mtime: Math.floor(e.mtime) };
        if (e.type === 'file') { h.size = e.size; yield { header: shape(h), body: this.read(child), ...(e.digest && !e.statDigest ? { digest: e.digest } : {}) }; }
        else if (e.type === 'symlink') { h.linkname = e.linkname ?? ''; yield { header: shape(h) }; }
        else { yield { header: shape(h) }; yield* visit.call(this, child); }
      }
    };
    yield* visit.call(this, rel);
  }

  /** The context's regular files with what the context sync keeps of them (see sync.ts). */
  *heldFiles(): Generator<[string, HeldFile]> {
    for (const [rel, e] of this.index) {
      if (e.type !== 'file' || e.offset === undefined || !e.digest || !e.tarsum || e.statDigest) continue;
      yield [rel, { size: e.size, mode: e.mode, mtime: e.mtime, digest: e.digest, tarsum: e.tarsum, offset: e.offset, backing: this.backings[e.src ?? 0]! }];
    }
  }

  /** The whole (filtered) context as tar entries, for extracting a context merged from several tars. */
  private async *allEntries(): AsyncGenerator<PackEntry> {
    const all = [...this.index.keys()].filter((r) => r !== '.').sort();
    for (const rel of all) {
      const e = this.index.get(rel)!;
      const h: TarHeader = { name: e.type === 'dir' ? `${rel}/` : rel, type: e.type, mode: e.mode, uid: 0, gid: 0, size: e.type === 'file' ? e.size : 0, mtime: Math.floor(e.mtime) };
      if (e.linkname !== undefined) h.linkname = e.linkname;
      yield e.type === 'file' ? { header: h, body: this.read(rel) } : { header: h };
    }
  }

  /** Every ancestor of `rel` is an indexed directory and `rel` itself is indexed (no symlinks on the way). */
  private plainPath(rel: string): boolean {
    if (!this.index.has(rel)) return false;
    if (rel === '.') return true;
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) if (this.index.get(parts.slice(0, i).join('/'))?.type !== 'dir') return false;
    return true;
  }

  /**
   * Pre-order walk from `rel`, children in JS string order (as digestSources' readdir().sort()) — the order the
   * constructor built `children` in (siblings' full paths compare as their names do).
   */
  private walkOrder(rel: string): string[] {
    const out: string[] = [rel];
    for (const name of this.children.get(rel) ?? []) {
      const child = rel === '.' ? name : `${rel}/${name}`;
      if (this.index.get(child)?.type === 'dir') out.push(...this.walkOrder(child));
      else out.push(child);
    }
    return out;
  }
}

/** Removes what the ignore rules exclude, as removeExcluded does on disk. */
function dropExcluded(index: Map<string, IndexEntry>, filter: ContextFilter): void {
  const keep = new Set<string>(['.']);
  for (const rel of index.keys()) {
    if (rel === '.' || filter.excluded(rel)) continue;
    const parts = rel.split('/');
    let skipped = false;
    for (let i = 1; i < parts.length && !skipped; i++) skipped = filter.canSkipDir(parts.slice(0, i).join('/'));
    if (skipped) continue;
    for (let i = 1; i <= parts.length; i++) keep.add(parts.slice(0, i).join('/'));
  }
  for (const rel of [...index.keys()]) if (!keep.has(rel)) index.delete(rel);
}
