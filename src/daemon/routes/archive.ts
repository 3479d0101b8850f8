// Files in and out of containers: `GET|HEAD|PUT /containers/{id}/archive` (docker cp; the stat of the path in
// the X-Docker-Container-Path-Stat header), `GET /containers/{id}/export`, and `POST /commit` (the writable
// layer → a new image). Paths are resolved inside the container's mounted rootfs with symlinks followed
// as the container would see them — never out to the host (berthd runs as root).
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { invalidArgument, notFound, isKind } from '../../errors/index.ts';
import { tarDirectory, diffDirectory, applyLayer, TarUsage, type TarHeader } from '../../archive/index.ts';
import { parseNormalizedNamed, withTag, withDefaultTag } from '../../reference/index.ts';
import { applyChanges, MT, type ContainerConfig, type ImageConfig } from '../../images/index.ts';
import { createLease, addLeaseResources, deleteLease } from '../../metadata/index.ts';
import type { Router, Context } from '../router.ts';
import type { Services } from '../services.ts';
import { containerStore } from './container-store.ts';
import { legacyConfig } from './image-inspect.ts';

/**
 * Resolves a container path to a host path under `root`, following symlinks (at most 40, as the kernel) with
 * `root` as "/". `followLast` false leaves a final symlink itself (docker cp copies the link, not its target).
 */
export async function resolveIn(root: string, path: string, followLast = true): Promise<string> {
  const parts = posix.normalize('/' + path).split('/').filter(Boolean);
  let cur = '/';
  let hops = 0;
  while (parts.length) {
    const p = parts.shift()!;
    if (p === '..') { cur = posix.dirname(cur); continue; }
    const next = posix.join(cur, p);
    if (!followLast && parts.length === 0) { cur = next; break; }
    const st = await lstat(join(root, next)).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      if (++hops > 40) throw invalidArgument(`too many levels of symbolic links: ${path}`);
      const target = await readlink(join(root, next));
      parts.unshift(...target.split('/').filter(Boolean));
      if (target.startsWith('/')) cur = '/';
      continue;
    }
    cur = next;
  }
  return join(root, cur);
}

/** Go's os.FileMode bits for a stat (what docker's PathStat.Mode carries). */
function goMode(mode: number): number {
  let m = mode & 0o777;
  const t = mode & 0o170000;
  if (t === 0o040000) m |= 2 ** 31;
  else if (t === 0o120000) m |= 2 ** 27;
  else if (t === 0o010000) m |= 2 ** 25;
  else if (t === 0o140000) m |= 2 ** 24;
  else if (t === 0o060000) m |= 2 ** 26;
  else if (t === 0o020000) m |= 2 ** 26 | 2 ** 21;
  if (mode & 0o4000) m |= 2 ** 23;
  if (mode & 0o2000) m |= 2 ** 22;
  if (mode & 0o1000) m |= 2 ** 20;
  return m >>> 0;
}

async function target(ctx: Context): Promise<{ s: Services; id: string; root: string }> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.params.id!);
  return { s, id: r.Id, root: await s.runtime.mountedRootfs(r.Id) };
}

async function pathStat(root: string, path: string, name: string): Promise<{ host: string; header: string; isDir: boolean }> {
  const host = await resolveIn(root, path, false);
  const st = await lstat(host).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw notFound(`Could not find the file ${path} in container ${name}`, { code: 'PATH_NOT_FOUND' });
    throw e;
  });
  const linkTarget = st.isSymbolicLink() ? await readlink(host) : '';
  const isDir = st.isDirectory() || (st.isSymbolicLink() && !!(await stat(await resolveIn(root, path)).catch(() => undefined))?.isDirectory());
  const json = { name: posix.basename(posix.normalize('/' + path)) || '/', size: st.size, mode: goMode(st.mode), mtime: st.mtime.toISOString(), linkTarget };
  return { host, header: Buffer.from(JSON.stringify(json)).toString('base64'), isDir };
}

