// Runs one stage: FROM (local image, pull hook, earlier stage or scratch), the base image's ONBUILD triggers,
// then each instruction: expand → cache key → cache hit, or execute and record. Every step's result is an
// image config stored in content (its digest is what " ---> <id>" shows), so cache hits reproduce the
// same image IDs.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageService, ImageConfig, ContainerConfig } from '../../images/index.ts';
import type { Snapshotter } from '../../snapshot/index.ts';
import type { LayerRecord } from '../../metadata/index.ts';
import { chainIds, goJson } from '../../image/index.ts';
import { shortId, type Digest } from '../../digest/index.ts';
import { isKind, messageOf, notImplemented } from '../../errors/index.ts';
import { parseTrigger } from '../dockerfile/convert.ts';
import { EXPANDS, type Command } from '../dockerfile/instructions.ts';
import { parseError } from '../dockerfile/errors.ts';
import { expandInstruction, expanderFor } from '../expand.ts';
import { formatPlatform, hostPlatform, type BuildArgs, type StageScope } from '../args.ts';
import { resolveStageRef, type BuildPlan } from '../plan/stages.ts';
import { cacheKey, normalizeInstruction } from '../plan/cachekey.ts';
import { contextRelative } from '../context/copy.ts';
import { hasWildcards } from '../context/match.ts';
import { mergeLayers } from './merge.ts';
import type { LazyContext } from '../context/lazy.ts';
import { applyMetadata, copyCreatedBy, nopCreatedBy, runCreatedBy, DEFAULT_PATH, DEFAULT_SHELL } from './config.ts';
import { ChainView } from './layer.ts';
import { matchCacheFrom } from './cachefrom.ts';
import type { BuildCache } from './cache.ts';
import { runStep, type BuildRuntime } from './run.ts';
import { resolveRunMounts, type RunMount } from './mounts.ts';
import { CopySteps, type CopyInputs } from './copystep.ts';
import { recordIntermediate } from './intermediate.ts';
import { fullName, progressMessage, stepLabels, type Progress, type Vertex } from './progress.ts';
import type { LayerFiles } from './reuse.ts';

export interface StageState {
  image: ImageConfig;
  configDigest: Digest;
  configSize: number;
  layers: LayerRecord[];
  /** The image the stage started from (FROM image), for the record's `parent`. */
  baseImageId?: Digest;
}

export interface StageRunnerDeps {
  images: ImageService;
  snapshots: Snapshotter;
  pull?: (ref: string, signal?: AbortSignal) => Promise<void>;
  runtime?: BuildRuntime;
  cache: BuildCache;
  args: BuildArgs;
  plan: BuildPlan;
  escapeToken: string;
  /** The context as a directory (extracted on first use when it came as a LazyContext). */
  contextDir: () => Promise<string>;
  lazy?: LazyContext;
  tmp: string;
  signal: AbortSignal;
  noCache: boolean;
  /** Stages (Dockerfile index) that build without the cache (--no-cache-filter). */
  noCacheStages: Set<number>;
  /** Step events for --progress (inert otherwise). */
  progress: Progress;
  /** Files of earlier COPY layers, hardlinked into new snapshots (reuse.ts). */
  layerFiles?: LayerFiles;
  /** --cache-from image references. */
  cacheFrom: string[];
  epoch?: number;
  total: number;
  results: Map<number, StageState>;
  /** DataRoot.builder: RUN --mount=type=cache directories live below it. */
  builderDir: string;
  alwaysPull: boolean;
  /** RUN's network unless the instruction says otherwise. */
  networkMode: 'none' | 'host';
  /** --secret id → host file. */
  secrets: Record<string, string>;
  /** Adds blobs this build wrote to its GC lease. */
  keep: (digests: Digest[]) => Promise<void>;
  /** Record every step's result as an image (intermediate.ts). */
  intermediates: boolean;
}

const shellOf = (c: ContainerConfig | null | undefined): string[] => (c?.Shell as string[] | undefined) ?? [...DEFAULT_SHELL];

export class StageRunner {
  private readonly materialized = new Map<Digest, { dir: Promise<string>; done: Map<string, Promise<void>> }>();
  private readonly pulled = new Set<string>();
  private readonly platform = formatPlatform(hostPlatform());

