// COPY/ADD without a container: the step's layer is assembled in a staging directory that holds exactly the
// files the layer adds (plus the destination's parent directories, with the metadata they have in the image,
// so `COPY x /tmp/` keeps /tmp's 1777), then tarred (archive.tarDirectory: byte-sorted, mtimes clamped for
// SOURCE_DATE_EPOCH), streamed into the content store uncompressed (blob digest = diffID) and unpacked as the
// next snapshot. Nothing is held in memory but one file chunk.
import { chmod, copyFile, lchown, lstat, mkdir, readdir, readlink, symlink, utimes, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { CopyOp } from '../context/copy.ts';
import { ChainView, parentsOf } from './view.ts';
import { tarDirectory, directoryEntries, packTar, TarUsage, type PackEntry, type TarHeader } from '../../archive/index.ts';
import type { ContentStore } from '../../content/index.ts';
import type { Snapshotter } from '../../snapshot/index.ts';
import { chainIds } from '../../image/index.ts';
import type { Digest } from '../../digest/index.ts';
import { MT } from '../../images/index.ts';
import type { LayerFiles } from './reuse.ts';

/** A layer entry, with its content's digest when known (then its snapshot file may be a hardlink, reuse.ts). */
export type DigestedEntry = PackEntry & { digest?: Digest };

export interface StagingOptions {
  /** Where the layer's tree is built (an empty directory). */
  staging: string;
  /** The parent image's filesystem. */
  view: ChainView;
  ops: CopyOp[];
  /** Owner of copied entries and of directories created for them (default 0:0). */
  owner?: { uid: number; gid: number };
  /** --chmod for copied entries. */
  mode?: number;
  signal?: AbortSignal;
}

const canChown = process.getuid?.() === 0;
async function own(p: string, uid: number, gid: number): Promise<void> {
  if (canChown) await lchown(p, uid, gid);
}

/** Fills `staging` with what the ops add. */
export async function stageCopy(o: StagingOptions): Promise<void> {
  const owner = o.owner ?? { uid: 0, gid: 0 };
  const made = new Set<string>();
  const inStaging = (abs: string): string => join(o.staging, ...abs.split('/').filter(Boolean));

  // Parents as they are in the image (or 0755 + owner when new), created top-down once.
  const ensureParents = async (abs: string): Promise<void> => {
    for (const p of parentsOf(abs)) {
      if (made.has(p)) continue;
      made.add(p);
      const target = inStaging(p);
      const hit = await o.view.lstat(p);
      await mkdir(target, { recursive: true });
      if (hit?.stat.isDirectory()) {
        await chmod(target, hit.stat.mode & 0o7777);
        await own(target, hit.stat.uid, hit.stat.gid);
        await utimes(target, hit.stat.atime, hit.stat.mtime);
      } else {
        await chmod(target, 0o755);
        await own(target, owner.uid, owner.gid);
      }
    }
  };

  for (const op of o.ops) {
    o.signal?.throwIfAborted();
    // Symlinks in the destination's directories resolve inside the image, as docker does.
    const parent = await o.view.resolve(posix.dirname(op.to));
    const dest = op.kind === 'dir' ? await o.view.resolve(op.to) : posix.join(parent, posix.basename(op.to));
    await ensureParents(dest === '/' ? '/x' : dest);
    const target = dest === '/' ? o.staging : inStaging(dest);
    switch (op.kind) {
      case 'file': {
        const st = await lstat(op.from);
        await copyFile(op.from, target);
        await finish(target, o.mode ?? st.mode & 0o7777, owner, st.mtime);
        break;
      }
      case 'content':
        await writeFile(target, op.data);
        await finish(target, o.mode ?? 0o644, owner);
        break;
      case 'dir': {
        const st = await lstat(op.from);
        await mkdir(target, { recursive: true });
        made.add(dest);
        await copyTree(op.from, target, owner, o.mode, o.signal);
        await finish(target, o.mode ?? st.mode & 0o7777, owner, st.mtime);
        break;
      }
    }
  }
}

async function finish(p: string, mode: number, owner: { uid: number; gid: number }, mtime?: Date): Promise<void> {
  await own(p, owner.uid, owner.gid);
  await chmod(p, mode);
  if (mtime) await utimes(p, mtime, mtime);
}

/** Copies the contents of `from` into `to` (both directories): files, dirs, symlinks (not followed). */
async function copyTree(from: string, to: string, owner: { uid: number; gid: number }, mode: number | undefined, signal?: AbortSignal): Promise<void> {
  for (const name of await readdir(from)) {
    signal?.throwIfAborted();
    const src = join(from, name);
    const dst = join(to, name);
    const st = await lstat(src);
    if (st.isDirectory()) {
      await mkdir(dst, { recursive: true });
      await copyTree(src, dst, owner, mode, signal);
      await finish(dst, mode ?? st.mode & 0o7777, owner, st.mtime);
    } else if (st.isSymbolicLink()) {
      await symlink(await readlink(src), dst);
      if (canChown) await lchown(dst, owner.uid, owner.gid);
    } else if (st.isFile()) {
      await copyFile(src, dst);
      await finish(dst, mode ?? st.mode & 0o7777, owner, st.mtime);
    }
    // Sockets, fifos and devices in a build context are skipped, as they cannot be copied meaningfully.
  }
}

export interface CommittedLayer {
  digest: Digest;
  diffId: Digest;
  size: number;
  mediaType: string;
  /** ChainID of the new top of the stack. */
  chainId: Digest;
  /** The layer's size as docker reports it (unpacked bytes, src/archive TarUsage), for LayerRecord.uncompressedSize. */
  used: number;
}

/** Passes a layer tar through while TarUsage measures it (one pass, nothing buffered). */
export async function* measured(src: AsyncIterable<Uint8Array>, usage: TarUsage): AsyncGenerator<Uint8Array> {
  for await (const c of src) { usage.update(c); yield c; }
}

/**
 * Tars `dir` into the content store (uncompressed) and unpacks it as the snapshot on top of `parentChain`
 * (chainIDs, bottom-first). `mtimeClamp` is SOURCE_DATE_EPOCH in seconds.
 */
export async function commitDirectory(
  dir: string, content: ContentStore, snapshots: Snapshotter, parentDiffIds: readonly Digest[], opts: { mtimeClamp?: number; signal?: AbortSignal } = {},
): Promise<CommittedLayer> {
  const usage = new TarUsage();
  const info = await content.put(measured(tarDirectory(dir, { mtimeClamp: opts.mtimeClamp }), usage));
  const diffIds = [...parentDiffIds, info.digest];
  const ids = chainIds(diffIds);
  const chainId = ids[ids.length - 1]!;
  const parent = ids.length > 1 ? ids[ids.length - 2] : undefined;
  if (!(await snapshots.has(chainId))) {
    await snapshots.unpack({ chainId, parent, diffId: info.digest, source: await content.createReadStream(info.digest), signal: opts.signal });
  }
  return { digest: info.digest, diffId: info.digest, size: info.size, mediaType: MT.ociLayer, chainId, used: usage.size() };
}

export interface StreamCopyOptions {
  view: ChainView;
  ops: CopyOp[];
  owner?: { uid: number; gid: number };
  mode?: number;
  /** SOURCE_DATE_EPOCH (seconds). */
  mtimeClamp?: number;
}

/**
 * The layer tar of a COPY as entries, read straight from the sources (no staging copy): the destination's
 * parent directories with their metadata from the image (new ones 0755 + owner), then each op's entries under
 * its destination. Same content as stageCopy + tarDirectory, in op order.
 */
export async function* copyEntries(o: StreamCopyOptions): AsyncGenerator<DigestedEntry> {
  if (o.ops.length < 2) { yield* opEntries(o); return; }
  // Several sources: one tree, as docker's layer (a diff walked in name order) has it — each directory once,
  // entries sorted by path components. Only headers are held; bodies are read when the tar is written.
  const all = new Map<string, DigestedEntry>();
  for await (const e of opEntries(o)) if (!(e.header.type === 'dir' && all.has(e.header.name))) all.set(e.header.name, e);
  const key = (n: string): string[] => n.split('/');
  const cmp = (a: string, b: string): number => {
    const x = key(a); const y = key(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const c = Buffer.compare(Buffer.from(x[i]!), Buffer.from(y[i]!));
      if (c) return c;
    }
    return x.length - y.length;
  };
  for (const name of [...all.keys()].sort(cmp)) yield all.get(name)!;
}

async function* opEntries(o: StreamCopyOptions): AsyncGenerator<DigestedEntry> {
  const owner = o.owner ?? { uid: 0, gid: 0 };
  const clamp = (t: number): number => Math.floor(o.mtimeClamp !== undefined ? Math.min(t, o.mtimeClamp) : t);
  const emitted = new Set<string>();
  const rel = (abs: string): string => abs.split('/').filter(Boolean).join('/');
  const now = Date.now() / 1000;
  async function* parents(abs: string): AsyncGenerator<PackEntry> {
    for (const p of parentsOf(abs)) {
      if (emitted.has(p)) continue;
      emitted.add(p);
      const hit = await o.view.lstat(p);
      const st = hit?.stat.isDirectory() ? hit.stat : undefined;
      yield { header: {
        name: rel(p), type: 'dir', mode: st ? st.mode & 0o7777 : 0o755, uid: st ? st.uid : owner.uid, gid: st ? st.gid : owner.gid,
        size: 0, mtime: clamp(st ? st.mtimeMs / 1000 : now),
      } };
    }
  }
  // A directory copied into one the image already has keeps the image's metadata (docker: COPY dir/ /tmp/
  // leaves /tmp 1777), as the copy only adds to it.
  const existingDir = async (abs: string): Promise<PackEntry | undefined> => {
    const hit = await o.view.lstat(abs);
    if (!hit?.stat.isDirectory()) return undefined;
    const st = hit.stat;
    return { header: { name: rel(abs), type: 'dir', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: 0, mtime: clamp(st.mtimeMs / 1000) } };
  };
  const withMode = (h: TarHeader): TarHeader => (o.mode !== undefined && h.type !== 'symlink' && h.type !== 'link' ? { ...h, mode: o.mode } : h);
  for (const op of o.ops) {
    const parent = await o.view.resolve(posix.dirname(op.to));
    const dest = op.kind === 'dir' ? await o.view.resolve(op.to) : posix.join(parent, posix.basename(op.to));
    yield* parents(dest === '/' ? '/x' : dest);
    const name = rel(dest);
    if (op.kind === 'content') {
      const data = Buffer.from(op.data);
      yield { header: { name, type: 'file', mode: o.mode ?? 0o644, uid: owner.uid, gid: owner.gid, size: data.length, mtime: clamp(now) }, body: data };
    } else if (op.src?.tar) {
      // Straight from the received context tar: no extracted file is needed.
      const t = op.src.tar;
      const e = t.stat(op.src.rel)!;
      const shape = (h: TarHeader): TarHeader => withMode({ ...h, uid: owner.uid, gid: owner.gid, mtime: clamp(h.mtime) });
      if (op.kind === 'file') {
        yield { header: shape({ name, type: 'file', mode: e.mode, uid: 0, gid: 0, size: e.size, mtime: e.mtime }), body: t.read(op.src.rel), ...(e.digest ? { digest: e.digest } : {}) };
      } else {
        if (name !== '' && !emitted.has(dest)) {
          emitted.add(dest);
          yield (await existingDir(dest)) ?? { header: shape({ name, type: 'dir', mode: e.mode, uid: 0, gid: 0, size: 0, mtime: e.mtime }) };
        }
        yield* t.dirEntries(op.src.rel, name, shape);
      }
    } else if (op.kind === 'file') {
      const st = await lstat(op.from);
      yield { header: withMode({ name, type: 'file', mode: st.mode & 0o7777, uid: owner.uid, gid: owner.gid, size: st.size, mtime: clamp(st.mtimeMs / 1000) }), body: { path: op.from } };
    } else {
      const st = await lstat(op.from);
      if (name !== '' && !emitted.has(dest)) {
        emitted.add(dest);
        yield (await existingDir(dest)) ?? { header: withMode({ name, type: 'dir', mode: st.mode & 0o7777, uid: owner.uid, gid: owner.gid, size: 0, mtime: clamp(st.mtimeMs / 1000) }) };
      }
      for await (const e of directoryEntries(op.from, { prefix: name, owner, mtimeClamp: o.mtimeClamp, xattrs: false })) {
        if (e.header.name === name) continue; // the directory itself went out above, with its source's metadata
        yield { ...e, header: withMode(e.header) };
      }
    }
  }
}

/**
 * Like commitDirectory, for a stream of tar entries. With `reuse`, the snapshot hardlinks files earlier layers
 * hold with the same bytes and metadata, and this layer's files are recorded for later ones.
 */
export async function commitEntries(
  entries: AsyncIterable<DigestedEntry>, content: ContentStore, snapshots: Snapshotter, parentDiffIds: readonly Digest[], signal?: AbortSignal,
  reuse?: LayerFiles,
): Promise<CommittedLayer> {
  const usage = new TarUsage();
  const digests = new Map<string, Digest>();
  async function* noting(): AsyncGenerator<PackEntry> {
    for await (const e of entries) {
      if (e.digest && e.header.type === 'file') digests.set(e.header.name.replace(/^\/+/, ''), e.digest);
      yield e;
    }
  }
  const info = await content.put(measured(packTar(reuse ? noting() : entries), usage));
  const ids = chainIds([...parentDiffIds, info.digest]);
  const chainId = ids[ids.length - 1]!;
  if (!(await snapshots.has(chainId))) {
    await snapshots.unpack({
      chainId, parent: ids.length > 1 ? ids[ids.length - 2] : undefined, diffId: info.digest,
      source: await content.createReadStream(info.digest), signal,
      ...(reuse ? { reuse: (rel: string, h: TarHeader) => reuse.find(digests.get(rel), h) } : {}),
    });
  }
  reuse?.record(snapshots.fsPath(chainId), digests);
  return { digest: info.digest, diffId: info.digest, size: info.size, mediaType: MT.ociLayer, chainId, used: usage.size() };
}

/** Does the directory hold anything? (An empty staging dir still makes a valid, empty layer.) */
export async function isEmptyDir(dir: string): Promise<boolean> {
  return (await readdir(dir)).length === 0;
}

export { ChainView };
