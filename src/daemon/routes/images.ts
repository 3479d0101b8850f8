// Image routes (swagger tag "Image"), translating src/images' ImageService results into Engine API JSON.
// Shapes change with the API version as moby's do (api/server/router/image/image_routes.go):
//   < 1.44  ImageSummary carries VirtualSize; untagged images list as `<none>:<none>`/`<none>@<none>`
//   ≥ 1.48  ImageSummary carries the target Descriptor
// (ImageInspect's versions: image-inspect.ts)
// Routes taking a name use `{name:.*}` (names such as `host:5000/a/b:tag` contain `/`), fixed paths first.
import type { Readable } from 'node:stream';
import { invalidArgument, notFound, isKind } from '../../errors/index.ts';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { NAMES, type NameRecord } from '../../metadata/index.ts';
import type { ImageService, ImageView } from '../../images/index.ts';
import type {
  SystemDf, ImageSummary, ImageInspect, HistoryResponseItem, ImageDeleteResponseItem, ImagePruneResponse, OCIDescriptor, ImageConfig,
} from '../../api/index.ts';
import { PASS, type Router, type Context, type Filters } from '../router.ts';
import type { Services } from '../services.ts';
import { versionBefore } from '../version.ts';
import { GenerationCache } from '../cache.ts';
import { imageInspect, overlayData } from './image-inspect.ts';

function images(s: Services): ImageService {
  return s.images;
}

function filtersRecord(f: Filters): Record<string, string[]> {
  return Object.fromEntries(f);
}

export function imageCount(s: Services): number {
  return s.images.records().length;
}

function descriptor(v: ImageView): OCIDescriptor {
  const t = v.record.target;
  return { mediaType: t.mediaType, digest: t.digest, size: t.size };
}

/**
 * One ImageSummary in the shape the request's API version expects, keys in moby's (alphabetical, generated) struct
 * order. Before 1.43 a dangling image lists as `<none>:<none>` / `<none>@<none>` and an empty list is Go's nil
 * (null); from 1.43 empty lists are [] (moby's router: useNone).
 */
export function summary(v: ImageView, version: string, extra: { sharedSize?: number; containers?: number } = {}): ImageSummary {
  const useNone = versionBefore(version, '1.43');
  const dangling = v.repoTags.length === 0 && v.repoDigests.length === 0;
  const list = (xs: string[], none: string) => (useNone ? (dangling ? [none] : xs.length ? xs : null) : xs);
  const out = {
    Containers: extra.containers ?? -1,
    Created: v.created,
    Id: v.id,
    // a nil map in moby's Summary: an image without labels lists null
    Labels: Object.keys(v.labels ?? {}).length ? v.labels : null,
    ParentId: v.parent,
    ...(!versionBefore(version, '1.48') ? { Descriptor: descriptor(v) } : {}),
    RepoDigests: list(v.repoDigests, '<none>@<none>'),
    RepoTags: list(v.repoTags, '<none>:<none>'),
    SharedSize: extra.sharedSize ?? -1,
    Size: v.size,
    ...(versionBefore(version, '1.44') ? { VirtualSize: v.size } : {}),
  };
  return out as ImageSummary;
}

const listCaches = new WeakMap<Services, GenerationCache>();

async function list(ctx: Context): Promise<void> {
  // the answer depends only on metadata and the request: serve it from memory until the next write
  let listCache = listCaches.get(ctx.services);
  if (!listCache) listCaches.set(ctx.services, listCache = new GenerationCache());
  const gen = ctx.services.metadata.generation;
  const key = `${ctx.version}?${ctx.query.toString()}`;
  let body = listCache.get(gen, key);
  if (body === undefined) {
    body = JSON.stringify(listImages(ctx)) + '\n';
    listCache.set(gen, key, body);
  }
  ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  ctx.res.end(body);
}

