// Garbage collection (mark-and-sweep over content from roots), disk usage and fsck of the image store.
import { ROOTS, liveLeaseDigests, type RootRecord } from '../metadata/index.ts';
import type { Digest } from '../digest/index.ts';
import { chainIds } from '../image/index.ts';
import type { FsckReport } from '../content/index.ts';
import type { ImageServiceBase, ImageView } from './service.ts';

export interface GcResult { removed: Digest[]; bytes: number }

export interface DfImage extends ImageView {
  /** Bytes of layers this image shares with at least one other image (uncompressed, as docker). */
  sharedSize: number;
  /** size - sharedSize. */
  uniqueSize: number;
}

export interface DfResult {
  /** Sum of the sizes (as docker reports them) of every distinct layer chain of every image. */
  layersSize: number;
  images: DfImage[];
}

export interface ImageFsckReport extends FsckReport {
  /** Image records whose blobs (config, manifest, layers) are missing from content. */
  missing: { image: Digest; digest: Digest }[];
}

/** Everything reachable: image blobs, live leases, ROOTS records and the service's root providers. */
export async function markRoots(s: ImageServiceBase): Promise<Set<Digest>> {
  const keep = new Set<Digest>();
  for (const r of s.records()) {
    keep.add(r.id);
    keep.add(r.target.digest);
    keep.add(r.manifest.digest);
    for (const l of r.layers) keep.add(l.digest);
  }
  for (const d of liveLeaseDigests(s.metadata)) keep.add(d);
  for (const [, r] of s.metadata.list<RootRecord>(ROOTS)) for (const d of r.digests) keep.add(d);
  for (const p of s.rootProviders) for (const d of await p()) keep.add(d);
  return keep;
}

/** Deletes every blob not reachable from a root; returns what was removed and its bytes. */
export async function sweep(s: ImageServiceBase, keep: Set<Digest>): Promise<GcResult> {
  const removed: Digest[] = [];
  let bytes = 0;
  const dead: { digest: Digest; size: number }[] = [];
  await s.content.walk((info) => { if (!keep.has(info.digest)) dead.push(info); });
  for (const b of dead) {
    if (await s.content.delete(b.digest)) {
      removed.push(b.digest);
      bytes += b.size;
    }
  }
  for (const h of s.afterSweep) await h();
  return { removed, bytes };
}

export async function diskUsage(s: ImageServiceBase, views: ImageView[]): Promise<DfResult> {
  // moby's LayersSize: the DiffSize of every layer (by chainID) in the layer store, not the blobs' bytes
  let layersSize = 0;
  const chains = new Set<string>();
  for (const r of s.records()) {
    chainIds(r.layers.map((l) => l.diffId)).forEach((c, i) => {
      if (!chains.has(c)) { chains.add(c); layersSize += r.layers[i]!.uncompressedSize; }
    });
  }
  const users = new Map<Digest, number>();
  for (const v of views) for (const d of new Set(v.record.layers.map((l) => l.diffId))) users.set(d, (users.get(d) ?? 0) + 1);
  const images = views.map((v) => {
    let shared = 0;
    const seen = new Set<Digest>();
    for (const l of v.record.layers) {
      if (seen.has(l.diffId)) continue;
      seen.add(l.diffId);
      if ((users.get(l.diffId) ?? 0) > 1) shared += l.uncompressedSize;
    }
    return { ...v, sharedSize: shared, uniqueSize: v.size - shared };
  });
  return { layersSize, images };
}

export async function fsckImages(s: ImageServiceBase, opts: { remove?: boolean } = {}): Promise<ImageFsckReport> {
  const report = await s.content.fsck(opts);
  const missing: { image: Digest; digest: Digest }[] = [];
  for (const r of s.records()) {
    for (const d of new Set([r.id, r.target.digest, r.manifest.digest, ...r.layers.map((l) => l.digest)])) {
      if (!(await s.content.has(d))) missing.push({ image: r.id, digest: d });
    }
  }
  return { ...report, missing };
}
