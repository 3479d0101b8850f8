// Layer tars (issue 3 item 6): streaming tar read/write with raw PAX records (xattrs as bytes), compression
// detection and (de)compression streams (pigz / zstd CLIs when present), safe extraction with whiteouts
// (applyLayer), and directory → layer (tarDirectory, diffDirectory for overlay upperdirs). Nothing here
// buffers a layer: memory is bounded by a chunk plus per-entry bookkeeping.
export type { TarHeader, EntryType } from './header.ts';
export { encodeHeader, parsePax, decodeBlock, finishHeader, isMetaFlag, isZeroBlock, BLOCK } from './header.ts';
export { readTar, digestTar, type TarEntry, type TarStats, type ReadTarOptions } from './reader.ts';
export { TarUsage } from './usage.ts';
export { packTar, type PackEntry } from './writer.ts';
export {
  detectCompression, decompress, compress, decompressor, compressor, childFilter, peek, haveTool, setPreferTools, Gatherer,
  type CompressionKind, type CompressOptions,
} from './compression.ts';
export {
  applyLayer, WHITEOUT_PREFIX, WHITEOUT_META_PREFIX, WHITEOUT_OPAQUE, OVERLAY_OPAQUE_XATTR,
  type ApplyOptions, type ApplyResult, type IdMapping,
} from './apply.ts';
export { tarDirectory, diffDirectory, directoryEntries, type TarDirectoryOptions } from './tardir.ts';
export { entryComponents } from './saferoot.ts';
export { readXattrsTree, setXattrs } from './sysutil.ts';
