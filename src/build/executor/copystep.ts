// COPY and ADD (and WORKDIR's directory) as steps of a stage: where the sources come from (the received
// context's index, the extracted context, another stage or image, a URL), the digest their cache key takes,
// the classic builder's history hash, and the layer they make (streamed from the sources, or staged on disk
// when ADD unpacks archives). Split from stage.ts, which decides when a step runs.
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageService, ContainerConfig } from '../../images/index.ts';
import type { Snapshotter } from '../../snapshot/index.ts';
import type { LayerRecord } from '../../metadata/index.ts';
import { digestOf, hexOf, type Digest } from '../../digest/index.ts';
import { invalidArgument, isKind, notImplemented } from '../../errors/index.ts';
import { applyLayer, detectCompression } from '../../archive/index.ts';
import type { CopyInstruction, AddInstruction } from '../dockerfile/instructions.ts';
import { resolveSources, planCopy, normalizeDest, parentsPivot, type SourceInfo } from '../context/copy.ts';
import { digestSources } from '../context/digest.ts';
import { diskSourcesHash } from '../context/tarsum.ts';
import type { LazyContext } from '../context/lazy.ts';
import { ChainView, stageCopy, copyEntries, commitEntries, commitDirectory } from './layer.ts';
import { downloadSource, isGitURL, isRemoteURL } from './fetch.ts';
import type { StageState } from './stage.ts';
import type { LayerFiles } from './reuse.ts';

export /** What a COPY/ADD reads: the digest for its cache key now, the sources themselves only when executed. */
interface CopyInputs {
  files: string;
  resolve: () => Promise<SourceInfo[]>;
  /** The classic builder's `file:…`/`dir:…`/`multi:…` for history (asked only when the step runs). */
  history: () => Promise<string>;
}

/** What COPY/ADD need of the stage runner's dependencies. */
export interface CopyDeps {
  images: ImageService;
  snapshots: Snapshotter;
  /** The context as a directory (extracted on first use when it came as a LazyContext). */
  contextDir: () => Promise<string>;
  lazy?: LazyContext;
  tmp: string;
  signal: AbortSignal;
  epoch?: number;
  /** Files of earlier COPY layers, hardlinked into new snapshots (reuse.ts). */
  layerFiles?: LayerFiles;
}

export class CopySteps {
  constructor(
    private readonly d: CopyDeps,
    /** The filesystem of another stage or an image, as a directory (StageRunner.rootOf). */
    private readonly rootOf: (index: number, ref: string, sources?: readonly string[]) => Promise<string>,
    private readonly view: (s: StageState) => ChainView,
  ) {}

  /** Where a COPY/ADD reads from, the resolved sources and the digest of what they hold. */
  async copySources(index: number, inst: CopyInstruction | AddInstruction): Promise<CopyInputs> {
    const at = <T>(f: () => Promise<T>): Promise<T> => f().catch((e) => { throw isKind(e, 'InvalidArgument') || isKind(e, 'NotFound') ? withPrefix(e, inst.kind) : e; });
    if (inst.exclude.length) throw notImplemented(`${inst.kind} --exclude is not supported yet`);
    if (inst.kind === 'ADD') {
      const git = inst.sources.find(isGitURL);
      if (git || inst.keepGitDir) throw notImplemented(`ADD from a git repository is not supported: ${git ?? '--keep-git-dir'}`);
      if (inst.checksum && !inst.sources.every(isRemoteURL)) throw invalidArgument('checksum can\'t be specified for non-HTTP(S) sources');
    }
    const contentsDigest = digestOf(JSON.stringify(inst.contents.map((c) => [c.path, c.data])));
    // A context still in its tar answers the cache question from its index; files appear only on a miss.
    const lazy = this.d.lazy;
    if (lazy && !(inst.kind === 'COPY' && inst.from) && !inst.sources.some(isRemoteURL)) {
      const d = lazy.digestFor(inst.sources);
      if (d) {
        // COPY reads the files from the tar in place; ADD may unpack archives, which needs them on disk.
        const inPlace = inst.kind === 'COPY' ? withPivots(inst, inst.sources.map((x) => lazy.sourcesFor([x])!)) : undefined;
        const resolve = (): Promise<SourceInfo[]> => (inPlace ? Promise.resolve(inPlace)
          : at(async () => { const dir = await this.d.contextDir(); return withPivots(inst, await Promise.all(inst.sources.map((x) => resolveSources(dir, [x])))); }));
        const files = digestOf(`${d}\n${contentsDigest}`);
        return {
          files, resolve,
          history: async () => (inst.contents.length ? legacyHash(inst, files) : lazy.classicHash(inst.sources) ?? diskSourcesHash(await at(async () => {
            const dir = await this.d.contextDir(); return withPivots(inst, await Promise.all(inst.sources.map((x) => resolveSources(dir, [x]))));
          }), true, await this.d.contextDir())),
        };
      }
    }
    const from = inst.kind === 'COPY' ? inst.from : undefined;
    // moby 20.10: an image for --from that cannot be had fails as "invalid from flag value X: <why>"
    const root = from ? await this.rootOf(index, from, inst.sources).catch((e: Error) => { e.message = `invalid from flag value ${from}: ${e.message}`; throw e; })
      : await this.d.contextDir();
    const perSource: SourceInfo[][] = [];
    for (const src of inst.sources) {
      if (inst.kind === 'ADD' && isRemoteURL(src)) {
        perSource.push([await at(() => downloadSource(src, this.d.tmp, { checksum: inst.checksum, signal: this.d.signal }))]);
      } else {
        perSource.push(await at(() => resolveSources(root, [src])));
      }
    }
    const sources = withPivots(inst, perSource);
    const files = digestOf(`${await digestSources(sources)}\n${contentsDigest}`);
    const fromContext = !(inst.kind === 'COPY' && inst.from);
    return {
      files, resolve: async () => sources,
      history: async () => (inst.contents.length || sources.some((x) => x.remote) ? legacyHash(inst, files) : diskSourcesHash(sources, fromContext, root)),
    };
  }

