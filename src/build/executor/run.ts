// RUN: a container on the stage's snapshots (overlay lowers = chain, a fresh upper), started through the
// runtime (crun/runc under conmon), its output relayed into the build stream, its exit code checked, and its
// upper dir turned into the step's layer (archive.diffDirectory: overlay whiteouts → tar whiteouts, mtimes
// clamped for SOURCE_DATE_EPOCH). The container is always removed; an abort kills it first.
import { randomBytes } from 'node:crypto';
import { lstat, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { diffDirectory, TarUsage } from '../../archive/index.ts';
import { measured } from './layer.ts';
import type { ContentStore } from '../../content/index.ts';
import type { Snapshotter } from '../../snapshot/index.ts';
import { chainIds } from '../../image/index.ts';
import type { Digest } from '../../digest/index.ts';
import { BerthError } from '../../errors/index.ts';
import { MT, type ContainerConfig } from '../../images/index.ts';
import type { LayerRecord } from '../../metadata/index.ts';
import type { RunInstruction } from '../dockerfile/instructions.ts';
import { readLogs, type Runtime } from '../../runtime/index.ts';
import { chompHeredocContent } from '../dockerfile/parser.ts';
import type { RunMount } from './mounts.ts';

/** What a RUN container needs to be told (a subset of runtime's CreateOptions, which it satisfies). */
export interface BuildContainerOptions {
  id: string;
  chain: Digest[];
  rootfsMounts: Awaited<ReturnType<Snapshotter['mounts']>>;
  image: { WorkingDir?: string; User?: string };
  entrypoint: string[];
  cmd: string[];
  env: string[];
  user?: string;
  workdir?: string;
  network: 'none' | 'host';
  /** RUN --mount mounts (runtime MountSpec shape). */
  mounts?: RunMount[];
}

/**
 * The part of src/runtime's Runtime a build uses, plus `output` (the container's stdout/stderr as it comes,
 * ending when `exited` settles: runtime's readLogs(logPath(id), {follow: true, exited})). Kept structural so
 * the builder does not depend on the runtime's internals; the daemon passes its Runtime with `output` added.
 */
export interface BuildRuntime {
  upperDir(id: string): string;
  workDir(id: string): string;
  create(o: BuildContainerOptions): Promise<unknown>;
  start(id: string): Promise<unknown>;
  wait(id: string, signal?: AbortSignal): Promise<{ exitCode: number }>;
  kill(id: string, sig?: string): Promise<void>;
  delete(id: string, opts?: { force?: boolean }): Promise<void>;
  output(id: string, exited: Promise<unknown>): AsyncIterable<{ data: Uint8Array }>;
}

/** The runtime engineer's Runtime as a BuildRuntime: `output` follows the container's k8s-file log. */
export function buildRuntimeOf(rt: Runtime): BuildRuntime {
  return {
    upperDir: (id) => rt.upperDir(id),
    workDir: (id) => rt.workDir(id),
    create: (o) => rt.create(o),
    start: (id) => rt.start(id),
    wait: (id, signal) => rt.wait(id, signal),
    kill: (id, sig) => rt.kill(id, sig),
    delete: (id, opts) => rt.delete(id, opts),
    output: (id, exited) => readLogs(rt.logPath(id), { follow: true, exited }),
  };
}

export interface RunStepOptions {
  runtime: BuildRuntime;
  snapshots: Snapshotter;
  content: ContentStore;
  parentDiffIds: readonly Digest[];
  config: ContainerConfig;
  shell: readonly string[];
  inst: RunInstruction;
  mounts?: RunMount[];
  /** The container's network (the instruction's --network already folded in). */
  network: 'none' | 'host';
  /** The process environment: config Env plus build args. */
  env: string[];
  mtimeClamp?: number;
  signal: AbortSignal;
  emit: (line: string) => void;
  /** The command's output as it comes (for --progress; `emit` gets it too). */
  onOutput?: (chunk: string) => void;
}

/** The argv a RUN executes: shell form through SHELL, exec form as is; heredoc bodies join the script. */
export function runArgv(inst: RunInstruction, shell: readonly string[]): string[] {
  if (!inst.prependShell) return [...inst.cmd];
  const line = inst.cmd.join(' ');
  const docs = inst.files;
  // `RUN <<EOF` alone: the body is the script.
  if (docs.length === 1 && /^\d*<<-?\S+$/.test(line.trim())) {
    const body = docs[0]!.chomp ? chompHeredocContent(docs[0]!.content) : docs[0]!.content;
    return [...shell, body];
  }
  // Otherwise the shell reads the heredocs itself, as written.
  let script = line;
  for (const d of docs) script += `\n${d.content}${d.name}`;
  return [...shell, script];
}

/** Error for a failed RUN, in the classic builder's words; `code` RUN_FAILED, detail.exitCode. */
export function runFailed(argv: readonly string[], exitCode: number): BerthError {
  return new BerthError('InvalidArgument', `The command '${argv.join(' ')}' returned a non-zero code: ${exitCode}`, {
    code: 'RUN_FAILED', detail: { exitCode, argv: [...argv] },
  });
}

/** Runs the step; returns its layer (already in content and unpacked as a snapshot). */
export async function runStep(o: RunStepOptions): Promise<LayerRecord> {
  const { runtime, snapshots, content } = o;
  const argv = runArgv(o.inst, o.shell);
  const chain = chainIds(o.parentDiffIds);
  const id = randomBytes(32).toString('hex');
  const rootfsMounts = await snapshots.mounts(chain, runtime.upperDir(id), runtime.workDir(id), { volatile: true });
  o.signal.throwIfAborted();
  await runtime.create({
    id, chain, rootfsMounts, image: { WorkingDir: o.config.WorkingDir, User: o.config.User }, entrypoint: [], cmd: argv,
    env: o.env, user: o.config.User || undefined, workdir: o.config.WorkingDir || undefined,
    network: o.network, ...(o.mounts?.length ? { mounts: o.mounts } : {}),
  });
  o.emit(` ---> Running in ${id.slice(0, 12)}\n`);
  const onAbort = (): void => { void runtime.kill(id, 'KILL').catch(() => {}); };
  let ok = false;
  o.signal.addEventListener('abort', onAbort);
  try {
    await runtime.start(id);
    const exited = runtime.wait(id);
    exited.catch(() => {});
    for await (const r of runtime.output(id, exited)) {
      const text = Buffer.from(r.data).toString('utf8');
      o.emit(text);
      o.onOutput?.(text);
    }
    const st = await exited;
    o.signal.throwIfAborted();
    if (st.exitCode !== 0) throw runFailed(argv, st.exitCode);
    // /etc/hostname, /etc/hosts and /etc/resolv.conf are bind-mounted over stubs the runtime creates when the
    // image has none; docker keeps those in its init layer, so they are not part of the step's layer
    await removeMountStubs(runtime.upperDir(id), [...(o.mounts ?? []).map((m) => m.target), '/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
    // a VOLUME path is a fresh volume during RUN in docker: what the step wrote there is not in its layer
    for (const v of Object.keys(o.config.Volumes ?? {})) {
      const rel = v.split('/').filter((x) => x && x !== '.' && x !== '..');
      if (rel.length) await rm(join(runtime.upperDir(id), ...rel), { recursive: true, force: true });
    }
    const usage = new TarUsage();
    const info = await content.put(measured(diffDirectory(runtime.upperDir(id), { mtimeClamp: o.mtimeClamp }), usage));
    const ids = chainIds([...o.parentDiffIds, info.digest]);
    const chainId = ids[ids.length - 1]!;
    if (!(await snapshots.has(chainId))) {
      await snapshots.unpack({
        chainId, parent: ids.length > 1 ? ids[ids.length - 2] : undefined, diffId: info.digest,
        source: await content.createReadStream(info.digest), signal: o.signal,
      });
    }
    ok = true;
    return { digest: info.digest, mediaType: MT.ociLayer, size: info.size, diffId: info.digest, uncompressedSize: usage.size() };
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    // docker leaves a failed step's container (and says nothing); we remove it all the same, quietly
    if (ok) o.emit(`Removing intermediate container ${id.slice(0, 12)}\n`);
    await runtime.delete(id, { force: true }).catch(() => {});
  }
}

/**
 * The runtime creates mount points that did not exist (an empty file for a secret, empty directories): they
 * are not part of what RUN did, so they leave the upper dir before it becomes the layer — empty parents too.
 */
export async function removeMountStubs(upper: string, targets: readonly string[]): Promise<void> {
  for (const t of targets) {
    let rel = t.split('/').filter(Boolean);
    while (rel.length) {
      const p = join(upper, ...rel);
      const st = await lstat(p).catch(() => undefined);
      if (!st) { rel = rel.slice(0, -1); continue; }
      const empty = st.isFile() ? st.size === 0 : st.isDirectory() ? (await readdir(p)).length === 0 : false;
      if (!empty) break;
      await rm(p, { recursive: false, force: true }).catch(() => {});
      if (st.isDirectory()) await rmdir(p).catch(() => {});
      rel = rel.slice(0, -1);
    }
  }
}