function listImages(ctx: Context): ImageSummary[] {
  const f = ctx.filters();
  // API < 1.41 `filter=NAME` is a reference filter
  const legacy = ctx.query.get('filter');
  if (legacy) f.set('reference', [...(f.get('reference') ?? []), legacy]);
  const views = images(ctx.services).list({ all: ctx.bool('all'), filters: filtersRecord(f) });
  return views.map((v) => summary(v, ctx.version));
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

async function inspect(ctx: Context): Promise<void> {
  const d = await images(ctx.services).inspect(ctx.params.name!);
  let lastTagTime = 0;
  for (const [, n] of ctx.services.metadata.list<NameRecord>(NAMES)) if (n.imageId === d.id) lastTagTime = Math.max(lastTagTime, n.taggedAt);
  const snaps = ctx.services.snapshots;
  ctx.json(imageInspect({
    id: d.id, repoTags: d.repoTags, repoDigests: d.repoDigests, parent: d.parent, size: d.size,
    config: d.config as never, lastTagTime: lastTagTime ? rfc3339(lastTagTime) : undefined, descriptor: descriptor(d),
    graphData: overlayData(d.config.rootfs.diff_ids, (c) => snaps.fsPath(c)),
  }, ctx.version));
}

async function history(ctx: Context): Promise<void> {
  const items: HistoryResponseItem[] = await images(ctx.services).history(ctx.params.name!);
  ctx.json(items);
}

async function tag(ctx: Context): Promise<void> {
  const repo = ctx.query.get('repo');
  if (!repo) throw invalidArgument('repository name must have at least one component');
  const t = ctx.query.get('tag');
  await images(ctx.services).tag(ctx.params.name!, t ? `${repo}:${t}` : repo);
  ctx.empty(201);
}

async function remove(ctx: Context): Promise<void> {
  const items: ImageDeleteResponseItem[] = await images(ctx.services).remove(ctx.params.name!, {
    force: ctx.bool('force'), noprune: ctx.bool('noprune'),
  });
  ctx.json(items);
}

async function prune(ctx: Context): Promise<void> {
  const f = ctx.filters(['dangling', 'label', 'label!', 'until']);
  const dangling = f.get('dangling');
  // docker image prune -a sends dangling=false: "all unused images", not only untagged ones
  const all = !!dangling && dangling.some((v) => ['false', '0'].includes(v.toLowerCase()));
  f.delete('dangling');
  const r = await images(ctx.services).prune({ all, filters: filtersRecord(f) });
  const out: ImagePruneResponse = { ImagesDeleted: r.ImagesDeleted.length ? r.ImagesDeleted : null, SpaceReclaimed: r.SpaceReclaimed };
  ctx.json(out);
}

async function sendTar(ctx: Context, names: string[]): Promise<void> {
  if (!names.length) throw invalidArgument('no images specified');
  const stream: Readable = await images(ctx.services).save(names);
  const { res } = ctx;
  res.writeHead(200, { 'content-type': 'application/x-tar' });
  stream.on('error', (e) => { ctx.services.log.error(`save: ${(e as Error).message}`); res.destroy(e); });
  res.on('close', () => stream.destroy());
  stream.pipe(res);
  await new Promise<void>((r) => res.once('close', r));
}

async function load(ctx: Context): Promise<void> {
  const quiet = ctx.bool('quiet');
  const out = ctx.progress();
  const ac = new AbortController();
  ctx.res.once('close', () => { if (!ctx.res.writableFinished) ac.abort(); });
  try {
    // the service reports docker's "Loaded image: NAME" lines through onProgress, quiet or not
    await images(ctx.services).load(ctx.req, { quiet, signal: ac.signal, onProgress: (p) => { void out.write(p); } });
    out.end();
  } catch (e) {
    ctx.req.resume();
    if (ctx.res.headersSent) { out.fail(e); return; }
    // moby's load answers 200 and reports a bad archive in the stream: the docker CLI prints the bare text
    const message = loadErrorText(ctx, e);
    ctx.res.writeHead(200, { 'content-type': 'application/json' });
    ctx.res.end(JSON.stringify({ errorDetail: { message }, error: message }) + '\n');
  }
}

/**
 * dockerd's words for an archive it cannot load (20.10 and 28 alike: tarexport unpacks the whole archive into
 * a temp dir first, so a broken tar is reported by the untar, a missing manifest.json by the legacy fallback).
 */
function loadErrorText(ctx: Context, e: unknown): string {
  if (isKind(e, 'InvalidArgument', 'ARCHIVE_UNREADABLE')) {
    const cause = (e as { cause?: unknown }).cause;
    const eof = isKind(cause, 'InvalidArgument', 'TAR_TRUNCATED') || isKind(cause, 'InvalidArgument', 'DECOMPRESS_FAILED');
    return `Error processing tar file(exit status 1): ${eof ? 'unexpected EOF' : 'archive/tar: invalid tar header'}`;
  }
  if (isKind(e, 'InvalidArgument', 'ARCHIVE_NO_MANIFEST')) {
    const tmp = join(ctx.services.layout.tmp, `docker-import-${randomInt(1e9, 1e10)}`);
    return `open ${join(tmp, 'repositories')}: no such file or directory`;
  }
  return (e as Error).message;
}

/** `POST /images/create?fromSrc=…`: import a rootfs tarball from the body (`-`) or a URL. Pulls PASS on. */
async function create(ctx: Context): Promise<void | typeof PASS> {
  const src = ctx.query.get('fromSrc');
  if (src === null) return PASS;
  const repo = ctx.query.get('repo') ?? '';
  const t = ctx.query.get('tag') ?? '';
  const name = repo ? (t ? `${repo}:${t}` : repo) : undefined;
  const opts = {
    ref: name, message: ctx.query.get('message') || undefined, changes: ctx.query.getAll('changes'),
    platform: ctx.query.get('platform') || undefined, src,
  };
  let input: Readable;
  let fetched: URL | undefined;
  if (src === '-') {
    input = ctx.req;
  } else {
    ctx.req.resume();
    ({ url: fetched, body: input } = await fetchSource(src));
  }
  const out = ctx.progress();
  try {
    // dockerd's stream for a URL: "Downloading from URL", "Importing" progress, an empty message (the
    // docker CLI prints it as a blank line), then the ID — captured from dockerd 20.10
    if (fetched) await out.write({ status: `Downloading from ${fetched.href}` });
    const r = await images(ctx.services).import(input, opts);
    if (fetched) await out.write({});
    await out.write({ status: r.id });
    out.end();
  } catch (e) {
    input.resume();
    out.fail(e);
  }
}

/** Streams a URL's body (moby: "Downloading from URL"). Only http(s). */
async function fetchSource(src: string): Promise<{ url: URL; body: Readable }> {
  let url: URL;
  try {
    url = new URL(/^https?:\/\//.test(src) ? src : `http://${src}`);
  } catch {
    throw invalidArgument(`invalid source: ${src}`);
  }
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    // Go's url.Error text, as dockerd 20.10 answers an unreachable source
    const code = (e as { cause?: { code?: string } }).cause?.code;
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const why = code === 'ECONNREFUSED' ? 'connect: connection refused' : code === 'ENOTFOUND' ? `lookup ${url.hostname}: no such host` : (e as Error).message;
    throw new Error(`Get "${url.href}": dial tcp ${url.hostname}:${port}: ${why}`, { cause: e });
  }
  if (res.status >= 400 || !res.body) {
    // moby remotecontext.GetWithStatusError: status line and the trimmed body
    const body = (await res.text().catch(() => '')).trim();
    const msg = `failed to GET ${url.href} with status ${res.status} ${res.statusText}: ${body}`;
    throw res.status === 404 ? notFound(msg) : invalidArgument(msg);
  }
  const { Readable: R } = await import('node:stream');
  return { url, body: R.fromWeb(res.body as import('node:stream/web').ReadableStream) };
}

/** Fills the image part of `GET /system/df`. */
export async function systemDf(ctx: Context, out: SystemDf): Promise<void> {
  const r = await images(ctx.services).df();
  out.LayersSize = r.layersSize;
  out.Images = r.images.map((v) => summary(v, ctx.version, { sharedSize: v.sharedSize, containers: v.containers }));
}

export default function register(r: Router): void {
  r.get('/images/json', list);
  r.get('/images/get', (ctx) => sendTar(ctx, ctx.query.getAll('names')));
  r.post('/images/load', load);
  r.post('/images/create', create);
  r.post('/images/prune', prune);
  r.get('/images/{name:.*}/json', inspect);
  r.get('/images/{name:.*}/history', history);
  r.get('/images/{name:.*}/get', (ctx) => sendTar(ctx, [ctx.params.name!]));
  r.post('/images/{name:.*}/tag', tag);
  r.delete('/images/{name:.*}', remove);
}