  async copyLayer(
    state: StageState, inst: CopyInstruction | AddInstruction, sources: SourceInfo[], config: ContainerConfig,
  ): Promise<LayerRecord> {
    const view = this.view(state);
    const workdir = config.WorkingDir ?? '/';
    const owner = inst.chown ? await view.chownIds(inst.chown) : undefined;
    let mode: number | undefined;
    if (inst.chmod) {
      if (!/^[0-7]{3,4}$/.test(inst.chmod)) throw invalidArgument(`invalid chmod parameter: ${inst.chmod}`);
      mode = parseInt(inst.chmod, 8);
    }
    // ADD unpacks local archives into the destination directory instead of copying them.
    const archives: SourceInfo[] = [];
    const plain: SourceInfo[] = [];
    for (const s of sources) (inst.kind === 'ADD' && inst.unpack !== false && !s.isDir && !s.remote && (await isArchive(s.path)) ? archives : plain).push(s);
    const ops = await planCopy({
      cmd: inst.kind, workdir, dest: inst.dest, sources: plain, contents: inst.contents, isDir: (p) => view.isDir(p),
      parents: inst.kind === 'COPY' && inst.parents,
    });
    if (archives.length === 0) {
      // The common case streams the sources straight into the layer tar.
      const l = await commitEntries(copyEntries({ view, ops, owner, mode, mtimeClamp: this.d.epoch }), this.d.images.content,
        this.d.snapshots, state.layers.map((x) => x.diffId), this.d.signal, this.d.layerFiles);
      return { digest: l.digest, mediaType: l.mediaType, size: l.size, diffId: l.diffId, uncompressedSize: l.used };
    }
    const staging = await mkdtemp(join(this.d.tmp, 'layer-'));
    try {
      await stageCopy({ staging, view, ops, owner, mode, signal: this.d.signal });
      const dest = normalizeDest(workdir, inst.dest).replace(/(.)\/$/, '$1');
      const target = join(staging, ...dest.split('/').filter(Boolean));
      await mkdir(target, { recursive: true });
      for (const a of archives) await applyLayer(target, createReadStream(a.path), { signal: this.d.signal });
      return await this.commit(state, staging);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** WORKDIR makes a layer only when the directory does not exist yet. */
  async workdirLayer(state: StageState, dir: string): Promise<LayerRecord | undefined> {
    const view = this.view(state);
    if (dir === '/' || (await view.isDir(dir))) return undefined;
    const staging = await mkdtemp(join(this.d.tmp, 'layer-'));
    const empty = await mkdtemp(join(this.d.tmp, 'empty-'));
    try {
      await stageCopy({ staging, view, ops: [{ kind: 'dir', from: empty, to: dir }], mode: 0o755, signal: this.d.signal });
      return await this.commit(state, staging);
    } finally {
      await rm(staging, { recursive: true, force: true });
      await rm(empty, { recursive: true, force: true });
    }
  }

  private async commit(state: StageState, staging: string): Promise<LayerRecord> {
    const l = await commitDirectory(staging, this.d.images.content, this.d.snapshots, state.layers.map((x) => x.diffId), {
      mtimeClamp: this.d.epoch, signal: this.d.signal,
    });
    return { digest: l.digest, mediaType: l.mediaType, size: l.size, diffId: l.diffId, uncompressedSize: l.used };
  }
}

/** Heredoc sources and URLs (which moby's classic builder hashes differently or not at all): our own digest. */
function legacyHash(inst: CopyInstruction | AddInstruction, files: string): string {
  const n = inst.sources.length + inst.contents.length;
  return `${n > 1 ? 'multi' : 'file'}:${hexOf(files as Digest)}`;
}

/** Flattens per-source resolutions, tagging each with its source's --parents pivot. */
function withPivots(inst: CopyInstruction | AddInstruction, per: SourceInfo[][]): SourceInfo[] {
  if (inst.kind !== 'COPY' || !inst.parents) return per.flat();
  return per.flatMap((list, i) => list.map((s) => ({ ...s, pivot: parentsPivot(inst.sources[i]!) })));
}

async function isArchive(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    const head = buf.subarray(0, bytesRead);
    if (detectCompression(head) !== 'none') return true;
    return bytesRead >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

function withPrefix(e: unknown, kind: string): Error {
  const err = e as Error;
  err.message = `${kind} failed: ${err.message}`;
  return err;
}
