// Snapshots: each image layer unpacked once, keyed by chainID, shared by every image and container
// (DESIGN.md "The store", issue 6 item 1). Mounts come back as data (overlay options with short lowerdirs);
// only runtime/ performs them. Snapshots are GC roots while an image or container needs them: the GC passes
// the chainIDs in use to prune(); in-flight pulls and builds hold theirs with lease().
export { Snapshotter, type SnapshotLease, type SnapshotInfo, type Mount, type UnpackOptions, type LayerRef } from './snapshotter.ts';
