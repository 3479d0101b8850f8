// The image service berthd calls: list/get/inspect/history/tag/remove/prune/load/save/import/df/gc/fsck and
// image events, over the content store (bytes) and metadata (names → image records). Docker's semantics
// live here; the daemon turns these results into Engine API JSON. Usage:
//
//   const images = await ImageService.open({ root: dataRoot });
//   images.containersUsing = (id) => runtime.containersOf(id);   // rmi conflicts, prune, Containers counts
//   images.addRoots(() => runtime.referencedBlobs());            // extra GC roots
//   images.events.on('event', (e) => eventsBus.publish(e));
//
// Pull (distribution) writes blobs into `images.content` under a metadata lease (add each digest to the lease
// BEFORE committing it), then calls `addImageFromManifest` and drops the lease.
import type { Readable } from 'node:stream';
import { IMAGES, type ImageRecord, type DescriptorRecord, type LayerRecord } from '../metadata/index.ts';
import { familiar, type Reference } from '../reference/index.ts';
import type { Digest } from '../digest/index.ts';
import { invalidArgument } from '../errors/index.ts';
import { ImageServiceBase } from './service.ts';
import { Remover, type DeleteItem, type PruneResult } from './remove.ts';
import { markRoots, sweep, diskUsage, fsckImages, type GcResult, type DfResult, type ImageFsckReport } from './gc.ts';
import { loadArchive, type LoadOptions, type LoadResult } from './load.ts';
import { saveImages } from './save.ts';
import { importImage, type ImportOptions } from './import.ts';
import { layerDiffId } from './compress.ts';
import { bestPlatformMatch, hostPlatform } from '../image/index.ts';
import { configSchema, indexSchema, manifestSchema, parseWith, isIndexType, MT, type ImageConfig } from './model.ts';
import type { Filters } from './filters.ts';

export class ImageService extends ImageServiceBase {
  private readonly remover = new Remover(this);

  /** `docker rmi`: Untagged/Deleted items in docker's order; Conflict / NotFound errors with docker's texts. */
  remove(name: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<DeleteItem[]> {
    return this.remover.remove(name, opts);
  }

  /** `docker image prune [-a]` (filters: dangling, until, label, label!), then GC; SpaceReclaimed in bytes. */
  prune(opts: { all?: boolean; filters?: Filters } = {}): Promise<PruneResult> {
    return this.remover.prune(opts, () => this.gc());
  }

  /**
   * `docker load`: docker-archive (legacy or docker 25+) or OCI layout, plain/gzip/zstd. Progress messages
   * (docker's "Loaded image: NAME" / "Loaded image ID: sha256:…" as `stream`) go to `onProgress`.
   * InvalidArgument (code ARCHIVE_INVALID) for bad input, with the store left unchanged.
   */
  load(input: Readable, opts: LoadOptions = {}): Promise<LoadResult> {
    return this.track(loadArchive(this, input, opts));
  }

  /** `docker save`: resolves every name first (NotFound before any byte), then streams the archive. */
  save(names: string[]): Promise<Readable> {
    if (names.length === 0) throw invalidArgument('no image specified');
    return saveImages(this, names);
  }

  /** `docker import`: a rootfs tarball → a one-layer image; returns its ID. */
  import(input: Readable, opts: ImportOptions = {}): Promise<{ id: Digest; name?: string }> {
    return this.track(importImage(this, input, opts));
  }

  /** Mark-and-sweep of content from image records, leases, ROOTS and root providers (waits for loads/imports). */
  async gc(): Promise<GcResult> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
    return sweep(this, await markRoots(this));
  }

  /** `docker system df` (images part). */
  df(): Promise<DfResult> {
    return diskUsage(this, this.list({ all: true }));
  }

  /** Re-hashes every blob and checks every image's blobs are present (`berth system fsck`). */
  fsck(opts: { remove?: boolean } = {}): Promise<ImageFsckReport> {
    return fsckImages(this, opts);
  }

