// The whole of `POST /build` except HTTP itself, so the daemon's route is a few lines:
//
//   const job = await prepareBuild({ builder, layout, query: url.searchParams, body: req, signal });
//   //   ↑ throws before anything is written: answer with the error's status and {"message"} (docker does)
//   res.writeHead(200, { 'Content-Type': 'application/json' });
//   try { await job.run((m) => res.write(JSON.stringify(m) + '\n')); } catch { /* sent as errorDetail */ }
//   finally { await job.cleanup(); res.end(); }
//
// The context is received as a LazyContext under <data-root>/tmp (streamed to disk, never in memory); the
// signal (client gone) cancels the build, which kills RUN containers and leaves nothing tagged.
import type { Readable } from 'node:stream';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataRoot } from '../layout/index.ts';
import { parseBuildQuery } from './query.ts';
import { LazyContext } from './context/lazy.ts';
import type { Builder, BuildEvent, BuildResult } from './executor/builder.ts';
import type { ImageService } from '../images/index.ts';
import type { Snapshotter } from '../snapshot/index.ts';
import { tarDirectory } from '../archive/index.ts';
import { invalidArgument } from '../errors/index.ts';
import { mergeLayers } from './executor/merge.ts';

export interface BuildJob {
  /** Runs the build, writing the classic stream; rejects with the build's error (already written). */
  run(write: (msg: BuildEvent) => void): Promise<BuildResult>;
  /** Removes the received context. Safe to call twice. */
  cleanup(): Promise<void>;
}

/**
 * `secrets` (berth's query parameter, set by `berth build --secret`): a JSON object of secret id → absolute host
 * path. The classic protocol has no session to carry secrets; the CLI and berthd share a host (a unix socket),
 * so the daemon reads the file itself, at RUN --mount=type=secret time, never into a layer or the history.
 */
function secretsFromQuery(q: URLSearchParams): Record<string, string> | undefined {
  const raw = q.get('secrets');
  if (!raw) return undefined;
  let v: unknown;
  try { v = JSON.parse(raw); } catch { throw invalidArgument('invalid secrets: not a JSON object', { code: 'BAD_SECRETS' }); }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalidArgument('invalid secrets: not a JSON object', { code: 'BAD_SECRETS' });
  for (const [id, path] of Object.entries(v)) {
    if (typeof path !== 'string' || !path.startsWith('/')) throw invalidArgument(`invalid secret ${id}: source must be an absolute path`, { code: 'BAD_SECRETS' });
  }
  return v as Record<string, string>;
}

export async function prepareBuild(o: {
  builder: Builder; layout: DataRoot; query: URLSearchParams; body: Readable; signal?: AbortSignal; secrets?: Record<string, string>;
}): Promise<BuildJob> {
  const q = parseBuildQuery(o.query);
  const secrets = o.secrets ?? secretsFromQuery(o.query);
  await mkdir(o.layout.tmp, { recursive: true });
  // berth's CLI sent only what changed since the last build of this directory (context/sync.ts)
  const sessionId = o.query.get('contextsession');
  const sync = sessionId ? o.builder.contextSync.use(sessionId) : undefined;
  const work = await mkdtemp(join(o.layout.tmp, 'ctx-'));
  let received: LazyContext | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> => (cleaned ??= (async () => {
    received?.close();
    if (received && sync) await sync.keep(received).catch(() => {});
    sync?.release();
    await rm(work, { recursive: true, force: true });
  })());
  let context: LazyContext;
  try {
    context = await LazyContext.receive(o.body, work, {
      // a synced context hashes only what was sent (what changed), always from its bytes: no stat-keyed guess
      dockerfile: q.dockerfile || undefined, signal: o.signal, hashes: q.options.noCache || sync ? undefined : o.builder.contextHashes, reuse: sync?.reuse,
    });
  } catch (e) {
    await cleanup();
    throw e;
  }
  received = context;
  return {
    run: (write) => o.builder.build({
      ...q.options, context, pull: q.pull, networkMode: q.networkMode, cacheFrom: q.cacheFrom, secrets, signal: o.signal, onEvent: write,
    }),
    cleanup,
  };
}

/**
 * `berth build --output type=local|tar`: the flattened filesystem of image `id` as one tar stream (layers merged
 * with hardlinks into a temp dir under the data root, whiteouts applied, then tarred; the dir is removed when
 * the stream ends or fails). Errors before the first byte (unknown image) reject.
 */
export async function exportRootfs(o: { images: ImageService; snapshots: Snapshotter; layout: DataRoot; id: string; signal?: AbortSignal }): Promise<Readable> {
  const rec = o.images.resolve(o.id).record;
  const chain = await o.snapshots.unpackImage(o.images.content, rec.layers.map((l) => ({ digest: l.digest, diffId: l.diffId })), o.signal);
  await mkdir(o.layout.tmp, { recursive: true });
  const dir = await mkdtemp(join(o.layout.tmp, 'export-'));
  try {
    await mergeLayers(chain.map((c) => o.snapshots.fsPath(c)), '', join(dir, 'fs'), o.signal);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const tar = tarDirectory(join(dir, 'fs'));
  tar.once('close', () => { void rm(dir, { recursive: true, force: true }); });
  return tar;
}
