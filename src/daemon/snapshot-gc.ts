// Snapshot GC (issue 6 item 1: "unpacked snapshots are GC roots while an image or container needs them"):
// after every content sweep — rmi, image prune (so system prune), builder prune — the unpacked layers that no
// image record, container (running or not), build cache record or in-flight pull/build (snapshot leases)
// stacks are removed, as dockerd releases a layer with its last reference.
import type { Digest } from '../digest/index.ts';
import { chainIds } from '../image/index.ts';
import type { Services } from './services.ts';

/** Removes unused snapshots; returns the chainIDs removed. */
export function pruneSnapshots(s: Services): Promise<Digest[]> {
  return s.snapshots.prune(async () => {
    const keep = new Set<Digest>();
    const stack = (layers: readonly { diffId: Digest }[]) => { for (const c of chainIds(layers.map((l) => l.diffId))) keep.add(c); };
    for (const r of s.images.records()) stack(r.layers);
    for (const c of await s.runtime.snapshotsInUse()) keep.add(c);
    for (const layers of (await s.builder.buildCache()).layerLists()) stack(layers);
    return keep;
  });
}

/** Wires pruneSnapshots() after the image store's sweeps; a failure is logged, never fails the rmi. */
export function collectSnapshotsAfterSweeps(s: Services): void {
  s.images.afterSweep.push(async () => {
    try {
      const removed = await pruneSnapshots(s);
      if (removed.length) s.log.debug(`removed ${removed.length} unused snapshot(s)`);
    } catch (e) {
      s.log.error(`snapshot gc: ${(e as Error).message}`);
    }
  });
}
