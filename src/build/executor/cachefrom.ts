// --cache-from with the classic builder's rule (moby daemon/images/cache.go, ImageCache.GetCache): an image
// whose history starts with the parent's history (same created_by and empty_layer, entry by entry, and the same
// layers so far) and whose next entry was made by this very instruction (same created_by) stands in for the
// step. Its next layer is reused when that entry has one. References that do not resolve are skipped, as moby
// skips cache-from images it cannot find.
import type { ImageService } from '../../images/index.ts';
import type { History as HistoryEntry } from '../../image/index.ts';
import type { LayerRecord } from '../../metadata/index.ts';
import type { StageState } from './stage.ts';

export interface CacheFromHit {
  /** The step's layers: the parent's, plus the image's next layer unless the entry is an empty layer. */
  layers: LayerRecord[];
  /** The image's history entry for the step (created_by, created, empty_layer). */
  entry: HistoryEntry;
}

export async function matchCacheFrom(o: {
  images: ImageService; refs: readonly string[]; parent: StageState; createdBy: string;
}): Promise<CacheFromHit | undefined> {
  const parentHistory = o.parent.image.history ?? [];
  const n = parentHistory.length;
  const parentDiffs = o.parent.layers.map((l) => l.diffId);
  for (const ref of o.refs) {
    let rec;
    try { rec = o.images.resolve(ref).record; } catch { continue; }
    const h = (await o.images.configOf(rec.id)).history ?? [];
    if (h.length <= n || h[n]!.created_by !== o.createdBy) continue;
    if (!parentHistory.every((e, k) => e.created_by === h[k]!.created_by && !!e.empty_layer === !!h[k]!.empty_layer)) continue;
    const m = h.slice(0, n).filter((e) => !e.empty_layer).length;
    if (m !== parentDiffs.length || !parentDiffs.every((d, k) => rec.layers[k]?.diffId === d)) continue;
    const entry = h[n]!;
    if (entry.empty_layer) return { layers: o.parent.layers, entry };
    if (!rec.layers[m]) continue;
    return { layers: [...o.parent.layers, rec.layers[m]!], entry };
  }
  return undefined;
}