  private readonly copies: CopySteps;

  constructor(private readonly d: StageRunnerDeps) {
    this.copies = new CopySteps(d, (index, ref, sources) => this.rootOf(index, ref, sources), (s) => this.view(s));
  }

  private created(): string {
    return this.d.epoch !== undefined ? new Date(this.d.epoch * 1000).toISOString().replace('.000Z', 'Z') : new Date().toISOString();
  }

  async runStage(index: number, offset: number, emit: (line: string) => void): Promise<StageState> {
    const sp = this.d.plan.stages[index]!;
    let step = offset;
    emit(`Step ${++step}/${this.d.total} : ${sp.stage.from.original.trim()}\n`);
    const labels = stepLabels(sp.stage, this.d.plan.stages.length, sp.base.kind === 'image' ? fullName(sp.base.ref) : undefined);
    const fromVertex = labels.from !== undefined ? this.d.progress.vertex(labels.from) : undefined;
    let state: StageState;
    try {
      state = await this.base(index);
    } catch (e) {
      fromVertex?.error(messageOf(e), sp.stage.from);
      throw e;
    }
    fromVertex?.done();
    const scope = this.d.args.stage(state.image.config?.Env ?? []);
    const triggers = (state.image.config?.OnBuild ?? []).map((e) => parseTrigger(e, this.d.escapeToken) as Command);
    if (triggers.length) {
      emit(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      state = { ...state, image: { ...state.image, config: { ...state.image.config, OnBuild: null } } };
    }
    // Triggers belong to the FROM step: their output shows, their " ---> <id>" lines do not (docker prints one
    // per Dockerfile step, after the triggers)
    const inTrigger = (line: string): void => { if (!/^ ---> [0-9a-f]{12}\n$/.test(line)) emit(line); };
    const baseId = state.configDigest;
    for (const t of triggers) state = await this.step(index, state, scope, t, inTrigger);
    if (triggers.length && this.d.intermediates) await recordIntermediate(this.d.images, state, baseId, this.d.keep);
    // FROM scratch: docker prints the (empty) ID all the same
    emit(` ---> ${state.configDigest ? shortId(state.configDigest) : ''}\n`);
    for (const [k, cmd] of sp.stage.commands.entries()) {
      this.d.signal.throwIfAborted();
      emit(`Step ${++step}/${this.d.total} : ${cmd.original.trim()}\n`);
      const label = labels.commands[k];
      const vx = label !== undefined ? this.d.progress.vertex(label) : undefined;
      try {
        const parent = state.configDigest;
        state = await this.step(index, state, scope, cmd, emit, vx);
        if (this.d.intermediates) await recordIntermediate(this.d.images, state, parent, this.d.keep);
      } catch (e) {
        vx?.error(progressMessage(e), cmd);
        throw e;
      }
      vx?.done();
    }
    return state;
  }

  /** The state a stage starts from. Scratch has no config digest yet (configDigest ''). */
  private async base(index: number): Promise<StageState> {
    const base = this.d.plan.stages[index]!.base;
    if (base.kind === 'stage') return { ...this.d.results.get(base.index)!, baseImageId: undefined };
    if (base.kind === 'image') {
      if (base.platform && base.platform !== this.platform && base.platform !== formatPlatform({ ...hostPlatform(), variant: undefined })) {
        const line = this.d.plan.stages[index]!.stage.from.line;
        throw parseError(`platform ${base.platform} is not supported by this builder (it builds for ${this.platform} only)`, line);
      }
      return this.imageState(base.ref);
    }
    const p = hostPlatform();
    const image: ImageConfig = {
      architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}),
      config: { Env: [DEFAULT_PATH] }, rootfs: { type: 'layers', diff_ids: [] }, history: [],
    };
    return { image, configDigest: '' as Digest, configSize: 0, layers: [] };
  }

  private async imageState(ref: string): Promise<StageState> {
    const { images } = this.d;
    let rec;
    try {
      if (this.d.alwaysPull && this.d.pull && !this.pulled.has(ref)) {
        this.pulled.add(ref);
        await this.d.pull(ref, this.d.signal);
      }
      rec = images.resolve(ref).record;
    } catch (e) {
      if (!isKind(e, 'NotFound') || !this.d.pull) throw e;
      await this.d.pull(ref, this.d.signal);
      rec = images.resolve(ref).record;
    }
    let image = await images.configOf(rec.id);
    // moby's beginStage (setDefaultPath): a base image whose Env has no PATH gets the default one appended
    // (dockerd 20.10 built FROM an imported image: Env ["PATH=…","X=1"], side by side in the parity work)
    const env = image.config?.Env ?? [];
    if (!env.some((e) => e === 'PATH' || e.startsWith('PATH='))) image = { ...image, config: { ...(image.config ?? {}), Env: [...env, DEFAULT_PATH] } };
    await this.d.snapshots.unpackImage(images.content, rec.layers.map((l) => ({ digest: l.digest, diffId: l.diffId })), this.d.signal);
    const info = await images.content.info(rec.id);
    return { image, configDigest: rec.id, configSize: info.size, layers: [...rec.layers], baseImageId: rec.id };
  }

  private view(s: StageState): ChainView {
    return new ChainView(chainIds(s.layers.map((l) => l.diffId)).map((c) => this.d.snapshots.fsPath(c)));
  }

  private async step(index: number, state: StageState, scope: StageScope, cmd: Command, emit: (l: string) => void, vx?: Vertex): Promise<StageState> {
    let inst: Command;
    try {
      inst = EXPANDS.has(cmd.kind) ? expandInstruction(cmd, scope.expansionEnv(), this.d.escapeToken) : cmd;
    } catch (e) {
      throw parseError((e as Error).message, cmd.line, cmd.endLine);
    }
    if (inst.kind === 'ARG') for (const a of inst.args) scope.declareArg(a.key, a.value);
    if (inst.kind === 'ENV') for (const e of inst.env) scope.setEnv(e.key, e.value);
    if (inst.kind === 'RUN') {
      if (!this.d.runtime) throw notImplemented('RUN needs the container runtime, which this builder was not given');
    }
    let runMounts: { mounts: RunMount[]; inputs: string } | undefined;
    if (inst.kind === 'RUN' && inst.mounts.length) {
      const env = scope.expansionEnv();
      const lex = expanderFor(env, this.d.escapeToken);
      try {
        runMounts = await resolveRunMounts(inst.mounts, {
          builderDir: this.d.builderDir, contextDir: () => this.d.contextDir(), secrets: this.d.secrets, expand: lex,
          workdir: state.image.config?.WorkingDir ?? '/', rootOf: (ref) => this.rootOf(index, ref),
        });
      } catch (e) {
        if (isKind(e, 'InvalidArgument') && (e as { code?: string }).code === 'BAD_MOUNT') throw parseError((e as Error).message, cmd.line, cmd.endLine);
        throw e;
      }
    }

    const shell = shellOf(state.image.config);
    let copy: CopyInputs | undefined;
    if (inst.kind === 'COPY' || inst.kind === 'ADD') copy = await this.copies.copySources(index, inst);
    const parentChain = chainIds(state.layers.map((l) => l.diffId)).at(-1) ?? '';
    const key = cacheKey({
      parentChainId: parentChain, parentConfig: state.configDigest, step: normalizeInstruction(inst, shell),
      args: scope.recordedArgs(), files: copy?.files ?? runMounts?.inputs, platform: this.platform,
    });
    const noCache = this.d.noCache || this.d.noCacheStages.has(index);
    if (!noCache) {
      const hit = await this.fromCache(key);
      if (hit) {
        vx?.cached();
        emit(' ---> Using cache\n');
        emit(` ---> ${shortId(hit.configDigest)}\n`);
        return { ...hit, baseImageId: state.baseImageId };
      }
    }

    if (this.d.cacheFrom.length && !noCache) {
      const hit = await this.fromCacheImages(state, inst, shell, scope, copy, key);
      if (hit) {
        vx?.cached();
        emit(' ---> Using cache\n');
        emit(` ---> ${shortId(hit.configDigest)}\n`);
        return hit;
      }
    }

    const image = structuredClone(state.image);
    image.config = image.config ? { ...image.config } : {};
    let layer: LayerRecord | undefined;
    let createdBy: string;
    if (inst.kind === 'COPY' || inst.kind === 'ADD') {
      const sources = await copy!.resolve();
      layer = await this.copies.copyLayer(state, inst, sources, image.config);
      // moby's performCopy: `COPY --chown=1:2file:<hash> in /dst ` (no space after the flag, as docker writes it)
      const flags = (inst.chown ? `--chown=${inst.chown}` : '') + (inst.chmod ? `--chmod=${inst.chmod}` : '');
      createdBy = copyCreatedBy(shell, inst.kind, flags + await copy!.history(), inst.dest);
    } else if (inst.kind === 'RUN') {
      layer = await runStep({
        runtime: this.d.runtime!, snapshots: this.d.snapshots, content: this.d.images.content,
        parentDiffIds: state.layers.map((l) => l.diffId), config: image.config as ContainerConfig, shell, inst,
        env: scope.runEnv(), mtimeClamp: this.d.epoch, signal: this.d.signal, emit, mounts: runMounts?.mounts,
        ...(vx ? { onOutput: (text: string) => vx.log(text) } : {}),
        network: inst.network === 'none' ? 'none' : inst.network === 'host' ? 'host' : this.d.networkMode,
      });
      createdBy = runCreatedBy(shell, inst.cmd, inst.prependShell, scope.recordedArgs());
      // a RUN that changed nothing adds no layer, only an empty_layer entry (moby's NewChildImage: layer.IsEmpty)
      if (layer.diffId === EMPTY_TAR) layer = undefined;
    } else {
      const cs = { config: image.config as ContainerConfig, author: image.author, shell, cmdSet: false };
      // SHELL's own entry already shows the new shell (moby commits after changing runConfig.Shell)
      const comment = applyMetadata(cs, inst, emit);
      createdBy = nopCreatedBy(cs.shell, comment);
      // the classic builder commits every metadata step through a container it creates and removes
      // (moby dispatchers → commit → create), and says so; no container runs here, the lines keep the stream's shape
      const id = randomBytes(32).toString('hex').slice(0, 12);
      emit(` ---> Running in ${id}\n`);
      emit(`Removing intermediate container ${id}\n`);
      if (cs.author !== undefined) image.author = cs.author;
      if (inst.kind === 'WORKDIR') layer = await this.copies.workdirLayer(state, (image.config as ContainerConfig).WorkingDir!);
    }
    const created = this.created();
    image.created = created;
    image.history = [...(image.history ?? []), { created, created_by: createdBy, ...(layer ? {} : { empty_layer: true }) }];
    const layers = layer ? [...state.layers, layer] : state.layers;
    image.rootfs = { type: 'layers', diff_ids: layers.map((l) => l.diffId) };
    const bytes = Buffer.from(goJson(orderConfig(image)));
    const info = await this.d.images.content.put(bytes);
    await this.d.keep([info.digest, ...(layer ? [layer.digest] : [])]);
    await this.d.cache.put({ key, config: info.digest, layers });
    emit(` ---> ${shortId(info.digest)}\n`);
    return { image, configDigest: info.digest, configSize: info.size, layers, baseImageId: state.baseImageId };
  }

  /**
   * --cache-from (see cachefrom.ts): the step's created_by is worked out without running it; a matching image
   * gives the layer, and the step's image gets our config with that image's history entry and time. The result
   * is recorded in the build cache, so the next build hits directly.
   */
  private async fromCacheImages(
    state: StageState, inst: Command, shell: string[], scope: StageScope, copy: CopyInputs | undefined, key: Digest,
  ): Promise<StageState | undefined> {
    const image = structuredClone(state.image);
    image.config = image.config ? { ...image.config } : {};
    let createdBy: string;
    if (inst.kind === 'COPY' || inst.kind === 'ADD') {
      const flags = (inst.chown ? `--chown=${inst.chown}` : '') + (inst.chmod ? `--chmod=${inst.chmod}` : '');
      createdBy = copyCreatedBy(shell, inst.kind, flags + await copy!.history(), inst.dest);
    } else if (inst.kind === 'RUN') {
      createdBy = runCreatedBy(shell, inst.cmd, inst.prependShell, scope.recordedArgs());
    } else {
      const cs = { config: image.config as ContainerConfig, author: image.author, shell, cmdSet: false };
      const comment = applyMetadata(cs, inst, () => {});
      createdBy = nopCreatedBy(cs.shell, comment);
      if (cs.author !== undefined) image.author = cs.author;
    }
    const hit = await matchCacheFrom({ images: this.d.images, refs: this.d.cacheFrom, parent: state, createdBy });
    if (!hit) return undefined;
    const { layers, entry } = hit;
    await this.d.snapshots.unpackImage(this.d.images.content, layers.map((l) => ({ digest: l.digest, diffId: l.diffId })), this.d.signal);
    image.history = [...(state.image.history ?? []), entry];
    image.created = entry.created ?? image.created;
    image.rootfs = { type: 'layers', diff_ids: layers.map((l) => l.diffId) };
    const info = await this.d.images.content.put(Buffer.from(goJson(orderConfig(image))));
    await this.d.keep([info.digest]);
    await this.d.cache.put({ key, config: info.digest, layers });
    return { image, configDigest: info.digest, configSize: info.size, layers, baseImageId: state.baseImageId };
  }

  private async fromCache(key: Digest): Promise<StageState | undefined> {
    const rec = this.d.cache.get(key);
    if (!rec) return undefined;
    const { content } = this.d.images;
    for (const d of [rec.config, ...rec.layers.map((l) => l.digest)]) if (!(await content.has(d))) return undefined;
    await this.d.snapshots.unpackImage(content, rec.layers.map((l) => ({ digest: l.digest, diffId: l.diffId })), this.d.signal);
    this.d.cache.touch(rec.key);
    const image = await this.d.images.configOf(rec.config);
    const info = await content.info(rec.config);
    return { image, configDigest: rec.config, configSize: info.size, layers: rec.layers };
  }

  /**
   * The filesystem of `ref` (an earlier stage by name or index, or an image), as seen from stage `index`, as a
   * directory. With `sources`, only the subtrees they name are merged (all of it when they use globs or
   * symlinks on the way).
   */
  private async rootOf(index: number, ref: string, sources?: readonly string[]): Promise<string> {
    const r = resolveStageRef(this.d.plan.stages.map((s) => s.stage), index, ref);
    const st = 'index' in r ? this.d.results.get(r.index)! : await this.imageState(r.image);
    let paths = [''];
    if (sources && !sources.some((x) => hasWildcards(x))) {
      const view = this.view(st);
      const rels = sources.map(contextRelative);
      const plain = await Promise.all(rels.map(async (rel) => rel === '.' || (await view.resolve('/' + rel)) === '/' + rel));
      if (plain.every(Boolean) && !rels.some((x) => x === '..' || x.startsWith('../'))) paths = rels.map((x) => (x === '.' ? '' : x));
    }
    return this.materialize(st, paths);
  }

  /** One directory per stage/image (per build) holding the merged subtrees asked for so far. */
  private async materialize(s: StageState, paths: string[]): Promise<string> {
    const key = (s.configDigest || 'scratch') as Digest;
    let entry = this.materialized.get(key);
    if (!entry) {
      entry = { dir: mkdtemp(join(this.d.tmp, 'rootfs-')), done: new Map() };
      this.materialized.set(key, entry);
    }
    const dir = await entry.dir;
    const layers = chainIds(s.layers.map((l) => l.diffId)).map((c) => this.d.snapshots.fsPath(c));
    for (const p of entry.done.has('') ? [] : paths) {
      let job = entry.done.get(p);
      if (!job) {
        job = mergeLayers(layers, p, dir, this.d.signal);
        entry.done.set(p, job);
      }
      await job;
    }
    return dir;
  }

  async cleanup(): Promise<void> {
    for (const e of this.materialized.values()) {
      const dir = await e.dir.catch(() => undefined);
      await Promise.allSettled(e.done.values());
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }
}

/** The diffID of an empty layer tar (two zero blocks). */
const EMPTY_TAR = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/** Docker's key order for image configs. */
function orderConfig(c: ImageConfig): Record<string, unknown> {
  const { architecture, author, config, created, history, os, rootfs, variant, ...rest } = c;
  void rest;
  return {
    architecture, ...(author ? { author } : {}), config, created, history, os, rootfs, ...(variant ? { variant } : {}),
  };
}
