// ImageService: the image logic berthd calls. Names and records live in metadata (buckets NAMES, IMAGES),
// bytes in content. Docker's semantics (moby daemon/images/*) are kept here; the daemon only translates
// these results into Engine API JSON.
import type { Readable } from 'node:stream';
import { DataRoot } from '../layout/index.ts';
import { openContentStore, type ContentStore } from '../content/index.ts';
import {
  openMetadata, IMAGES, NAMES, LEASES, type LeaseRecord, type ImageRecord, type LayerRecord, type Metadata, type NameRecord, type DescriptorRecord,
} from '../metadata/index.ts';
import {
  parseNormalized, parseNormalizedNamed, withDefaultTag, familiar, familiarName, toString, isIdOnly, idPrefixOf, nameOnly,
  type Reference,
} from '../reference/index.ts';
import { hexOf, shortId, type Digest } from '../digest/index.ts';
import { notFound, invalidArgument } from '../errors/index.ts';
import { ImageEvents } from './events.ts';
import { configSchema, parseWith, type ImageConfig, type History } from './model.ts';
import { validateFilters, danglingFilter, matchLabels, goPathMatch, type Filters } from './filters.ts';

/** A container using an image, as the runtime reports it (for rmi conflicts, df and prune). */
export interface ContainerUse { id: string; running: boolean }

export interface ImageServiceOptions {
  /** The data root (content/ and metadata/ below it). */
  root: string | DataRoot;
  /** Share already-open stores (the daemon opens them once); otherwise opened here. */
  content?: ContentStore;
  metadata?: Metadata;
  /** Ingests untouched for this long are removed on open (default 1 h). */
  ingestMaxAgeMs?: number;
}

/** One image as `docker images` / inspect see it. Tags and digests are in docker's familiar form. */
export interface ImageView {
  id: Digest;
  record: ImageRecord;
  /** `busybox:latest`, … — empty for a dangling image (the daemon adds `<none>:<none>` for old API versions). */
  repoTags: string[];
  /** `busybox@sha256:…` */
  repoDigests: string[];
  /** Parent image ID or ''. */
  parent: string;
  /** Config `created` as Unix seconds (0 when absent). */
  created: number;
  size: number;
  labels: Record<string, string>;
  /** Containers using the image (from the containers hook; 0 without one). */
  containers: number;
}

export interface ImageDetail extends ImageView {
  config: ImageConfig;
}

/** swagger HistoryResponseItem. */
export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** What addImage records (see ImageRecord). `created`/`labels` are read from the config when absent. */
export interface NewImage {
  config: Digest;
  target: DescriptorRecord;
  manifest?: DescriptorRecord;
  layers: LayerRecord[];
  names?: Reference[];
  parent?: Digest;
  labels?: Record<string, string>;
  created?: string;
  /** Names set as moby's load and pull set them (reference store only): no LastTagTime, inspect shows Go's zero time. */
  untimed?: boolean;
}