  /**
   * Records an image whose manifest (or index) and blobs are already in content, e.g. after a pull; `names`
   * may hold tags and digest references (`repo@sha256:<manifest>`). Layer uncompressed sizes are taken from
   * `uncompressedSizes` (by layer digest) when given, otherwise measured by decompressing (which also checks
   * each diffID against the config). Emits `pull` for each name when `event` is 'pull'.
   */
  async addImageFromManifest(opts: {
    target: DescriptorRecord; names?: Reference[]; uncompressedSizes?: Record<string, number>; parent?: Digest; event?: 'pull';
  }): Promise<ImageRecord> {
    let manifestDesc = opts.target;
    let bytes = await this.content.readBytes(manifestDesc.digest);
    if (isIndexType(manifestDesc.mediaType)) {
      const idx = parseWith(indexSchema, bytes);
      if (!idx.ok) throw invalidArgument(`invalid index ${manifestDesc.digest}: ${idx.error}`);
      const candidates = [];
      for (const m of idx.value.manifests) if (await this.content.has(m.digest)) candidates.push(m);
      const pick = candidates[bestPlatformMatch(hostPlatform(), candidates.map((m) => m.platform))] ?? candidates[0];
      if (!pick) throw invalidArgument(`index ${manifestDesc.digest}: no platform manifest in content`);
      manifestDesc = { mediaType: pick.mediaType ?? MT.ociManifest, digest: pick.digest, size: pick.size };
      bytes = await this.content.readBytes(pick.digest);
    }
    const m = parseWith(manifestSchema, bytes);
    if (!m.ok) throw invalidArgument(`invalid manifest ${manifestDesc.digest}: ${m.error}`);
    const c = parseWith(configSchema, await this.content.readBytes(m.value.config.digest));
    if (!c.ok) throw invalidArgument(`invalid image config ${m.value.config.digest}: ${c.error}`);
    const config = c.value as ImageConfig;
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== m.value.layers.length) throw invalidArgument(`manifest ${manifestDesc.digest} has ${m.value.layers.length} layers, its config ${diffIds.length}`);
    const layers: LayerRecord[] = [];
    for (let i = 0; i < diffIds.length; i++) {
      const l = m.value.layers[i]!;
      let size = opts.uncompressedSizes?.[l.digest];
      if (size === undefined) {
        const got = await layerDiffId(this.content, l.digest);
        if (got.diffId !== diffIds[i]) throw invalidArgument(`layer ${l.digest}: invalid diffID for layer ${i}: expected ${diffIds[i]}, got ${got.diffId}`);
        size = got.size;
      }
      layers.push({ digest: l.digest, mediaType: l.mediaType ?? MT.ociLayer, size: l.size, diffId: diffIds[i]!, uncompressedSize: size });
    }
    await this.addImage({
      config: m.value.config.digest, target: opts.target, manifest: manifestDesc, layers, names: opts.names ?? [],
      ...(opts.parent ? { parent: opts.parent } : {}), ...(opts.event === 'pull' ? { untimed: true } : {}), created: config.created ?? '', labels: (config.config?.Labels ?? {}) as Record<string, string>,
    });
    const rec = this.metadata.get<ImageRecord>(IMAGES, m.value.config.digest)!;
    if (opts.event) for (const n of opts.names ?? []) this.events.log(opts.event, familiar(n), familiar(n), rec.labels);
    return rec as ImageRecord;
  }
}

export { ImageServiceBase, createdSeconds, noSuchImage, nameKey } from './service.ts';
export type { ImageServiceOptions, ImageView, ImageDetail, HistoryItem, ContainerUse, NewImage } from './service.ts';
export type { DeleteItem, PruneResult } from './remove.ts';
export type { GcResult, DfResult, DfImage, ImageFsckReport } from './gc.ts';
export type { LoadOptions, LoadResult, Progress } from './load.ts';
export type { ImportOptions } from './import.ts';
export type { Filters } from './filters.ts';
export { ImageEvents, type ImageEvent, type ImageAction } from './events.ts';
export { applyChanges } from './changes.ts';
export { MT, type ImageConfig, type ContainerConfig, type Manifest, type Index, type History } from './model.ts';
