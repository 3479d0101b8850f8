// Runtime: the container operations berthd calls, on top of the lifecycle's state machine (lifecycle.ts, which
// draws the container directory): stop (signal, then SIGKILL), pause/resume, list, diff, resize, attach, exec.
// Only this folder mounts. Every method is safe to call after a berthd restart.
import { readFile, readdir, open } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { Digest } from '../digest/index.ts';
import { conflict } from '../errors/index.ts';
import { runtimeCli, bundleFiles } from './conmon.ts';
import { execInContainer, type ExecOptions, type ExecSession } from './exec.ts';
import { attach, type Attachment } from './attach.ts';
import { changes, lowerDirsOf, type Change } from './changes.ts';
import { join } from 'node:path';
import { Lifecycle } from './lifecycle.ts';
import type { ContainerState } from './state.ts';
export type { ContainerState, ContainerStatus, RuntimeOptions, CreateOptions, StartOptions } from './state.ts';

export class Runtime extends Lifecycle {
  private swept?: Promise<void>;

  /** The rootfs path, mounted again first when the container has exited (docker cp/export of a stopped one). */
  async mountedRootfs(id: string): Promise<string> {
    const s = await this.inspect(id);
    await this.mountRootfs(id, s.mounts ?? []);
    return this.rootfs(id);
  }

  /** Daemon stop: removals finished (settled()) and the prepared namespaces dropped. Containers keep running. */
  async close(): Promise<void> {
    await this.settled();
    await this.netns.close();
  }

  /** docker stop: the stop signal, then SIGKILL after `timeoutSec` (default 10; negative: wait forever). */
  async stop(id: string, timeoutSec = 10, sig?: string): Promise<ContainerState> {
    const s = await this.inspect(id);
    if (s.status === 'exited' || s.status === 'created') return s;
    if (s.status === 'paused') await this.resume(id);
    await this.kill(id, sig ?? s.stopSignal ?? 'TERM').catch(() => {});
    if (timeoutSec >= 0) {
      const ac = new AbortController();
      const t = setTimeout(() => ac.abort(), timeoutSec * 1000);
      try {
        return await this.wait(id, ac.signal);
      } catch {
        await this.kill(id, 'KILL').catch(() => {});
      } finally {
        clearTimeout(t);
      }
    }
    return this.wait(id);
  }

  async pause(id: string): Promise<void> {
    const s = await this.inspect(id);
    if (s.status !== 'running') throw conflict(`Container ${id} is not running`, { code: 'NOT_RUNNING' });
    await runtimeCli(this.runtimePath(s.runtime), this.runtimeRoot(s.runtime), ['pause', id]);
    s.status = 'paused';
    await this.save(s);
  }

  async resume(id: string): Promise<void> {
    const s = await this.inspect(id);
    if (s.status !== 'paused') throw conflict(`Container ${id} is not paused`, { code: 'NOT_PAUSED' });
    await runtimeCli(this.runtimePath(s.runtime), this.runtimeRoot(s.runtime), ['resume', id]);
    s.status = 'running';
    await this.save(s);
  }

  /** Every container's reconciled state (call on daemon start: it updates records of containers that ended). */
  async list(): Promise<ContainerState[]> {
    let ids: string[];
    try { ids = await readdir(this.root.containers); } catch { return []; }
    const out: ContainerState[] = [];
    for (const id of ids) {
      try { out.push(await this.inspect(id)); } catch { /* half-created or removed meanwhile */ }
    }
    // once (daemon start): prepared namespaces an earlier daemon left and no container holds
    this.swept ??= this.netns.sweep(new Set(out.flatMap((s) => (s.netns ? [s.netns] : [])))).catch(() => {});
    return out;
  }

  /** docker diff: the container's changes over its image, from the writable layer. */
  async changes(id: string): Promise<Change[]> {
    const s = await this.inspect(id);
    return changes(this.upperDir(id), (s.mounts ?? []).flatMap(lowerDirsOf));
  }

  /** Every snapshot chainID a container (running or not) stacks: GC roots for Snapshotter.prune(). */
  async snapshotsInUse(): Promise<Set<Digest>> {
    const out = new Set<Digest>();
    for (const c of await this.list()) for (const d of c.chain) out.add(d);
    return out;
  }

  /** Tells conmon the terminal size (its ctl fifo: "1 <height> <width>"). */
  async resize(id: string, height: number, width: number): Promise<void> {
    const fh = await open(bundleFiles(this.dir(id)).ctl, constants.O_WRONLY | constants.O_NONBLOCK).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'ENXIO' || e.code === 'ENOENT' ? conflict(`Container ${id} is not running`, { code: 'NOT_RUNNING' }) : e;
    });
    try { await fh.write(`1 ${height} ${width}\n`); } finally { await fh.close(); }
  }

  /**
   * Attaches to the container's stdio (conmon's attach socket). Attach before start() to see all output.
   * Conflict when conmon is gone.
   */
  attach(id: string): Promise<Attachment> {
    return attach(this.dir(id), join(this.stateDir, 'bin'));
  }

  /** Runs a process in a running container (docker exec); see exec.ts. */
  exec(id: string, o: ExecOptions): Promise<ExecSession> {
    return execInContainer(this, id, o);
  }

  /** The spec written at create (for inspect, exec defaults). */
  async spec(id: string): Promise<Record<string, unknown>> {
    return JSON.parse(await readFile(bundleFiles(this.dir(id)).config, 'utf8')) as Record<string, unknown>;
  }}
