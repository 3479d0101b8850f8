// The executor: runs a planned Dockerfile against the image service and snapshots and reports progress in the
// classic /build stream's words (see ../README.md). Stages of one plan level run in parallel; their output is
// held back and written in stage order so the stream reads like docker's. This version runs FROM, every
// metadata instruction, WORKDIR, COPY and ADD (local files and archives), and RUN through src/runtime when a
// Runtime is given (NotImplemented otherwise), with RUN --mount cache/bind/tmpfs/secret.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createLease, addLeaseResources, deleteLease } from '../../metadata/index.ts';
import { join } from 'node:path';
import type { ImageService } from '../../images/index.ts';
import { MT } from '../../images/index.ts';
import type { Snapshotter } from '../../snapshot/index.ts';
import type { BuildRuntime } from './run.ts';
import { ContextHashCache, type LazyContext } from '../context/lazy.ts';
import { ContextSync } from '../context/sync.ts';
import { LayerFiles } from './reuse.ts';
import type { DataRoot } from '../../layout/index.ts';
import { parseNormalizedNamed, withDefaultTag, familiar, toString as refString, type Reference } from '../../reference/index.ts';
import { digestOf, shortId, type Digest } from '../../digest/index.ts';
import { invalidArgument, messageOf } from '../../errors/index.ts';
import { parseDockerfile } from '../dockerfile/convert.ts';
import type { Command } from '../dockerfile/instructions.ts';
import { BuildArgs } from '../args.ts';
import { planBuild, type BuildPlan } from '../plan/stages.ts';
import { BuildCache } from './cache.ts';
import { StageRunner, type StageState } from './stage.ts';
import { manifestOf } from './intermediate.ts';
import { Progress, humanSize, progressMessage, type ProgressEvent } from './progress.ts';

export type BuildEvent =
  | { stream: string }
  | { aux: { ID: string } }
  | { errorDetail: { message: string; code?: number }; error: string }
  | ProgressEvent;

export interface BuildOptions {
  /** The build context, unpacked, .dockerignore already applied (or give `context`). */
  contextDir?: string;
  /** The build context as received (LazyContext.receive): extracted only if a step needs its files. */
  context?: LazyContext;
  /** Dockerfile contents (default: the one `context` carries). */
  dockerfile?: string | Uint8Array;
  tags?: string[];
  buildArgs?: Record<string, string | null>;
  target?: string;
  /** --label: added by a final LABEL step, as the classic builder does. */
  labels?: Record<string, string>;
  noCache?: boolean;
  /** --no-cache-filter: the stages (by AS name) that build without the cache, BuildKit's rule. */
  noCacheFilter?: string[];
  /**
   * --progress (berth's CLI): step events (`{"id":"berth.progress","aux":…}`, see progress.ts) instead of the
   * classic stream's lines; the docker CLI never asks, so it keeps the classic stream.
   */
  progress?: boolean;
  /**
   * false for an export (`berth build --output`, which loads nothing): no intermediate images, only the final
   * one, which the CLI removes after exporting it. Default true: every step is an image, as moby's builder.
   */
  intermediates?: boolean;
  /** --cache-from: local images whose history may stand in for steps (the classic builder's rule, see stage.ts). */
  cacheFrom?: string[];
  /** -q: only the image ID (as aux) and errors. */
  quiet?: boolean;
  /** --pull: fetch base images through the pull hook even when present locally. */
  pull?: boolean;
  /** --network (networkmode): RUN's network when the instruction has no --network ('none', 'host', 'default'). */
  networkMode?: string;
  /** --secret: id → host file path, for RUN --mount=type=secret. */
  secrets?: Record<string, string>;
  /** Seconds; defaults to the SOURCE_DATE_EPOCH build-arg when given. */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
  onEvent?: (e: BuildEvent) => void;
}

export interface BuildResult { id: Digest; names: string[]; warnings: string[] }

export interface BuilderDeps {
  images: ImageService;
  snapshots: Snapshotter;
  layout: DataRoot;
  /** Pulls a missing base/--from image (the daemon wires distribution here); absent = local images only. */
  pull?: (ref: string, signal?: AbortSignal) => Promise<void>;
  /** Runs RUN steps; without it RUN answers NotImplemented. */
  runtime?: BuildRuntime;
}

export class Builder {
  private cache?: BuildCache;
  /** Digests of context files by stat, across builds (see ContextHashCache for the trade-off). */
  readonly contextHashes = new ContextHashCache();
  /** Contexts kept for the next build of the same directory (berth's CLI sends only what changed). */
  readonly contextSync: ContextSync;
  /** Files of recent COPY layers, hardlinked into the next ones' snapshots. */
  private readonly layerFiles = new LayerFiles();

  constructor(private readonly deps: BuilderDeps) {
    this.contextSync = new ContextSync(join(deps.layout.tmp, 'contexts'));
    // Cache records keep their configs and layers alive through image GC until `builder prune`.
    deps.images.addRoots(async () => (await this.buildCache()).roots());
  }