async function getArchive(ctx: Context): Promise<void> {
  const { root } = await target(ctx);
  const path = ctx.query.get('path');
  if (!path) throw invalidArgument('bad parameter: path cannot be empty');
  const { host, header } = await pathStat(root, path, ctx.params.id!);
  const headers = { 'X-Docker-Container-Path-Stat': header, 'Content-Type': 'application/x-tar' };
  if (ctx.req.method === 'HEAD') { ctx.res.writeHead(200, headers); ctx.res.end(); return; }
  // the entry is named by the path's base name ("." for a trailing "/." in docker's sense is the contents)
  const base = posix.basename(host);
  const parent = posix.dirname(host);
  const tar = path.endsWith('/.')
    ? tarDirectory(host, { xattrs: false, rootNames: true, prefix: '.' }) // docker's "./", "./b", …
    : tarDirectory(parent, { xattrs: false, rootNames: true, filter: (rel) => rel === base || rel.startsWith(base + '/') });
  ctx.res.writeHead(200, headers);
  await pipeline(tar, ctx.res).catch(() => { ctx.res.destroy(); });
}

async function putArchive(ctx: Context): Promise<void> {
  const { root } = await target(ctx);
  const path = ctx.query.get('path');
  if (!path) throw invalidArgument('bad parameter: path cannot be empty');
  const host = await resolveIn(root, path);
  const st = await stat(host).catch(() => undefined);
  if (!st) throw notFound(`Could not find the file ${path} in container ${ctx.params.id}`, { code: 'PATH_NOT_FOUND' });
  if (!st.isDirectory()) throw invalidArgument(`extraction point is not a directory`);
  await applyLayer(host, ctx.req);
  ctx.empty(200);
}

/**
 * What moby's init layer (daemon/initlayer, the `<id>-init` overlay) puts under every container's rootfs and
 * `docker export` therefore lists: empty 0755 mount points, /dev/pts and /dev/shm, /etc/mtab → /proc/mounts.
 * berth has no init layer (the runtime makes its mount points), so export shows them as docker's would be.
 */
function initLayer(mtime: number): Map<string, Omit<TarHeader, 'name'>> {
  const file = { type: 'file', mode: 0o755, uid: 0, gid: 0, size: 0, mtime } as const;
  const dir = { ...file, type: 'dir' } as const;
  return new Map<string, Omit<TarHeader, 'name'>>([
    ['.dockerenv', file], ['dev/console', file], ['dev/pts', dir], ['dev/shm', dir],
    ['etc/hostname', file], ['etc/hosts', file], ['etc/resolv.conf', file],
    ['etc/mtab', { ...file, type: 'symlink', mode: 0o777, linkname: '/proc/mounts' }],
  ]);
}

async function exportRoute(ctx: Context): Promise<void> {
  const { s, id, root } = await target(ctx);
  const created = Date.parse((await containerStore(s)).get(id).Created) / 1000;
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  const tar = tarDirectory(root, { xattrs: false, rootNames: true, overlay: initLayer(Math.floor(created || Date.now() / 1000)) });
  await pipeline(tar, ctx.res).catch(() => { ctx.res.destroy(); });
}

/** A diff with no entries: no bytes at all, or just the two zero blocks that end an archive. */
const EMPTY_DIFFS = new Set(['sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef']);

/** The runtime's bind-mount points in a writable layer: docker keeps them in the `-init` layer, never in a commit. */
const MOUNT_POINTS = new Set(['.dockerenv', 'dev', 'proc', 'sys', 'etc/hostname', 'etc/hosts', 'etc/resolv.conf']);

/** A filter for diffDirectory leaving out the mount points, and /etc itself when they are all it holds. */
async function commitFilter(upper: string): Promise<(rel: string) => boolean> {
  const etc = await readdir(join(upper, 'etc')).catch(() => undefined);
  const onlyMounts = !!etc && etc.every((n) => MOUNT_POINTS.has(`etc/${n}`));
  return (rel) => !MOUNT_POINTS.has(rel) && !(onlyMounts && rel === 'etc');
}

/**
 * `docker commit`: the container's writable layer on top of its image, with -c changes, -m and -a. As moby's
 * daemon/commit.go: the new Config is the container's Config with the changes applied, container_config the
 * container's Config as it was, and history's created_by the container's command line.
 */
