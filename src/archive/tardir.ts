// Directory → layer tar: `tarDirectory` for commit/build/export (deterministic: byte-sorted walk, pre-order,
// optional mtime clamp for SOURCE_DATE_EPOCH, id mapping) and `diffDirectory`, which reads an overlay
// upperdir and writes overlay's whiteout markers back as the tar whiteouts of the image spec:
// a 0/0 character device → `.wh.NAME`, a directory with trusted.overlay.opaque=y → `DIR/.wh..wh..opq`.
import { lstat, readdir, readlink } from 'node:fs/promises';
import * as fs from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { packTar, type PackEntry } from './writer.ts';
import type { TarHeader, EntryType } from './header.ts';
import { readXattrsTree } from './sysutil.ts';
import { haveTool } from './compression.ts';
import { WHITEOUT_PREFIX, WHITEOUT_OPAQUE, OVERLAY_OPAQUE_XATTR, type IdMapping } from './apply.ts';

export interface TarDirectoryOptions {
  /** Clamp every mtime to at most this many seconds since the epoch (SOURCE_DATE_EPOCH). */
  mtimeClamp?: number;
  /** Maps host ids to the ids written into the tar (reverse of a userns remap). */
  idMap?: IdMapping;
  /** Forces every entry's owner (e.g. 0:0 for COPY without --chown when building rootless). */
  owner?: { uid: number; gid: number };
  /** Include extended attributes (default: when getfattr is installed; trusted/user.overlay.* never). */
  xattrs?: boolean;
  /** Emit a "./" entry for the directory itself (docker's layers do not; `docker export`-style tars may). */
  includeRoot?: boolean;
  /** Prefix put before every name (e.g. a COPY destination), without a trailing slash. */
  prefix?: string;
  /** Return false to leave a path (relative, '/'-separated) out; a directory left out loses its subtree. */
  filter?: (rel: string, type: EntryType) => boolean;
  /**
   * Names owner 0 "root" (uname and gname) and leaves other owners numeric: what dockerd's docker cp/export tars
   * carry, measured against dockerd 20.10 (uid 1000 stays numeric even where the host names it).
   */
  rootNames?: boolean;
  /**
   * Entries by relative path that the tar shows as given: added in walk order when the path is missing on disk,
   * or overriding the stat'ed header fields when it exists (docker export's init-layer files).
   */
  overlay?: Map<string, Omit<TarHeader, 'name'>>;
}

const BATCH = 64;
const PREFETCH_MAX = 64 * 1024;

function lstatCb(p: string): Promise<Stats> {
  return new Promise((res, rej) => fs.lstat(p, (e, st) => (e ? rej(e) : res(st))));
}

/** Reads a small file whole: `size` bytes (a file that shrank comes back short and the writer refuses it). */
function readSmall(p: string, size: number): Promise<Buffer> {
  return new Promise((res, rej) => fs.open(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW, (e, fd) => {
    if (e) { rej(e); return; }
    const buf = Buffer.allocUnsafe(size);
    if (size === 0) { fs.close(fd, () => res(buf)); return; }
    let got = 0;
    const step = (): void => fs.read(fd, buf, got, buf.length - got, null, (e2, n) => {
      if (e2) { fs.close(fd, () => rej(e2)); return; }
      got += n;
      if (n === 0 || got === buf.length) { fs.close(fd, () => res(buf.subarray(0, got))); return; }
      step();
    });
    step();
  }));
}

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

function major(rdev: number): number { return Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn); }
function minor(rdev: number): number { return Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & 0xfff00n); }