  /** `docker builder prune`: drops cache records (all, or unused since `until` ms), then collects garbage. */
  async prune(opts: { until?: number } = {}): Promise<{ records: number }> {
    const records = await (await this.buildCache()).prune(opts);
    this.contextSync.clear();
    await this.deps.images.gc();
    return { records };
  }

  /** The build cache (opened on first use); its roots() belong in the image GC. */
  async buildCache(): Promise<BuildCache> {
    this.cache ??= await BuildCache.open(this.deps.layout.builder);
    return this.cache;
  }

  /**
   * Builds and tags. Errors are thrown (and also sent as errorDetail when `onEvent` is given); nothing is
   * tagged unless every step succeeded.
   */
  async build(o: BuildOptions): Promise<BuildResult> {
    const out = (e: BuildEvent) => o.onEvent?.(e);
    // snapshots this build unpacks are out of the snapshot GC's reach until it ends (recorded by then)
    const lease = this.deps.snapshots.lease();
    try {
      return await this.run(o);
    } catch (e) {
      // a failed RUN carries its exit code, which the docker CLI exits with (jsonmessage's JSONError.Code)
      const code = (e as { detail?: { exitCode?: unknown } }).detail?.exitCode;
      // --progress speaks BuildKit's words (the CLI prints "ERROR: failed to solve: " before them)
      const message = o.progress ? progressMessage(e) : messageOf(e);
      out({ errorDetail: { ...(typeof code === 'number' ? { code } : {}), message }, error: message });
      throw e;
    } finally {
      lease.release();
    }
  }

  private async run(o: BuildOptions): Promise<BuildResult> {
    const emit = (s: string) => { if (!o.quiet && !o.progress) o.onEvent?.({ stream: s }); };
    const progress = new Progress(o.progress && !o.quiet ? (e) => o.onEvent?.(e) : undefined);
    if (progress.enabled && o.context) {
      // what prepareBuild already did, as BuildKit shows it: the Dockerfile, the ignore file, the context
      const c = o.context;
      const name = c.dockerfilePath.split('/').pop();
      const step = (title: string, status: string): void => { const v = progress.vertex(title, c.stats.start); v.status(status, c.stats.end); v.done(c.stats.end); };
      step(`[internal] load build definition from ${name}`, `transferring dockerfile: ${humanSize(c.dockerfile.length)} done`);
      step('[internal] load .dockerignore', `transferring context: ${humanSize(c.stats.ignoreBytes)} done`);
      step('[internal] load build context', `transferring context: ${humanSize(c.stats.bytes)} done`);
    }
    const names: Reference[] = (o.tags ?? []).map((t) => {
      const r = withDefaultTag(parseNormalizedNamed(t));
      if (r.digest) throw invalidArgument(`invalid reference format: ${t}`);
      return r;
    });
    const text = o.dockerfile ?? o.context?.dockerfile;
    if (text === undefined || (!o.contextDir && !o.context)) throw invalidArgument('a build needs a context and a Dockerfile');
    const df = parseDockerfile(text);
    // warnings go out with --progress too (the CLI prints stream lines on stderr then)
    const warn = (s: string) => { if (!o.quiet) o.onEvent?.({ stream: s }); };
    for (const w of df.warnings) warn(w + '\n');
    const args = new BuildArgs(o.buildArgs ?? {});
    const plan = planBuild(df, args, o.target);
    if (o.labels && Object.keys(o.labels).length) appendLabels(plan, o.labels);

    const epochArg = o.sourceDateEpoch ?? (o.buildArgs?.SOURCE_DATE_EPOCH ? Number(o.buildArgs.SOURCE_DATE_EPOCH) : undefined);
    if (epochArg !== undefined && !(Number.isInteger(epochArg) && epochArg >= 0)) throw invalidArgument(`invalid SOURCE_DATE_EPOCH: ${epochArg}`);

    // Step numbers as the classic builder counts them: global ARGs, then each built stage's FROM + commands.
    let total = df.metaArgs.length;
    const offsets = new Map<number, number>();
    for (const i of plan.order) { offsets.set(i, total); total += 1 + plan.stages[i]!.stage.commands.length; }
    df.metaArgs.forEach((a, k) => emit(`Step ${k + 1}/${total} : ${a.original.trim()}\n`));

    const cache = await this.buildCache();
    await mkdir(this.deps.layout.tmp, { recursive: true });
    const tmp = await mkdtemp(join(this.deps.layout.tmp, 'build-'));
    // Blobs written by this build stay out of GC's reach until the image or a cache record holds them.
    // The lease is made on the first blob the build writes: a build that only hits the cache writes no
    // metadata at all (each durable write is an fsync, which a machine busy writing back can hold for seconds)
    const leaseId = `build-${randomBytes(8).toString('hex')}`;
    let leased: Promise<unknown> | undefined;
    const keep = async (digests: Digest[]): Promise<void> => {
      leased ??= createLease(this.deps.images.metadata, { id: leaseId, ttlMs: 24 * 3600_000 });
      await leased;
      await addLeaseResources(this.deps.images.metadata, leaseId, digests);
    };
    const dropLease = async (): Promise<void> => { if (leased) await deleteLease(this.deps.images.metadata, leaseId).catch(() => {}); };
    const results = new Map<number, StageState>();
    const controller = new AbortController();
    const signal = o.signal ? AbortSignal.any([o.signal, controller.signal]) : controller.signal;
    const runner = new StageRunner({
      ...this.deps, cache, args, plan, escapeToken: df.escapeToken, tmp, signal,
      contextDir: o.contextDir ? async () => o.contextDir! : () => o.context!.directory(signal), lazy: o.contextDir ? undefined : o.context,
      noCache: o.noCache ?? false, cacheFrom: o.cacheFrom ?? [], epoch: epochArg, total, results, keep, builderDir: this.deps.layout.builder,
      secrets: o.secrets ?? {}, alwaysPull: o.pull ?? false, networkMode: o.networkMode === 'none' ? 'none' : 'host',
      progress, noCacheStages: noCacheStages(plan, o.noCacheFilter), layerFiles: this.layerFiles, intermediates: o.intermediates ?? true,
    });
    try {
      for (const level of plan.levels) {
        // Parallel within a level; output released in stage order.
        const buffers = level.map(() => [] as string[]);
        let released = 0;
        const done = level.map(() => false);
        const flush = () => {
          while (released < level.length) {
            for (const line of buffers[released]!.splice(0)) emit(line);
            if (!done[released]) break;
            released++;
          }
        };
        await Promise.all(level.map(async (i, k) => {
          try {
            const st = await runner.runStage(i, offsets.get(i)!, (line) => { buffers[k]!.push(line); flush(); });
            results.set(i, st);
          } catch (e) {
            controller.abort(e);
            throw e;
          } finally {
            done[k] = true;
            flush();
          }
        }));
      }
    } catch (e) {
      await dropLease();
      throw e;
    } finally {
      await runner.cleanup();
      await rm(tmp, { recursive: true, force: true });
    }

    const final = results.get(plan.target)!;
    const warning = args.unusedWarning();
    if (warning) warn(warning);
    let id: Digest;
    const exporting = progress.vertex('exporting to image');
    try {
      exporting.status('exporting layers done');
      id = await this.commitImage(final, names, keep);
      exporting.status(`writing image ${id} done`);
      for (const n of names) exporting.status(`naming to ${refString(n)} done`);
      exporting.done();
    } catch (e) {
      exporting.error(messageOf(e));
      throw e;
    } finally {
      await dropLease();
    }
    o.onEvent?.({ aux: { ID: id } });
    // With -q the route sends only the image ID, as a stream line (moby's build route does the same).
    if (o.quiet) o.onEvent?.({ stream: `${id}\n` });
    emit(`Successfully built ${shortId(id)}\n`);
    for (const n of names) emit(`Successfully tagged ${familiar(n)}\n`);
    return { id, names: names.map((n) => familiar(n)), warnings: warning ? [warning] : [] };
  }

