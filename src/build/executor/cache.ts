// The build cache: cache key → the state after that step (image config digest + layer list). One JSON file,
// <data-root>/builder/cache.json, rewritten atomically (fsutil) after each new record; a crash loses at most
// the records of the build in flight. A record's blobs are GC roots (`roots()`) until `prune()`. A hit is
// used only when its config and layer blobs are still in content (the builder checks before trusting it).
import { join } from 'node:path';
import { atomicWriteJSON, readJSON } from '../../fsutil/index.ts';
import type { Digest } from '../../digest/index.ts';
import type { LayerRecord } from '../../metadata/index.ts';

export interface CacheRecord {
  key: Digest;
  /** Digest of the image config after the step (what " ---> <id>" prints). */
  config: Digest;
  layers: LayerRecord[];
  /** ms since epoch when recorded; last use for `builder prune --filter until=`. */
  createdAt: number;
  lastUsedAt: number;
}

export class BuildCache {
  private records = new Map<Digest, CacheRecord>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string) {}

  /** Opens (or starts) the cache file under `builderDir` (DataRoot.builder). */
  static async open(builderDir: string): Promise<BuildCache> {
    const c = new BuildCache(join(builderDir, 'cache.json'));
    const list = (await readJSON<CacheRecord[]>(c.file)) ?? [];
    for (const r of list) c.records.set(r.key, r);
    return c;
  }

  get(key: Digest): CacheRecord | undefined {
    return this.records.get(key);
  }

  /** Records (or refreshes) `r` and persists; writes are serialised. */
  put(r: Omit<CacheRecord, 'createdAt' | 'lastUsedAt'>): Promise<void> {
    const now = Date.now();
    const prev = this.records.get(r.key);
    this.records.set(r.key, { ...r, createdAt: prev?.createdAt ?? now, lastUsedAt: now });
    return this.persist();
  }

  touch(key: Digest): void {
    const r = this.records.get(key);
    if (r) r.lastUsedAt = Date.now();
  }

  private persist(): Promise<void> {
    this.writing = this.writing.then(() => atomicWriteJSON(this.file, [...this.records.values()]));
    return this.writing;
  }

  /** Every blob a cache record needs: configs and layers. */
  roots(): Digest[] {
    const out = new Set<Digest>();
    for (const r of this.records.values()) {
      out.add(r.config);
      for (const l of r.layers) out.add(l.digest);
    }
    return [...out];
  }

  /** Every record's layers (the snapshot GC keeps their chainIDs until `prune()`). */
  layerLists(): LayerRecord[][] {
    return [...this.records.values()].map((r) => r.layers);
  }

  /** Drops records (all, or those last used before `until` ms); returns how many. */
  async prune(opts: { until?: number } = {}): Promise<number> {
    let n = 0;
    for (const [k, r] of this.records) {
      if (opts.until === undefined || r.lastUsedAt < opts.until) { this.records.delete(k); n++; }
    }
    await this.persist();
    return n;
  }

  get size(): number {
    return this.records.size;
  }
}