export function createdSeconds(created: string): number {
  const t = Date.parse(created);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/** docker's "No such image: NAME" (the name in familiar form with its default tag, as ErrImageDoesNotExist). */
export function noSuchImage(s: string): Error {
  let shown = s;
  if (!isIdOnly(s)) {
    try { shown = familiar(withDefaultTag(parseNormalizedNamed(s))); } catch { /* show as typed */ }
  }
  return notFound(`No such image: ${shown}`, { code: 'IMAGE_UNKNOWN' });
}

/** The key of a reference in NAMES: `repo@digest` when it has a digest, else `repo:tag`. */
export function nameKey(ref: Reference): string {
  if (ref.digest) return toString({ domain: ref.domain, path: ref.path, digest: ref.digest });
  return toString(withDefaultTag(ref));
}

/**
 * A load never survives its process (its input stream is gone), so at open its lease and partial ingests are
 * garbage: drop them, and every expired lease, so GC and disk use are right after a crash (kill -9 mid-load).
 */
async function dropDeadLoads(content: ContentStore, md: Metadata): Promise<void> {
  const now = Date.now();
  const dead = md.list<LeaseRecord>(LEASES).filter(([id, l]) => id.startsWith('load-') || id.startsWith('import-') || (l.expiresAt !== undefined && l.expiresAt < now));
  if (dead.length) await md.update((tx) => { for (const [id] of dead) tx.bucket(LEASES).delete(id); });
  for (const i of await content.listIngests()) {
    if (!i.ref.startsWith('load-') && !i.ref.startsWith('import-')) continue;
    const w = await content.writer({ ref: i.ref });
    await w.abort();
  }
}

export class ImageServiceBase {
  readonly events = new ImageEvents();
  /** Returns the containers using an image; set by the runtime (containers count, rmi conflicts, prune). */
  containersUsing: (imageId: Digest) => ContainerUse[] = () => [];
  /** Extra GC roots (containers, build cache): called by gc(). */
  readonly rootProviders: (() => Iterable<Digest> | Promise<Iterable<Digest>>)[] = [];
  /** Run after every content sweep (rmi, image prune, gc): the daemon prunes unpacked snapshots here. */
  readonly afterSweep: (() => Promise<void>)[] = [];
  /** In-flight loads/imports: gc() waits for them so their fresh blobs are not swept before being recorded. */
  protected readonly inflight = new Set<Promise<unknown>>();

  constructor(readonly layout: DataRoot, readonly content: ContentStore, readonly metadata: Metadata) {}

  static async open<T extends ImageServiceBase>(this: new (l: DataRoot, c: ContentStore, m: Metadata) => T, opts: ImageServiceOptions): Promise<T> {
    const layout = typeof opts.root === 'string' ? new DataRoot(opts.root) : opts.root;
    const content = opts.content ?? await openContentStore(layout);
    const metadata = opts.metadata ?? await openMetadata(layout.metadata);
    await content.cleanupIngest(opts.ingestMaxAgeMs ?? 3600_000);
    await dropDeadLoads(content, metadata);
    return new this(layout, content, metadata);
  }

  /** Adds a GC root provider (e.g. the runtime's containers, the builder's cache). */
  addRoots(fn: () => Iterable<Digest> | Promise<Iterable<Digest>>): void {
    this.rootProviders.push(fn);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    await this.metadata.close();
  }

  /** Runs `fn` as in-flight work that gc() waits for. */
  protected track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => { this.inflight.delete(p); };
    p.then(done, done);
    return p;
  }

  // ---- lookups ----

  /** Every image record. */
  records(): Readonly<ImageRecord>[] {
    return this.metadata.list<ImageRecord>(IMAGES).map(([, r]) => r);
  }

  /** imageId → its references (full normalised keys) */
  protected namesByImage(): Map<Digest, Reference[]> {
    const out = new Map<Digest, Reference[]>();
    for (const [key, n] of this.metadata.list<NameRecord>(NAMES)) {
      let ref: Reference;
      try { ref = parseNormalized(key); } catch { continue; }
      const list = out.get(n.imageId) ?? [];
      list.push(ref);
      out.set(n.imageId, list);
    }
    return out;
  }

  /** The references (tags and digest refs) pointing at an image. */
  referencesOf(id: Digest): Reference[] {
    const out: Reference[] = [];
    for (const [key, n] of this.metadata.list<NameRecord>(NAMES)) {
      if (n.imageId !== id) continue;
      try { out.push(parseNormalized(key)); } catch { /* unparsable legacy key: ignore */ }
    }
    return out;
  }

  /** Whether an image with this ID is recorded. */
  hasImage(id: Digest): boolean {
    return this.metadata.get<ImageRecord>(IMAGES, id) !== undefined;
  }

  /** Image IDs whose parent is `id` (locally built/committed children). */
  childrenOf(id: Digest): Digest[] {
    return this.records().filter((r) => r.parent === id).map((r) => r.id);
  }

  /**
   * Resolves what a user typed as docker's GetImage does: a name (tag or digest ref) first, then an ID or ID
   * prefix (`sha256:…`, full hex, or short hex). NotFound "No such image: …"; InvalidArgument for bad refs.
   */
  resolve(s: string): { record: Readonly<ImageRecord>; ref?: Reference } {
    let ref: Reference | undefined;
    if (!isIdOnly(s)) {
      ref = parseNormalized(s);
      const n = this.metadata.get<NameRecord>(NAMES, nameKey(ref));
      if (n) {
        const record = this.metadata.get<ImageRecord>(IMAGES, n.imageId);
        if (record) return { record, ref };
      }
    }
    const prefix = idPrefixOf(s);
    if (prefix) {
      const full = this.metadata.get<ImageRecord>(IMAGES, `sha256:${prefix}`);
      if (full) return { record: full };
      const hits = this.records().filter((r) => hexOf(r.id).startsWith(prefix));
      if (hits.length === 1) return { record: hits[0]! };
    }
    throw noSuchImage(s);
  }

  protected view(r: Readonly<ImageRecord>, refs: Reference[]): ImageView {
    const repoTags: string[] = [];
    const repoDigests: string[] = [];
    for (const ref of refs) {
      if (ref.digest) repoDigests.push(familiar(ref));
      else repoTags.push(familiar(ref));
    }
    return {
      id: r.id, record: r as ImageRecord, repoTags: repoTags.sort(), repoDigests: repoDigests.sort(), parent: r.parent ?? '',
      created: createdSeconds(r.created), size: r.size, labels: { ...r.labels },
      containers: this.containersUsing(r.id).length,
    };
  }

  /** One image by name or ID. */
  get(s: string): ImageView {
    const { record } = this.resolve(s);
    return this.view(record, this.referencesOf(record.id));
  }

  /** One image with its parsed config (for inspect). */
  async inspect(s: string): Promise<ImageDetail> {
    const v = this.get(s);
    return { ...v, config: await this.configOf(v.id) };
  }

  async configOf(id: Digest): Promise<ImageConfig> {
    const r = parseWith(configSchema, await this.content.readBytes(id));
    if (!r.ok) throw invalidArgument(`invalid image config ${id}: ${r.error}`);
    return r.value as ImageConfig;
  }

  /**
   * `docker images`: newest first. Without `all`, untagged images that have children (intermediate build
   * images) are hidden. Filters: dangling, label, before, since, reference (moby's semantics).
   */
  list(opts: { all?: boolean; filters?: Filters } = {}): ImageView[] {
    const f = opts.filters ?? {};
    validateFilters(f);
    const dangling = danglingFilter(f);
    let before = Infinity;
    let since = -Infinity;
    for (const b of f.before ?? []) before = Math.min(before, this.createdMs(this.resolve(b).record));
    for (const s of f.since ?? []) since = Math.max(since, this.createdMs(this.resolve(s).record));
    const names = this.namesByImage();
    const hasChild = new Set(this.records().map((r) => r.parent).filter((p): p is Digest => !!p));
    const out: ImageView[] = [];
    for (const r of this.records()) {
      const created = this.createdMs(r);
      if (!(created < before) || !(created > since)) continue;
      if (!matchLabels(f.label, r.labels)) continue;
      let refs = names.get(r.id) ?? [];
      if (f.reference?.length) {
        refs = refs.filter((ref) => f.reference!.some((p) => goPathMatch(p, familiar(ref)) || goPathMatch(p, familiar(nameOnly(ref)))));
      }
      const v = this.view(r, refs);
      if (v.repoTags.length === 0 && v.repoDigests.length === 0) {
        if (!opts.all && hasChild.has(r.id)) continue;
        if (dangling === false) continue;
        if (f.reference?.length) continue;
      } else if (dangling === true && v.repoTags.length > 0) continue;
      out.push(v);
    }
    return out.sort((a, b) => this.createdMs(b.record) - this.createdMs(a.record) || (a.id < b.id ? -1 : 1));
  }

  protected createdMs(r: Readonly<ImageRecord>): number {
    const t = Date.parse(r.created);
    return Number.isNaN(t) ? 0 : t;
  }

  /**
   * `docker history` as moby's ImageHistory: newest first; layer-producing entries carry their layer's
   * uncompressed size; the newest entry carries the image ID and tags, each next one its parent's (for locally
   * built images), the rest `<missing>`.
   */
  async history(s: string): Promise<HistoryItem[]> {
    const v = this.get(s);
    const cfg = await this.configOf(v.id);
    const hist: History[] = cfg.history?.length ? cfg.history : v.record.layers.map(() => ({}));
    const items: HistoryItem[] = [];
    let layer = 0;
    for (const h of hist) {
      const size = h.empty_layer ? 0 : (v.record.layers[layer++]?.uncompressedSize ?? 0);
      items.unshift({
        Id: '<missing>', Created: h.created ? createdSeconds(h.created) : 0, CreatedBy: h.created_by ?? '',
        Tags: null, Size: size, Comment: h.comment ?? '',
      });
    }
    let cur: Readonly<ImageRecord> | undefined = v.record;
    for (const item of items) {
      if (!cur) break;
      item.Id = cur.id;
      const tags = this.referencesOf(cur.id).filter((r) => !r.digest).map(familiar).sort();
      item.Tags = tags.length ? tags : null;
      cur = cur.parent ? this.metadata.get<ImageRecord>(IMAGES, cur.parent) : undefined;
    }
    return items;
  }

  // ---- names ----

  /** `docker tag SOURCE TARGET`: points TARGET (default tag latest) at SOURCE's image; emits `tag`. */
  async tag(source: string, target: string): Promise<void> {
    const { record } = this.resolve(source);
    const ref = parseNormalizedNamed(target);
    if (ref.digest) throw invalidArgument('refusing to create a tag with a digest reference', { code: 'REFERENCE_INVALID' });
    // moby's reference store refuses a repository named like the digest algorithm (`docker tag x sha256:abc`)
    if (familiarName(ref) === 'sha256') throw invalidArgument('refusing to create an ambiguous tag using digest algorithm as name', { code: 'REFERENCE_INVALID' });
    const tagged = withDefaultTag(ref);
    await this.metadata.update((tx) => {
      tx.bucket<NameRecord>(NAMES).put(nameKey(tagged), { name: toString(tagged), imageId: record.id, taggedAt: Date.now() });
    });
    this.events.log('tag', record.id, familiar(tagged), record.labels);
  }

  /**
   * Records an image and points `names` at it, in one transaction (for load, import, pull, build, commit).
   * The config, manifest (and target) blobs and every layer must already be in content. Returns, per name,
   * the image it pointed at before when that differs (docker's "renaming the old one").
   */
  async addImage(img: NewImage): Promise<{ name: Reference; previous: Digest }[]> {
    return this.addImages([img]);
  }

  /** addImage for several images in one transaction: all of them become visible, or none. */
  async addImages(imgs: NewImage[]): Promise<{ name: Reference; previous: Digest }[]> {
    const records: [ImageRecord, Reference[], number][] = [];
    for (const img of imgs) {
      let created = img.created;
      let labels = img.labels;
      if (created === undefined || labels === undefined) {
        const cfg = await this.configOf(img.config);
        created ??= cfg.created ?? '';
        labels ??= ((cfg.config?.Labels ?? {}) as Record<string, string>);
      }
      records.push([{
        id: img.config, target: img.target, manifest: img.manifest ?? img.target, created,
        size: img.layers.reduce((a, l) => a + l.uncompressedSize, 0),
        layers: img.layers, labels, ...(img.parent ? { parent: img.parent } : {}), addedAt: Date.now(),
      }, img.names ?? [], img.untimed ? 0 : Date.now()]);
    }
    return this.metadata.update((tx) => {
      const moved: { name: Reference; previous: Digest }[] = [];
      const images = tx.bucket<ImageRecord>(IMAGES);
      const names = tx.bucket<NameRecord>(NAMES);
      for (const [record, refs, taggedAt] of records) {
        const prev = images.get(record.id);
        images.put(record.id, prev?.parent && !record.parent ? { ...record, parent: prev.parent } : record);
        for (const name of refs) {
          const key = nameKey(name);
          const old = names.get(key);
          if (old && old.imageId !== record.id) moved.push({ name, previous: old.imageId });
          names.put(key, { name: key, imageId: record.id, taggedAt });
        }
      }
      return moved;
    });
  }

  /** The short ID docker prints in messages. */
  static short(id: string): string { return shortId(id); }
}

export type { Readable };