  /**
   * Writes the manifest for the final state and records the image under `names`. The state is normally an
   * intermediate image already (intermediate.ts), whose parent is the previous step's image; it keeps it.
   */
  private async commitImage(s: StageState, names: Reference[], keep: (d: Digest[]) => Promise<void>): Promise<Digest> {
    const { images } = this.deps;
    const bytes = manifestOf(s);
    const digest = digestOf(bytes);
    // A rebuild that gives the image the names already have: nothing to write
    if (await images.content.has(digest) && names.length > 0 && names.every((n) => {
      try { const r = images.resolve(familiar(n)).record; return r.id === s.configDigest && r.target.digest === digest; } catch { return false; }
    })) return s.configDigest;
    const m = await images.content.put(bytes);
    await keep([m.digest]);
    const desc = { mediaType: MT.ociManifest, digest: m.digest, size: m.size };
    await images.addImage({
      config: s.configDigest, target: desc, manifest: desc, layers: s.layers, names,
      created: s.image.created ?? '', labels: (s.image.config?.Labels ?? {}) as Record<string, string>,
    });
    return s.configDigest;
  }
}

/** --no-cache-filter: the stages named (case-insensitively, as BuildKit's EqualFold) build without the cache. */
function noCacheStages(plan: BuildPlan, names: string[] | undefined): Set<number> {
  const want = new Set((names ?? []).map((n) => n.toLowerCase()));
  return new Set(plan.stages.filter((s) => s.stage.name !== '' && want.has(s.stage.name)).map((s) => s.stage.index));
}

/**
 * `--label k=v` becomes LABEL steps at the end of the target stage, one per label in key order, shown as
 * `LABEL k=v` unquoted — what dockerd 20.10's classic builder prints and records.
 */
function appendLabels(plan: BuildPlan, labels: Record<string, string>): void {
  const stage = plan.stages[plan.target]!.stage;
  const last = stage.commands[stage.commands.length - 1]?.endLine ?? stage.from.endLine;
  for (const key of Object.keys(labels).sort()) {
    const value = labels[key]!;
    stage.commands.push({ kind: 'LABEL', labels: [{ key, value }], line: last + 1, endLine: last + 1, original: `LABEL ${key}=${value}` } as Command);
  }
}
