// `docker save`: one tar stream in docker 25+'s combined format — an OCI image layout (oci-layout, index.json,
// blobs/sha256/…) that is also a docker-archive (manifest.json + repositories, paths pointing into blobs/) —
// which docker 28's `docker load` and Debian's dockerd 20.10 both read. Blobs stream from content; nothing
// is buffered beyond a chunk.
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import type { ImageRecord } from '../metadata/index.ts';
import { parseNormalizedNamed, familiar, familiarName, toString, repoName, isIdOnly, type Reference } from '../reference/index.ts';
import { hexOf, algorithmOf, VerifyingStream, type Digest } from '../digest/index.ts';
import { MT, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME } from './model.ts';
import type { ImageServiceBase } from './service.ts';
import { notFound, isKind } from '../errors/index.ts';

const blobName = (d: Digest) => `blobs/${algorithmOf(d)}/${hexOf(d)}`;
const EPOCH = new Date(0);

interface Entry { record: Readonly<ImageRecord>; tags: Reference[] }

/** Resolves the names as docker's save does: a bare repository name means all its tags. NotFound up front. */
function plan(s: ImageServiceBase, names: string[]): Entry[] {
  const byId = new Map<Digest, Entry>();
  const add = (record: Readonly<ImageRecord>, tags: Reference[]) => {
    const e = byId.get(record.id) ?? { record, tags: [] };
    for (const t of tags) if (!e.tags.some((x) => toString(x) === toString(t))) e.tags.push(t);
    byId.set(record.id, e);
  };
  for (const n of names) {
    let named: Reference | undefined;
    if (!isIdOnly(n)) { try { named = parseNormalizedNamed(n); } catch { named = undefined; } }
    if (named && named.tag === undefined && named.digest === undefined) {
      // Every tag of the repository.
      const matches: [Readonly<ImageRecord>, Reference][] = [];
      for (const r of s.records()) {
        for (const ref of s.referencesOf(r.id)) if (!ref.digest && repoName(ref) === repoName(named)) matches.push([r, ref]);
      }
      if (matches.length) { for (const [r, ref] of matches) add(r, [ref]); continue; }
    }
    let found;
    try {
      found = s.resolve(n);
    } catch (e) {
      // moby's tarexport parseNames: a bare name or ID that matches nothing fails in the image store's
      // search ("No such image: <as typed>"), a tag or digest reference in the reference store
      // ("reference does not exist"), as dockerd 20.10 answers `docker save nope` / `docker save nope:1`.
      if (!isKind(e, 'NotFound')) throw e;
      const bare = isIdOnly(n) || (named !== undefined && named.tag === undefined && named.digest === undefined);
      throw notFound(bare ? `No such image: ${n}` : 'reference does not exist', { code: 'IMAGE_UNKNOWN' });
    }
    const { record, ref } = found;
    add(record, ref && !ref.digest ? [ref] : []);
  }
  return [...byId.values()];
}

export async function saveImages(s: ImageServiceBase, names: string[]): Promise<Readable> {
  const entries = plan(s, names);
  const pack = tar.pack();
  const out = new PassThrough({ highWaterMark: 256 << 10 });
  pack.pipe(out);
  pack.on('error', (e) => out.destroy(e));

  const produce = async () => {
    const written = new Set<Digest>();
    pack.entry({ name: 'blobs/', type: 'directory', mode: 0o755, mtime: EPOCH });
    pack.entry({ name: 'blobs/sha256/', type: 'directory', mode: 0o755, mtime: EPOCH });
    const blob = async (d: Digest) => {
      if (written.has(d)) return;
      written.add(d);
      const info = await s.content.info(d);
      const entry = pack.entry({ name: blobName(d), size: info.size, mode: 0o644, mtime: EPOCH });
      // verified as it streams: a blob that rotted on disk cuts the archive short (the client sees an error,
      // never an archive whose bytes do not match its names)
      await pipeline(await s.content.createReadStream(d), new VerifyingStream({ expected: d, expectedSize: info.size }), entry);
    };
    const index: object[] = [];
    const manifest: object[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const { record, tags } of entries) {
      await blob(record.id);
      for (const l of record.layers) await blob(l.digest);
      await blob(record.manifest.digest);
      const desc = { mediaType: record.manifest.mediaType, digest: record.manifest.digest, size: record.manifest.size };
      if (tags.length === 0) index.push(desc);
      for (const t of tags) {
        index.push({ ...desc, annotations: { [ANNOTATION_IMAGE_NAME]: toString(t), [ANNOTATION_REF_NAME]: t.tag ?? 'latest' } });
        (repositories[familiarName(t)] ??= {})[t.tag ?? 'latest'] = hexOf(record.id);
      }
      manifest.push({
        Config: blobName(record.id),
        RepoTags: tags.length ? tags.map((t) => familiar(t)) : null,
        Layers: record.layers.map((l) => blobName(l.digest)),
      });
      s.events.log('save', record.id, tags[0] ? familiar(tags[0]) : record.id, record.labels);
    }
    const json = (name: string, v: unknown) => {
      const b = Buffer.from(JSON.stringify(v));
      pack.entry({ name, size: b.length, mode: 0o644, mtime: EPOCH }, b);
    };
    json('index.json', { schemaVersion: 2, mediaType: MT.ociIndex, manifests: index });
    json('manifest.json', manifest);
    json('oci-layout', { imageLayoutVersion: '1.0.0' });
    if (Object.keys(repositories).length) json('repositories', repositories);
    pack.finalize();
  };
  produce().catch((e) => { pack.destroy(e); out.destroy(e); });
  return out;
}
