// `docker pull` as a pipeline (distribution-spec "Pull"; moby distribution/pull_v2.go for the messages):
// resolve the reference to a manifest (through an index for the wanted platform), fetch the config, then
// the layers `concurrency` at a time, each verified as it lands; a layer's unpack (when the caller gives
// one) starts as soon as that layer is stored, while other layers still download — Docker extracts one at
// a time after all downloads (moby/moby#21814). Manifest and index bytes are stored last, so a visible
// manifest implies its blobs. Mirrors are tried in order before the registry itself.
import { Transform, type Readable } from 'node:stream';
import { BerthError, isKind } from '../errors/index.ts';
import { digestOf, type Digest } from '../digest/index.ts';
import type { Reference } from '../reference/index.ts';
import {
  parseManifest, parseImageConfig, isAttestation, bestPlatformMatch, hostPlatform, formatPlatform, chainIds,
  type Descriptor, type Platform,
} from '../image/index.ts';
import type { Ingester, Provider } from '../content/index.ts';
import type { RegistryClient, Repository } from './client.ts';
import { fetchBlob } from './fetch.ts';
import { diffOfBlob, checkDiff, type Decompressor, type DiffInfo } from './diff.ts';
import { warmDiffWorkers } from './diff-worker.ts';
import { eachLimit } from './pool.ts';
import { LayerProgress, type ProgressSink } from './progress.ts';
import type { BlobSources } from './sources.ts';

export interface PullOptions {
  client: RegistryClient;
  content: Provider & Ingester;
  /** The registry host for the reference's domain (default: the domain itself). */
  host?: string;
  /** Endpoints tried before `host` ("http://127.0.0.1:5001" or "host:port"); any failure falls back. */
  mirrors?: string[];
  /** Default: this machine's platform. */
  platform?: Platform;
  /** Layers downloading at once (daemon.json max-concurrent-downloads; default 3). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  /**
   * Unpacks one layer ("Extracting" … "Pull complete") from `source`, its blob's bytes: teed off the download
   * as they arrive (so each layer is decompressed once, by the unpack, which also yields its diffID), or read
   * back from content for layers already stored or whose download was resumed. It must check `diffId` and
   * await `verified()` (the blob's digest checked and committed) before making anything visible, and resolves
   * with the diffID and docker size it measured (undefined when it did not measure the size: pull reads it).
   */
  unpack?: (u: UnpackRequest) => Promise<DiffInfo | undefined>;
  /** Records the image (tags, records) once every blob is stored; returns true when that changed anything. */
  register?: (result: PullResult) => Promise<boolean>;
  /** Learns where blobs came from, for later cross-repository mounts. */
  sources?: BlobSources;
  /** Called once the manifest is known, before any blob is written, with every digest the pull may store
   * (so the caller can put them under a GC lease first). */
  beforeBlobs?: (digests: Digest[]) => Promise<void>;
  /** The name shown in the final "Status:" line (default `domain/path:tag`). */
  displayName?: string;
  /** DiffID and size of layers already stored (e.g. from image records), to skip re-reading them. */
  knownDiff?: (layer: Digest) => DiffInfo | undefined;
  decompress?: Decompressor;
}

export interface UnpackRequest {
  layer: Descriptor;
  diffId: Digest;
  /** chainID of this layer and of the one below (image-spec config.md "Layer ChainID"). */
  chainId: Digest;
  parent?: Digest;
  index: number;
  source: Readable;
  verified: () => Promise<void>;
}

export interface PullResult {
  ref: Reference;
  /** What the reference resolved to (the index when there is one): the repo digest docker records. */
  digest: Digest;
  mediaType: string;
  /** The image manifest for the chosen platform. */
  manifest: Descriptor;
  index?: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  diffIds: Digest[];
  /** Per layer: its verified diffID and uncompressed size. */
  layerInfo: DiffInfo[];
  /** True when any blob was downloaded (docker's "Downloaded newer image"). */
  downloaded: boolean;
  /** The endpoint that served the pull. */
  endpoint: string;
}

