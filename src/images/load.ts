// `docker load`: reads a docker-archive (manifest.json + repositories; both the legacy `<hex>/layer.tar` layout
// and docker 25+'s, which is also an OCI layout) or an OCI image layout (index.json, oci-layout, blobs/), plain
// or compressed (gzip, zstd, bzip2, xz), as one pass over the tar stream:
//   1. every file goes straight into content (blobs/<alg>/<hex> verified against its name while stored), under
//      a lease so a concurrent GC keeps it; small JSON files are kept in memory;
//   2. at the end the manifests and configs are parsed and each layer's diffID is checked against its config;
//   3. only when everything verified are the image records and names written, in one transaction.
// On any failure the blobs this load added and nothing else references are deleted: the store is unchanged.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createLease, addLeaseResources, deleteLease, type LayerRecord, type DescriptorRecord } from '../metadata/index.ts';
import { parseNormalizedNamed, withDefaultTag, familiar, type Reference } from '../reference/index.ts';
import { isDigest, digestMismatch, type Digest } from '../digest/index.ts';
import { invalidArgument, isBerthError, isKind, messageOf } from '../errors/index.ts';
import {
  MT, archiveManifestSchema, configSchema, indexSchema, manifestSchema, parseWith, isIndexType, layerMediaType,
  ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, type ImageConfig, type Manifest, type Descriptor,
} from './model.ts';
import { detectCompression, decompressor, layerDiffId } from './compress.ts';
import { peek, readTar, TarUsage } from '../archive/index.ts';
import { bestPlatformMatch, hostPlatform } from '../image/index.ts';
import { markRoots } from './gc.ts';
import type { ImageServiceBase } from './service.ts';

/** A progress message in the shape of docker's JSONMessage (the daemon writes it as one NDJSON line). */
export interface Progress {
  stream?: string;
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
}

