// Unpacked layers keyed by chainID, shared by every image and container (DESIGN.md "The store").
//
// snapshots/
//   <chain hex>/fs            the layer's files, whiteouts as overlayfs markers (an overlay lowerdir)
//   <chain hex>/meta.json     SnapshotInfo (written last: a directory without it is not a snapshot);
//                             read-only once the file system was synced after the commit (durable.ts)
//   l/<short id> -> ../<chain hex>/fs
//                             short names so that 100+ lowerdirs fit in one page of mount options (as podman's l/)
//   .empty/                   the lowerdir of an image without layers
//   .tmp-<random>/            an unpack in progress; removed on failure and by cleanup()
//
// Snapshots are immutable once committed. Nothing here mounts anything: mounts() returns the overlay options as
// data and runtime/ performs them.
import { mkdir, readdir, rename, rm, symlink, readlink, lstat, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { applyLayer, type TarHeader } from '../archive/index.ts';
import { SyncBatcher, bootId, isSynced } from './durable.ts';
import type { Digest } from '../digest/index.ts';
import { hexOf, parseDigest } from '../digest/index.ts';
import { chainIds } from '../image/index.ts';
import { invalidArgument, notFound } from '../errors/index.ts';
import { atomicWriteJSON, readJSON } from '../fsutil/index.ts';
import type { DataRoot } from '../layout/index.ts';
import type { Provider } from '../content/index.ts';

export interface SnapshotInfo {
  chainId: Digest;
  parent?: Digest;
  diffId: Digest;
  /** Short link name under snapshots/l/. */
  link: string;
  /** Bytes of the uncompressed layer tar. */
  size: number;
  /** The size docker reports for the layer (archive TarUsage); absent in snapshots from before it was kept. */
  usage?: number;
  createdAt: number;
  /** The boot it was committed in (durable.ts); absent in snapshots from before it was kept. */
  boot?: string;
}

/** A mount as data, in the OCI runtime spec's shape plus the directory relative lowerdirs are resolved from. */
export interface Mount {
  type: 'overlay' | 'bind';
  source: string;
  options: string[];
  /** overlay: run mount(2) with this working directory (lowerdirs are relative short links). */
  cwd?: string;
}

export interface UnpackOptions {
  chainId: Digest;
  parent?: Digest;
  /** The expected diffID: the uncompressed tar must hash to it. */
  diffId: Digest;
  /** The layer blob (compressed or not; sniffed by archive.applyLayer). */
  source: Readable;
  signal?: AbortSignal;
  /**
   * Awaited after the diffID matched, before the snapshot becomes visible; a rejection discards the unpack.
   * A pull unpacking a layer while it downloads passes "the blob's digest verified and committed" here.
   */
  beforeCommit?: () => Promise<void>;
  /** Files of other snapshots to hardlink instead of writing (archive.ApplyOptions.reuse). */
  reuse?: (rel: string, h: TarHeader) => string | undefined;
}

export interface LayerRef {
  /** The compressed blob's digest in the content store. */
  digest: Digest;
  diffId: Digest;
}

/**
 * What an in-flight operation (a pull, a build) holds against prune(): the chainIDs it added, and every
 * snapshot committed after it began (a layer it unpacked but has not recorded yet). release() is safe twice.
 */
export interface SnapshotLease {
  add(chainIds: Iterable<Digest>): void;
  release(): void;
}

export class Snapshotter {
  private readonly dir: string;
  /** One unpack per chainID at a time inside this process; concurrent callers share it. */
  private readonly inflight = new Map<string, Promise<SnapshotInfo>>();
  private readonly leases = new Set<{ since: number; ids: Set<Digest> }>();
  /** prune() runs one at a time. */
  private pruning: Promise<unknown> = Promise.resolve();
  private readonly syncs: SyncBatcher;

  constructor(root: DataRoot) {
    this.dir = root.snapshots;
    this.syncs = new SyncBatcher(this.dir);
  }

  /** Syncs the snapshots committed so far and marks them durable (otherwise done ~2 s after the last commit). */
  syncNow(): Promise<void> {
    return this.syncs.flush();
  }

  /** The snapshots directory (for disk usage figures). */
  get root(): string { return this.dir; }

  private path(chainId: Digest): string { return join(this.dir, hexOf(parseDigest(chainId))); }

  /** The unpacked files of a snapshot (read-only by contract). */
  fsPath(chainId: Digest): string { return join(this.path(chainId), 'fs'); }

  async has(chainId: Digest): Promise<boolean> {
    return (await readJSON<SnapshotInfo>(join(this.path(chainId), 'meta.json'))) !== undefined;
  }

  /** NotFound when the snapshot is not committed. */
  async stat(chainId: Digest): Promise<SnapshotInfo> {
    const info = await readJSON<SnapshotInfo>(join(this.path(chainId), 'meta.json'));
    if (!info) throw notFound(`snapshot ${chainId} not found`, { code: 'SNAPSHOT_UNKNOWN' });
    return info;
  }

  /**
   * Unpacks one layer on top of nothing: the result holds only this layer's files (overlay lowerdirs stack
   * them). Idempotent: an existing snapshot is returned as is. The tar must hash to `diffId`, else
   * InvalidArgument (DIGEST_MISMATCH) and nothing is kept. The parent must exist (FailedPrecondition otherwise
   * is the caller's concern: unpack bottom-up, as unpackImage does).
   */
  unpack(opts: UnpackOptions): Promise<SnapshotInfo> {
    const key = opts.chainId;
    const running = this.inflight.get(key);
    if (running) { opts.source.destroy(); return running; }
    const p = this.doUnpack(opts).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async doUnpack(opts: UnpackOptions): Promise<SnapshotInfo> {
    const existing = await readJSON<SnapshotInfo>(join(this.path(opts.chainId), 'meta.json'));
    if (existing) { opts.source.destroy(); return existing; }
    await mkdir(join(this.dir, 'l'), { recursive: true });
    const tmp = join(this.dir, `.tmp-${randomBytes(8).toString('hex')}`);
    await mkdir(join(tmp, 'fs'), { recursive: true });
    try {
      const res = await applyLayer(join(tmp, 'fs'), opts.source, { whiteouts: 'overlay', signal: opts.signal, usage: true, reuse: opts.reuse });
      if (res.diffId !== opts.diffId) {
        throw invalidArgument(`failed to register layer: diffID mismatch: expected ${opts.diffId}, got ${res.diffId}`, {
          code: 'DIGEST_MISMATCH', detail: { expected: opts.diffId, actual: res.diffId },
        });
      }
      const link = shortLink(opts.chainId);
      const info: SnapshotInfo = {
        chainId: opts.chainId, diffId: opts.diffId, link, size: res.size, createdAt: Date.now(), boot: bootId(),
        ...(res.usage !== undefined ? { usage: res.usage } : {}),
        ...(opts.parent ? { parent: opts.parent } : {}),
      };
      await opts.beforeCommit?.();
      await atomicWriteJSON(join(tmp, 'meta.json'), info);
      const final = this.path(opts.chainId);
      try {
        await rename(tmp, final);
      } catch (e) {
        // Another process committed the same chainID first: theirs is as good as ours.
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
        await rm(tmp, { recursive: true, force: true });
        return await this.stat(opts.chainId);
      }
      await this.ensureLink(link, hexOf(opts.chainId));
      this.syncs.add(final);
      return info;
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  private async ensureLink(link: string, hex: string): Promise<void> {
    const p = join(this.dir, 'l', link);
    const want = join('..', hex, 'fs');
    try {
      if ((await readlink(p)) === want) return;
      await rm(p, { force: true });
    } catch { /* absent */ }
    await symlink(want, p);
  }

  /**
   * Makes sure every layer of an image is unpacked (bottom-up, skipping those present) and returns the
   * chainIDs bottom-first — what mounts() takes.
   */
  async unpackImage(provider: Provider, layers: LayerRef[], signal?: AbortSignal): Promise<Digest[]> {
    const ids = chainIds(layers.map((l) => l.diffId));
    for (let i = 0; i < layers.length; i++) {
      const chainId = ids[i]!;
      if (await this.has(chainId)) continue;
      const source = await provider.createReadStream(layers[i]!.digest);
      await this.unpack({ chainId, parent: i > 0 ? ids[i - 1] : undefined, diffId: layers[i]!.diffId, source, signal });
    }
    return ids;
  }

  /**
   * The overlay mount of a container: lowerdirs are the snapshots of `chain` (bottom-first, as chainIds()
   * returns them), upperdir/workdir the container's writable layer (same filesystem, both must exist).
   * Without `upperDir` the mount is a read-only view. Lowerdirs are given as short relative links (`l/XXXX`)
   * resolved from `cwd`, so the options stay under a page for 100+ layers. `volatile` (overlayfs, Linux 5.10+)
   * skips the sync of the upper filesystem at unmount — a syncfs of the whole host filesystem, hundreds of ms
   * after a build wrote a large COPY layer — for writable layers a crash may lose (a build's RUN step: its
   * changes become a verified, fsynced layer blob or nothing).
   */
  async mounts(chain: Digest[], upperDir?: string, workDir?: string, opts: { volatile?: boolean } = {}): Promise<Mount[]> {
    const lowers: string[] = [];
    for (const id of [...chain].reverse()) lowers.push(`l/${(await this.stat(id)).link}`);
    if (lowers.length === 0) {
      await mkdir(join(this.dir, '.empty'), { recursive: true });
      lowers.push('.empty');
    }
    if (!upperDir && lowers.length === 1) {
      // overlayfs needs two lowers (or an upper); a single read-only layer is a bind mount of it.
      return [{ type: 'bind', source: join(this.dir, lowers[0]!), options: ['rbind', 'ro'] }];
    }
    const options = [`lowerdir=${lowers.join(':')}`];
    if (upperDir) options.push(`upperdir=${upperDir}`, `workdir=${workDir ?? ''}`);
    if (upperDir && opts.volatile) options.push('volatile');
    options.push('index=off');
    return [{ type: 'overlay', source: 'overlay', options, cwd: this.dir }];
  }

  /** Disk usage of one snapshot's files (bytes of regular files, each inode once). */
  async usage(chainId: Digest): Promise<{ size: number; inodes: number }> {
    return du(this.fsPath(chainId));
  }

  async list(): Promise<SnapshotInfo[]> {
    let names: string[];
    try { names = await readdir(this.dir); } catch { return []; }
    const out: SnapshotInfo[] = [];
    for (const n of names) {
      if (!/^[a-f0-9]{64}$/.test(n)) continue;
      const info = await readJSON<SnapshotInfo>(join(this.dir, n, 'meta.json'));
      if (info) out.push(info);
    }
    return out;
  }

  /**
   * Removes a snapshot (its link first, so no new mount can name it). The caller checks that no image or
   * container needs it; removing one that is mounted is the kernel's refusal to make (EBUSY is not raised for
   * overlay lowers, so do not). Returns false when it did not exist.
   */
  async remove(chainId: Digest): Promise<boolean> {
    const info = await readJSON<SnapshotInfo>(join(this.path(chainId), 'meta.json'));
    if (info) await rm(join(this.dir, 'l', info.link), { force: true });
    try { await lstat(this.path(chainId)); } catch { return false; }
    await this.syncs.drop(this.path(chainId));
    // meta.json first: a crash midway leaves a directory that list() ignores and cleanup() removes.
    await rm(join(this.path(chainId), 'meta.json'), { force: true });
    await rm(this.path(chainId), { recursive: true, force: true });
    return true;
  }

  /** Holds snapshots against prune() until released (see SnapshotLease). */
  lease(): SnapshotLease {
    // one millisecond of slack: createdAt and the lease's start may fall in the same tick
    const l = { since: Date.now() - 1, ids: new Set<Digest>() };
    this.leases.add(l);
    return {
      add: (ids) => { for (const d of ids) l.ids.add(d); },
      release: () => { this.leases.delete(l); },
    };
  }

  /**
   * The GC hook: removes every snapshot not in `keep` (the chainIDs images, containers and the build cache
   * use), except what a lease holds and what is being unpacked. Returns the chainIDs removed.
   */
  prune(keep: Iterable<Digest> | (() => Promise<Iterable<Digest>>)): Promise<Digest[]> {
    const run = this.pruning.then(() => this.pruneNow(keep));
    this.pruning = run.catch(() => {});
    return run;
  }

  private async pruneNow(keep: Iterable<Digest> | (() => Promise<Iterable<Digest>>)): Promise<Digest[]> {
    // Leases are noted first and snapshots listed before the keep set is computed, so a snapshot committed
    // meanwhile is either held by an operation still running or already recorded where the keep set looks.
    const leases = [...this.leases];
    const all = await this.list();
    const k = new Set(typeof keep === 'function' ? await keep() : keep);
    const removed: Digest[] = [];
    for (const s of all) {
      if (k.has(s.chainId) || this.inflight.has(s.chainId) || this.held(s, leases)) continue;
      await this.remove(s.chainId);
      removed.push(s.chainId);
    }
    return removed;
  }

  private held(s: SnapshotInfo, earlier: Iterable<{ since: number; ids: Set<Digest> }>): boolean {
    for (const l of [...earlier, ...this.leases]) if (l.ids.has(s.chainId) || s.createdAt >= l.since) return true;
    return false;
  }

  /**
   * Removes leftovers of interrupted unpacks and removals, dangling links, and snapshots a crash may have torn
   * (committed in an earlier boot, never synced: durable.ts). Call on daemon start.
   */
  async cleanup(): Promise<void> {
    let names: string[];
    try { names = await readdir(this.dir); } catch { return; }
    for (const n of names) {
      if (n.startsWith('.tmp-')) { await rm(join(this.dir, n), { recursive: true, force: true }); continue; }
      if (!/^[a-f0-9]{64}$/.test(n)) continue;
      const info = await readJSON<SnapshotInfo>(join(this.dir, n, 'meta.json'));
      if (!info) await rm(join(this.dir, n), { recursive: true, force: true });
      else if (info.boot !== undefined && info.boot !== bootId() && !(await isSynced(join(this.dir, n)))) await this.remove(info.chainId);
    }
    let links: string[] = [];
    try { links = await readdir(join(this.dir, 'l')); } catch { /* none */ }
    for (const l of links) {
      try { await stat(join(this.dir, 'l', l)); } catch { await rm(join(this.dir, 'l', l), { force: true }); }
    }
  }
}

/** 12 base32 characters derived from the chainID: stable (a re-unpack gets the same name) and short. */
function shortLink(chainId: Digest): string {
  const h = createHash('sha256').update(`berth-link:${chainId}`).digest();
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let s = '';
  for (let i = 0; i < 12; i++) s += A[h[i]! & 31];
  return s;
}

async function du(dir: string): Promise<{ size: number; inodes: number }> {
  const seen = new Set<number>();
  let size = 0;
  let inodes = 0;
  const walk = async (d: string): Promise<void> => {
    let ents;
    try { ents = await readdir(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      const p = join(d, e.name);
      const st = await lstat(p);
      if (seen.has(st.ino)) continue;
      seen.add(st.ino);
      inodes++;
      if (st.isFile()) size += st.size;
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return { size, inodes };
}