async function commit(ctx: Context): Promise<void> {
  const s = ctx.services;
  const r = (await containerStore(s)).get(ctx.query.get('container') ?? '');
  const repo = ctx.query.get('repo') ?? '';
  const tag = ctx.query.get('tag') ?? '';
  const names = repo ? [tag ? withTag(parseNormalizedNamed(repo), tag) : withDefaultTag(parseNormalizedNamed(repo))] : [];
  const overrides = (await ctx.readJSON<ContainerConfig>()) ?? {};
  const st = await s.runtime.inspect(r.Id);
  const pause = ctx.query.has('pause') ? ctx.bool('pause') : true;
  const paused = pause && st.status === 'running';
  if (paused) await s.runtime.pause(r.Id);
  const lease = await createLease(s.metadata, { ttlMs: 3600_000 });
  try {
    let layer;
    let layerSize = 0;
    try {
      const upper = s.runtime.upperDir(r.Id);
      // the layer's size as docker reports it (file bytes, moby's directory.Size), measured on the way in
      const usage = new TarUsage();
      // counted in a Transform, not a 'data' listener: that would start the flow before put() reads and lose bytes
      const counted = new Transform({ transform(chunk: Buffer, _enc, cb) { usage.update(chunk); cb(null, chunk); } });
      const diff = diffDirectory(upper, { filter: await commitFilter(upper) });
      diff.on('error', (e) => counted.destroy(e));
      layer = await s.content.put(diff.pipe(counted));
      layerSize = usage.size();
    } finally {
      if (paused) await s.runtime.resume(r.Id).catch(() => {});
    }
    await addLeaseResources(s.metadata, lease.id, [layer.digest]);
    // nothing changed: moby's commit adds no layer, only a history entry marked empty_layer
    const empty = EMPTY_DIFFS.has(layer.digest);
    const base: ImageConfig = await s.images.configOf(r.Image as never);
    // the record keeps the create body whole; its HostConfig and NetworkingConfig are not part of a Config
    const { HostConfig: _h, NetworkingConfig: _n, ...own } = r.Config as Record<string, unknown>;
    const c = legacyConfig({ ...(base.config ?? {}), ...own }) as ContainerConfig;
    // dockerd's create stores the CLI's empty Volumes map as null
    if (c.Volumes && !Object.keys(c.Volumes).length) c.Volumes = null as never;
    const merged: ContainerConfig = { ...c, ...overrides } as ContainerConfig;
    const config = applyChanges(merged, ctx.query.getAll('changes').flatMap((x) => x.split('\n')).filter(Boolean));
    const created = new Date().toISOString();
    const author = ctx.query.get('author') ?? '';
    const comment = ctx.query.get('comment') ?? '';
    const img = {
      ...base, created, config, container: r.Id, container_config: c, ...(author ? { author } : {}), ...(comment ? { comment } : {}),
      history: [...(base.history ?? []), { created, ...(author ? { author } : {}), ...(comment ? { comment } : {}), created_by: [r.Path, ...r.Args].join(' '), ...(empty ? { empty_layer: true } : {}) }],
      rootfs: { type: 'layers', diff_ids: [...(base.rootfs?.diff_ids ?? []), ...(empty ? [] : [layer.digest])] },
    };
    const cfg = await s.content.put(Buffer.from(JSON.stringify(img)));
    await addLeaseResources(s.metadata, lease.id, [cfg.digest]);
    const rec = s.images.resolve(r.Image).record;
    const layers = empty ? [...rec.layers] : [...rec.layers, { digest: layer.digest, mediaType: MT.ociLayer, size: layer.size, diffId: layer.digest, uncompressedSize: layerSize }];
    const manifest = {
      schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: cfg.digest, size: cfg.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    };
    const m = await s.content.put(Buffer.from(JSON.stringify(manifest)));
    await addLeaseResources(s.metadata, lease.id, [m.digest]);
    const desc = { mediaType: MT.ociManifest, digest: m.digest, size: m.size };
    await s.images.addImage({ config: cfg.digest, target: desc, manifest: desc, layers, names, parent: rec.id, created, labels: (config.Labels ?? {}) as Record<string, string> });
    s.events.publish({ Type: 'container', Action: 'commit', id: r.Id, attributes: { image: r.ImageName, name: r.Name.slice(1), comment, author } });
    ctx.json({ Id: cfg.digest }, 201);
  } catch (e) {
    if (isKind(e, 'NotFound') && /No such image/.test(String((e as Error).message))) throw notFound(`No such image: ${r.Image}`);
    throw e;
  } finally {
    await deleteLease(s.metadata, lease.id).catch(() => {});
  }
}

export default function register(r: Router): void {
  r.get('/containers/{id}/archive', getArchive);
  r.head('/containers/{id}/archive', getArchive);
  r.put('/containers/{id}/archive', putArchive);
  r.get('/containers/{id}/export', exportRoute);
  r.post('/commit', commit);
}