export interface LoadOptions {
  quiet?: boolean;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export interface LoadResult {
  images: { id: Digest; names: string[] }[];
}

const SMALL = 16 << 20;
/**
 * Leases (and ingest refs) of loads start with this: a load never outlives its process (its input is gone
 * with it), so ImageService.open drops such leases and ingests left by a crash.
 */
export const LOAD_LEASE_PREFIX = 'load-';
const BLOB_RE = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/;

/**
 * Codes beside ARCHIVE_INVALID for the two failures dockerd words by how its tarexport unpacks first:
 * ARCHIVE_UNREADABLE (the tar or its compression is broken) and ARCHIVE_NO_MANIFEST (neither manifest.json nor
 * index.json: moby falls back to the pre-1.10 layout and fails opening `repositories`).
 */
function bad(msg: string, cause?: unknown, code = 'ARCHIVE_INVALID') {
  return invalidArgument(`invalid archive: ${msg}`, { code, cause });
}

/** The input, decompressed when it starts with a gzip or zstd magic. Errors of `input` flow through. */
export async function decompressed(input: Readable): Promise<Readable> {
  // No extra stream hop for plain tar (the common case): peek puts the sniffed bytes back into `input`.
  const { head, stream } = await peek(input, 6);
  const c = detectCompression(head);
  if (c === 'none') return stream;
  const d = decompressor(c);
  pipeline(stream, d).catch(() => { /* d is destroyed with the error; its reader sees it */ });
  return d as unknown as Readable;
}

interface Stored { digest: Digest; size: number }

const PROGRESS_MIN = 512 << 10;
const PROGRESS_STEP = 8 << 20;

/** A short id for an archive entry's progress line: the layer directory or blob hex, 12 characters. */
function progressId(name: string): string {
  const m = BLOB_RE.exec(name);
  if (m) return m[2]!.slice(0, 12);
  return (posix.dirname(name) !== '.' ? posix.dirname(name) : name).slice(0, 12);
}

export async function loadArchive(s: ImageServiceBase, input: Readable, opts: LoadOptions = {}): Promise<LoadResult> {
  // Own the input's errors from the start (the first await below may let it fail unobserved); the pipeline
  // still sees a destroyed stream's error.
  input.on('error', () => {});
  const progress = (p: Progress) => { if (!opts.quiet) opts.onProgress?.(p); };
  const lease = await createLease(s.metadata, { id: `${LOAD_LEASE_PREFIX}${randomBytes(8).toString('hex')}`, ttlMs: 24 * 3600_000 });
  const touched = new Set<Digest>();
  const files = new Map<string, Stored>();
  const small = new Map<string, Buffer>();
  const links = new Map<string, string>();
  try {
    // ---- 1. the tar stream, one pass ----
    // Each blob's commit (fsync + rename) runs while the next entry streams in: the disk flushes one blob
    // while the CPU hashes the next. Failures surface before anything is parsed.
    const commits: Promise<void>[] = [];
    /** Uncompressed blobs seen in this archive → their docker size (see ingest). */
    const plainUsage = new Map<Digest, number>();
    let commitErr: unknown;
    let seq = 0;
    const ingest = async (entry: AsyncIterable<Buffer>, o: { expected?: Digest; expectedSize: number; ref: string }, name: string) => {
      const w = await s.content.writer(o);
      // A plain tar's docker size (unpacked bytes) is measured as it streams by, so verifying it later needs
      // no second read of the layer; compressed blobs are measured when decompressed to check them.
      let usage: TarUsage | undefined;
      try {
        // docker's "Loading layer [==>  ] 12MB/40MB" lines, for entries big enough to be worth watching.
        const id = progressId(name);
        const show = o.expectedSize >= PROGRESS_MIN;
        let next = PROGRESS_STEP;
        if (show) progress({ status: 'Loading layer', id, progressDetail: { current: 0, total: o.expectedSize } });
        let sniffed = false;
        for await (const c of entry) {
          if (!sniffed) {
            sniffed = true;
            if (c.length >= 6 && detectCompression(c) === 'none') usage = new TarUsage();
          }
          usage?.update(c as Buffer);
          await w.write(c as Buffer);
          if (show && w.offset >= next) {
            next += PROGRESS_STEP;
            progress({ status: 'Loading layer', id, progressDetail: { current: w.offset, total: o.expectedSize } });
          }
        }
        if (show) progress({ status: 'Loading layer', id, progressDetail: { current: w.offset, total: o.expectedSize } });
      } catch (e) {
        await w.abort();
        throw e;
      }
      if (o.expected && w.digest() !== o.expected) {
        await w.abort();
        throw digestMismatch(o.expected, w.digest());
      }
      const digest = w.digest();
      if (usage) plainUsage.set(digest, usage.size());
      // Leased before it becomes visible, so a concurrent GC or rmi sweep never takes it.
      touched.add(digest);
      await addLeaseResources(s.metadata, lease.id, [digest]);
      commits.push(w.commit().then(() => {}, (e) => {
        if (isKind(e, 'AlreadyExists', 'BLOB_EXISTS')) return;
        commitErr ??= isKind(e, 'InvalidArgument') ? bad(`${name} is corrupt: ${messageOf(e)}`, e) : e;
      }));
      return { digest, size: w.offset };
    };
    let src: Readable;
    try { src = await decompressed(input); } catch (e) { throw bad(`unreadable input: ${messageOf(e)}`, e, 'ARCHIVE_UNREADABLE'); }
    try {
      // src/archive's reader: entry bodies are views of the incoming chunks (no copies); a body left
      // unread is skipped.
      for await (const { header: h, body } of readTar(src)) {
        opts.signal?.throwIfAborted();
        const name = posix.normalize(h.name).replace(/^(\.\/)+/, '').replace(/\/$/, '');
        if (h.type === 'symlink' || h.type === 'link') {
          if (h.linkname) links.set(name, h.type === 'symlink' ? posix.join(posix.dirname(name), h.linkname) : posix.normalize(h.linkname));
          continue;
        }
        if (h.type !== 'file') continue;
        const size = h.size;
        const m = BLOB_RE.exec(name);
        if (m) {
          const expected = `${m[1]}:${m[2]}` as Digest;
          if (!isDigest(expected)) throw bad(`${name}: not a valid digest name`);
          try {
            await ingest(body, { expected, expectedSize: size, ref: `load-${lease.id}-${expected}` }, name);
          } catch (e) {
            if (isKind(e, 'InvalidArgument', 'DIGEST_MISMATCH') || isKind(e, 'InvalidArgument', 'SIZE_MISMATCH')) throw bad(`${name} is corrupt: ${messageOf(e)}`, e);
            throw e;
          }
          files.set(name, { digest: expected, size });
          continue;
        }
        if (size <= SMALL && (name.endsWith('.json') || name === 'repositories' || name === 'oci-layout')) {
          const parts: Buffer[] = [];
          for await (const c of body) parts.push(c);
          small.set(name, Buffer.concat(parts));
          continue;
        }
        if (posix.basename(name) === 'json' || posix.basename(name) === 'VERSION') continue;
        const info = await ingest(body, { expectedSize: size, ref: `load-${lease.id}-${seq++}` }, name);
        files.set(name, { digest: info.digest, size: info.size });
      }
    } catch (e) {
      await Promise.all(commits);
      if (opts.signal?.aborted) throw e;
      if (isBerthError(e) && (e.code === 'ARCHIVE_INVALID' || (e.kind !== 'InvalidArgument' && e.kind !== 'Internal'))) throw e;
      throw bad(`unreadable tar stream: ${messageOf(e)}`, e, 'ARCHIVE_UNREADABLE');
    }
    await Promise.all(commits);
    if (commitErr) throw commitErr;

    // ---- 2. parse and verify ----
    const lookup = (path: string, what: string): Stored => {
      let p = posix.normalize(path).replace(/^(\.\/)+/, '');
      for (let i = 0; i < 16 && links.has(p); i++) p = links.get(p)!;
      const f = files.get(p);
      if (f) return f;
      throw bad(`${what} ${path} is missing from the archive`);
    };
    const ociIndex = small.has('index.json') ? parseWith(indexSchema, small.get('index.json')!) : undefined;
    if (ociIndex && !ociIndex.ok) throw bad(`malformed index.json: ${ociIndex.error}`);
    const plans: Plan[] = [];
    if (small.has('manifest.json')) {
      const mj = parseWith(archiveManifestSchema, small.get('manifest.json')!);
      if (!mj.ok) throw bad(`malformed manifest.json: ${mj.error}`);
      if (mj.value.length === 0) throw bad('manifest.json lists no images');
      for (const e of mj.value) {
        const inline = small.get(posix.normalize(e.Config).replace(/^(\.\/)+/, ''));
        let configInfo: Stored;
        let cfgBytes: Buffer;
        if (inline) {
          // Legacy archives keep the config as <hex>.json next to the layer directories.
          cfgBytes = inline;
          configInfo = await s.content.put(inline);
          touched.add(configInfo.digest);
          await addLeaseResources(s.metadata, lease.id, [configInfo.digest]);
        } else {
          configInfo = lookup(e.Config, 'config');
          cfgBytes = await s.content.readBytes(configInfo.digest);
        }
        const layers = e.Layers.map((l) => ({ path: l, ...lookup(l, 'layer') }));
        const names = (e.RepoTags ?? []).map((t) => parseName(t));
        plans.push({ config: configInfo.digest, configSize: configInfo.size, configBytes: cfgBytes, configPath: e.Config, layers, names, ...(e.Parent ? { parent: e.Parent as Digest } : {}) });
      }
    } else if (ociIndex?.ok) {
      for (const d of ociIndex.value.manifests) {
        const { manifestDesc, manifest } = await resolveManifest(s, d, touched);
        const cfg = manifest.config;
        if (!(await s.content.has(cfg.digest))) throw bad(`config blobs/${cfg.digest.replace(':', '/')} is missing from the archive`);
        const names: Reference[] = [];
        const n = d.annotations?.[ANNOTATION_IMAGE_NAME] ?? d.annotations?.[ANNOTATION_REF_NAME];
        if (n) { try { const r = parseNormalizedNamed(n); if (n.includes('/') || n.includes(':') || d.annotations?.[ANNOTATION_IMAGE_NAME]) names.push(withDefaultTag(r)); } catch { /* a bare tag: no name */ } }
        plans.push({
          config: cfg.digest, configSize: cfg.size, configBytes: await s.content.readBytes(cfg.digest), configPath: `blobs/${cfg.digest.replace(':', '/')}`,
          layers: manifest.layers.map((l) => ({ path: `blobs/${l.digest.replace(':', '/')}`, digest: l.digest, size: l.size, mediaType: l.mediaType })),
          names, manifest: manifestDesc,
        });
      }
    } else {
      throw bad('no manifest.json or index.json found: not a docker-archive or OCI image layout', undefined, 'ARCHIVE_NO_MANIFEST');
    }
    const records: Parameters<ImageServiceBase['addImages']>[0] = [];
    for (const p of plans) records.push(await verifyPlan(s, p, ociIndex?.ok ? ociIndex.value.manifests : [], touched, lease.id, plainUsage));
    linkParents(plans, records);

    // ---- 3. make it visible, all at once ----
    const moved = await s.addImages(records.map((r) => ({ ...r, untimed: true })));
    for (const m of moved) {
      // written even when quiet, as moby's load writes it to the output stream (the docker CLI asks for
      // quiet whenever its stdout is not a terminal, and dockerd 20.10 still prints this line)
      opts.onProgress?.({ stream: `The image ${familiar(m.name)} already exists, renaming the old one with ID ${m.previous} to empty string\n` });
    }
    const result: LoadResult = { images: [] };
    for (const r of records) {
      const names = (r.names ?? []).map((n) => familiar(n));
      result.images.push({ id: r.config, names });
      s.events.log('load', r.config, r.config);
      if (names.length) for (const n of names) opts.onProgress?.({ stream: `Loaded image: ${n}\n` });
      else opts.onProgress?.({ stream: `Loaded image ID: ${r.config}\n` });
    }
    return result;
  } catch (e) {
    await deleteLease(s.metadata, lease.id);
    const keep = await markRoots(s);
    for (const d of touched) if (!keep.has(d)) await s.content.delete(d);
    throw e;
  } finally {
    await deleteLease(s.metadata, lease.id);
  }
}

interface Plan {
  config: Digest;
  configSize: number;
  configBytes: Buffer;
  configPath: string;
  layers: { path: string; digest: Digest; size: number; mediaType?: string }[];
  names: Reference[];
  manifest?: DescriptorRecord;
  /** manifest.json's `Parent` (docker save writes it when the parent image is saved too). */
  parent?: Digest;
}

/**
 * moby's load keeps a manifest.json `Parent` link only when the parent is in the same archive and is a valid
 * parent (its history and diffIDs a prefix of the child's), so history shows parent IDs instead of
 * <missing> and rmi of the parent is a conflict — as after `docker load` on dockerd.
 */
function linkParents(plans: Plan[], records: { config: Digest; parent?: Digest }[]): void {
  const byId = new Map(plans.map((p) => [p.config, p]));
  const cfg = (p: Plan) => JSON.parse(p.configBytes.toString()) as { history?: unknown[]; rootfs?: { diff_ids?: string[] } };
  for (let i = 0; i < plans.length; i++) {
    const p = plans[i]!;
    const parent = p.parent ? byId.get(p.parent) : undefined;
    if (!parent || parent === p) continue;
    const c = cfg(p), pc = cfg(parent);
    const h = c.history ?? [], ph = pc.history ?? [];
    const d = c.rootfs?.diff_ids ?? [], pd = pc.rootfs?.diff_ids ?? [];
    const valid = (h.length === 0 && ph.length === 0) || (ph.length < h.length && pd.length <= d.length
      && ph.every((x, j) => JSON.stringify(x) === JSON.stringify(h[j])) && pd.every((x, j) => x === d[j]));
    if (valid) records[i]!.parent = parent.config;
  }
}

function parseName(t: string): Reference {
  try {
    return withDefaultTag(parseNormalizedNamed(t));
  } catch (e) {
    throw bad(`invalid RepoTags entry ${JSON.stringify(t)}: ${messageOf(e)}`, e);
  }
}

/** An index entry → the platform manifest (nested indexes: the host platform, else the first). */
async function resolveManifest(s: ImageServiceBase, d: Descriptor, touched: Set<Digest>): Promise<{ manifestDesc: DescriptorRecord; manifest: Manifest }> {
  if (!(await s.content.has(d.digest))) throw bad(`manifest blobs/${d.digest.replace(':', '/')} is missing from the archive`);
  touched.add(d.digest);
  const bytes = await s.content.readBytes(d.digest);
  if (isIndexType(d.mediaType)) {
    const idx = parseWith(indexSchema, bytes);
    if (!idx.ok) throw bad(`malformed index ${d.digest}: ${idx.error}`);
    const present = [];
    for (const m of idx.value.manifests) if (await s.content.has(m.digest)) present.push(m);
    const pick = present[bestPlatformMatch(hostPlatform(), present.map((m) => m.platform))] ?? present[0];
    if (!pick) throw bad(`index ${d.digest} has no manifest in the archive`);
    return resolveManifest(s, pick, touched);
  }
  const m = parseWith(manifestSchema, bytes);
  if (!m.ok) throw bad(`malformed manifest ${d.digest}: ${m.error}`);
  return { manifestDesc: { mediaType: d.mediaType ?? m.value.mediaType ?? MT.ociManifest, digest: d.digest, size: d.size }, manifest: m.value };
}

/** Checks config and every layer's diffID; finds or synthesizes the manifest. */
async function verifyPlan(
  s: ImageServiceBase, p: Plan, indexManifests: Descriptor[], touched: Set<Digest>, leaseId: string, plainUsage: Map<Digest, number>,
) {
  const c = parseWith(configSchema, p.configBytes);
  if (!c.ok) throw bad(`malformed image config ${p.configPath}: ${c.error}`);
  const config = c.value as ImageConfig;
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== p.layers.length) {
    throw bad(`image config ${p.configPath} lists ${diffIds.length} layers (rootfs.diff_ids) but the manifest ${p.layers.length}`);
  }
  const layers: LayerRecord[] = [];
  for (let i = 0; i < p.layers.length; i++) {
    const l = p.layers[i]!;
    if (!(await s.content.has(l.digest))) throw bad(`layer ${l.path} is missing from the archive`);
    let got;
    try {
      // A plain tar's diffID is its digest, verified while it was stored.
      const used = plainUsage.get(l.digest);
      got = used !== undefined ? { diffId: l.digest, size: used, compression: 'none' as const } : await layerDiffId(s.content, l.digest);
    } catch (e) {
      throw bad(`layer ${l.path} could not be read: ${messageOf(e)}`, e);
    }
    if (got.diffId !== diffIds[i]) {
      throw bad(`layer ${l.path} does not match the image config: invalid diffID for layer ${i}: expected ${diffIds[i]}, got ${got.diffId}`);
    }
    layers.push({ digest: l.digest, mediaType: l.mediaType ?? layerMediaType(got.compression), size: l.size, diffId: got.diffId, uncompressedSize: got.size });
  }
  let manifest = p.manifest;
  if (!manifest) {
    // docker 25+ archives also carry the OCI manifest: reuse the one whose config is ours.
    for (const d of indexManifests) {
      try {
        const r = await resolveManifest(s, d, touched);
        if (r.manifest.config.digest === p.config) { manifest = r.manifestDesc; break; }
      } catch { /* not usable: synthesize */ }
    }
  }
  if (!manifest) manifest = await synthesizeManifest(s, p.config, p.configSize, layers, touched, leaseId);
  return { config: p.config, target: manifest, manifest, layers, names: p.names, created: config.created ?? '', labels: ((config.config?.Labels ?? {}) as Record<string, string>) };
}

/** An OCI manifest for an image that came without one (so a later push has something to send). */
export async function synthesizeManifest(
  s: ImageServiceBase, config: Digest, configSize: number, layers: LayerRecord[], touched?: Set<Digest>, leaseId?: string,
): Promise<DescriptorRecord> {
  const m = {
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: { mediaType: MT.ociConfig, digest: config, size: configSize },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const bytes = Buffer.from(JSON.stringify(m));
  const info = await s.content.put(bytes);
  touched?.add(info.digest);
  if (leaseId) await addLeaseResources(s.metadata, leaseId, [info.digest]);
  return { mediaType: MT.ociManifest, digest: info.digest, size: info.size };
}