async function* walk(dir: string, opts: TarDirectoryOptions, diff: boolean): AsyncGenerator<PackEntry> {
  // Without getfattr a plain tar simply carries no xattrs; an overlay diff cannot do without (opaque dirs).
  const xattrs = opts.xattrs === false || (!diff && opts.xattrs === undefined && !haveTool('getfattr'))
    ? new Map<string, Map<string, Buffer>>() : await readXattrsTree(dir);
  const links = new Map<string, string>();
  const prefix = opts.prefix ? opts.prefix.replace(/^\/+|\/+$/g, '') : '';
  const named = (rel: string) => (prefix ? (rel ? `${prefix}/${rel}` : prefix) : rel);
  const clamp = (t: number) => Math.floor(opts.mtimeClamp !== undefined ? Math.min(t, opts.mtimeClamp) : t);
  const overlay = opts.overlay ?? new Map<string, Omit<TarHeader, 'name'>>();
  const withNames = (h: TarHeader): TarHeader => {
    if (opts.rootNames && h.uid === 0) h.uname = 'root';
    if (opts.rootNames && h.gid === 0) h.gname = 'root';
    return h;
  };

  function header(rel: string, st: Stats, type: EntryType): TarHeader {
    const uid = opts.owner ? opts.owner.uid : opts.idMap ? opts.idMap.uid(Number(st.uid)) : Number(st.uid);
    const gid = opts.owner ? opts.owner.gid : opts.idMap ? opts.idMap.gid(Number(st.gid)) : Number(st.gid);
    const h: TarHeader = withNames({ name: named(rel), type, mode: Number(st.mode) & 0o7777, uid, gid, size: 0, mtime: clamp(Number(st.mtimeMs) / 1000) });
    const x = xattrs.get(rel);
    if (x) {
      const kept = new Map([...x].filter(([k]) => !k.startsWith('trusted.overlay.') && !k.startsWith('user.overlay.')));
      if (kept.size) h.xattrs = kept;
    }
    return h;
  }

  async function* visit(rel: string): AsyncGenerator<PackEntry> {
    const abs = rel ? join(dir, rel) : dir;
    const onDisk = await readdir(abs);
    const here = new Set(onDisk);
    const added: string[] = [];
    for (const k of overlay.keys()) {
      const slash = k.lastIndexOf('/');
      const parent = slash < 0 ? '' : k.slice(0, slash);
      if (parent === rel && !here.has(k.slice(slash + 1))) added.push(k.slice(slash + 1));
    }
    const names = [...onDisk, ...added].sort(byBytes);
    // lstat a batch of names at once and prefetch small files' contents: the thread pool works ahead of the
    // consumer, bounded to BATCH × PREFETCH_MAX bytes.
    for (let b = 0; b < names.length; b += BATCH) {
      const batch = names.slice(b, b + BATCH);
      const stats = await Promise.all(batch.map((n) => (here.has(n) ? lstatCb(join(abs, n)) : undefined)));
      const bodies = stats.map((st, i) => (st && st.isFile() && st.size <= PREFETCH_MAX && st.nlink === 1
        ? readSmall(join(abs, batch[i]!), Number(st.size)) : undefined));
      // Never leave a prefetch rejection unhandled when an earlier entry throws.
      for (const pr of bodies) pr?.catch(() => {});
      for (let i = 0; i < batch.length; i++) {
        const name = batch[i]!;
        const r = rel ? `${rel}/${name}` : name;
        const over = overlay.get(r);
        const st = stats[i];
        if (!st || (over && over.type !== 'dir')) {
          // an overlay entry stands for the path whole (a directory on disk keeps its walk)
          if (over && (!opts.filter || opts.filter(r, over.type))) yield { header: withNames({ ...over, name: named(r) }) };
          continue;
        }
        const p = join(abs, name);
        let type: EntryType;
        if (st.isDirectory()) type = 'dir';
        else if (st.isFile()) type = 'file';
        else if (st.isSymbolicLink()) type = 'symlink';
        else if (st.isCharacterDevice()) type = 'char';
        else if (st.isBlockDevice()) type = 'block';
        else if (st.isFIFO()) type = 'fifo';
        else continue; // sockets are not archived (as docker)
        if (opts.filter && !opts.filter(r, type)) continue;
        if (diff && type === 'char' && Number(st.rdev) === 0) {
          const h = header(rel ? `${rel}/${WHITEOUT_PREFIX}${name}` : `${WHITEOUT_PREFIX}${name}`, st, 'file');
          h.mode = 0o600;
          delete h.xattrs;
          yield { header: h };
          continue;
        }
        const h = header(r, st, type);
        if (type === 'file' && st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          const first = links.get(key);
          if (first !== undefined) {
            yield { header: { ...h, type: 'link', linkname: named(first), size: 0 } };
            continue;
          }
          links.set(key, r);
        }
        switch (type) {
          case 'file':
            h.size = Number(st.size);
            yield { header: h, body: bodies[i] ? await bodies[i]! : { path: p } };
            break;
          case 'symlink':
            h.linkname = await readlink(p);
            yield { header: h };
            break;
          case 'char': case 'block':
            h.devmajor = major(Number(st.rdev));
            h.devminor = minor(Number(st.rdev));
            yield { header: h };
            break;
          case 'dir': {
            const opaque = diff && xattrs.get(r)?.get(OVERLAY_OPAQUE_XATTR)?.toString() === 'y';
            yield { header: over ? withNames({ ...over, name: h.name }) : h };
            if (opaque) yield { header: { ...header(`${r}/${WHITEOUT_OPAQUE}`, st, 'file'), mode: Number(st.mode) & 0o777 } };
            yield* visit(r);
            break;
          }
          default:
            yield { header: h };
        }
      }
    }
  }

  if (opts.includeRoot || prefix) {
    const st = await lstat(dir);
    const h = header('', st, 'dir');
    if (!prefix) h.name = './';
    if (h.name) yield { header: h };
  }
  yield* visit('');
}

/** A tar stream of `dir`'s contents (names relative to it), deterministic for the same tree and options. */
export function tarDirectory(dir: string, opts: TarDirectoryOptions = {}): Readable {
  return Readable.from(packTar(walk(dir, opts, false)), { objectMode: false, highWaterMark: 256 * 1024 });
}

/** The layer tar of an overlay upperdir: its files plus image-spec whiteouts for overlay's markers. */
export function diffDirectory(upperDir: string, opts: TarDirectoryOptions = {}): Readable {
  return Readable.from(packTar(walk(upperDir, opts, true)), { objectMode: false, highWaterMark: 256 * 1024 });
}

/** The entries `tarDirectory` / `diffDirectory` would write, for callers that pack them with others. */
export function directoryEntries(dir: string, opts: TarDirectoryOptions = {}, diff = false): AsyncGenerator<PackEntry> {
  return walk(dir, opts, diff);
}