/** Pulls `ref` (domain/path with tag or digest) into the content store. */
export async function pull(ref: Reference, opts: PullOptions): Promise<PullResult> {
  const host = opts.host ?? ref.domain;
  const endpoints = [...(opts.mirrors ?? []), host];
  const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
  let lastErr: unknown;
  for (const [i, ep] of endpoints.entries()) {
    try {
      const result = await pullFrom(opts.client.repository(ep, ref.path), ref, tagOrDigest, opts);
      const updated = (await opts.register?.(result)) ?? false;
      opts.onProgress?.({ status: `Digest: ${result.digest}` });
      const name = opts.displayName ?? `${ref.domain}/${ref.path}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
      opts.onProgress?.({ status: result.downloaded || updated ? `Status: Downloaded newer image for ${name}` : `Status: Image is up to date for ${name}` });
      return result;
    } catch (e) {
      lastErr = e;
      // A mirror that fails for any reason falls back to the next endpoint; the registry's own error stands.
      if (i === endpoints.length - 1 || opts.signal?.aborted || isKind(e, 'InvalidArgument', 'DIGEST_MISMATCH')) throw e;
    }
  }
  throw lastErr;
}

async function pullFrom(repo: Repository, ref: Reference, tagOrDigest: string, opts: PullOptions): Promise<PullResult> {
  const { content, signal } = opts;
  const top = await repo.getManifest(tagOrDigest, signal);
  // docker says this only once the reference resolved: an unknown tag is a plain error, no stream
  opts.onProgress?.({ status: `Pulling from ${ref.path}`, id: tagOrDigest });
  const parsed = parseManifest(top.bytes, top.mediaType);
  let manifestBytes = top.bytes;
  let manifestDesc: Descriptor = { mediaType: parsed.mediaType, digest: top.digest, size: top.bytes.length };
  let index: Descriptor | undefined;
  let manifest;
  if (parsed.kind === 'index') {
    index = manifestDesc;
    const want = opts.platform ?? hostPlatform();
    const entries = parsed.index.manifests.filter((m) => !isAttestation(m));
    const i = bestPlatformMatch(want, entries.map((m) => m.platform));
    if (i < 0) {
      throw new BerthError('NotFound', `no matching manifest for ${formatPlatform(want)} in the manifest list entries`, { code: 'PLATFORM_UNKNOWN' });
    }
    const child = entries[i]!;
    const got = await repo.getManifest(child.digest, signal);
    const p2 = parseManifest(got.bytes, child.mediaType);
    if (p2.kind !== 'manifest') throw new BerthError('InvalidArgument', `manifest ${child.digest} in the index is itself an index`, { code: 'MANIFEST_INVALID' });
    manifest = p2.manifest;
    manifestBytes = got.bytes;
    manifestDesc = { mediaType: p2.mediaType, digest: got.digest, size: got.bytes.length, ...(child.platform ? { platform: child.platform } : {}) };
  } else {
    manifest = parsed.manifest;
  }

  let downloaded = false;
  const cfg = manifest.config;
  const present = await Promise.all(manifest.layers.map((l) => content.has(l.digest)));
  if (!opts.unpack) {
    // the hashing worker (fetch-worker.ts: blob digests, and diffIDs of gzip layers) starts while the config is fetched
    const fetching = manifest.layers.filter((l, i) => !present[i] && l.size >= 1 << 20).length;
    warmDiffWorkers(Math.min(opts.concurrency ?? 3, fetching));
  }
  await opts.beforeBlobs?.([cfg.digest, ...manifest.layers.map((l) => l.digest), manifestDesc.digest, ...(index ? [index.digest] : [])]);
  downloaded = (await fetchBlob(repo, content, cfg.digest, cfg.size, { signal })).downloaded || downloaded;
  const config = parseImageConfig(await content.readBytes(cfg.digest));
  const diffIds = (config.rootfs?.diff_ids ?? []) as Digest[];
  const layers = manifest.layers as Descriptor[];
  if (diffIds.length !== layers.length) {
    throw new BerthError('InvalidArgument', `image config has ${diffIds.length} diff IDs for ${layers.length} layers`, { code: 'MANIFEST_INVALID' });
  }

  const bars = layers.map((l) => new LayerProgress(opts.onProgress, l.digest));
  const conc = opts.concurrency ?? 3;
  let queued = 0;
  for (const [i, bar] of bars.entries()) {
    if (present[i]) continue;
    bar.status('Pulling fs layer');
  }
  for (const [i, bar] of bars.entries()) {
    if (present[i]) { if (!opts.unpack) bar.status('Already exists'); continue; }
    if (queued++ >= conc) bar.status('Waiting');
  }

  const layerInfo: DiffInfo[] = new Array(layers.length);
  const chains = chainIds(diffIds);
  // layers already stored are read back (diffID or unpack) at most two at a time
  const readBack = limiter(2);
  const finishes: Promise<void>[] = [];
  const unpackFrom = (i: number, source: Readable, verified: () => Promise<void>): Promise<DiffInfo | undefined> => opts.unpack!({
    layer: layers[i]!, diffId: diffIds[i]!, chainId: chains[i]!, ...(i > 0 ? { parent: chains[i - 1]! } : {}), index: i, source, verified,
  });
  // After the download: the diffID check (inline when the layer streamed whole, else read back) or the end of
  // the unpack that ran beside the download, "Pull complete" — off the download pool, so the next download
  // starts at once.
  const finish = async (i: number, streamed: DiffInfo | undefined, unpacking: Promise<DiffInfo | undefined> | undefined, extracting: Meter | undefined) => {
    const l = layers[i]!;
    const bar = bars[i]!;
    let measured: DiffInfo | undefined;
    if (opts.unpack) {
      if (unpacking) {
        extracting?.show();
        measured = await unpacking;
      } else {
        measured = await readBack(async () => {
          const m = new Meter(l.size, (c, t) => bar.bytes('Extracting', c, t, c >= t));
          m.show();
          const src = await content.createReadStream(l.digest);
          m.on('error', () => {}); // seen by the unpack
          src.on('error', (e) => m.destroy(e));
          return unpackFrom(i, src.pipe(m), async () => {});
        });
      }
    }
    const info = measured ?? streamed ?? opts.knownDiff?.(l.digest) ?? await readBack(() => diffOfBlob(content, l, opts.decompress));
    checkDiff(l.digest, diffIds[i]!, info);
    layerInfo[i] = info;
    if (!present[i] || opts.unpack) bar.status(present[i] ? 'Already exists' : 'Pull complete');
  };
  // A download holds its pool slot while its bytes flow; the digest check, fsync and commit after the last byte
  // (and the unpack's end) run off the pool, so the next layer starts downloading at once. A layer that fails
  // after its bytes arrived stops further downloads from starting.
  let broken: { e: unknown } | undefined;
  const track = (f: Promise<void>) => {
    f.catch((e: unknown) => { broken ??= { e }; }); // observed below
    finishes.push(f);
  };
  const downloads = eachLimit(layers, conc, async (l, i) => {
    if (broken) throw broken.e;
    if (present[i]) { track(finish(i, undefined, undefined, undefined)); return; }
    const bar = bars[i]!;
    let verify!: () => void;
    let fail!: (e: unknown) => void;
    const verified = new Promise<void>((res, rej) => { verify = res; fail = rej; });
    verified.catch(() => {});
    let unpacking: Promise<DiffInfo | undefined> | undefined;
    let extracting: Meter | undefined;
    // With an unpack, the download is teed into it (no separate decompression for the diffID): each attempt
    // from byte 0 starts one; an attempt that breaks off destroys its source and so discards it.
    const sink = opts.unpack ? () => {
      const m = new Meter(l.size, (c, t) => bar.bytes('Extracting', c, t, c >= t));
      m.on('error', () => {}); // a broken-off attempt destroys it; the unpack fails on its own
      const run = unpackFrom(i, m, () => verified);
      run.catch(() => {});
      unpacking = run;
      extracting = m;
      return m;
    } : undefined;
    let received!: () => void;
    const arrived = new Promise<void>((r) => { received = r; });
    const got = fetchBlob(repo, content, l.digest, l.size, {
      signal,
      ...(sink ? { sink } : { diff: { mediaType: l.mediaType, decompress: opts.decompress } }),
      onBytes: (c, t) => bar.bytes('Downloading', c, t),
      onVerifying: () => { bar.bytes('Downloading', l.size, l.size, true); bar.status('Verifying Checksum'); received(); },
    });
    const done = (async () => {
      let g;
      try {
        g = await got;
      } catch (e) {
        fail(e);
        throw e;
      }
      verify();
      downloaded ||= g.downloaded;
      if (!g.teed) { unpacking = undefined; extracting = undefined; } // read back instead
      bar.status('Download complete');
      await finish(i, g.diff, unpacking, extracting);
    })();
    track(done);
    await Promise.race([arrived, got]); // a download that breaks off fails here, and the pool stops
  });
  try {
    await downloads;
  } finally {
    await Promise.allSettled(finishes); // nothing of this pull still writes when it reports its failure
  }
  if (broken) throw broken.e; // the first layer to fail after its download

  // Manifest and index last: their presence promises their blobs.
  downloaded = (await storeBytes(content, manifestDesc.digest, manifestBytes)) || downloaded;
  if (index) downloaded = (await storeBytes(content, index.digest, top.bytes)) || downloaded;
  if (opts.sources) for (const d of [cfg.digest, ...layers.map((l) => l.digest)]) opts.sources.add(d, repo.host, repo.name);

  return {
    ref, digest: top.digest, mediaType: top.mediaType, manifest: manifestDesc, index,
    config: { mediaType: cfg.mediaType, digest: cfg.digest, size: cfg.size }, layers, diffIds, layerInfo, downloaded, endpoint: repo.host,
  };
}

async function storeBytes(content: Provider & Ingester, digest: Digest, bytes: Buffer): Promise<boolean> {
  if (await content.has(digest)) return false;
  if (digestOf(bytes) !== digest) throw new BerthError('InvalidArgument', `digest mismatch for manifest ${digest}`, { code: 'DIGEST_MISMATCH' });
  await content.put(bytes, { expected: digest, expectedSize: bytes.length });
  return true;
}

/** A tiny semaphore: at most `n` of the functions passed run at once. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try { return await fn(); } finally { active--; queue.shift()?.(); }
  };
}

/**
 * The unpack's input: a pass-through counting the bytes it hands on, reported as the Extracting bar once
 * show() was called (while the layer still downloads, the Downloading bar is the one that moves).
 */
class Meter extends Transform {
  private n = 0;
  private shown = false;
  constructor(private readonly total: number, private readonly onBytes: (current: number, total: number) => void) {
    super({ highWaterMark: 1 << 20 });
  }
  show(): void {
    this.shown = true;
    this.onBytes(this.n, this.total);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.n += chunk.length;
    if (this.shown) this.onBytes(this.n, this.total);
    cb(null, chunk);
  }
}
