// The streaming pieces of LazyContext.receive: an exact reader over the request body that also hands every
// chunk to the on-disk copy, a batched appender for that copy, a scanner of tar entries as they stream past,
// and the stat-keyed cache of context file digests kept across builds.
import type { FileHandle } from 'node:fs/promises';
import { decodeBlock, finishHeader, isMetaFlag, isZeroBlock, parsePax, BLOCK, type TarHeader } from '../../archive/index.ts';
import type { Digest } from '../../digest/index.ts';
import { invalidArgument } from '../../errors/index.ts';

/**
 * Reads a stream exactly: `exact(n)` for headers, `slices(n)` for bodies (no copies), `skip(n)` for padding.
 * Every chunk is also handed to `sink` once, in order (the copy of the tar kept on disk).
 */
export class ByteReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private done = false;
  pos = 0;

  constructor(private readonly it: AsyncIterator<Buffer>, private readonly sink: (b: Buffer) => Promise<void> | void) {}

  private async more(): Promise<boolean> {
    if (this.done) return false;
    const n = await this.it.next();
    if (n.done) { this.done = true; return false; }
    const chunk = Buffer.isBuffer(n.value) ? n.value : Buffer.from(n.value);
    const w = this.sink(chunk);
    if (w) await w;
    this.chunks.push(chunk);
    this.have += chunk.length;
    return true;
  }

  /** Up to n bytes from the first buffered chunk (reading one when none is). */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    const out = n >= first.length ? first : first.subarray(0, n);
    if (out === first) this.chunks.shift(); else this.chunks[0] = first.subarray(n);
    this.have -= out.length;
    this.pos += out.length;
    return out;
  }

  /** n bytes, or fewer only at the end of the stream. */
  async exact(n: number): Promise<Buffer> {
    while (this.have < n && (await this.more()));
    if (!this.have) return Buffer.alloc(0);
    if (this.chunks[0]!.length >= n) return this.take(n);
    const parts: Buffer[] = [];
    for (let left = Math.min(n, this.have); left > 0;) { const b = this.take(left); parts.push(b); left -= b.length; }
    return Buffer.concat(parts);
  }

  async *slices(n: number): AsyncGenerator<Buffer> {
    while (n > 0) {
      if (!this.have && !(await this.more())) throw truncated();
      const out = this.take(n);
      n -= out.length;
      yield out;
    }
  }

  async skip(n: number): Promise<void> {
    while (n > 0) {
      if (!this.have && !(await this.more())) throw truncated();
      n -= this.take(n).length;
    }
  }

  /** Reads (and passes to the sink) whatever follows, e.g. the end-of-archive blocks. */
  async drain(): Promise<void> {
    this.chunks = [];
    this.have = 0;
    while (await this.more()) { this.chunks = []; this.have = 0; }
  }
}

/**
 * Appends to a file in ~1 MiB writev batches with one write in flight: a write per 64 KiB request chunk
 * (a WriteStream) cost more main-thread time than the hashing.
 */
export class BatchWriter {
  private batch: Buffer[] = [];
  private size = 0;
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(private readonly fh: FileHandle) {}

  async write(b: Buffer): Promise<void> {
    this.batch.push(b);
    this.size += b.length;
    if (this.size >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    await this.inFlight;
    const batch = this.batch;
    this.batch = [];
    this.size = 0;
    if (batch.length) this.inFlight = this.fh.writev(batch);
  }

  async end(): Promise<void> {
    await this.flush();
    await this.inFlight;
  }
}

/**
 * Content digests of context files seen before, keyed by (path, size, mtime, mode) as the tar header gives
 * them, so a no-change rebuild does not hash the context again (BuildKit's local source keeps a similar
 * stat-keyed cache). The trade-off: a file rewritten with the same size, mode and (whole-second) mtime would
 * keep its old digest. As git does against "racy" index entries, a digest is trusted only for files whose
 * mtime is at least 2 s older than the moment the digest was taken, so an edit right after a build is always
 * seen; only a deliberate mtime reset (touch -d, an extraction keeping old mtimes) with the same size can
 * fool it, and `--no-cache` does not consult it either. Bounded: the oldest entries go beyond `max`.
 */
export class ContextHashCache {
  private readonly map = new Map<string, { digest: Digest; tarsum: string; at: number }>();

  constructor(private readonly max = 200_000) {}

  /** `h`'s identity: everything the two digests depend on except the bytes (mtime standing in for them). */
  private static key(h: TarHeader): string {
    return `${h.size}\0${h.mtime}\0${h.mode}\0${h.uid}:${h.gid}\0${h.name}`;
  }

  get(h: TarHeader): { digest: Digest; tarsum: string } | undefined {
    if (h.xattrs?.size) return undefined;
    const hit = this.map.get(ContextHashCache.key(h));
    return hit && h.mtime <= hit.at - 2 ? hit : undefined;
  }

  set(h: TarHeader, digest: Digest, tarsum: string): void {
    const k = ContextHashCache.key(h);
    this.map.delete(k);
    this.map.set(k, { digest, tarsum, at: Date.now() / 1000 });
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
}

export const truncated = () => invalidArgument('unexpected end of the build context archive', { code: 'CONTEXT_TRUNCATED' });

/**
 * The tar's entries as they stream past: header, where its data starts, and its body (which the caller must
 * consume or skip before asking for the next entry).
 */
export async function* scanTar(r: ByteReader): AsyncGenerator<{ header: TarHeader; offset: number; body: AsyncGenerator<Buffer> }> {
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await r.exact(BLOCK);
    if (block.length < BLOCK || isZeroBlock(block)) { await r.drain(); return; }
    const raw = decodeBlock(block);
    if (isMetaFlag(raw.typeflag)) {
      const body = Buffer.from(await r.exact(raw.size));
      if (body.length !== raw.size) throw truncated();
      await r.skip(pad(raw.size));
      if (raw.typeflag === 'x') pax = parsePax(body, pax);
      else if (raw.typeflag === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
      else if (raw.typeflag === 'K') longLink = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    const dataLen = Number(pax?.get('size')?.toString('latin1') ?? raw.size);
    const header = finishHeader(raw, pax, longName, longLink);
    pax = undefined; longName = undefined; longLink = undefined;
    const body = r.slices(dataLen);
    yield { header, offset: r.pos, body };
    for await (const _ of body) void _; // whatever the caller left
    await r.skip(pad(dataLen));
  }
}

export const pad = (n: number): number => (BLOCK - (n % BLOCK)) % BLOCK;
