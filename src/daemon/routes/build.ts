// `POST /build` (the classic builder: `docker build` without BuildKit takes this path since /_ping answers
// Builder-Version 1) and `POST /build/prune`. Everything but HTTP is src/build's prepareBuild.
import { prepareBuild, exportRootfs, type SyncManifest } from '../../build/index.ts';
import type { Router, Context } from '../router.ts';

async function build(ctx: Context): Promise<void> {
  const s = ctx.services;
  const ac = new AbortController();
  // the client going away before the end cancels the build (RUN containers are killed, nothing tagged)
  ctx.res.on('close', () => { if (!ctx.res.writableEnded) ac.abort(new Error('client disconnected')); });
  const stop = ctx.onStop(() => ac.abort(new Error('daemon stopping')));
  // an error here (bad query, unreadable context) is a plain HTTP error with docker's status, as moby's
  const job = await prepareBuild({ builder: s.builder, layout: s.layout, query: ctx.query, body: ctx.req, signal: ac.signal });
  // moby's build route answers 200 only with the first output (its WriteFlusher): a build that fails before
  // saying anything (a Dockerfile parse error) is a plain HTTP error, "Error response from daemon: …" in the CLI
  let started = false;
  try {
    await job.run((m) => {
      if (!started && 'errorDetail' in m) return;
      if (!started) { ctx.res.writeHead(200, { 'Content-Type': 'application/json' }); started = true; }
      if (!ctx.res.destroyed) ctx.res.write(JSON.stringify(m) + '\n');
    });
  } catch (e) {
    if (!started) throw e;
    /* already sent in-band as errorDetail */
  } finally {
    stop();
    await job.cleanup();
    if (started && !ctx.res.writableEnded) ctx.res.end();
  }
}

/**
 * `POST /build/context?key=K&dockerfile=D` (berth's own): phase one of the context sync (src/build
 * context/sync.ts). Body `{"now", "files"}`; answers `{"session", "want"}`, the indices of the files to send
 * with `POST /build?contextsession=…`.
 */
async function contextSync(ctx: Context): Promise<void> {
  const body = await ctx.readJSON<SyncManifest>();
  ctx.json(ctx.services.builder.contextSync.open(ctx.query.get('key') ?? '', body!, ctx.query.get('dockerfile') ?? undefined));
}

/** docker's `until` filter: a duration ("24h", "30m") back from now, or a timestamp. */
function untilOf(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const d = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(v);
  if (d) {
    const mult: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
    return Date.now() - Number(d[1]) * mult[d[2]!]!;
  }
  const n = Number(v);
  if (!Number.isNaN(n)) return n * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

async function prune(ctx: Context): Promise<void> {
  const f = ctx.filters(['until', 'unused-for', 'type', 'id', 'parent', 'shared', 'private', 'inuse', 'description']);
  const until = untilOf(f.get('until')?.[0] ?? f.get('unused-for')?.[0]);
  // `docker builder prune -a` and a plain prune both drop unused records: the classic cache has no mounts in use
  await ctx.services.builder.prune(until === undefined ? {} : { until });
  ctx.json({ CachesDeleted: [], SpaceReclaimed: 0 });
}

/**
 * `GET /build/rootfs?image=ID` (berth's own, not docker's): the image's flattened filesystem as a tar, for
 * `berth build --output type=local|tar` (BuildKit hands exports over its session, which the classic protocol lacks).
 */
async function rootfs(ctx: Context): Promise<void> {
  const s = ctx.services;
  const tar = await exportRootfs({ images: s.images, snapshots: s.snapshots, layout: s.layout, id: ctx.query.get('image') ?? '' });
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  ctx.res.on('close', () => tar.destroy());
  tar.on('error', () => ctx.res.destroy());
  tar.pipe(ctx.res);
  await new Promise<void>((r) => ctx.res.once('close', () => r()));
}

export default function register(r: Router): void {
  r.post('/build', build);
  r.post('/build/context', contextSync);
  r.get('/build/rootfs', rootfs);
  r.post('/build/prune', prune);
}
